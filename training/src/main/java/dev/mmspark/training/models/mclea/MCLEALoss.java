package dev.mmspark.training.models.mclea;

import dev.mmspark.training.alignment.HeadBuilder;
import dev.mmspark.training.alignment.Losses;
import dev.mmspark.training.alignment.Modality;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MCLEA's objective (Lin et al., COLING 2022, Eq. 10; official {@code src/run.py train}):
 * <pre>
 *   L = ICL(joint) + Σ_m [exp(−s_m)·ICL_m + s_m] + z·Σ_m [exp(−s'_m)·z·IAL(e_m ‖ joint) + s'_m]
 * </pre>
 * with ICL at τ, IAL at τ₂ towards the (detached) joint embedding, s and s' learned log-variances (zero
 * initialised) and z the zoom (0.1). The zoom appears twice because the reference scales inside
 * {@code ial_loss} and again in {@code kl_alignment_loss}; the log-variance terms therefore get z once and the
 * KL terms z². The reference keeps six loss slots whatever the modalities (a disabled slot adds s_k with a
 * zero loss, which only drifts s_k); here there is one slot per modality used, which gives the same gradients
 * for the used ones.
 */
final class MCLEALoss {
    private MCLEALoss() {
    }

    static SDVariable loss(MCLEASpec spec, HeadBuilder b, Map<Modality, SDVariable> embL,
                           Map<Modality, SDVariable> embR, Map<Modality, SDVariable> maskL,
                           Map<Modality, SDVariable> maskR, SDVariable jointL, SDVariable jointR) {
        SameDiff sd = b.sd();
        SDVariable jointPresentL = b.anyPresent(maskL);
        SDVariable jointPresentR = b.anyPresent(maskR);
        SDVariable joint = Losses.icl(sd, jointL, jointR, jointPresentL, jointPresentR, spec.tau(), spec.abWeight());
        List<SDVariable> intra = new ArrayList<>();
        List<SDVariable> align = new ArrayList<>();
        for (Modality m : spec.modalities()) {
            intra.add(Losses.icl(sd, embL.get(m), embR.get(m), maskL.get(m), maskR.get(m), spec.tau(),
                    spec.abWeight()));
            align.add(Losses.ial(sd, embL.get(m), embR.get(m), jointL, jointR, maskL.get(m), maskR.get(m),
                    spec.tau2(), spec.abWeight()).mul(spec.zoom()));
        }
        SDVariable in = Losses.uncertaintyWeighted(sd, b.param(MCLEAGraph.LOG_VARS_INTRA), intra);
        SDVariable al = Losses.uncertaintyWeighted(sd, b.param(MCLEAGraph.LOG_VARS_ALIGN), align).mul(spec.zoom());
        return joint.add(in).add(al);
    }
}
