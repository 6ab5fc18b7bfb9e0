package dev.mmspark.features.image;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A pretrained image network used as a fixed feature extractor on the executors. Implementations are
 * created once per executor JVM (loading weights is expensive) and must be thread-safe or confined.
 */
public interface ImageBackbone {

    /** One image's outputs: the pooled embedding and, when requested, the grid of region vectors. */
    record Embedding(float[] pooled, float[] regions) {
    }

    /** Input side in pixels (square). */
    int inputSize();

    /** Dimension of {@link Embedding#pooled()}. */
    int pooledDim();

    /** Number of grid cells of the region map (h*w), or 0 if regions are not produced. */
    int regionCount();

    /** Channels per region vector. */
    int regionDim();

    /** Height and width of the region grid ({@code regionCount() = h * w}); {0, 0} without regions. */
    int[] regionGrid();

    /** Embeds a batch of already decoded images (any size; the backbone resizes). */
    List<Embedding> embed(List<BufferedImage> images, boolean withRegions);
}
