package dev.mmspark.features;

import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.image.ImageBackbone;

/** Creates (and caches per executor JVM) the pretrained image backbone named by the config. */
final class ImageBackbones {
    private ImageBackbones() {
    }

    static ImageBackbone get(ExtractionConfig.Image ic) {
        throw new ConfigException("extract.image.mode = backbone is not available in this build yet");
    }
}
