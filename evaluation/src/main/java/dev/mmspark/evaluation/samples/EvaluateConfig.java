package dev.mmspark.evaluation.samples;

import dev.mmspark.common.config.Conf;

import java.io.Serializable;
import java.util.List;

/**
 * The {@code evaluate} section for per-sample models.
 *
 * <pre>
 * evaluate {
 *   model = /models/mvsa-multitask     # a trained model directory
 *   features = null                    # feature table; default: the table the model was trained on
 *   split = test
 *   dataset = null                     # name in the leaderboard; default: the table's input format
 *   subsets = true                     # every non-empty modality subset, on the rows that have it, and on
 *                                      # the rows that have every modality ("@complete")
 *   missing {
 *     seed = 7
 *     modality_rates = []              # modality-level protocol, e.g. [0, 0.1, ..., 0.7]
 *     frame_rates = []                 # frame-level protocol, e.g. [0, 0.1, ..., 1.0]
 *   }
 *   batch_size = 256
 *   sweep_id = null
 * }
 * </pre>
 */
public record EvaluateConfig(String model, String features, String split, String dataset, boolean subsets,
                             long missingSeed, List<Double> modalityRates, List<Double> frameRates, int batchSize,
                             String sweepId) implements Serializable {

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
        return new EvaluateConfig(model, features, split, dataset, subsets, seed, mr, fr, batch, sweep);
    }
}
