package dev.mmspark.training.models.mclea;

import dev.mmspark.training.alignment.HeadBuilder;
import dev.mmspark.training.alignment.HeadGraph;
import dev.mmspark.training.alignment.HeadGraph.Side;
import dev.mmspark.training.alignment.Losses;
import dev.mmspark.training.alignment.Modality;
import dev.mmspark.training.alignment.ParamSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MCLEA's network after the structure encoder (Lin et al., COLING 2022, §3.1–3.2; official
 * {@code src/models.py MultiModalEncoder, MultiModalFusion}):
 * <pre>
 *   e_m     = x_m·W_m + b_m              per non-structure modality (nn.Linear to modality_dim)
 *   e_g     = GAT output                 (structure)
 *   w       = softmax(ω)                 ω ∈ R^|M|, initialised to ones (with_weight = 1)
 *   joint   = [w_m · e_m / ‖e_m‖]_m       concatenation over the modalities
 * </pre>
 * An entity lacking modality m contributes a zero block for it (its presence mask multiplies the block).
 */
final class MCLEAGraph {
    static final String FUSION = "fusion.w";
    static final String LOG_VARS_INTRA = "loss.intra";
    static final String LOG_VARS_ALIGN = "loss.align";

    private MCLEAGraph() {
    }

    static void init(MCLEASpec spec, ParamSet p, Map<Modality, Integer> inputDims, SplittableRandom rng) {
        HeadBuilder.initEncoders(p, spec.modalities(), inputDims, spec.modalityDim(), rng);
        int m = spec.modalities().size();
        p.put(FUSION, new long[]{m}, ParamSet.filled(m, 1f));
        p.put(LOG_VARS_INTRA, new long[]{m}, new float[m]);
        p.put(LOG_VARS_ALIGN, new long[]{m}, new float[m]);
    }

    static HeadGraph build(MCLEASpec spec, HeadBuilder b, boolean training) {
        List<Modality> ms = spec.modalities();
        SameDiff sd = b.sd();
        SDVariable weights = sd.nn.softmax(b.param(FUSION).reshape(1, -1)).reshape(-1);
        Map<Modality, SDVariable> embL = b.encode(ms, Side.L, spec.gat().dim());
        Map<Modality, SDVariable> maskL = b.masks(ms, Side.L);
        SDVariable jointL = joint(sd, ms, weights, embL, maskL);
        int jointDim = ms.stream().mapToInt(spec::dim).sum();
        if (!training) {
            return b.build(null, jointL, jointDim);
        }
        Map<Modality, SDVariable> embR = b.encode(ms, Side.R, spec.gat().dim());
        Map<Modality, SDVariable> maskR = b.masks(ms, Side.R);
        SDVariable jointR = joint(sd, ms, weights, embR, maskR);
        SDVariable loss = MCLEALoss.loss(spec, b, embL, embR, maskL, maskR, jointL, jointR);
        return b.build(loss, jointL, jointDim);
    }

    /** [w_m · normalize(e_m) · present_m]_m. */
    private static SDVariable joint(SameDiff sd, List<Modality> ms, SDVariable weights, Map<Modality, SDVariable> emb,
                                    Map<Modality, SDVariable> mask) {
        List<SDVariable> blocks = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            Modality m = ms.get(i);
            SDVariable w = weights.get(org.nd4j.autodiff.samediff.SDIndex.point(i));
            blocks.add(Losses.l2Normalize(sd, emb.get(m)).mul(w).mul(mask.get(m).reshape(-1, 1)));
        }
        return blocks.size() == 1 ? blocks.get(0) : sd.concat(1, blocks.toArray(new SDVariable[0]));
    }
}
