package dev.mmspark.evaluation.leaderboard;

import org.junit.jupiter.api.Test;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Aggregation by hand: three settings under one condition, seeds paired. Values of setting A and B are
 * those of SeedStatisticsTest (SciPy: paired t = 2.364548486637, p = 0.098991185140).
 */
class LeaderboardSummaryTest {
    private static final double[] A = {0.712, 0.698, 0.731, 0.705};
    private static final double[] B = {0.690, 0.701, 0.702, 0.688};

    private static LeaderboardSummary.Observation obs(String setting, long seed, double v, String metric, long t) {
        return new LeaderboardSummary.Observation("synthetic", "h", "test", "m", "concat", setting, "{}", "natural",
                "none", 0, "classification", metric, seed, v, 100, "s", setting + seed, new Timestamp(t));
    }

    @Test
    void ranksTestsAndKeepsTheLatestValuePerSeed() {
        List<LeaderboardSummary.Observation> o = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            o.add(obs("A", s + 1, A[s], "accuracy", 1000));
            o.add(obs("B", s + 1, B[s], "accuracy", 1000));
        }
        // C: one seed only, first 0.1 then retrained to 0.6 (the later one counts)
        o.add(obs("C", 1, 0.1, "accuracy", 1000));
        o.add(obs("C", 1, 0.6, "accuracy", 2000));
        List<LeaderboardSummary.Entry> e = LeaderboardSummary.aggregate(o);
        assertEquals(3, e.size());
        LeaderboardSummary.Entry a = find(e, "A");
        LeaderboardSummary.Entry b = find(e, "B");
        LeaderboardSummary.Entry c = find(e, "C");
        assertEquals(1, a.rank());
        assertEquals(2, b.rank());
        assertEquals(3, c.rank());
        assertEquals("A", b.bestSettingId());
        assertNull(a.pValue());
        assertEquals(0.098991185140, b.pValue(), 1e-8);
        assertEquals(0.69525 - 0.7115, b.diffVsBest(), 1e-12);
        assertFalse(b.significantlyWorse()); // p = 0.099 > 0.05
        assertEquals(0.6, c.summary().mean(), 1e-12);
        assertEquals(1, c.summary().n());
        assertNull(c.pValue()); // one common seed: no paired test
        assertEquals(1, c.pairedSeeds());
        assertEquals(0.688903137176, a.summary().ciLow(), 1e-9);
    }

    @Test
    void errorMetricsRankLowestFirstAndTiesShareARank() {
        List<LeaderboardSummary.Observation> o = new ArrayList<>();
        o.add(obs("A", 1, 2.0, "rmse", 1));
        o.add(obs("B", 1, 1.0, "rmse", 1));
        o.add(obs("C", 1, 1.0, "rmse", 1));
        o.add(obs("D", 1, 3.0, "rmse", 1));
        List<LeaderboardSummary.Entry> e = LeaderboardSummary.aggregate(o);
        assertEquals(1, find(e, "B").rank());
        assertEquals(1, find(e, "C").rank());
        assertEquals(3, find(e, "A").rank());
        assertEquals(4, find(e, "D").rank());
    }

    @Test
    void significantlyWorseWhenTheDifferenceIsConsistent() {
        List<LeaderboardSummary.Observation> o = new ArrayList<>();
        double[] better = {0.80, 0.82, 0.81, 0.83};
        double[] worse = {0.70, 0.71, 0.72, 0.71};
        for (int s = 0; s < 4; s++) {
            o.add(obs("good", s, better[s], "accuracy", 1));
            o.add(obs("bad", s, worse[s], "accuracy", 1));
        }
        LeaderboardSummary.Entry bad = find(LeaderboardSummary.aggregate(o), "bad");
        assertTrue(bad.significantlyWorse());
        assertTrue(bad.pValue() < 0.01, "p " + bad.pValue());
    }

    @Test
    void settingIgnoresSeedAndPaths() {
        String[] a = LeaderboardSummary.setting("{\"seed\":1,\"output\":\"/a\",\"work_dir\":\"/a.w\",\"features\":\"/f\","
                + "\"learning_rate\":0.1,\"model\":{\"name\":\"m\",\"params\":{\"x\":1,\"y\":2}}}");
        String[] b = LeaderboardSummary.setting("{\"model\":{\"params\":{\"y\":2,\"x\":1},\"name\":\"m\"},"
                + "\"learning_rate\":0.1,\"seed\":2,\"output\":\"/b\",\"features\":\"/g\"}");
        assertEquals(a[0], b[0]);
        String[] c = LeaderboardSummary.setting("{\"learning_rate\":0.2,\"model\":{\"name\":\"m\",\"params\":{\"x\":1,\"y\":2}}}");
        assertFalse(a[0].equals(c[0]));
    }

    private static LeaderboardSummary.Entry find(List<LeaderboardSummary.Entry> e, String setting) {
        return e.stream().filter(x -> x.settingId().equals(setting)).findFirst().orElseThrow();
    }
}
