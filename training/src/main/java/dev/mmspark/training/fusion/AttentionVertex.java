package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Attention over modality vectors (survey §8, "learned weights over modality vectors"; Zhang et al. 2020):
 * each modality is projected to a common size, scored by a learned context vector v, and the projections are
 * averaged with the softmax of the scores, per sample:
 * <pre>
 *   h_m = tanh(x_m W_m + b_m),   s_m = h_m v,   alpha = softmax_m(s),   y = sum_m alpha_m h_m
 * </pre>
 * Without presence masks a missing modality (a zero vector) still gets a weight, for h_m = tanh(b_m). With them
 * (p_m = 0) its score is lowered by {@value #ABSENT} before the softmax, so the weights renormalise over the
 * present modalities (its weight underflows to 0 in float and double); a sample with no modality at all fuses
 * to the zero vector.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class AttentionVertex extends FusionVertex {
    /** Subtracted from an absent modality's score: exp(-1e4) is 0 in float and double. */
    static final double ABSENT = 1e4;

    private int dim;

    protected AttentionVertex() {
    }

    public AttentionVertex(int[] inputSizes, int dim) {
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
        }
        params.addWeightParam("Wv", dim, 1);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        return fuse(sd, xs, null, p);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, List<SDVariable> ps, Map<String, SDVariable> p) {
        List<SDVariable> hs = new ArrayList<>();
        SDVariable[] scores = new SDVariable[xs.size()];
        SDVariable nonepresent = null;
        if (ps != null) {
            for (SDVariable pm : ps) {
                nonepresent = nonepresent == null ? pm.rsub(1.0) : nonepresent.mul(pm.rsub(1.0));
            }
        }
        for (int m = 0; m < xs.size(); m++) {
            SDVariable h = sd.math.tanh(linear(xs.get(m), p.get("W" + m), p.get("b" + m)));
            hs.add(h);
            scores[m] = h.mmul(p.get("Wv"));
            if (ps != null) {
                // shifted only when some modality is present: with all scores at -1e4 ND4J's softmax gives 0/0
                SDVariable shift = ps.get(m).rsub(1.0).mul(nonepresent.rsub(1.0)).mul(ABSENT);
                scores[m] = scores[m].sub(shift);
            }
        }
        SDVariable alpha = sd.nn.softmax(sd.concat(1, scores), 1);
        SDVariable y = null;
        for (int m = 0; m < hs.size(); m++) {
            SDVariable t = hs.get(m).mul(alpha.get(SDIndex.all(), SDIndex.interval(m, m + 1)));
            y = y == null ? t : y.add(t);
        }
        return nonepresent == null ? y : y.mul(nonepresent.rsub(1.0));
    }
}
