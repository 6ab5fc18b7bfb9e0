package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.List;
import java.util.Map;

/**
 * Low-rank multimodal fusion (Liu et al., "Efficient low-rank multimodal fusion with modality-specific
 * factors", ACL 2018): the TFN weight tensor applied to the outer product of the [1; x_m] is factorised into
 * R rank-one terms per modality, so it is computed without forming the tensor:
 * <pre>  y = sum_r w_r prod_m ([1; x_m] W_m^(r)) + b</pre>
 * with modality factors W_m^(r) ((d_m + 1) x out), rank weights w (R x 1, the authors' {@code fusion_weights})
 * and bias b. A missing modality (a zero vector) contributes its factors' first rows only, as in TFN.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class LmfVertex extends FusionVertex {
    private int rank;
    private int outputDim;

    protected LmfVertex() {
    }

    public LmfVertex(int[] inputSizes, int rank, int outputDim) {
        super(inputSizes);
        this.rank = rank;
        this.outputDim = outputDim;
    }

    @Override
    public int outputSize() {
        return outputDim;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        for (int m = 0; m < inputSizes.length; m++) {
            params.addWeightParam("W" + m, inputSizes[m] + 1, (long) rank * outputDim);
        }
        params.addWeightParam("Wr", rank, 1);
        params.addBiasParam("b", 1, outputDim);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        SDVariable prod = null;
        for (int m = 0; m < xs.size(); m++) {
            SDVariable x = xs.get(m);
            SDVariable ext = sd.concat(1, sd.onesLike(x.get(SDIndex.all(), SDIndex.interval(0, 1))), x);
            SDVariable f = ext.mmul(p.get("W" + m));                       // [B, R*out], rank-major
            prod = prod == null ? f : prod.mul(f);
        }
        // sum_r w_r f_r as a matrix product over r ([B out, R] x [R, 1]); ND4J M2.1's backward of the
        // equivalent broadcast multiply + sum fails in float ("Axis array [...] contains values above rank")
        SDVariable byRank = prod.reshape(-1, rank, outputDim).permute(0, 2, 1).reshape(-1, rank);
        return byRank.mmul(p.get("Wr")).reshape(-1, outputDim).add(p.get("b"));
    }
}
