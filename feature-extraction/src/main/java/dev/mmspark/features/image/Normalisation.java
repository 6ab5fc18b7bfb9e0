package dev.mmspark.features.image;

/** How pixel values are scaled after decoding; backbones expect the scaling they were trained with. */
public enum Normalisation {
    /** value / 255, in [0, 1] (Tiny Darknet). */
    ZERO_ONE,
    /** value / 127.5 - 1, in [-1, 1] (MobileNet, Inception). */
    MINUS_ONE_ONE,
    /** ([0,1] - ImageNet mean) / ImageNet std per channel (DenseNet, ResNet in "torch" mode). */
    IMAGENET;

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    public float apply(int value255, int channel) {
        return switch (this) {
            case ZERO_ONE -> value255 / 255f;
            case MINUS_ONE_ONE -> value255 / 127.5f - 1f;
            case IMAGENET -> (value255 / 255f - MEAN[channel]) / STD[channel];
        };
    }
}
