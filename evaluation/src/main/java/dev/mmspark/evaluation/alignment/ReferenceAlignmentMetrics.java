package dev.mmspark.evaluation.alignment;

import java.util.Arrays;

/**
 * The straightforward single-machine computation the distributed evaluator must reproduce: the full n × n
 * similarity matrix (exact, {@link ExactSimilarity#dot}), CSLS from it, ranks by counting strictly greater
 * candidates. Quadratic memory: for tests and small sets only.
 *
 * <p>CSLS (Lample et al., ICLR 2018; MCLEA's {@code csls_sim}): csls(x, y) = 2·cos(x, y) − r_L(x) − r_R(y), with
 * r_L(x) the mean cosine of x's k most similar right entities and r_R(y) that of y's k most similar left
 * entities; the k values are summed largest first.
 */
public final class ReferenceAlignmentMetrics {
    private ReferenceAlignmentMetrics() {
    }

    /**
     * @param left  n × dim embeddings (row i's counterpart is row i of right), not necessarily normalised
     * @return {cosine, csls}
     */
    public static AlignmentMetrics[] compute(float[] left, float[] right, int n, int dim, int k) {
        float[] l = ExactSimilarity.normalise(left, n, dim);
        float[] r = ExactSimilarity.normalise(right, n, dim);
        double[][] cos = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                cos[i][j] = ExactSimilarity.dot(l, i, r, j, dim);
            }
        }
        double[] rl = new double[n];
        double[] rr = new double[n];
        for (int i = 0; i < n; i++) {
            double[] row = cos[i].clone();
            double[] col = new double[n];
            for (int j = 0; j < n; j++) {
                col[j] = cos[j][i];
            }
            rl[i] = meanOfTop(row, k);
            rr[i] = meanOfTop(col, k);
        }
        double[][] csls = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                csls[i][j] = Csls.score(cos[i][j], rl[i], rr[j]);
            }
        }
        return new AlignmentMetrics[]{ranks("cosine", cos, n), ranks("csls", csls, n)};
    }

    /** Mean of the k largest values, summed largest first. */
    static double meanOfTop(double[] values, int k) {
        double[] s = values.clone();
        Arrays.sort(s);
        int m = Math.min(k, s.length);
        double sum = 0;
        for (int t = 0; t < m; t++) {
            sum += s[s.length - 1 - t];
        }
        return sum / m;
    }

    private static AlignmentMetrics ranks(String name, double[][] s, int n) {
        int[] l2r = new int[n];
        int[] r2l = new int[n];
        for (int i = 0; i < n; i++) {
            int a = 1;
            int b = 1;
            for (int j = 0; j < n; j++) {
                if (s[i][j] > s[i][i]) {
                    a++;
                }
                if (s[j][i] > s[i][i]) {
                    b++;
                }
            }
            l2r[i] = a;
            r2l[i] = b;
        }
        return AlignmentMetrics.of(name, l2r, r2l);
    }
}
