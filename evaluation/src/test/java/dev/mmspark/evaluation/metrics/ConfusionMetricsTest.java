package dev.mmspark.evaluation.metrics;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one-pass confusion-matrix metrics agree with Spark MLlib's MulticlassMetrics. */
class ConfusionMetricsTest {
    @Test
    void agreesWithMllibOnRandomCasesIncludingAbsentClasses() {
        List<String> classes = List.of("a", "b", "c", "d");
        Random rnd = new Random(3);
        for (int trial = 0; trial < 5; trial++) {
            List<Tuple2<Integer, Integer>> pairs = new ArrayList<>();
            ConfusionMetrics cm = new ConfusionMetrics(4);
            for (int i = 0; i < 200; i++) {
                int label = rnd.nextInt(3); // class d never occurs as a label
                int pred = rnd.nextDouble() < 0.6 ? label : rnd.nextInt(trial % 2 == 0 ? 3 : 4);
                pairs.add(new Tuple2<>(label, pred));
                cm.add(label, pred);
            }
            ClassificationMetrics mine = cm.metrics(classes);
            ClassificationMetrics mllib = ClassificationMetrics.compute(JavaSparkContext.fromSparkContext(
                    SparkTestSession.get().sparkContext()).parallelize(pairs, 3), classes);
            assertEquals(mllib.n(), mine.n());
            assertEquals(mllib.accuracy(), mine.accuracy(), 1e-12);
            assertEquals(mllib.macroF1(), mine.macroF1(), 1e-12);
            assertEquals(mllib.weightedF1(), mine.weightedF1(), 1e-12);
            assertEquals(mllib.f1PerClass(), mine.f1PerClass());
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(mllib.confusion()[i], mine.confusion()[i]);
            }
        }
    }
}
