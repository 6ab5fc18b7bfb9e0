package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Multimodal compact bilinear pooling (Fukui et al., "Multimodal compact bilinear pooling for visual question
 * answering and visual grounding", EMNLP 2016), with the output layer of {@code Cadene/block.bootstrap.pytorch}
 * (class MCB: linear + ReLU on the pooled vector):
 * <pre>
 *   psi_m = count sketch of x_m into mm_dim bins: psi_m[h_m(i)] += s_m(i) x_m[i]
 *   z     = IFFT( prod_m FFT(psi_m) )          (the count sketch of x_1 (x) ... (x) x_N)
 *   y     = relu(z W_o + b_o)
 * </pre>
 * The hash functions h_m (bins) and s_m (signs, +-1) are drawn once from a seed when the model is built and
 * stored in this vertex's configuration, so a saved model and every executor use the same ones.
 *
 * <p>ND4J 1.0.0-M2.1 has no differentiable FFT, so the DFT is computed by matrix products in the Cooley-Tukey
 * "four-step" form: mm_dim = P * Q, a length-P DFT over one axis, twiddle factors, a length-Q DFT over the
 * other (O(mm_dim (P + Q)) per vector instead of O(mm_dim^2); mm_dim = 16000 = 125 * 128). The spectrum is
 * kept in that (transposed) order, which the element-wise product does not care about, and the inverse undoes
 * the same steps. A missing modality (a zero vector) has psi_m = 0 and so z = 0: y = relu(b_o).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class McbVertex extends FusionVertex {
    private int mmDim;
    private int outputDim;
    private int[][] bins;
    private int[][] signs;

    protected McbVertex() {
    }

    public McbVertex(int[] inputSizes, int mmDim, int outputDim, long seed) {
        super(inputSizes);
        this.mmDim = mmDim;
        this.outputDim = outputDim;
        Random random = new Random(seed);
        bins = new int[inputSizes.length][];
        signs = new int[inputSizes.length][];
        for (int m = 0; m < inputSizes.length; m++) {
            bins[m] = new int[inputSizes[m]];
            signs[m] = new int[inputSizes[m]];
            for (int i = 0; i < inputSizes[m]; i++) {
                bins[m][i] = random.nextInt(mmDim);
                signs[m][i] = random.nextBoolean() ? 1 : -1;
            }
        }
    }

    /** With given hash functions (tests compare with outputs computed elsewhere for the same hashes). */
    McbVertex(int[] inputSizes, int mmDim, int outputDim, int[][] bins, int[][] signs) {
        super(inputSizes);
        this.mmDim = mmDim;
        this.outputDim = outputDim;
        this.bins = bins;
        this.signs = signs;
    }

    /** Bins h_m(i) of each modality's count sketch. */
    public int[][] bins() {
        return bins;
    }

    /** Signs s_m(i) of each modality's count sketch. */
    public int[][] signs() {
        return signs;
    }

    @Override
    public int outputSize() {
        return outputDim;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        params.addWeightParam("Wo", mmDim, outputDim);
        params.addBiasParam("bo", 1, outputDim);
    }

    /** The largest factor of n not above sqrt(n) (1 for a prime: then the DFT is one dense product). */
    static int splitFactor(int n) {
        for (int p = (int) Math.floor(Math.sqrt(n)); p > 1; p--) {
            if (n % p == 0) {
                return p;
            }
        }
        return 1;
    }

    /** cos or sin of 2 pi a b / n for a in [0, rows), b in [0, cols). */
    private static INDArray trig(boolean cos, int rows, int cols, int n, DataType type) {
        double[][] out = new double[rows][cols];
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < cols; b++) {
                long k = ((long) a * b) % n;
                double angle = 2 * Math.PI * k / n;
                out[a][b] = cos ? Math.cos(angle) : Math.sin(angle);
            }
        }
        return Nd4j.create(out).castTo(type);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        DataType type = xs.get(0).dataType();
        int pp = splitFactor(mmDim);
        int q = mmDim / pp;
        SDVariable cp = sd.constant(trig(true, pp, pp, pp, type));
        SDVariable sp = sd.constant(trig(false, pp, pp, pp, type));
        SDVariable cq = sd.constant(trig(true, q, q, q, type));
        SDVariable sq = sd.constant(trig(false, q, q, q, type));
        SDVariable tr = sd.constant(trig(true, q, pp, mmDim, type).reshape(1, q, pp));    // [n2, k1]
        SDVariable ti = sd.constant(trig(false, q, pp, mmDim, type).reshape(1, q, pp));
        SDVariable prodRe = null;
        SDVariable prodIm = null;
        for (int m = 0; m < xs.size(); m++) {
            double[][] sketch = new double[inputSizes[m]][mmDim];
            for (int i = 0; i < inputSizes[m]; i++) {
                sketch[i][bins[m][i]] = signs[m][i];
            }
            SDVariable psi = xs.get(m).mmul(sd.constant(Nd4j.create(sketch).castTo(type)));     // [B, D]
            // step 1: DFT over n1 (psi[q n1 + n2]); real input, F_p = C - iS
            SDVariable a = psi.reshape(-1, pp, q).permute(0, 2, 1).reshape(-1, pp);             // [B q, n1]
            SDVariable yr = a.mmul(cp).reshape(-1, q, pp);                                      // [B, n2, k1]
            SDVariable yi = a.mmul(sp).neg().reshape(-1, q, pp);
            // step 2: twiddle w^(n2 k1) = tr - i ti
            SDVariable ur = yr.mul(tr).add(yi.mul(ti));
            SDVariable ui = yi.mul(tr).sub(yr.mul(ti));
            // step 3: DFT over n2 with F_q = C - iS
            SDVariable vr = ur.permute(0, 2, 1).reshape(-1, q);                                 // [B p, n2]
            SDVariable vi = ui.permute(0, 2, 1).reshape(-1, q);
            SDVariable fr = vr.mmul(cq).add(vi.mmul(sq)).reshape(-1, mmDim);                    // [B, (k1, k2)]
            SDVariable fi = vi.mmul(cq).sub(vr.mmul(sq)).reshape(-1, mmDim);
            if (prodRe == null) {
                prodRe = fr;
                prodIm = fi;
            } else {
                SDVariable re = prodRe.mul(fr).sub(prodIm.mul(fi));
                prodIm = prodRe.mul(fi).add(prodIm.mul(fr));
                prodRe = re;
            }
        }
        // inverse, step 3 undone: sum over k2 with conj(F_q) = C + iS
        SDVariable xr = prodRe.reshape(-1, q);                                                   // [B p, k2]
        SDVariable xi = prodIm.reshape(-1, q);
        SDVariable gr = xr.mmul(cq).sub(xi.mmul(sq)).reshape(-1, pp, q);                        // [B, k1, n2]
        SDVariable gi = xr.mmul(sq).add(xi.mmul(cq)).reshape(-1, pp, q);
        // conj twiddle w^(-n2 k1) = tr + i ti, laid out [k1, n2]
        SDVariable trT = sd.constant(trig(true, pp, q, mmDim, type).reshape(1, pp, q));
        SDVariable tiT = sd.constant(trig(false, pp, q, mmDim, type).reshape(1, pp, q));
        SDVariable hr = gr.mul(trT).sub(gi.mul(tiT));
        SDVariable hi = gr.mul(tiT).add(gi.mul(trT));
        // sum over k1 with conj(F_p) = C + iS, real part only
        SDVariable wr = hr.permute(0, 2, 1).reshape(-1, pp);                                   // [B q, k1]
        SDVariable wi = hi.permute(0, 2, 1).reshape(-1, pp);
        // the 1/mm_dim of the inverse DFT is folded into this step's matrices: a scalar division of the permuted
        // result crashed ND4J M2.1 (SIGSEGV in its float ScalarTransform during backprop, batch 64, mm_dim 16000)
        SDVariable cpInv = sd.constant(trig(true, pp, pp, pp, type).divi(mmDim));
        SDVariable spInv = sd.constant(trig(false, pp, pp, pp, type).divi(mmDim));
        SDVariable out = wr.mmul(cpInv).sub(wi.mmul(spInv)).reshape(-1, q, pp)                 // [B, n2, n1]
                .permute(0, 2, 1).reshape(-1, mmDim);
        return relu(sd, linear(out, p.get("Wo"), p.get("bo")));
    }
}
