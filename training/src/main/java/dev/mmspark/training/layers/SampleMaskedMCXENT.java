package dev.mmspark.training.layers;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Multi-class cross-entropy, {@code CE(y, p) = -sum_k y_k log p_k}, weighted per example by a label mask,
 * including a minibatch of one example.
 *
 * <p>{@link LossMCXENT} refuses per-class masks with softmax, and ND4J 1.0.0-M2.1 takes a {@code [1, 1]}
 * mask (one example) for a per-class one, since {@code isColumnVector()} needs more than one element; here
 * it is the example's weight. A {@code [n, classes]} mask with equal columns is read as per-example too; one
 * whose columns differ is rejected: that is what {@code MultiDataSet.merge} makes of {@code [n, 1]} masks in
 * M2.1 (rows get other rows' values, see {@code MinibatchTest}), and training on it would be silently wrong.
 */
public class SampleMaskedMCXENT extends LossMCXENT {

    public SampleMaskedMCXENT() {
    }

    /**
     * With {@link LossMCXENT}'s per-class weights {@code [1, classes]}: the loss of a sample of class k is
     * multiplied by {@code weights[k]} (all equal: one weight for the whole loss).
     */
    public SampleMaskedMCXENT(INDArray weights) {
        super(weights);
    }

    /** The mask as one weight per example ({@code [n, 1]}), or null. */
    static INDArray perExample(INDArray mask, INDArray labels) {
        if (mask == null || mask.rank() != 2 || mask.size(1) == 1) {
            return mask;
        }
        if (mask.size(1) != labels.size(1) || !mask.max(1).equals(mask.min(1))) {
            throw new IllegalArgumentException("per-class label masks are not supported with softmax cross-entropy; "
                    + "got a mask of shape " + java.util.Arrays.toString(mask.shape()) + " whose columns differ");
        }
        return mask.getColumn(0, true).dup();
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        INDArray m = perExample(mask, labels);
        if (m != null && m.length() == 1) {
            double w = m.getDouble(0);
            return w == 0 ? 0.0 : w * super.computeScore(labels, preOutput, activationFn, null, average);
        }
        return super.computeScore(labels, preOutput, activationFn, m, average);
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray m = perExample(mask, labels);
        if (m != null && m.length() == 1) {
            return super.computeScoreArray(labels, preOutput, activationFn, null).muli(m.getDouble(0));
        }
        return super.computeScoreArray(labels, preOutput, activationFn, m);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray m = perExample(mask, labels);
        if (m != null && m.length() == 1) {
            return super.computeGradient(labels, preOutput, activationFn, null).muli(m.getDouble(0));
        }
        return super.computeGradient(labels, preOutput, activationFn, m);
    }
    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
                                                          IActivation activationFn, INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "SampleMaskedMCXENT";
    }

    @Override
    public String toString() {
        return "SampleMaskedMCXENT()";
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 1;
    }
}
