package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * Weighted sum (survey §8 "simple" fusion; Zhang et al. 2020): each modality is projected to a common size
 * and the projections are added with one learned scalar weight per modality,
 * <pre>  y = sum_m a_m (x_m W_m + b_m)</pre>
 * with {@code a_m} starting at 1. A missing modality given as a zero vector contributes {@code a_m b_m}; with a
 * presence mask it contributes nothing.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class WeightedSumVertex extends FusionVertex {
    private int dim;

    protected WeightedSumVertex() {
    }

    public WeightedSumVertex(int[] inputSizes, int dim) {
        super(inputSizes);
        this.dim = dim;
    }

    @Override
    public int outputSize() {
        return dim;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        for (int m = 0; m < inputSizes.length; m++) {
            params.addWeightParam("W" + m, inputSizes[m], dim);
            params.addBiasParam("b" + m, 1, dim);
            params.addWeightParam("a" + m, 1, 1);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        super.initializeParameters(params);
        for (int m = 0; m < inputSizes.length; m++) {
            params.get("a" + m).assign(1.0);
        }
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        return fuse(sd, xs, null, p);
    }

    /** With presence masks an absent modality's term, bias included, is left out: Σ_m p_m a_m (x_m W_m + b_m). */
    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, List<SDVariable> ps, Map<String, SDVariable> p) {
        SDVariable y = null;
        for (int m = 0; m < xs.size(); m++) {
            SDVariable h = linear(xs.get(m), p.get("W" + m), p.get("b" + m)).mul(p.get("a" + m));
            if (ps != null) {
                h = h.mul(ps.get(m));
            }
            y = y == null ? h : y.add(h);
        }
        return y;
    }
}
