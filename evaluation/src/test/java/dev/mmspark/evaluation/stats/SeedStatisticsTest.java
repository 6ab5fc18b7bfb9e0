package dev.mmspark.evaluation.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mean, sd, 95% CI and the paired t-test against SciPy: the values come from
 * src/test/resources/stats/seed_statistics_reference.py (its output is pasted beside each assertion).
 */
class SeedStatisticsTest {
    static final double[] A = {0.712, 0.698, 0.731, 0.705};
    static final double[] B = {0.690, 0.701, 0.702, 0.688};

    @Test
    void summaryMatchesScipy() {
        // a: mean=0.711500000000 std=0.014200938936 ci=(0.688903137176, 0.734096862824)
        SeedStatistics.Summary a = SeedStatistics.summarise(A);
        assertEquals(4, a.n());
        assertEquals(0.7115, a.mean(), 1e-12);
        assertEquals(0.014200938936, a.std(), 1e-11);
        assertEquals(0.688903137176, a.ciLow(), 1e-9);
        assertEquals(0.734096862824, a.ciHigh(), 1e-9);
        // b: mean=0.695250000000 std=0.007274384281 ci=(0.683674831311, 0.706825168689)
        SeedStatistics.Summary b = SeedStatistics.summarise(B);
        assertEquals(0.007274384281, b.std(), 1e-11);
        assertEquals(0.683674831311, b.ciLow(), 1e-9);
        assertEquals(0.706825168689, b.ciHigh(), 1e-9);
    }

    @Test
    void pairedTTestMatchesScipy() {
        // paired a-b: t=2.364548486637 p=0.098991185140
        SeedStatistics.PairedTest t = SeedStatistics.pairedT(A, B);
        assertEquals(4, t.n());
        assertEquals(0.01625, t.meanDifference(), 1e-12);
        assertEquals(2.364548486637, t.t(), 1e-9);
        assertEquals(0.098991185140, t.pValue(), 1e-8);
        // symmetric: swapping the sides flips t, keeps p
        SeedStatistics.PairedTest s = SeedStatistics.pairedT(B, A);
        assertEquals(-t.t(), s.t(), 1e-12);
        assertEquals(t.pValue(), s.pValue(), 1e-12);
    }

    @Test
    void tQuantileMatchesTheTable() {
        // t quantile 0.975 df=2: 4.302652729749 (also the printed t table's 4.303)
        assertEquals(4.302652729749, SeedStatistics.tQuantile(0.975, 2), 1e-8);
    }

    @Test
    void degenerateCases() {
        SeedStatistics.Summary one = SeedStatistics.summarise(new double[]{0.5});
        assertEquals(0.5, one.mean());
        assertTrue(Double.isNaN(one.std()) && Double.isNaN(one.ciLow()));
        assertNull(SeedStatistics.pairedT(new double[]{1}, new double[]{2}));
        // identical settings: no difference at all
        assertEquals(1.0, SeedStatistics.pairedT(A, A).pValue());
        // a constant non-zero difference: certain
        double[] shifted = {A[0] + 0.1, A[1] + 0.1, A[2] + 0.1, A[3] + 0.1};
        assertEquals(0.0, SeedStatistics.pairedT(shifted, A).pValue(), 1e-9);
    }
}
