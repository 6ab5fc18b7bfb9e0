package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Concatenation with presence masks, [x_1 p_1; …; x_N p_N]: what {@link ConcatFusion} adds when its branches come
 * with presence masks (without them it is DL4J's built-in merge vertex). No parameters.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class MaskedConcatVertex extends FusionVertex {

    protected MaskedConcatVertex() {
    }

    public MaskedConcatVertex(int[] inputSizes) {
        super(inputSizes);
        withPresenceInputs(true);
    }

    @Override
    public int outputSize() {
        return Arrays.stream(inputSizes).sum();
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> params) {
        return sd.concat(1, xs.toArray(new SDVariable[0]));
    }
}
