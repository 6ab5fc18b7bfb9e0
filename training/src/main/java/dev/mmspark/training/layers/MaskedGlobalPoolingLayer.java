package dev.mmspark.training.layers;

import dev.mmspark.training.layers.MaskedGlobalPooling.Statistic;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.any.IsMax;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;

/**
 * The runtime of {@link MaskedGlobalPooling}. Forward, per sample n, channel c, with mask m (all ones when
 * the network has none), {@code any_n = [sum_t m_nt > 0]} and an offset {@code o_nt = (m_nt - 1) * 1e9}
 * that sends padded steps out of reach of max and min:
 * <pre>
 *   max_nc = any_n * max_t (x_nct + o_nt)
 *   min_nc = any_n * min_t (x_nct - o_nt)
 *   avg_nc = (sum_t m_nt x_nct) / (sum_t m_nt + 1 - any_n)
 * </pre>
 * Backward, for an incoming error e per statistic block:
 * <pre>
 *   dL/dx_nct = any_n e^max_nc [t = argmax_t] + any_n e^min_nc [t = argmin_t]
 *             + e^avg_nc m_nt / (sum_t m_nt + 1 - any_n)
 * </pre>
 * (ties go to the first extreme step, as in DL4J's own max pooling). Exact for every input above -1e9.
 */
public class MaskedGlobalPoolingLayer extends AbstractLayer<MaskedGlobalPooling> {
    private static final double PADDING_OFFSET = 1e9;

    public MaskedGlobalPoolingLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** The quantities forward and backward share, for the current input and mask. */
    private record Prepared(INDArray x, INDArray mask, INDArray any, INDArray denominator, INDArray offset) {
    }

    private Prepared prepare() {
        if (input.rank() != 3) {
            throw new IllegalStateException("MaskedGlobalPooling " + layerId() + " needs rank 3 input [minibatch, "
                    + "channels, time], got shape " + Arrays.toString(input.shape()));
        }
        INDArray x = input.castTo(dataType);
        long mb = x.size(0);
        long steps = x.size(2);
        INDArray mask = maskArray == null ? Nd4j.ones(dataType, mb, steps) : maskArray.castTo(dataType);
        if (mask.rank() != 2 || mask.size(0) != mb || mask.size(1) != steps) {
            throw new IllegalStateException("MaskedGlobalPooling " + layerId() + ": mask shape "
                    + Arrays.toString(mask.shape()) + " does not match input " + Arrays.toString(x.shape()));
        }
        INDArray count = mask.sum(true, 1);                              // [mb, 1]
        INDArray any = count.gt(0.0).castTo(dataType);                   // [mb, 1]
        INDArray denominator = count.add(any.rsub(1.0));                 // count, or 1 when empty
        INDArray offset = mask.sub(1.0).muli(PADDING_OFFSET);            // [mb, T]: 0 valid, -1e9 padding
        return new Prepared(x, mask, any, denominator, offset);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        Prepared p = prepare();
        List<Statistic> stats = layerConf().getStatistics();
        long channels = p.x().size(1);
        INDArray out = Nd4j.create(dataType, p.x().size(0), channels * stats.size());
        for (int k = 0; k < stats.size(); k++) {
            INDArray pooled = switch (stats.get(k)) {
                case MAX -> shifted(p, 1.0).max(2).muliColumnVector(p.any());
                case MIN -> shifted(p, -1.0).min(2).muliColumnVector(p.any());
                case AVG -> Broadcast.mul(p.x(), p.mask(), p.x().ulike(), 0, 2).sum(2)
                        .diviColumnVector(p.denominator());
            };
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(k * channels, (k + 1) * channels)).assign(pooled);
        }
        return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, out);
    }

    /** x + sign * offset: padded steps pushed to -1e9 (sign 1, for max) or +1e9 (sign -1, for min). */
    private static INDArray shifted(Prepared p, double sign) {
        return Broadcast.add(p.x(), p.offset().mul(sign), p.x().ulike(), 0, 2);
    }

    /** One-hot over time of the first maximum of {@code a} per (sample, channel). */
    private static INDArray argmaxOneHot(INDArray a) {
        INDArray out = a.ulike();
        Nd4j.exec(new IsMax(a, out, 2));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        Prepared p = prepare();
        List<Statistic> stats = layerConf().getStatistics();
        long channels = p.x().size(1);
        INDArray eps = epsilon.castTo(dataType);
        INDArray dx = Nd4j.zeros(dataType, p.x().shape());
        for (int k = 0; k < stats.size(); k++) {
            INDArray e = eps.get(NDArrayIndex.all(), NDArrayIndex.interval(k * channels, (k + 1) * channels)).dup();
            switch (stats.get(k)) {
                case MAX, MIN -> {
                    INDArray extreme = stats.get(k) == Statistic.MAX ? shifted(p, 1.0) : shifted(p, -1.0).negi();
                    INDArray oneHot = argmaxOneHot(extreme);
                    e.muliColumnVector(p.any());
                    dx.addi(Broadcast.mul(oneHot, e, oneHot, 0, 1));
                }
                case AVG -> {
                    e.diviColumnVector(p.denominator());
                    INDArray spread = Nd4j.zeros(dataType, p.x().shape());
                    Broadcast.add(spread, e, spread, 0, 1);
                    dx.addi(Broadcast.mul(spread, p.mask(), spread, 0, 2));
                }
            }
        }
        return new Pair<>(new DefaultGradient(), workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx));
    }

    /** The output is one vector per sample: no mask goes further down the network. */
    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        this.maskArray = maskArray;
        this.maskState = null;
        return null;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public void clearNoiseWeightParams() {
        // no parameters
    }

    @Override
    public Type type() {
        return Type.SUBSAMPLING;
    }
}
