package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Gated multimodal unit (Arevalo et al., "Gated multimodal units for information fusion", ICLR-W 2017). Two
 * modalities, as in the paper's bimodal GMU (no biases):
 * <pre>
 *   h_m = tanh(x_m W_m),   z = sigmoid([x_1; x_2] W_z),   y = z * h_1 + (1 - z) * h_2
 * </pre>
 * N &gt; 2 modalities: the paper's multi-modal form, one sigmoid gate per modality from all inputs,
 * {@code z_m = sigmoid([x_1; ...; x_N] W_z,m)}, {@code y = sum_m z_m * h_m}. A missing modality (a zero
 * vector) has h_m = 0, so y falls back to the gated other modalities.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class GmuVertex extends FusionVertex {
    private int dim;

    protected GmuVertex() {
    }

    public GmuVertex(int[] inputSizes, int dim) {
        super(inputSizes);
        this.dim = dim;
    }

    @Override
    public int outputSize() {
        return dim;
    }

    private int gates() {
        return inputSizes.length == 2 ? 1 : inputSizes.length;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        for (int m = 0; m < inputSizes.length; m++) {
            params.addWeightParam("W" + m, inputSizes[m], dim);
        }
        params.addWeightParam("Wz", Arrays.stream(inputSizes).sum(), (long) dim * gates());
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        SDVariable z = sd.nn.sigmoid(sd.concat(1, xs.toArray(new SDVariable[0])).mmul(p.get("Wz")));
        if (xs.size() == 2) {
            SDVariable h0 = sd.math.tanh(xs.get(0).mmul(p.get("W0")));
            SDVariable h1 = sd.math.tanh(xs.get(1).mmul(p.get("W1")));
            return z.mul(h0).add(z.rsub(1.0).mul(h1));
        }
        SDVariable y = null;
        for (int m = 0; m < xs.size(); m++) {
            SDVariable h = sd.math.tanh(xs.get(m).mmul(p.get("W" + m)));
            SDVariable t = z.get(SDIndex.all(), SDIndex.interval((long) m * dim, (long) (m + 1) * dim)).mul(h);
            y = y == null ? t : y.add(t);
        }
        return y;
    }
}
