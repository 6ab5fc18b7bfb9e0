package dev.mmspark.training.alignment;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hits@1, Hits@10 and MRR of a small aligned set, on one machine: used for the validation split during
 * training (a few hundred held-out training pairs). The test metrics are computed by the distributed evaluator
 * of the evaluation module, which follows the same definitions: the rank of the true counterpart is 1 + the
 * number of candidates with a strictly greater similarity, over the counterparts of the other pairs; CSLS
 * (Lample et al., ICLR 2018) with k neighbours is 2·cos(x, y) − r_L(x) − r_R(y), r being the mean cosine of
 * the k most similar candidates of the other side.
 */
public final class RankingMetrics {
    private RankingMetrics() {
    }

    /**
     * @param left  n × dim embeddings of the left entities (row i's counterpart is row i of right)
     * @param right n × dim embeddings of the right entities
     * @return hits_at_1_l2r, hits_at_10_l2r, mrr_l2r and _r2l, for cosine (prefix {@code cos_}) and CSLS
     *         ({@code csls_})
     */
    public static Map<String, Double> compute(float[] left, float[] right, int n, int dim, int cslsK) {
        double[][] sim = new double[n][n];
        float[] l = normalised(left, n, dim);
        float[] r = normalised(right, n, dim);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int d = 0; d < dim; d++) {
                    s += (double) l[i * dim + d] * r[j * dim + d];
                }
                sim[i][j] = s;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        put(out, "cos_", sim, n);
        int k = Math.min(cslsK, n);
        double[] rl = new double[n];
        double[] rr = new double[n];
        for (int i = 0; i < n; i++) {
            double[] row = sim[i].clone();
            java.util.Arrays.sort(row);
            double[] col = new double[n];
            for (int j = 0; j < n; j++) {
                col[j] = sim[j][i];
            }
            java.util.Arrays.sort(col);
            for (int t = 0; t < k; t++) {
                rl[i] += row[n - 1 - t] / k;
                rr[i] += col[n - 1 - t] / k;
            }
        }
        double[][] csls = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                csls[i][j] = 2 * sim[i][j] - rl[i] - rr[j];
            }
        }
        put(out, "csls_", csls, n);
        return out;
    }

    private static void put(Map<String, Double> out, String prefix, double[][] s, int n) {
        double h1 = 0, h10 = 0, mrr = 0, h1r = 0, h10r = 0, mrrR = 0;
        for (int i = 0; i < n; i++) {
            int rank = 1;
            int rankR = 1;
            for (int j = 0; j < n; j++) {
                if (s[i][j] > s[i][i]) {
                    rank++;
                }
                if (s[j][i] > s[i][i]) {
                    rankR++;
                }
            }
            h1 += rank <= 1 ? 1 : 0;
            h10 += rank <= 10 ? 1 : 0;
            mrr += 1.0 / rank;
            h1r += rankR <= 1 ? 1 : 0;
            h10r += rankR <= 10 ? 1 : 0;
            mrrR += 1.0 / rankR;
        }
        out.put(prefix + "hits_at_1_l2r", h1 / n);
        out.put(prefix + "hits_at_10_l2r", h10 / n);
        out.put(prefix + "mrr_l2r", mrr / n);
        out.put(prefix + "hits_at_1_r2l", h1r / n);
        out.put(prefix + "hits_at_10_r2l", h10r / n);
        out.put(prefix + "mrr_r2l", mrrR / n);
    }

    static float[] normalised(float[] x, int n, int dim) {
        float[] out = new float[x.length];
        for (int i = 0; i < n; i++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                sq += (double) x[i * dim + d] * x[i * dim + d];
            }
            double inv = 1 / Math.max(Math.sqrt(sq), Losses.NORM_EPS);
            for (int d = 0; d < dim; d++) {
                out[i * dim + d] = (float) (x[i * dim + d] * inv);
            }
        }
        return out;
    }
}
