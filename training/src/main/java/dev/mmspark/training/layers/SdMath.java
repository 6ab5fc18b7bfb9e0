package dev.mmspark.training.layers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * SameDiff building blocks the sequence models share, written out from elementary ops where ND4J 1.0.0-M2.1's own
 * op misbehaves: its LogSoftMax op fails to deserialise its dimension argument when the gradient function is built,
 * and its softmax op gave NaN where every key of an attention row was masked (scores all about -1e4).
 */
public final class SdMath {
    private SdMath() {
    }

    /** log softmax along {@code axis}, the maximum subtracted first (its gradient cancels). */
    public static SDVariable logSoftmax(SameDiff sd, SDVariable z, int axis) {
        SDVariable shifted = z.sub(z.max(true, axis));
        return shifted.sub(sd.math.log(sd.math.exp(shifted).sum(true, axis)));
    }

    /** softmax along {@code axis}, the maximum subtracted first: finite even when every entry is about -1e4. */
    public static SDVariable softmax(SameDiff sd, SDVariable z, int axis) {
        SDVariable exp = sd.math.exp(z.sub(z.max(true, axis)));
        return exp.div(exp.sum(true, axis));
    }

    /**
     * LayerNorm over the last axis of a rank-3 variable {@code [B, n, e]}: (x - mean) / sqrt(var + eps) g + b,
     * biased variance; gain and bias are {@code [1, e]} parameters.
     */
    public static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable gain, SDVariable bias, int e, double eps) {
        SDVariable centred = x.sub(x.mean(true, 2));
        SDVariable var = centred.mul(centred).mean(true, 2);
        return centred.div(sd.math.sqrt(var.add(eps))).mul(gain.reshape(1, 1, e)).add(bias.reshape(1, 1, e));
    }
}
