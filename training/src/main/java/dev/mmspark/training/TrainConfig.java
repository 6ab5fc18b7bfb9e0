package dev.mmspark.training;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.SampleModelDefinition;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code train} section: which model, on which feature table, where the result goes and how
 * distributed training runs. Parsed and validated before Spark starts; every key has a default except the
 * model name and the two paths.
 *
 * <pre>
 * train {
 *   model { name = multitask, ... }    # the model's own keys: see its params class
 *   features = /data/features/mvsa     # feature table (extract job output)
 *   output = /models/mvsa-multitask    # final model directory (written atomically)
 *   epochs = 10
 *   batch_size_per_worker = 32
 *   averaging_frequency = 5            # minibatches each worker fits between parameter averagings
 *   workers = 0                        # parallel workers (partitions); 0 = Spark's default parallelism
 *   optimizer = adam                   # adam, sgd, nesterovs, rmsprop, adamax, nadam, amsgrad, adagrad
 *   learning_rate = 0.001
 *   weight_decay = 0                   # decoupled, on weights only
 *   seed = 42                          # initialisation, per-epoch shuffle, split of minibatches to workers
 *   validate_each_epoch = true         # accuracy of every output on the validation split after each epoch
 *   keep_best = true                   # the saved model is the epoch with the best validation accuracy
 *   early_stopping_patience = 0        # stop after this many epochs without a better validation accuracy (0: off)
 *   prefetch_batches = 2               # minibatches each worker loads ahead
 *   work_dir = ${output}.work          # checkpoints/ and DL4J's exported minibatches (export/)
 *   checkpoint { every_epochs = 1, keep = 2 }   # every_epochs = 0 disables checkpoints
 *   checkpoint.every_rounds = 0        # also checkpoint inside an epoch every N averaging rounds (0: off)
 * }
 * </pre>
 */
