package dev.mmspark.features.kg;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.data.kg.AlignmentSplit;

import java.io.Serializable;

/**
 * How a knowledge-graph pair (e.g. DBP15K) becomes a KG feature table: the {@code extract} section's
 * {@code output} and {@code partitions} plus its {@code kg} sub-section. Every key is validated when the
 * configuration is loaded:
 *
 * <pre>
 * extract {
 *   output = "work/dbp15k-zh_en/kg"   # required: where the table goes (refused if it exists, unless --overwrite)
 *   partitions = 0                    # Parquet files of entities/ (0: one per 100,000 entities)
 *   kg {
 *     name_vectors = random           # random | file: word vectors of the name tokens
 *     vectors_path = "..."            # GloVe/word2vec text file (.gz allowed); required with file, refused with random
 *     dim = 100                       # vector size with random (2..1000); with file the file's size is used
 *     seed = 42                       # seed of random vectors (random, and tokens the file lacks)
 *     lowercase = true                # lower-case name tokens (GloVe 6B is uncased)
 *     char_ngram = 2                  # n of the character n-grams of the name tokens (1..5); 0: no char modality
 *     max_char_vocab = 10000          # n-gram vocabulary size incl. padding and unknown (the rarest n-grams map to unknown)
 *     split { seed = 42, train = 0.3 } # seeded train/test split of the aligned pairs (MCLEA/MEAformer: 30% train)
 *     max_neighbors = 0               # cap on an entity's neighbour list, most-connected first (0: no cap)
 *   }
 * }
 * </pre>
 */
public record KgExtractionConfig(String output, int partitions, NameVectors nameVectors, String vectorsPath,
                                 int dim, long seed, boolean lowercase, int charNgram, int maxCharVocab,
                                 long splitSeed, double trainFraction, int maxNeighbors) implements Serializable {

    /** Where the name tokens' vectors come from. */
    public enum NameVectors {
        /** Deterministic random vectors, U[-0.25, 0.25] seeded by token. */
        RANDOM,
        /** A local GloVe / word2vec text file; tokens it lacks get random vectors. */
        FILE
    }

    public static final int DEFAULT_DIM = 100;
    public static final int DEFAULT_CHAR_NGRAM = 2;
    public static final int DEFAULT_MAX_CHAR_VOCAB = 10_000;
    public static final long DEFAULT_SPLIT_SEED = 42;

    public KgExtractionConfig {
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("output is required");
        }
        if (nameVectors == NameVectors.FILE && (vectorsPath == null || vectorsPath.isBlank())) {
            throw new IllegalArgumentException("vectorsPath is required with name vectors from a file");
        }
        if (charNgram < 0 || maxCharVocab < 3 || maxNeighbors < 0 || partitions < 0 || dim < 2) {
            throw new IllegalArgumentException("invalid KG extraction settings: " + charNgram + ", " + maxCharVocab
                    + ", " + maxNeighbors + ", " + partitions + ", " + dim);
        }
        new AlignmentSplit(splitSeed, trainFraction); // validates the fraction
    }

    /**
     * Parses the {@code extract} section (its {@code output}, {@code partitions} and {@code kg}).
     *
     * @throws ConfigException naming the key, the value found and what was expected
     */
    public static KgExtractionConfig from(Conf extract) {
        String output = extract.requireString("output");
        int partitions = extract.integer("partitions", 0, n -> n >= 0, ">= 0 (0: one per 100,000 entities)");
        Conf c = extract.section("kg");
        NameVectors vectors = c.enumValue("name_vectors", NameVectors.class, NameVectors.RANDOM);
        String vectorsPath = c.string("vectors_path", null);
        if (vectors == NameVectors.FILE && (vectorsPath == null || vectorsPath.isBlank())) {
            throw new ConfigException("config key '" + c.full("vectors_path") + "' is required when '"
                    + c.full("name_vectors") + "' is file (a GloVe or word2vec text file, optionally .gz)");
        }
        if (vectors == NameVectors.RANDOM && vectorsPath != null) {
            throw new ConfigException("config key '" + c.full("vectors_path") + "' is set but '"
                    + c.full("name_vectors") + "' is random (" + c.origin("vectors_path")
                    + "); set name_vectors = file to use the file, or remove vectors_path");
        }
        if (vectors == NameVectors.FILE && c.has("dim")) {
            throw new ConfigException("config key '" + c.full("dim") + "' applies to random name vectors only ("
                    + c.origin("dim") + "); with name_vectors = file the dimension is the file's");
        }
        int dim = c.integer("dim", DEFAULT_DIM, n -> n >= 2 && n <= 1000, "between 2 and 1000");
        long seed = c.longValue("seed", 42, s -> true, "");
        boolean lowercase = c.bool("lowercase", true);
        int n = c.integer("char_ngram", DEFAULT_CHAR_NGRAM, x -> x >= 0 && x <= 5,
                "between 0 and 5 (0: no character n-gram modality)");
        int maxChar = c.integer("max_char_vocab", DEFAULT_MAX_CHAR_VOCAB, x -> x >= 3 && x <= 10_000_000,
                "between 3 and 10000000 (padding and unknown included)");
        Conf s = c.section("split");
        long splitSeed = s.longValue("seed", DEFAULT_SPLIT_SEED, x -> true, "");
        double train = s.number("train", AlignmentSplit.DEFAULT_TRAIN_FRACTION, x -> x > 0 && x < 1,
                "between 0 and 1 (exclusive): the share of aligned pairs used for training");
        int maxNeighbors = c.integer("max_neighbors", 0, x -> x >= 0, ">= 0 (0: no cap)");
        return new KgExtractionConfig(output, partitions, vectors, vectorsPath, dim, seed, lowercase, n, maxChar,
                splitSeed, train, maxNeighbors);
    }

    /** The seeded split of the aligned pairs. */
    public AlignmentSplit split() {
        return new AlignmentSplit(splitSeed, trainFraction);
    }

    /** Whether the character n-gram modality is extracted. */
    public boolean charNgrams() {
        return charNgram > 0;
    }
}
