package dev.mmspark.training.alignment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;

import java.io.Serializable;
import java.util.Locale;

/**
 * The {@code train} section of an entity-alignment job, validated when the configuration is loaded (before
 * Spark starts). Optimiser keys default to the model's paper settings ({@link OptimizerSpec}):
 * <pre>
 * train {
 *   kg_table = "work/dbp15k-zh_en/kg"      # required: a KG feature table (mmspark extract)
 *   output = "work/dbp15k-zh_en/mclea"     # required: the model directory
 *   model { name = mclea, modalities = [structure, relation, name], ... }   # see MCLEASpec / MEAformerSpec
 *   epochs = 100                           # passes over the training pairs
 *   batch_size = 512                       # pairs per minibatch (model default: MCLEA 512, MEAformer 3500)
 *   learning_rate = 5e-4                   # (model default)
 *   weight_decay = 0.01                    # AdamW decay (model default: MCLEA 0.01, MEAformer 1e-4)
 *   lr_schedule = constant                 # constant | cosine (model default)
 *   warmup_fraction = 0                    # with cosine (model default)
 *   grad_clip = 0                          # global-norm clipping, 0: none (model default)
 *   averaging_frequency = 5                # minibatches each worker trains between parameter averages
 *   workers = 0                            # Spark tasks training in parallel (0: the default parallelism)
 *   seed = 42                              # initialisation, shuffling, dropout, validation split
 *   checkpoint_keep = 2                    # checkpoints kept (one is written after every epoch)
 *   validation { fraction = 0, every = 5 } # hold out a share of the TRAINING pairs to tune on; never the test pairs
 *   self_training {                        # iterative learning (MCLEA/MEAformer "il"), off by default
 *     enabled = false
 *     start_epoch = 0                      # first epoch with it (0: half of the epochs, as the references' il_start)
 *     every = 5                            # epochs between mutual-nearest-neighbour searches (semi_learn_step)
 *     confirm = 10                         # consecutive searches a pair must survive before it is added
 *     lr_factor = 0.2                      # learning-rate factor from start_epoch on (the references divide by 5)
 *   }
 * }
 * </pre>
 */
public record AlignmentTrainConfig(String kgTable, String output, AlignmentModel model, AlignmentSpec spec,
                                   boolean explicitModalities, int epochs, OptimizerSpec optimizer,
                                   int averagingFrequency, int workers, long seed, int checkpointKeep,
                                   double validationFraction, int validateEvery, SelfTraining selfTraining,
                                   JsonNode resolved) implements Serializable {

    /** The iterative (self-training) phase. */
    public record SelfTraining(boolean enabled, int startEpoch, int every, int confirm, double lrFactor)
            implements Serializable {
        /** The first epoch (1-based) with self-training for a run of {@code epochs}. */
        public int start(int epochs) {
            return startEpoch > 0 ? startEpoch : Math.max(1, epochs / 2);
        }
    }

    public static AlignmentTrainConfig from(Conf c) {
        String kgTable = c.requireString("kg_table");
        String output = c.requireString("output");
        Conf m = c.section("model");
        String name = m.requireString("name");
        AlignmentModel model;
        try {
            model = AlignmentModels.get(name);
        } catch (ConfigException e) {
            throw new ConfigException("config key '" + m.full("name") + "': " + e.getMessage() + " ("
                    + m.origin("name") + ")");
        }
        boolean explicit = m.has("modalities");
        AlignmentSpec spec = model.parse(m);
        OptimizerSpec d = spec.optimizer();
        int epochs = c.integer("epochs", 100, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        int batch = c.integer("batch_size", d.batchSize(), n -> n >= 2, ">= 2");
        double lr = c.number("learning_rate", d.learningRate(), x -> x > 0 && x < 1, "in (0, 1)");
        double wd = c.number("weight_decay", d.weightDecay(), x -> x >= 0 && x < 1, "in [0, 1)");
        OptimizerSpec.Schedule schedule = c.enumValue("lr_schedule", OptimizerSpec.Schedule.class, d.schedule());
        double warmup = c.number("warmup_fraction", d.warmupFraction(), x -> x >= 0 && x < 1, "in [0, 1)");
        double clip = c.number("grad_clip", d.gradClip(), x -> x >= 0, ">= 0 (0: no clipping)");
        int freq = c.integer("averaging_frequency", 5, n -> n >= 1, ">= 1");
        int workers = c.integer("workers", 0, n -> n >= 0 && n <= 4096, "between 0 and 4096 (0: Spark's default"
                + " parallelism)");
        long seed = c.longValue("seed", 42, x -> true, "");
        int keep = c.integer("checkpoint_keep", 2, n -> n >= 1, ">= 1");
        Conf v = c.section("validation");
        double fraction = v.number("fraction", 0.0, x -> x >= 0 && x < 0.5, "in [0, 0.5): the share of the training"
                + " pairs held out for validation");
        int every = v.integer("every", 5, n -> n >= 1, ">= 1");
        Conf s = c.section("self_training");
        SelfTraining st = new SelfTraining(s.bool("enabled", false),
                s.integer("start_epoch", 0, n -> n >= 0, ">= 0 (0: half of the epochs)"),
                s.integer("every", 5, n -> n >= 1, ">= 1"),
                s.integer("confirm", 10, n -> n >= 1, ">= 1"),
                s.number("lr_factor", 0.2, x -> x > 0 && x <= 1, "in (0, 1]"));
        if (st.enabled() && st.startEpoch() > epochs) {
            throw new ConfigException("config key '" + s.full("start_epoch") + "': " + st.startEpoch()
                    + " is after the last epoch (" + c.full("epochs") + " = " + epochs + ") (" + s.origin("start_epoch")
                    + ")");
        }
        OptimizerSpec opt;
        try {
            opt = new OptimizerSpec(batch, lr, wd, schedule, warmup, clip);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config section '" + c.path() + "': " + e.getMessage());
        }
        return new AlignmentTrainConfig(kgTable, output, model, spec, explicit, epochs, opt, freq, workers, seed, keep,
                fraction, every, st, Json.tree(c.toJson()));
    }

    /** The model name, lower case. */
    public String modelName() {
        return model.name().toLowerCase(Locale.ROOT);
    }

    /** The same configuration with the modality set resolved against the KG table. */
    public AlignmentTrainConfig withSpec(AlignmentSpec resolvedSpec) {
        return new AlignmentTrainConfig(kgTable, output, model, resolvedSpec, explicitModalities, epochs, optimizer,
                averagingFrequency, workers, seed, checkpointKeep, validationFraction, validateEvery, selfTraining,
                resolved);
    }
}
