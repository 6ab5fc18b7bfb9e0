package dev.mmspark.evaluation.retrieval;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CCA pinned by what defines it: the directions whiten each modality's (regularised) covariance and
 * diagonalise the cross-covariance with the canonical correlations on the diagonal; in one dimension the
 * canonical correlation is |Pearson's r|. The covariances computed on Spark equal a direct computation.
 */
class CcaTest {

    /** n pairs: x (p-d) with 2 latent factors, y (q-d) sharing them with weaker loadings, plus noise. */
    private static List<double[][]> pairs(int n, int p, int q, long seed) {
        Random r = new Random(seed);
        List<double[][]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double z1 = r.nextGaussian();
            double z2 = r.nextGaussian();
            double[] x = new double[p];
            double[] y = new double[q];
            for (int j = 0; j < p; j++) {
                x[j] = 5 + (j % 2 == 0 ? z1 : z2) * (1 + j) + r.nextGaussian();
            }
            for (int j = 0; j < q; j++) {
                y[j] = -3 + (j == 0 ? z1 : 0.5 * z2) + 2 * r.nextGaussian();
            }
            out.add(new double[][]{x, y});
        }
        return out;
    }

    /** Direct two-pass scatter matrices, no Spark, no BLAS. */
    private static Cca.Scatter direct(List<double[][]> pairs, double[] mx, double[] my) {
        int p = mx.length;
        int q = my.length;
        double[] xx = new double[p * p];
        double[] yy = new double[q * q];
        double[] xy = new double[p * q];
        for (double[][] pr : pairs) {
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    xx[i * p + j] += (pr[0][i] - mx[i]) * (pr[0][j] - mx[j]);
                }
                for (int j = 0; j < q; j++) {
                    xy[i * q + j] += (pr[0][i] - mx[i]) * (pr[1][j] - my[j]);
                }
            }
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    yy[i * q + j] += (pr[1][i] - my[i]) * (pr[1][j] - my[j]);
                }
            }
        }
        return new Cca.Scatter(pairs.size(), xx, yy, xy);
    }

    private static double[] mean(List<double[][]> pairs, int which, int dim) {
        double[] m = new double[dim];
        for (double[][] pr : pairs) {
            for (int j = 0; j < dim; j++) {
                m[j] += pr[which][j] / pairs.size();
            }
        }
        return m;
    }

    @Test
    void inOneDimensionTheCanonicalCorrelationIsPearsonsR() {
        // x = 1..5, y = (2, 1, 4, 3, 5): r = 0.8 (sum dx dy = 8, sum dx^2 = sum dy^2 = 10)
        List<double[][]> pairs = new ArrayList<>();
        double[] ys = {2, 1, 4, 3, 5};
        for (int i = 0; i < 5; i++) {
            pairs.add(new double[][]{{i + 1.0}, {-ys[i]}});
        }
        double[] mx = mean(pairs, 0, 1);
        double[] my = mean(pairs, 1, 1);
        CcaModel m = Cca.solve(direct(pairs, mx, my), mx, my, new RetrievalConfig.CcaSettings(0, 0, 0));
        assertArrayEquals(new double[]{0.8}, m.correlations(), 1e-12);
        // unit variance (var x = 10 / 4), and the sign makes the two variates correlate positively
        assertEquals(1 / Math.sqrt(2.5), Math.abs(m.a()[0][0]), 1e-12);
        assertTrue(m.a()[0][0] * m.b()[0][0] < 0, "y was negated");
    }

    @Test
    void directionsWhitenAndDiagonaliseTheCovariances() {
        int p = 5;
        int q = 3;
        double reg = 0.01;
        List<double[][]> pairs = pairs(300, p, q, 1);
        double[] mx = mean(pairs, 0, p);
        double[] my = mean(pairs, 1, q);
        Cca.Scatter s = direct(pairs, mx, my);
        CcaModel m = Cca.solve(s, mx, my, new RetrievalConfig.CcaSettings(reg, 0, 0));
        assertEquals(q, m.components());
        double[][] cxx = cov(s.xx(), p, p, s.n());
        double[][] cyy = cov(s.yy(), q, q, s.n());
        double[][] cxy = cov(s.xy(), p, q, s.n());
        ridge(cxx, reg);
        ridge(cyy, reg);
        double[][] aca = product(transpose(m.a()), product(cxx, m.a()));
        double[][] bcb = product(transpose(m.b()), product(cyy, m.b()));
        double[][] acb = product(transpose(m.a()), product(cxy, m.b()));
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                assertEquals(i == j ? 1 : 0, aca[i][j], 1e-9, "A'CxxA");
                assertEquals(i == j ? 1 : 0, bcb[i][j], 1e-9, "B'CyyB");
                assertEquals(i == j ? m.correlations()[i] : 0, acb[i][j], 1e-9, "A'CxyB");
            }
        }
        for (int j = 1; j < q; j++) {
            assertTrue(m.correlations()[j - 1] >= m.correlations()[j]);
        }
        assertTrue(m.correlations()[0] > 0.3 && m.correlations()[0] < 1, "first correlation " + m.correlations()[0]);

        CcaModel two = Cca.solve(s, mx, my, new RetrievalConfig.CcaSettings(reg, 2, 2));
        assertEquals(2, two.components());
        double[] x = pairs.get(0)[0];
        double[] full = m.projectX(x);
        double[] scaled = two.projectX(x);
        for (int j = 0; j < 2; j++) {
            assertEquals(full[j] * m.correlations()[j] * m.correlations()[j], scaled[j], 1e-9);
        }
    }

    @Test
    void sparkFitEqualsTheDirectComputation() {
        int p = 4;
        int q = 3;
        List<double[][]> pairs = pairs(1300, p, q, 2);   // more than Cca.CHUNK rows per partition
        double[] mx = mean(pairs, 0, p);
        double[] my = mean(pairs, 1, q);
        RetrievalConfig.CcaSettings settings = new RetrievalConfig.CcaSettings(1e-3, 0, 0);
        CcaModel local = Cca.solve(direct(pairs, mx, my), mx, my, settings);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        CcaModel spark = Cca.fit(jsc.parallelize(pairs, 2), p, q, settings);
        assertEquals(1300, spark.pairs());
        assertArrayEquals(local.meanX(), spark.meanX(), 1e-12);
        assertArrayEquals(local.correlations(), spark.correlations(), 1e-10);
        for (int i = 0; i < p; i++) {
            assertArrayEquals(local.a()[i], spark.a()[i], 1e-8);
        }
    }

    private static double[][] cov(double[] flat, int rows, int cols, long n) {
        double[][] c = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                c[i][j] = flat[i * cols + j] / (n - 1);
            }
        }
        return c;
    }

    private static void ridge(double[][] c, double r) {
        double mean = 0;
        for (int i = 0; i < c.length; i++) {
            mean += c[i][i] / c.length;
        }
        for (int i = 0; i < c.length; i++) {
            c[i][i] += r * mean;
        }
    }

    private static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    private static double[][] product(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }
}
