package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Multimodal low-rank bilinear pooling (Kim et al., "Hadamard product for low-rank bilinear pooling", ICLR
 * 2017), as in the reference implementation {@code Cadene/block.bootstrap.pytorch} (class MLB: ReLU on the
 * projections and on the output, optional power + L2 normalisation):
 * <pre>  z = prod_m relu(x_m W_m + b_m)  (mm_dim),   y = relu(norm(z) W_o + b_o)</pre>
 * N &gt; 2 modalities multiply all N projections (the Hadamard form extends directly). A missing modality
 * (a zero vector) multiplies z by relu(b_m).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class MlbVertex extends FusionVertex {
    private int mmDim;
    private int outputDim;
    private boolean normalize;

    protected MlbVertex() {
    }

    public MlbVertex(int[] inputSizes, int mmDim, int outputDim, boolean normalize) {
        super(inputSizes);
        this.mmDim = mmDim;
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
        }
        params.addWeightParam("Wo", mmDim, outputDim);
        params.addBiasParam("bo", 1, outputDim);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        List<SDVariable> hs = new ArrayList<>();
        for (int m = 0; m < xs.size(); m++) {
            hs.add(relu(sd, linear(xs.get(m), p.get("W" + m), p.get("b" + m))));
        }
        SDVariable z = product(hs);
        if (normalize) {
            z = powerL2Normalise(sd, z);
        }
        return relu(sd, linear(z, p.get("Wo"), p.get("bo")));
    }
}
