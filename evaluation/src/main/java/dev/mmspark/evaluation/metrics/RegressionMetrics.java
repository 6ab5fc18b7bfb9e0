package dev.mmspark.evaluation.metrics;

import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sentiment-regression metrics as reported on CMU-MOSI (MMSA's conventions): MAE, Pearson correlation,
 * Acc-2 (sign agreement, negative vs non-negative), Acc-2 without neutral (samples with target 0 left
 * out), Acc-7 (targets and predictions clipped to [-3, 3] and rounded to 7 classes). One distributed pass
 * computes the sums.
 */
public record RegressionMetrics(long n, double mae, double correlation, double acc2, double acc2NonZero,
                                double acc7) {

    private record Sums(long n, double absErr, double sx, double sy, double sxx, double syy, double sxy,
                        long sign, long signNz, long nz, long seven) implements java.io.Serializable {
        Sums plus(Sums o) {
            return new Sums(n + o.n, absErr + o.absErr, sx + o.sx, sy + o.sy, sxx + o.sxx, syy + o.syy, sxy + o.sxy,
                    sign + o.sign, signNz + o.signNz, nz + o.nz, seven + o.seven);
        }
    }

    /** @param targetPrediction (true value, predicted value) per sample */
    public static RegressionMetrics compute(JavaRDD<Tuple2<Double, Double>> targetPrediction) {
        Sums zero = new Sums(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Sums s = targetPrediction.map(t -> of(t._1(), t._2())).fold(zero, Sums::plus);
        return fromSums(s);
    }

    private static Sums of(double y, double p) {
        boolean sign = (y >= 0) == (p >= 0);
        boolean nz = y != 0;
        boolean signNz = nz && ((y > 0) == (p > 0));
        boolean seven = Math.round(Math.max(-3, Math.min(3, y))) == Math.round(Math.max(-3, Math.min(3, p)));
        return new Sums(1, Math.abs(y - p), y, p, y * y, p * p, y * p, sign ? 1 : 0, signNz ? 1 : 0, nz ? 1 : 0,
                seven ? 1 : 0);
    }

    private static RegressionMetrics fromSums(Sums s) {
        if (s.n == 0) {
            return new RegressionMetrics(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double n = s.n;
        double cov = s.sxy / n - (s.sx / n) * (s.sy / n);
        double vx = s.sxx / n - (s.sx / n) * (s.sx / n);
        double vy = s.syy / n - (s.sy / n) * (s.sy / n);
        double corr = vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : Double.NaN;
        return new RegressionMetrics(s.n, s.absErr / n, corr, s.sign / n, s.nz == 0 ? Double.NaN : (double) s.signNz / s.nz,
                s.seven / n);
    }

    /** Running sums for one evaluation condition; mergeable across partitions. */
    public static final class Accumulator implements java.io.Serializable {
        private Sums sums = new Sums(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        public void add(double target, double prediction) {
            sums = sums.plus(of(target, prediction));
        }

        public Accumulator plus(Accumulator o) {
            Accumulator r = new Accumulator();
            r.sums = sums.plus(o.sums);
            return r;
        }

        public RegressionMetrics metrics() {
            return fromSums(sums);
        }
    }

    /** For tests and single-machine checks: the same metrics over arrays. */
    public static RegressionMetrics local(double[] y, double[] p) {
        Sums s = new Sums(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (int i = 0; i < y.length; i++) {
            s = s.plus(of(y[i], p[i]));
        }
        return fromSums(s);
    }

    public Map<String, Double> asMap() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("mae", mae);
        out.put("corr", correlation);
        out.put("acc2", acc2);
        out.put("acc2_nonzero", acc2NonZero);
        out.put("acc7", acc7);
        return out;
    }
}
