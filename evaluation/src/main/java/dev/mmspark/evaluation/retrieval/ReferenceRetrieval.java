package dev.mmspark.evaluation.retrieval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The single-machine reference: for every query, score all candidates, sort them by
 * {@link RetrievalItem#rankOrder} and walk the list, as the DSCMR reference evaluation
 * ({@code fx_calc_map_label}) does -- except for its tie rule: NumPy's argsort leaves the order of equal
 * scores to the sort algorithm, here ties go by candidate id. Needs every candidate in memory; the yardstick
 * that {@link BlockwiseRetrieval} must equal.
 */
public final class ReferenceRetrieval {
    private ReferenceRetrieval() {
    }

    public static List<QueryResult> perQuery(List<RetrievalItem> queries, List<RetrievalItem> candidates,
                                             List<Integer> ks) {
        int n = candidates.size();
        List<QueryResult> out = new ArrayList<>(queries.size());
        for (RetrievalItem q : queries) {
            double[] score = new double[n];
            int relevant = 0;
            for (int c = 0; c < n; c++) {
                score[c] = RetrievalItem.similarity(q, candidates.get(c));
                relevant += candidates.get(c).label() == q.label() ? 1 : 0;
            }
            Integer[] order = new Integer[n];
            for (int c = 0; c < n; c++) {
                order[c] = c;
            }
            Arrays.sort(order, (a, b) -> RetrievalItem.rankOrder(score[a], candidates.get(a).id(), score[b],
                    candidates.get(b).id()));
            int hits = 0;
            double sum = 0;
            double sumAtR = 0;
            int[] hitsAtK = new int[ks.size()];
            for (int pos = 1; pos <= n; pos++) {
                if (candidates.get(order[pos - 1]).label() != q.label()) {
                    continue;
                }
                hits++;
                double precision = (double) hits / pos;
                sum += precision;
                if (pos <= relevant) {
                    sumAtR += precision;
                }
                for (int j = 0; j < ks.size(); j++) {
                    if (pos <= ks.get(j)) {
                        hitsAtK[j]++;
                    }
                }
            }
            out.add(new QueryResult(q.id(), relevant, relevant == 0 ? 0 : sum / relevant,
                    relevant == 0 ? 0 : sumAtR / relevant, hitsAtK));
        }
        return out;
    }

    public static DirectionMetrics evaluate(List<RetrievalItem> queries, List<RetrievalItem> candidates,
                                            List<Integer> ks) {
        DirectionMetrics.Sums s = DirectionMetrics.Sums.zero(ks.size());
        for (QueryResult r : perQuery(queries, candidates, ks)) {
            s = s.add(r, ks);
        }
        return s.metrics(candidates.size(), ks);
    }
}
