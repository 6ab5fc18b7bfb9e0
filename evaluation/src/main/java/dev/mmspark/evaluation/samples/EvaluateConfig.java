package dev.mmspark.evaluation.samples;

import dev.mmspark.common.config.Conf;
import dev.mmspark.evaluation.retrieval.RetrievalConfig;

import java.io.Serializable;
import java.util.List;

/**
 * The {@code evaluate} section. A per-sample model (a classifier such as multitask) is scored per modality
 * subset and missing-modality condition; a common-space model (DSCMR) by cross-modal retrieval, with the
 * settings of {@code retrieval} ({@link RetrievalConfig}). The model decides which: its kind is in its saved
 * spec.
 *
 * <pre>
 * evaluate {
 *   model = /models/mvsa-multitask     # a trained model directory
 *   features = null                    # feature table; default: the table the model was trained on
 *   split = test
 *   dataset = null                     # name in the leaderboard; default: the table's input format
 *   subsets = true                     # per-sample models: every non-empty modality subset, on the rows that have it, and on
 *                                      # the rows that have every modality ("@complete")
 *   missing {                          # per-sample models only
 *     seed = 7
 *     modality_rates = []              # modality-level protocol, e.g. [0, 0.1, ..., 0.7]
 *     frame_rates = []                 # frame-level protocol, e.g. [0, 0.1, ..., 1.0]
 *   }
 *   batch_size = 256
 *   sweep_id = null
 *   retrieval { ks = [1, 5, 10, 50], block_size = 1024, baselines = [cca, raw_cosine], cca { ... } }
 * }
 * </pre>
 */
public record EvaluateConfig(String model, String features, String split, String dataset, boolean subsets,
                             long missingSeed, List<Double> modalityRates, List<Double> frameRates, int batchSize,
                             String sweepId, RetrievalConfig retrieval) implements Serializable {

    public static EvaluateConfig from(Conf c) {
        String model = c.requireString("model");
        String features = c.string("features", null);
        String split = c.string("split", "test");
        if (!List.of("train", "validation", "test").contains(split)) {
            throw new dev.mmspark.common.config.ConfigException("config key '" + c.full("split")
                    + "': expected one of train, validation, test, found '" + split + "' (" + c.origin("split") + ")");
        }
        String dataset = c.string("dataset", null);
        boolean subsets = c.bool("subsets", true);
        Conf m = c.section("missing");
        long seed = m.longValue("seed", 7, s -> true, "");
        List<Double> mr = m.numbers("modality_rates", List.of(), x -> x >= 0 && x <= 1, "in [0, 1]");
        List<Double> fr = m.numbers("frame_rates", List.of(), x -> x >= 0 && x <= 1, "in [0, 1]");
        int batch = c.integer("batch_size", 256, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        String sweep = c.string("sweep_id", null);
        RetrievalConfig retrieval = RetrievalConfig.from(c.section("retrieval"));
        return new EvaluateConfig(model, features, split, dataset, subsets, seed, mr, fr, batch, sweep, retrieval);
    }
}
