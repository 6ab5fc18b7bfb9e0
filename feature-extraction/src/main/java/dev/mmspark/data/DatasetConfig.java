package dev.mmspark.data;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;

import java.io.Serializable;
import java.util.List;

/**
 * The {@code dataset} section: where samples come from.
 *
 * @param format       which reader: manifest (hand-written JSON Lines), mvsa_single, wikipedia_xmodal, dbp15k
 * @param path         the dataset directory or manifest file
 * @param classes      optional fixed class order; a label outside it is an error. Empty: the sorted
 *                     distinct labels of the data
 * @param splitSeed    seed of the split for sources without one
 * @param trainFraction / validationFraction  split shares for sources without one
 * @param onBadRecord  fail (default) or skip bad records
 * @param textEncodings charsets tried in order for text files of undeclared encoding
 * @param hashtagsInText MVSA-Single: keep hashtag words in the text as well as in the tags
 * @param kgPair       DBP15K: which language pair (zh_en, ja_en, ...)
 */
public record DatasetConfig(Format format, String path, List<String> classes, long splitSeed,
                            double trainFraction, double validationFraction, BadRecordPolicy onBadRecord,
                            List<String> textEncodings, boolean hashtagsInText, String kgPair)
        implements Serializable {

    public enum Format { MANIFEST, MVSA_SINGLE, WIKIPEDIA_XMODAL, DBP15K }

    public static DatasetConfig from(Conf c) {
        Format format = c.enumValue("format", Format.class, Format.MANIFEST);
        String path = c.requireString("path");
        List<String> classes = c.strings("classes", List.of());
        Conf split = c.section("split");
        long seed = split.longValue("seed", 13, s -> true, "");
        double train = split.number("train", 0.8, x -> x > 0 && x < 1, "between 0 and 1 (exclusive)");
        double val = split.number("validation", 0.1, x -> x >= 0 && x < 1, "between 0 and 1");
        if (train + val >= 1.0) {
            throw new ConfigException("config keys '" + split.full("train") + "' + '" + split.full("validation")
                    + "' must leave a test split: found " + train + " + " + val + " >= 1");
        }
        BadRecordPolicy bad = c.enumValue("on_bad_record", BadRecordPolicy.class, BadRecordPolicy.FAIL);
        List<String> enc = c.strings("text_encodings", List.of("UTF-8", "GB18030"));
        for (String e : enc) {
            if (!java.nio.charset.Charset.isSupported(e)) {
                throw new ConfigException("config key '" + c.full("text_encodings") + "': '" + e
                        + "' is not a charset this JVM supports (e.g. UTF-8, GB18030, ISO-8859-1)");
            }
        }
        boolean hashtags = c.bool("hashtags_in_text", false);
        String pair = c.string("kg_pair", "zh_en");
        return new DatasetConfig(format, path, classes, seed, train, val, bad, enc, hashtags, pair);
    }

    public SplitAssigner splitAssigner() {
        return new SplitAssigner(splitSeed, trainFraction, validationFraction);
    }
}
