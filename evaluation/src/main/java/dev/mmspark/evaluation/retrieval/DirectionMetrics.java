package dev.mmspark.evaluation.retrieval;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retrieval quality in one direction (e.g. image queries against text candidates), the mean over all queries
 * of each {@link QueryResult}: mAP, mAP@R, and precision@K and recall@K for each K.
 *
 * @param queries                 number of queries
 * @param candidates              number of candidates each query ranks
 * @param queriesWithoutRelevant  queries whose class has no candidate (they score 0 and are in the means)
 */
public record DirectionMetrics(long queries, long candidates, long queriesWithoutRelevant, double map, double mapAtR,
                               Map<Integer, Double> precisionAtK, Map<Integer, Double> recallAtK)
        implements Serializable {

    /** Running sums over queries; combine partial sums with {@link #plus}. */
    public record Sums(long queries, long withoutRelevant, double ap, double apAtR, double[] precision,
                       double[] recall) implements Serializable {

        public static Sums zero(int ks) {
            return new Sums(0, 0, 0, 0, new double[ks], new double[ks]);
        }

        public Sums add(QueryResult q, List<Integer> ks) {
            double[] p = precision.clone();
            double[] r = recall.clone();
            for (int j = 0; j < ks.size(); j++) {
                p[j] += (double) q.hits()[j] / ks.get(j);
                r[j] += q.relevant() == 0 ? 0 : (double) q.hits()[j] / q.relevant();
            }
            return new Sums(queries + 1, withoutRelevant + (q.relevant() == 0 ? 1 : 0), ap + q.ap(), apAtR + q.apAtR(),
                    p, r);
        }

        public Sums plus(Sums o) {
            double[] p = precision.clone();
            double[] r = recall.clone();
            for (int j = 0; j < p.length; j++) {
                p[j] += o.precision[j];
                r[j] += o.recall[j];
            }
            return new Sums(queries + o.queries, withoutRelevant + o.withoutRelevant, ap + o.ap, apAtR + o.apAtR, p, r);
        }

        public DirectionMetrics metrics(long candidates, List<Integer> ks) {
            double n = Math.max(1, queries);
            Map<Integer, Double> p = new LinkedHashMap<>();
            Map<Integer, Double> r = new LinkedHashMap<>();
            for (int j = 0; j < ks.size(); j++) {
                p.put(ks.get(j), precision[j] / n);
                r.put(ks.get(j), recall[j] / n);
            }
            return new DirectionMetrics(queries, candidates, withoutRelevant, ap / n, apAtR / n, p, r);
        }
    }

    /** The metrics under leaderboard names with a direction suffix, e.g. map_i2t, map_at_r_i2t, p_at_10_i2t. */
    public Map<String, Double> asMap(String direction) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("map_" + direction, map);
        m.put("map_at_r_" + direction, mapAtR);
        precisionAtK.forEach((k, v) -> m.put("p_at_" + k + "_" + direction, v));
        recallAtK.forEach((k, v) -> m.put("r_at_" + k + "_" + direction, v));
        return m;
    }
}
