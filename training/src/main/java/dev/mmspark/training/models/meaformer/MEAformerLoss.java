package dev.mmspark.training.models.meaformer;

import dev.mmspark.training.alignment.HeadBuilder;
import dev.mmspark.training.alignment.Losses;
import dev.mmspark.training.alignment.Modality;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MEAformer's objective (Chen et al., ACM MM 2023, Eq. 11; official {@code model/MEAformer.py forward}):
 * <pre>
 *   L = ICL(joint) + Σ_m [exp(−s_m)·ICL(e_m) + s_m] + Σ_m [exp(−s_m)·ICL(h_m) + s_m]
 * </pre>
 * ICL at τ on the early-fusion joint embedding, on every modality embedding and on every late-fusion output
 * h_m, with one set of learned log-variances s shared by the two sums (the reference calls the same
 * {@code multi_loss_layer} twice). The reference has no inter-modal KL term.
 */
final class MEAformerLoss {
    private MEAformerLoss() {
    }

    static SDVariable loss(MEAformerSpec spec, HeadBuilder b, Map<Modality, SDVariable> embL,
                           Map<Modality, SDVariable> embR, Map<Modality, SDVariable> maskL,
                           Map<Modality, SDVariable> maskR, MEAformerGraph.SideOutputs outL,
                           MEAformerGraph.SideOutputs outR) {
        SameDiff sd = b.sd();
        SDVariable joint = Losses.icl(sd, outL.joint(), outR.joint(), b.anyPresent(maskL), b.anyPresent(maskR),
                spec.tau(), spec.abWeight());
        List<SDVariable> in = new ArrayList<>();
        List<SDVariable> out = new ArrayList<>();
        for (Modality m : spec.modalities()) {
            in.add(Losses.icl(sd, embL.get(m), embR.get(m), maskL.get(m), maskR.get(m), spec.tau(), spec.abWeight()));
            out.add(Losses.icl(sd, outL.hidden().get(m), outR.hidden().get(m), maskL.get(m), maskR.get(m), spec.tau(),
                    spec.abWeight()));
        }
        SDVariable logVars = b.param(MEAformerGraph.LOG_VARS);
        return joint.add(Losses.uncertaintyWeighted(sd, logVars, in)).add(Losses.uncertaintyWeighted(sd, logVars, out));
    }
}
