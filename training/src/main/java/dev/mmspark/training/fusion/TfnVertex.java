package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.List;
import java.util.Map;

/**
 * Tensor fusion (Zadeh et al., "Tensor fusion network for multimodal sentiment analysis", EMNLP 2017): the
 * outer product of the modality vectors, each extended with a constant 1 so that the unimodal and bimodal
 * terms survive next to the trimodal ones,
 * <pre>  y = vec([1; z_1] (x) [1; z_2] (x) ... (x) [1; z_N])   (first modality slowest)</pre>
 * The 1 comes first, as in the authors' code. Its size is prod_m (d_m + 1), so each input is first
 * projected, {@code z_m = x_m W_m + b_m} to {@code dim} (the paper's modality subnetworks also end small);
 * {@code dim = 0} uses the inputs as they are. A missing modality (a zero vector) leaves only the terms of
 * the others, multiplied by its z_m = b_m.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class TfnVertex extends FusionVertex {
    private int dim;

    protected TfnVertex() {
    }

    public TfnVertex(int[] inputSizes, int dim) {
        super(inputSizes);
        this.dim = dim;
    }

    private int size(int m) {
        return dim > 0 ? dim : inputSizes[m];
    }

    @Override
    public int outputSize() {
        long n = 1;
        for (int m = 0; m < inputSizes.length; m++) {
            n *= size(m) + 1;
        }
        return Math.toIntExact(n);
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        if (dim > 0) {
            for (int m = 0; m < inputSizes.length; m++) {
                params.addWeightParam("W" + m, inputSizes[m], dim);
                params.addBiasParam("b" + m, 1, dim);
            }
        }
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        SDVariable t = null;
        long width = 1;
        for (int m = 0; m < xs.size(); m++) {
            SDVariable z = dim > 0 ? linear(xs.get(m), p.get("W" + m), p.get("b" + m)) : xs.get(m);
            SDVariable one = sd.onesLike(z.get(SDIndex.all(), SDIndex.interval(0, 1)));
            SDVariable ext = sd.concat(1, one, z);
            int s = size(m) + 1;
            if (t == null) {
                t = ext;
                width = s;
            } else {
                t = t.reshape(-1, width, 1).mul(ext.reshape(-1, 1, s)).reshape(-1, width * s);
                width *= s;
            }
        }
        return t;
    }
}
