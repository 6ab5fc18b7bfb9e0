package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MUTAN (Ben-younes et al., "MUTAN: multimodal Tucker fusion for visual question answering", ICCV 2017), as
 * in {@code Cadene/block.bootstrap.pytorch} (class Mutan): a Tucker decomposition whose core tensor has rank
 * at most R, computed as a sum of R element-wise products of projections:
 * <pre>
 *   q_m = x_m W_m + b_m  (mm_dim),   z = sum_{r=1..R} prod_m (q_m M_m + c_m)[r-th block of mm_dim]
 *   y = norm(z) W_o + b_o
 * </pre>
 * (no activations, as the reference). N &gt; 2 modalities: the same with an N-mode core. A missing modality
 * (a zero vector) has q_m = b_m.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class MutanVertex extends FusionVertex {
    private int mmDim;
    private int rank;
    private int outputDim;
    private boolean normalize;

    protected MutanVertex() {
    }

    public MutanVertex(int[] inputSizes, int mmDim, int rank, int outputDim, boolean normalize) {
        super(inputSizes);
        this.mmDim = mmDim;
        this.rank = rank;
        this.outputDim = outputDim;
        this.normalize = normalize;
    }

    @Override
    public int outputSize() {
        return outputDim;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        for (int m = 0; m < inputSizes.length; m++) {
            params.addWeightParam("W" + m, inputSizes[m], mmDim);
            params.addBiasParam("b" + m, 1, mmDim);
            params.addWeightParam("M" + m, mmDim, (long) mmDim * rank);
            params.addBiasParam("c" + m, 1, (long) mmDim * rank);
        }
        params.addWeightParam("Wo", mmDim, outputDim);
        params.addBiasParam("bo", 1, outputDim);
    }

    @Override
    public void initializeParameters(java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> params) {
        super.initializeParameters(params);
        // the "c" biases start at 0 like every bias (the base class zeroes only names starting with b)
        for (int m = 0; m < inputSizes.length; m++) {
            params.get("c" + m).assign(0.0);
        }
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        List<SDVariable> ms = new ArrayList<>();
        for (int m = 0; m < xs.size(); m++) {
            SDVariable q = linear(xs.get(m), p.get("W" + m), p.get("b" + m));
            ms.add(linear(q, p.get("M" + m), p.get("c" + m)));
        }
        SDVariable z = product(ms).reshape(-1, rank, mmDim).sum(1);
        if (normalize) {
            z = powerL2Normalise(sd, z);
        }
        return linear(z, p.get("Wo"), p.get("bo"));
    }
}
