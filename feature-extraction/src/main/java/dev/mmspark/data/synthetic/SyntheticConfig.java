package dev.mmspark.data.synthetic;

import dev.mmspark.common.config.Conf;

import java.io.Serializable;

/**
 * Settings of the built-in synthetic image+text+tag dataset ({@code generate} section of a config).
 *
 * @param samples          number of samples
 * @param classes          number of classes (2..10)
 * @param seed             everything is a function of this seed and the sample index
 * @param imageSize        side of the square RGB images in pixels
 * @param missingRate      share of samples that lack one or two modalities (never all three)
 * @param imageReliability probability that each image attribute (hue, shape) shows the sample's own class
 *                         (else another class)
 * @param textReliability  same for each indicative word of the text
 * @param tagsReliability  same for each class tag
 * @param trainFraction    share of samples in the training split
 * @param validationFraction share in the validation split (the rest is test)
 * @param partitions       Spark tasks that write the dataset
 */
public record SyntheticConfig(int samples, int classes, long seed, int imageSize, double missingRate,
                              double imageReliability, double textReliability, double tagsReliability,
                              double trainFraction, double validationFraction, int partitions)
        implements Serializable {

    public static SyntheticConfig defaults() {
        return from(Conf.empty());
    }

    /** Reads the {@code generate} section; every key is optional. */
    public static SyntheticConfig from(Conf c) {
        int samples = c.integer("samples", 2000, n -> n >= 10 && n <= 10_000_000, "between 10 and 10000000");
        int classes = c.integer("classes", 3, n -> n >= 2 && n <= 10, "between 2 and 10");
        long seed = c.longValue("seed", 7, s -> true, "");
        int size = c.integer("image_size", 32, n -> n >= 16 && n <= 256, "between 16 and 256");
        double missing = c.number("missing_rate", 0.3, x -> x >= 0 && x <= 1, "between 0 and 1");
        Conf rel = c.section("reliability");
        double ri = rel.number("image", 0.6, x -> x >= 0 && x <= 1, "between 0 and 1");
        double rt = rel.number("text", 0.6, x -> x >= 0 && x <= 1, "between 0 and 1");
        double rg = rel.number("tags", 0.55, x -> x >= 0 && x <= 1, "between 0 and 1");
        Conf split = c.section("split");
        double train = split.number("train", 0.7, x -> x > 0 && x < 1, "between 0 and 1 (exclusive)");
        double val = split.number("validation", 0.15, x -> x >= 0 && x < 1, "between 0 and 1");
        if (train + val >= 1.0) {
            throw new dev.mmspark.common.config.ConfigException("config keys '" + split.full("train") + "' + '"
                    + split.full("validation") + "' must leave a test split: found " + train + " + " + val
                    + " >= 1");
        }
        int partitions = c.integer("partitions", 4, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        return new SyntheticConfig(samples, classes, seed, size, missing, ri, rt, rg, train, val, partitions);
    }
}
