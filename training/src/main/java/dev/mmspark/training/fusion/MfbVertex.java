package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Multimodal factorized bilinear pooling (Yu et al., "Multi-modal factorized bilinear pooling with
 * co-attention learning for VQA", ICCV 2017) and its cascade, multimodal factorized high-order pooling (MFH,
 * Yu et al., TNNLS 2018), as in {@code Cadene/block.bootstrap.pytorch} (classes MFB, MFH). Stage s:
 * <pre>
 *   e_s = prod_m relu(x_m W_m^s + b_m^s)  (mm_dim * factor),   e_s &lt;- e_s * e_{s-1}  for s &gt; 1
 *   z_s = sum pooling of e_s over consecutive windows of {@code factor}  (mm_dim), optionally normalised
 *   y   = relu([z_1; ...; z_S] W_o + b_o)
 * </pre>
 * MFB is one stage, MFH {@code stages} &gt;= 2 (the reference: 2). N &gt; 2 modalities multiply all N
 * projections. A missing modality (a zero vector) multiplies every e_s by relu(b_m^s).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class MfbVertex extends FusionVertex {
    private int mmDim;
    private int factor;
    private int stages;
    private int outputDim;
    private boolean normalize;

    protected MfbVertex() {
    }

    public MfbVertex(int[] inputSizes, int mmDim, int factor, int stages, int outputDim, boolean normalize) {
        super(inputSizes);
        this.mmDim = mmDim;
        this.factor = factor;
        this.stages = stages;
        this.outputDim = outputDim;
        this.normalize = normalize;
    }

    @Override
    public int outputSize() {
        return outputDim;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        for (int s = 0; s < stages; s++) {
            for (int m = 0; m < inputSizes.length; m++) {
                params.addWeightParam("W" + s + "m" + m, inputSizes[m], (long) mmDim * factor);
                params.addBiasParam("b" + s + "m" + m, 1, (long) mmDim * factor);
            }
        }
        params.addWeightParam("Wo", (long) mmDim * stages, outputDim);
        params.addBiasParam("bo", 1, outputDim);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        SDVariable previous = null;
        SDVariable[] pooled = new SDVariable[stages];
        for (int s = 0; s < stages; s++) {
            List<SDVariable> hs = new ArrayList<>();
            for (int m = 0; m < xs.size(); m++) {
                hs.add(relu(sd, linear(xs.get(m), p.get("W" + s + "m" + m), p.get("b" + s + "m" + m))));
            }
            SDVariable e = product(hs);
            if (previous != null) {
                e = e.mul(previous);
            }
            previous = e;
            SDVariable z = e.reshape(-1, mmDim, factor).sum(2);
            pooled[s] = normalize ? powerL2Normalise(sd, z) : z;
        }
        SDVariable z = stages == 1 ? pooled[0] : sd.concat(1, pooled);
        return relu(sd, linear(z, p.get("Wo"), p.get("bo")));
    }
}
