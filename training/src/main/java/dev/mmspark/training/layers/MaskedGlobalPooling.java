package dev.mmspark.training.layers;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Global pooling over the valid time steps of a sequence, several statistics at once: the input
 * {@code [minibatch, channels, time]} (NCW) becomes {@code [minibatch, channels * k]}, one block of
 * {@code channels} per statistic in the configured order.
 *
 * <p>With {@code m_t} in {0, 1} the feature mask of a sample (1 = a real token):
 * <pre>
 *   max = max_{t: m_t = 1} x_t
 *   avg = (sum_t m_t x_t) / (sum_t m_t)
 *   min = -max_{t: m_t = 1} (-x_t)
 * </pre>
 * Padding never reaches any statistic, so a sample pools to the same vector whatever the padded length of
 * its minibatch. A sample with no valid step at all (an absent modality: all-zero mask) pools to zeros
 * rather than -inf or 0/0: its outputs are label-masked out of the loss, but a NaN or infinity would still
 * poison the parameter gradients through {@code 0 * NaN}.
 *
 * <p>Why not DL4J's {@code GlobalPoolingLayer}: it has no min pooling and divides by zero on an all-zero
 * mask. Why not a SameDiff layer: measured here, a SameDiff layer costs 8-70 ms per call on this model's
 * tiny tensors against 1-3 ms for native ops (the per-op overhead the platform notes report), and four of
 * them sit in every training step of the multitask model. So this is a native DL4J layer with a hand-written
 * backward pass ({@link MaskedGlobalPoolingLayer}), pinned by a gradient check; like any layer
 * configuration it travels to executors as JSON.
 *
 * <p>Used by the multitask model's text branch (max, average and min pooling of each n-gram convolution,
 * Page-Fortin &amp; Chaib-draa 2019) and tag branch (max pooling).
 */
public class MaskedGlobalPooling extends NoParamLayer {

    /** A pooled statistic. */
    public enum Statistic { MAX, AVG, MIN }

    private List<Statistic> statistics;

    /** For JSON deserialisation. */
    protected MaskedGlobalPooling() {
        super();
    }

    public MaskedGlobalPooling(List<Statistic> statistics) {
        super();
        if (statistics == null || statistics.isEmpty()) {
            throw new IllegalArgumentException("at least one pooling statistic is required");
        }
        this.statistics = List.copyOf(statistics);
    }

    public List<Statistic> getStatistics() {
        return statistics;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> listeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        MaskedGlobalPoolingLayer layer = new MaskedGlobalPoolingLayer(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.feedForward(channels(inputType) * statistics.size());
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        channels(inputType);
        return null;
    }

    private long channels(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent r)) {
            throw new IllegalStateException("MaskedGlobalPooling (layer " + getLayerName()
                    + ") needs a sequence input [minibatch, channels, time], got " + inputType);
        }
        return r.getSize();
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        InputType out = getOutputType(-1, inputType);
        return new LayerMemoryReport.Builder(getLayerName(), MaskedGlobalPooling.class, inputType, out)
                .standardMemory(0, 0)
                .workingMemory(0, 0, MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && super.equals(o)
                && Objects.equals(statistics, ((MaskedGlobalPooling) o).statistics);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Objects.hashCode(statistics);
    }

    @Override
    public String toString() {
        return "MaskedGlobalPooling(" + getLayerName() + ", " + statistics + ")";
    }
}
