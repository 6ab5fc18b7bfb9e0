package dev.mmspark.evaluation.retrieval;

import java.io.Serializable;
import java.util.List;

/**
 * The retrieval result of one query, from the ranks of its relevant candidates (the candidates of its class):
 * with R relevant candidates ranked r_1 &lt; r_2 &lt; ... &lt; r_R in the whole candidate list (1 = first),
 * <pre>
 *   AP      = (1/R) sum_{k=1..R} k / r_k                   precision at each relevant item, averaged
 *   AP@R    = (1/R) sum_{k: r_k &lt;= R} k / r_k             the same over the top R only (Musgrave et al. 2020)
 *   hits@K  = #{k : r_k &lt;= K}                            P@K = hits@K / K,  R@K = hits@K / R
 * </pre>
 * A query without any relevant candidate (R = 0) scores 0 on all of them, as in the DSCMR reference
 * evaluation ({@code fx_calc_map_label}), and is counted.
 *
 * @param hits hits@K for each K of the evaluation, in its order
 */
public record QueryResult(String queryId, int relevant, double ap, double apAtR, int[] hits) implements Serializable {

    /**
     * @param ranks the 1-based ranks of the relevant candidates, ascending
     * @param ks    the cut-offs K
     */
    public static QueryResult fromRanks(String queryId, long[] ranks, List<Integer> ks) {
        int r = ranks.length;
        double sum = 0;
        double sumAtR = 0;
        int[] hits = new int[ks.size()];
        for (int k = 1; k <= r; k++) {
            long rank = ranks[k - 1];
            if (k > 1 && rank <= ranks[k - 2]) {
                throw new IllegalArgumentException("query " + queryId + ": ranks must be strictly increasing, found "
                        + ranks[k - 2] + " then " + rank);
            }
            double precision = (double) k / rank;
            sum += precision;
            if (rank <= r) {
                sumAtR += precision;
            }
            for (int j = 0; j < hits.length; j++) {
                if (rank <= ks.get(j)) {
                    hits[j]++;
                }
            }
        }
        return new QueryResult(queryId, r, r == 0 ? 0 : sum / r, r == 0 ? 0 : sumAtR / r, hits);
    }
}