public record TrainConfig(String modelName, ModelParams modelParams, String features, String output, int epochs,
                          int batchSizePerWorker, int averagingFrequency, int workers,
                          Optimisation.Optimizer optimizer, double learningRate, double weightDecay, long seed,
                          boolean validateEachEpoch, int prefetchBatches, String workDir, int checkpointEveryEpochs,
                          int checkpointKeep, boolean keepBest, int earlyStoppingPatience,
                          int checkpointEveryRounds) {

    public static TrainConfig from(Conf c) {
        Conf mc = c.section("model");
        String name = mc.requireString("name");
        SampleModelDefinition def = ModelRegistry.require(name, "config key '" + mc.full("name") + "' ("
                + mc.origin("name") + ")");
        ModelParams params = def.parseParams(mc);
        String features = c.requireString("features");
        String output = c.requireString("output");
        int epochs = c.integer("epochs", 10, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        int batch = c.integer("batch_size_per_worker", 32, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        int avg = c.integer("averaging_frequency", 5, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        int workers = c.integer("workers", 0, n -> n >= 0 && n <= 100_000,
                "between 0 and 100000 (0: Spark's default parallelism)");
        Optimisation.Optimizer opt = c.enumValue("optimizer", Optimisation.Optimizer.class,
                Optimisation.Optimizer.ADAM);
        double lr = c.number("learning_rate", 1e-3, x -> x > 0 && x <= 10, "in (0, 10]");
        double wd = c.number("weight_decay", 0.0, x -> x >= 0 && x < 1, "in [0, 1)");
        long seed = c.longValue("seed", 42, s -> true, "");
        boolean validate = c.bool("validate_each_epoch", true);
        // Validation accuracy of the multitask model peaks after 1-4 epochs on the synthetic set and then
        // falls as it overfits: by default the saved model is the best epoch, not the last.
        boolean keepBest = c.bool("keep_best", true);
        int patience = c.integer("early_stopping_patience", 0, n -> n >= 0 && n <= 100_000,
                "between 0 and 100000 (0: off)");
        if ((keepBest && c.has("keep_best") || patience > 0) && !validate) {
            throw new dev.mmspark.common.config.ConfigException("config keys '" + c.full("keep_best") + "' and '"
                    + c.full("early_stopping_patience") + "' need '" + c.full("validate_each_epoch") + "' = true");
        }
        int prefetch = c.integer("prefetch_batches", 2, n -> n >= 0 && n <= 1000, "between 0 and 1000");
        String workDir = c.string("work_dir", output + ".work");
        Conf cc = c.section("checkpoint");
        int every = cc.integer("every_epochs", 1, n -> n >= 0 && n <= 100_000,
                "between 0 and 100000 (0: no checkpoints)");
        int keep = cc.integer("keep", 2, n -> n >= 1 && n <= 1000, "between 1 and 1000");
        // A driver lost in the middle of a long epoch should not cost the whole epoch (issue: lose at most
        // one averaging round): checkpoints between averaging rounds, resumed at the next round.
        int everyRounds = cc.integer("every_rounds", 0, n -> n >= 0 && n <= 100_000,
                "between 0 and 100000 (0: only at the end of epochs)");
        return new TrainConfig(name, params, features, output, epochs, batch, avg, workers, opt, lr, wd, seed, validate,
                prefetch, workDir, every, keep, keepBest && validate, patience, everyRounds);
    }

    public SampleModelDefinition definition() {
        return ModelRegistry.require(modelName, "train.model.name");
    }

    /** The optimisation settings the network is built with (FLOAT; DOUBLE only for gradient checks). */
    public Optimisation optimisation() {
        return new Optimisation(optimizer, learningRate, weightDecay, seed, DataType.FLOAT);
    }

    /** Where the best epoch's network is kept (with {@code keep_best}). */
    public String bestDir() {
        return workDir + "/best";
    }

    public String checkpointDir() {
        return workDir + "/checkpoints";
    }

    public String exportDir() {
        return workDir + "/export";
    }

    /** This config with another number of epochs (e.g. to extend a finished run). */
    public TrainConfig withEpochs(int n) {
        return new TrainConfig(modelName, modelParams, features, output, n, batchSizePerWorker, averagingFrequency,
                workers, optimizer, learningRate, weightDecay, seed, validateEachEpoch, prefetchBatches, workDir,
                checkpointEveryEpochs, checkpointKeep, keepBest, earlyStoppingPatience, checkpointEveryRounds);
    }

    /**
     * The settings a checkpoint must share with the config that resumes it, by config key: everything that
     * changes what the next epoch computes. Epochs, validation, paths and checkpointing may differ.
     *
     * @param resolvedWorkers the number of workers actually used (the config may say 0 = default)
     */
    public Map<String, Object> resumeKeys(int resolvedWorkers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("train.model.name", modelName);
        m.put("train.model", Json.tree(Json.write(modelParams)).toString());
        m.put("train.features", features);
        m.put("train.batch_size_per_worker", batchSizePerWorker);
        m.put("train.averaging_frequency", averagingFrequency);
        m.put("train.workers", resolvedWorkers);
        m.put("train.optimizer", optimizer.name().toLowerCase(java.util.Locale.ROOT));
        m.put("train.learning_rate", learningRate);
        m.put("train.weight_decay", weightDecay);
        m.put("train.seed", seed);
        return m;
    }

    /** Every setting with its resolved value, recorded in the saved model's metadata. */
    public Map<String, Object> describe(int resolvedWorkers) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", modelName);
        model.put("params", modelParams);
        m.put("model", model);
        m.put("features", features);
        m.put("output", output);
        m.put("epochs", epochs);
        m.put("batch_size_per_worker", batchSizePerWorker);
        m.put("averaging_frequency", averagingFrequency);
        m.put("workers", resolvedWorkers);
        m.put("optimizer", optimizer.name().toLowerCase(java.util.Locale.ROOT));
        m.put("learning_rate", learningRate);
        m.put("weight_decay", weightDecay);
        m.put("seed", seed);
        m.put("validate_each_epoch", validateEachEpoch);
        m.put("prefetch_batches", prefetchBatches);
        m.put("work_dir", workDir);
        m.put("checkpoint", Map.of("every_epochs", checkpointEveryEpochs, "keep", checkpointKeep,
                "every_rounds", checkpointEveryRounds));
        m.put("keep_best", keepBest);
        m.put("early_stopping_patience", earlyStoppingPatience);
        return m;
    }
}
