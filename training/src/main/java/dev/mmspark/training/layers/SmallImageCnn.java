package dev.mmspark.training.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.activations.Activation;

import java.util.List;

/**
 * The small image CNN that models train end to end when a feature table holds pixels instead of a pretrained
 * backbone's embedding: per entry of {@code channels} one 3x3 "same" convolution + ReLU and a 2x2 max-pool,
 * then global average pooling to a {@code channels.last()}-d vector. The papers' ImageNet backbones (DenseNet,
 * VGG) are not available on this platform; this is the stand-in, shared so that every model's pixel branch
 * is the same network and its vertices are named the same way ({@code <prefix>_conv1}, {@code <prefix>_pool1},
 * ..., {@code <prefix>_gap}).
 */
public final class SmallImageCnn {
    /** Convolution kernel side. */
    public static final int KERNEL = 3;

    private SmallImageCnn() {
    }

    /**
     * Adds the blocks after {@code input} and returns the vertex of the pooled vector.
     *
     * @param prefix vertex-name prefix, unique within the graph
     */
    public static String add(GraphBuilder g, String prefix, String input, List<Integer> channels) {
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("the image CNN '" + prefix + "' needs at least one block");
        }
        String prev = input;
        for (int i = 0; i < channels.size(); i++) {
            String conv = prefix + "_conv" + (i + 1);
            g.addLayer(conv, new ConvolutionLayer.Builder(KERNEL, KERNEL).nOut(channels.get(i))
                    .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build(), prev);
            String pool = prefix + "_pool" + (i + 1);
            g.addLayer(pool, new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), conv);
            prev = pool;
        }
        String gap = prefix + "_gap";
        g.addLayer(gap, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        return gap;
    }

    /** The largest number of blocks an image of the given sides takes (each block halves them). */
    public static int maxBlocks(int height, int width) {
        return 31 - Integer.numberOfLeadingZeros(Math.min(height, width));
    }
}
