package dev.mmspark.evaluation.metrics;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class MetricsTest {
    private static JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
    }

    /**
     * Hand-computed case, 3 classes, 6 samples (label, prediction):
     * (0,0) (0,0) (0,1) (1,1) (2,1) (2,2).
     * accuracy 4/6; F1: class0 P=1 R=2/3 -> 0.8; class1 P=1/3 R=1 -> 0.5; class2 P=1 R=1/2 -> 2/3;
     * macro = (0.8+0.5+0.6667)/3 = 0.65556; weighted by label counts 3,1,2 -> (2.4+0.5+1.3333)/6 = 0.70556.
     */
    @Test
    void classificationMetricsMatchAHandComputation() {
        var pairs = List.of(new Tuple2<>(0, 0), new Tuple2<>(0, 0), new Tuple2<>(0, 1), new Tuple2<>(1, 1),
                new Tuple2<>(2, 1), new Tuple2<>(2, 2));
        ClassificationMetrics m = ClassificationMetrics.compute(jsc().parallelize(pairs, 2), List.of("a", "b", "c"));
        assertEquals(6, m.n());
        assertEquals(4.0 / 6, m.accuracy(), 1e-9);
        assertEquals((0.8 + 0.5 + 2.0 / 3) / 3, m.macroF1(), 1e-9);
        assertEquals((3 * 0.8 + 0.5 + 2 * 2.0 / 3) / 6, m.weightedF1(), 1e-9);
        assertArrayEquals(new long[]{2, 1, 0}, m.confusion()[0]);
        assertArrayEquals(new long[]{0, 1, 1}, m.confusion()[2]);
    }

    /**
     * y = [-1, 0, 2, 3.4], p = [-0.5, 0.2, 1.6, 2.0]: MAE = (0.5+0.2+0.4+1.4)/4 = 0.625; signs (>=0) agree 4/4;
     * non-zero targets: 3 of 3 agree; Acc-7 rounds clipped values (Java rounds half up): -1 vs round(-0.5) = 0 no,
     * 0 vs 0 yes, 2 vs 2 yes, round(3) = 3 vs 2 no -> 2/4.
     */
    @Test
    void regressionMetricsMatchAHandComputation() {
        double[] y = {-1, 0, 2, 3.4};
        double[] p = {-0.5, 0.2, 1.6, 2.0};
        RegressionMetrics local = RegressionMetrics.local(y, p);
        assertEquals(0.625, local.mae(), 1e-12);
        assertEquals(1.0, local.acc2(), 1e-12);
        assertEquals(1.0, local.acc2NonZero(), 1e-12);
        assertEquals(0.5, local.acc7(), 1e-12);
        // Pearson correlation by hand: mean y = 1.1, mean p = 0.825
        double cov = 0;
        double vy = 0;
        double vp = 0;
        for (int i = 0; i < 4; i++) {
            cov += (y[i] - 1.1) * (p[i] - 0.825);
            vy += (y[i] - 1.1) * (y[i] - 1.1);
            vp += (p[i] - 0.825) * (p[i] - 0.825);
        }
        assertEquals(cov / Math.sqrt(vy * vp), local.correlation(), 1e-9);
        RegressionMetrics dist = RegressionMetrics.compute(jsc().parallelize(List.of(new Tuple2<>(-1.0, -0.5),
                new Tuple2<>(0.0, 0.2), new Tuple2<>(2.0, 1.6), new Tuple2<>(3.4, 2.0)), 3));
        assertEquals(local.mae(), dist.mae(), 1e-12);
        assertEquals(local.correlation(), dist.correlation(), 1e-9);
        assertEquals(local.acc7(), dist.acc7(), 1e-12);
    }
}
