package dev.mmspark.features;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.image.ImagePreprocessor;
import dev.mmspark.features.image.Normalisation;

import java.io.Serializable;

/**
 * The {@code extract} section: where the feature table goes and how each modality is turned into
 * features. Every key is documented in README.md ("Configuration reference").
 */
public record ExtractionConfig(String output, Image image, Text text, Tags tags, int partitions)
        implements Serializable {

    /** How images become features. */
    public enum ImageMode {
        /** Keep preprocessed pixels; models train the image branch end to end. */
        PIXELS,
        /** Run a pretrained backbone (Keras .h5 or DL4J zip) and keep its pooled embedding (+ regions). */
        BACKBONE,
        /** Ignore images. */
        NONE
    }

    public enum WordVectorSource { WORD2VEC, FILE, RANDOM }

    public enum TooLong { TRUNCATE, FAIL }

    public record Image(ImageMode mode, int size, Normalisation normalisation, ImagePreprocessor.Resize resize,
                        String backbone, String backboneLayer, boolean regions, int regionPool, int batchSize)
            implements Serializable {
    }

    public record Text(int maxTokens, TooLong tooLong, boolean lowercase, int minCount, int maxVocab,
                       WordVectorSource vectors, String vectorsPath, int dim, int word2vecIterations,
                       int word2vecWindow, boolean word2vecUseUnlabeled, long seed, Bert bert)
            implements Serializable {
    }

    /**
     * Optional BERT-family encoder (the quantised all-MiniLM-L6-v2 through ONNX Runtime) giving a sentence
     * vector (modality {@code name}, kind vector) and the word-piece vectors (modality {@code name_tokens},
     * kind sequence) of every text.
     *
     * @param maxTokens      word pieces per text, [CLS] and [SEP] included
     * @param batchSize      texts per forward pass (1: every text alone; see MiniLmEncoder on why that is the default)
     * @param name           modality name of the sentence vector; the token vectors are {@code name + "_tokens"}
     * @param sentenceVector whether to write the sentence vector modality
     * @param tokenVectors   whether to write the token vector sequence modality
     * @param dropUrls       remove URLs before tokenising (as the word tokenizer does)
     * @param threads        ONNX Runtime intra-op threads per executor JVM
     */
    public record Bert(boolean enabled, int maxTokens, int batchSize, String name, boolean sentenceVector,
                       boolean tokenVectors, boolean dropUrls, int threads) implements Serializable {
        public String tokensName() {
            return name + "_tokens";
        }
    }

    public record Tags(int maxTags, int minCount, int maxVocab) implements Serializable {
    }

    public static ExtractionConfig from(Conf c) {
        String output = c.requireString("output");
        int partitions = c.integer("partitions", 0, n -> n >= 0, ">= 0 (0: as many as the input has)");

        Conf ic = c.section("image");
        ImageMode mode = ic.enumValue("mode", ImageMode.class, ImageMode.PIXELS);
        String backbone = ic.string("backbone", null);
        if (mode == ImageMode.BACKBONE && (backbone == null || backbone.isBlank())) {
            throw new ConfigException("config key '" + ic.full("backbone") + "' is required when '"
                    + ic.full("mode") + "' is backbone (a Keras .h5 file or a DL4J model zip)");
        }
        int defaultSize = mode == ImageMode.BACKBONE ? 224 : 32;
        int size = ic.integer("size", defaultSize, n -> n >= 8 && n <= 1024, "between 8 and 1024");
        Normalisation norm = ic.enumValue("normalisation", Normalisation.class, Normalisation.ZERO_ONE);
        String layer = ic.string("backbone_layer", null);
        if (mode == ImageMode.BACKBONE && (layer == null || layer.isBlank())) {
            throw new ConfigException("config key '" + ic.full("backbone_layer") + "' is required when '"
                    + ic.full("mode") + "' is backbone (the layer whose activations are the features)");
        }
        // Keras backbones were checked with squashed inputs; pixels for models trained here keep the aspect.
        ImagePreprocessor.Resize resize = ic.enumValue("resize", ImagePreprocessor.Resize.class,
                mode == ImageMode.BACKBONE ? ImagePreprocessor.Resize.SQUASH : ImagePreprocessor.Resize.CROP);
        boolean regions = ic.bool("regions", false);
        int regionPool = ic.integer("region_pool", 1, n -> n >= 1 && n <= 16, "between 1 and 16");
        int batch = ic.integer("batch_size", 16, n -> n >= 1 && n <= 4096, "between 1 and 4096");
        Image image = new Image(mode, size, norm, resize, backbone, layer, regions, regionPool, batch);

        Conf tc = c.section("text");
        int maxTokens = tc.integer("max_tokens", 150, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        TooLong tooLong = tc.enumValue("too_long", TooLong.class, TooLong.TRUNCATE);
        boolean lower = tc.bool("lowercase", true);
        int minCount = tc.integer("min_count", 1, n -> n >= 1, ">= 1");
        int maxVocab = tc.integer("max_vocab", 50_000, n -> n >= 3, ">= 3");
        WordVectorSource vectors = tc.enumValue("vectors", WordVectorSource.class, WordVectorSource.WORD2VEC);
        String vectorsPath = tc.string("vectors_path", null);
        if (vectors == WordVectorSource.FILE && (vectorsPath == null || vectorsPath.isBlank())) {
            throw new ConfigException("config key '" + tc.full("vectors_path") + "' is required when '"
                    + tc.full("vectors") + "' is file (a GloVe or word2vec text file, optionally .gz)");
        }
        int dim = tc.integer("dim", 100, n -> n >= 2 && n <= 1000, "between 2 and 1000");
        int iters = tc.integer("word2vec_iterations", 5, n -> n >= 1 && n <= 100, "between 1 and 100");
        int window = tc.integer("word2vec_window", 5, n -> n >= 1 && n <= 50, "between 1 and 50");
        boolean unl = tc.bool("word2vec_use_unlabeled", true);
        long seed = tc.longValue("seed", 42, s -> true, "");
        Conf bc = tc.section("bert");
        boolean bertOn = bc.bool("enabled", false);
        String bertName = bc.string("name", "text_minilm");
        if (!bertName.matches("[a-z][a-z0-9_]*")) {
            throw new ConfigException("config key '" + bc.full("name") + "': expected a modality name (lower-case "
                    + "letters, digits, '_'), found '" + bertName + "'");
        }
        boolean sentence = bc.bool("sentence_vector", true);
        boolean tokenVectors = bc.bool("token_vectors", true);
        if (bertOn && !sentence && !tokenVectors) {
            throw new ConfigException("config key '" + bc.full("enabled") + "' is true but both '"
                    + bc.full("sentence_vector") + "' and '" + bc.full("token_vectors") + "' are false; nothing to "
                    + "write");
        }
        Bert bert = new Bert(bertOn,
                // all-MiniLM-L6-v2 has 512 positions; it was trained on up to 128 word pieces (tokenizer.json)
                bc.integer("max_tokens", 128, n -> n >= 4 && n <= 512, "between 4 and 512"),
                bc.integer("batch_size", 1, n -> n >= 1 && n <= 1024, "between 1 and 1024"),
                bertName, sentence, tokenVectors, bc.bool("drop_urls", true),
                bc.integer("threads", 1, n -> n >= 1 && n <= 256, "between 1 and 256"));
        Text text = new Text(maxTokens, tooLong, lower, minCount, maxVocab, vectors, vectorsPath, dim, iters, window,
                unl, seed, bert);

        Conf gc = c.section("tags");
        Tags tags = new Tags(gc.integer("max_tags", 10, n -> n >= 1 && n <= 1000, "between 1 and 1000"),
                gc.integer("min_count", 1, n -> n >= 1, ">= 1"),
                gc.integer("max_vocab", 10_000, n -> n >= 3, ">= 3"));
        return new ExtractionConfig(output, image, text, tags, partitions);
    }
}
