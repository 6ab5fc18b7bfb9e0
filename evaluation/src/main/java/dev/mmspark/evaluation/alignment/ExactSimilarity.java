package dev.mmspark.evaluation.alignment;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The similarity that ranks are defined on, computed the same way wherever it is computed, so that the
 * distributed evaluation and the single-machine reference agree exactly, ties included.
 *
 * <p>Embeddings are first L2-normalised to float32 ({@link #normalise}); the cosine of two normalised rows is
 * {@link #dot}: the products of float32 values are exact in double precision, summed in index order — a pure
 * function of the two rows, independent of blocking, partitioning or BLAS. BLAS (ND4J's float32 matrix product)
 * computes the tiles quickly; its error for a length-d dot product of unit vectors is at most γ_d =
 * d·u/(1 − d·u) with u = 2⁻²⁴ whatever its summation order (Higham, Accuracy and Stability of Numerical
 * Algorithms, §3.1), so a BLAS value further than {@link #margin} from a threshold decides a comparison and
 * only candidates inside that band are recomputed exactly.
 */
public final class ExactSimilarity {
    private ExactSimilarity() {
    }

    /** Rows scaled to unit L2 norm (norm computed in double); a zero row stays zero. */
    public static float[] normalise(float[] x, int rows, int dim) {
        float[] out = new float[rows * dim];
        for (int i = 0; i < rows; i++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                double v = x[i * dim + d];
                sq += v * v;
            }
            if (sq == 0) {
                continue;
            }
            double inv = 1 / Math.sqrt(sq);
            for (int d = 0; d < dim; d++) {
                out[i * dim + d] = (float) (x[i * dim + d] * inv);
            }
        }
        return out;
    }

    /** The exact-order dot product of row {@code i} of a and row {@code j} of b. */
    public static double dot(float[] a, int i, float[] b, int j, int dim) {
        int ao = i * dim;
        int bo = j * dim;
        double s = 0;
        for (int d = 0; d < dim; d++) {
            s += (double) a[ao + d] * (double) b[bo + d];
        }
        return s;
    }

    /**
     * A bound on |BLAS float32 dot − exact dot| for normalised rows of length {@code dim}, doubled for safety
     * (rows are unit vectors only up to float rounding).
     */
    public static double margin(int dim) {
        double u = Math.ulp(1.0f) / 2;
        return 2 * dim * u / (1 - dim * u) + 1e-9;
    }

    /** a·bᵀ in float32 with ND4J (rows × cols, row-major). */
    public static float[] tile(float[] a, int rows, float[] b, int cols, int dim) {
        INDArray x = Nd4j.createFromArray(a).reshape(rows, dim);
        INDArray y = Nd4j.createFromArray(b).reshape(cols, dim);
        return x.mmul(y.transpose()).castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
