package dev.mmspark.evaluation.stats;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Statistics over repeated runs that differ only in their seed: mean, sample standard deviation, the 95%
 * confidence interval of the mean (Student's t with n - 1 degrees of freedom), and the two-sided paired
 * t-test between two settings run with the same seeds. Pinned against SciPy by
 * {@code evaluation/src/test/resources/stats/seed_statistics_reference.py}.
 */
public final class SeedStatistics {
    private SeedStatistics() {
    }

    /**
     * @param std     sample standard deviation (n - 1 in the denominator); NaN for one value
     * @param ciLow   lower end of the 95% t interval of the mean; NaN for one value
     * @param ciHigh  upper end
     */
    public record Summary(int n, double mean, double std, double ciLow, double ciHigh) {
    }

    /**
     * @param n              number of pairs
     * @param meanDifference mean of a - b
     * @param t              t statistic: mean difference / (sd of differences / sqrt(n))
     * @param pValue         two-sided p-value; 1 when every difference is 0, 0 when they are equal and non-zero
     */
    public record PairedTest(int n, double meanDifference, double t, double pValue) {
    }

    public static Summary summarise(double[] x) {
        int n = x.length;
        if (n == 0) {
            throw new IllegalArgumentException("no values to summarise");
        }
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= n;
        if (n == 1) {
            return new Summary(1, mean, Double.NaN, Double.NaN, Double.NaN);
        }
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(ss / (n - 1));
        double half = tQuantile(0.975, n - 1) * std / Math.sqrt(n);
        return new Summary(n, mean, std, mean - half, mean + half);
    }

    /** The paired t-test of a against b (a[i] and b[i] from the same seed); null with fewer than 2 pairs. */
    public static PairedTest pairedT(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("paired samples differ in length: " + a.length + " vs " + b.length);
        }
        int n = a.length;
        if (n < 2) {
            return null;
        }
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = a[i] - b[i];
        }
        Summary s = summarise(d);
        if (s.std() == 0) {
            // every pair differs by the same amount: no variance to test against
            return new PairedTest(n, s.mean(), s.mean() == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, s.mean()),
                    s.mean() == 0 ? 1 : 0);
        }
        double t = s.mean() / (s.std() / Math.sqrt(n));
        double p = 2 * new TDistribution(null, n - 1).cumulativeProbability(-Math.abs(t));
        return new PairedTest(n, s.mean(), t, p);
    }

    /** The p-quantile of Student's t distribution with df degrees of freedom. */
    public static double tQuantile(double p, int df) {
        return new TDistribution(null, df).inverseCumulativeProbability(p);
    }
}
