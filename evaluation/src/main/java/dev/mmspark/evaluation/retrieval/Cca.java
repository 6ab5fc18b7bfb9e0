package dev.mmspark.evaluation.retrieval;

import dev.mmspark.common.InputException;
import org.apache.spark.api.java.JavaRDD;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Canonical correlation analysis (Hotelling 1936) of paired features on Spark -- the classical cross-modal
 * retrieval baseline (Rasiwasia et al., ACM MM 2010, report it on the Wikipedia features). Spark MLlib has
 * none. The covariances are sums over all pairs, computed where the rows are; only p x p, q x q and p x q
 * matrices reach the driver, which solves the small eigenproblems:
 *
 * <ol>
 *   <li>means, then centred scatter matrices Sxx, Syy, Sxy: each partition sums the outer products of its
 *       rows (as X'X over chunks of rows, one BLAS call each), {@code treeReduce} adds the partitions. Two
 *       passes rather than sum(xx') - n mm', which cancels catastrophically for features with large means;</li>
 *   <li>C = S / (n - 1); ridge: Cxx + rx I, rx = {@code regularisation} x trace(Cxx) / p (likewise y), so that
 *       rank-deficient features (fewer pairs than dimensions, constant bag-of-words bins) stay invertible and
 *       the setting does not depend on the features' scale;</li>
 *   <li>whitening: W = C^-1/2 from the symmetric eigendecomposition C = E L E'; T = Wx Cxy Wy. The singular
 *       vectors of T (through the eigenvectors of the smaller of T'T and TT') are the canonical directions in
 *       whitened coordinates, its singular values the canonical correlations; A = Wx U, B = Wy V.</li>
 * </ol>
 *
 * This solves the generalised problem Cxy Cyy^-1 Cyx a = rho^2 Cxx a through standard symmetric ones. (ND4J's
 * own {@code Eigen.symmetricGeneralizedEigenvalues(A, B)} is not usable for it: it hands the non-symmetric
 * B^-1 A to a symmetric solver.) The directions satisfy A'CxxA = I, B'CyyB = I and A'CxyB = diag(rho) with the
 * regularised covariances.
 */
public final class Cca {
    /** Rows per BLAS call when summing outer products. */
    static final int CHUNK = 512;

    private Cca() {
    }

    /** Centred scatter matrices (row-major) of one partition or of all. */
    record Scatter(long n, double[] xx, double[] yy, double[] xy) implements Serializable {
        Scatter plus(Scatter o) {
            return new Scatter(n + o.n, add(xx, o.xx), add(yy, o.yy), add(xy, o.xy));
        }
    }

    /**
     * @param pairs {x, y} per paired row, x of p and y of q values
     */
    public static CcaModel fit(JavaRDD<double[][]> pairs, int p, int q, RetrievalConfig.CcaSettings settings) {
        double[][] sums = pairs.treeAggregate(new double[][]{new double[1], new double[p], new double[q]},
                (acc, xy) -> {
                    acc[0][0]++;
                    addInto(acc[1], xy[0]);
                    addInto(acc[2], xy[1]);
                    return acc;
                },
                (a, b) -> new double[][]{add(a[0], b[0]), add(a[1], b[1]), add(a[2], b[2])});
        long n = (long) sums[0][0];
        if (n < 2) {
            throw new InputException("CCA needs at least 2 training rows with both modalities, found " + n);
        }
        double[] mx = scale(sums[1], 1.0 / n);
        double[] my = scale(sums[2], 1.0 / n);
        Scatter s = pairs.mapPartitions(it -> List.of(scatter(it, mx, my)).iterator()).treeReduce(Scatter::plus);
        return solve(s, mx, my, settings);
    }

    static Scatter scatter(Iterator<double[][]> rows, double[] mx, double[] my) {
        int p = mx.length;
        int q = my.length;
        INDArray xx = Nd4j.zeros(DataType.DOUBLE, p, p);
        INDArray yy = Nd4j.zeros(DataType.DOUBLE, q, q);
        INDArray xy = Nd4j.zeros(DataType.DOUBLE, p, q);
        long n = 0;
        List<double[][]> chunk = new ArrayList<>(CHUNK);
        while (rows.hasNext()) {
            chunk.add(rows.next());
            if (chunk.size() == CHUNK || !rows.hasNext()) {
                double[][] x = new double[chunk.size()][];
                double[][] y = new double[chunk.size()][];
                for (int i = 0; i < x.length; i++) {
                    x[i] = centred(chunk.get(i)[0], mx);
                    y[i] = centred(chunk.get(i)[1], my);
                }
                INDArray xa = Nd4j.create(x);
                INDArray ya = Nd4j.create(y);
                xx.addi(xa.transpose().mmul(xa));
                yy.addi(ya.transpose().mmul(ya));
                xy.addi(xa.transpose().mmul(ya));
                n += x.length;
                chunk.clear();
            }
        }
        return new Scatter(n, flat(xx), flat(yy), flat(xy));
    }

    /** The canonical directions and correlations from the scatter matrices (driver side). */
    static CcaModel solve(Scatter s, double[] mx, double[] my, RetrievalConfig.CcaSettings settings) {
        int p = mx.length;
        int q = my.length;
        double denom = s.n() - 1.0;
        INDArray cxx = ridge(matrix(s.xx(), p, p).divi(denom), settings.regularisation(), "the first modality");
        INDArray cyy = ridge(matrix(s.yy(), q, q).divi(denom), settings.regularisation(), "the second modality");
        INDArray cxy = matrix(s.xy(), p, q).divi(denom);
        INDArray wx = inverseSqrt(cxx, "the first modality");
        INDArray wy = inverseSqrt(cyy, "the second modality");
        INDArray t = wx.mmul(cxy).mmul(wy);                                     // p x q, singular values = rho
        int max = Math.min(p, q);
        int k = settings.components() == 0 ? max : Math.min(settings.components(), max);
        boolean small = q <= p;
        INDArray gram = small ? t.transpose().mmul(t) : t.mmul(t.transpose());
        INDArray vectors = gram.dup();
        INDArray values = Eigen.symmetricGeneralizedEigenvalues(vectors);   // ascending; vectors in columns
        int m = (int) values.length();
        List<Double> rho = new ArrayList<>();
        List<INDArray> left = new ArrayList<>();
        List<INDArray> right = new ArrayList<>();
        for (int j = m - 1; j >= 0 && rho.size() < k; j--) {
            double sv = Math.sqrt(Math.max(0, values.getDouble(j)));
            if (sv <= 1e-12) {
                break;                                                          // no correlation left to use
            }
            INDArray v = vectors.getColumn(j).reshape(m, 1).dup();
            INDArray other = (small ? t.mmul(v) : t.transpose().mmul(v)).divi(sv);
            rho.add(Math.min(sv, 1.0));
            left.add(small ? other : v);
            right.add(small ? v : other);
        }
        if (rho.isEmpty()) {
            throw new InputException("CCA found no correlation between the two modalities' features");
        }
        INDArray u = Nd4j.hstack(left.toArray(new INDArray[0]));
        INDArray vv = Nd4j.hstack(right.toArray(new INDArray[0]));
        double[] corr = rho.stream().mapToDouble(Double::doubleValue).toArray();
        return new CcaModel(mx, my, wx.mmul(u).toDoubleMatrix(), wy.mmul(vv).toDoubleMatrix(), corr,
                settings.correlationPower(), s.n());
    }

    /** C + r (trace C / dim) I. */
    static INDArray ridge(INDArray c, double r, String what) {
        long dim = c.rows();
        double mean = 0;
        for (int i = 0; i < dim; i++) {
            mean += c.getDouble(i, i);
        }
        mean /= dim;
        if (!(mean > 0)) {
            throw new InputException("CCA: the features of " + what + " do not vary over the training pairs");
        }
        return c.addi(Nd4j.eye(dim).castTo(DataType.DOUBLE).muli(r * mean));
    }

    /** C^-1/2 of a symmetric positive definite C. */
    static INDArray inverseSqrt(INDArray c, String what) {
        INDArray e = c.dup();
        INDArray l = Eigen.symmetricGeneralizedEigenvalues(e);
        double top = l.getDouble(l.length() - 1);
        double[] inv = new double[(int) l.length()];
        for (int i = 0; i < inv.length; i++) {
            double v = l.getDouble(i);
            if (!(v > top * 1e-12)) {
                throw new InputException("CCA: the covariance of " + what + " is singular (eigenvalue " + v + " of at "
                        + "most " + top + "); raise evaluate.retrieval.cca.regularisation");
            }
            inv[i] = 1.0 / Math.sqrt(v);
        }
        return e.mulRowVector(Nd4j.createFromArray(inv)).mmul(e.transpose());
    }

    private static INDArray matrix(double[] flat, int rows, int cols) {
        return Nd4j.createFromArray(flat).reshape('c', rows, cols).dup('c');
    }

    private static double[] flat(INDArray a) {
        return a.dup('c').data().asDouble();
    }

    private static double[] centred(double[] v, double[] mean) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] - mean[i];
        }
        return out;
    }

    private static void addInto(double[] acc, double[] v) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += v[i];
        }
    }

    private static double[] add(double[] a, double[] b) {
        double[] out = a.clone();
        addInto(out, b);
        return out;
    }

    private static double[] scale(double[] a, double f) {
        double[] out = a.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= f;
        }
        return out;
    }
}
