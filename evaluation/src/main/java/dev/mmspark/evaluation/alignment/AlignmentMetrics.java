package dev.mmspark.evaluation.alignment;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hits@1, Hits@10, MRR and mean rank of the true counterparts, both directions, for one similarity.
 *
 * <p>Ranks: the rank of entity x's counterpart y is 1 + the number of candidates whose similarity to x is
 * strictly greater than sim(x, y). Candidates tied with y therefore do not push it down (an optimistic rank;
 * MCLEA's and MEAformer's code sorts and takes y's position, which places tied candidates in arbitrary order).
 * Candidates of a left entity are the right entities of all test pairs, and vice versa.
 *
 * @param similarity {@code cosine} or {@code csls}
 * @param n          test pairs
 */
public record AlignmentMetrics(String similarity, int n, double hits1L2r, double hits10L2r, double mrrL2r,
                               double mrL2r, double hits1R2l, double hits10R2l, double mrrR2l, double mrR2l)
        implements Serializable {

    /** The metrics of ranks (1-based) of the left and right entities. */
    public static AlignmentMetrics of(String similarity, int[] ranksL2r, int[] ranksR2l) {
        double[] l = summary(ranksL2r);
        double[] r = summary(ranksR2l);
        return new AlignmentMetrics(similarity, ranksL2r.length, l[0], l[1], l[2], l[3], r[0], r[1], r[2], r[3]);
    }

    private static double[] summary(int[] ranks) {
        double h1 = 0;
        double h10 = 0;
        double rr = 0;
        double mr = 0;
        for (int rank : ranks) {
            h1 += rank <= 1 ? 1 : 0;
            h10 += rank <= 10 ? 1 : 0;
            rr += 1.0 / rank;
            mr += rank;
        }
        int n = Math.max(1, ranks.length);
        return new double[]{h1 / n, h10 / n, rr / n, mr / n};
    }

    /** Metric name → value, as in the leaderboard's metrics column. */
    public Map<String, Double> asMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("hits_at_1_l2r", hits1L2r);
        m.put("hits_at_10_l2r", hits10L2r);
        m.put("mrr_l2r", mrrL2r);
        m.put("mr_l2r", mrL2r);
        m.put("hits_at_1_r2l", hits1R2l);
        m.put("hits_at_10_r2l", hits10R2l);
        m.put("mrr_r2l", mrrR2l);
        m.put("mr_r2l", mrR2l);
        return m;
    }
}
