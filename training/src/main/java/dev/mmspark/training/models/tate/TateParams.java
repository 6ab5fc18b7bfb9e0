package dev.mmspark.training.models.tate;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.models.tfrnet.TfrNetSpec;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The settings of TATE ({@code train.model} with {@code name = tate}). Where a default comes from the official
 * code ({@code JaydenZeng/TATE}, {@code Settings.py} and {@code network.py}) it says so; the sizes are smaller
 * than the official ones (width 300 on 275 tokens) so that the model trains at a usable speed on a CPU.
 *
 * <pre>
 * model {
 *   name = tate
 *   modalities = []            # table modalities to use, in order; empty = all of the table's (at least 2)
 *   dim = 32                   # width of the per-modality encoders and of the common space (official att_dim 300)
 *   heads = 4                  # attention heads (official 4); must divide dim; the encoder and decoder over
 *                              # dim + M + 1 channels use the largest divisor of that width up to heads
 *   max_length = 24            # every sequence is cut / padded to min(max_length, its natural length)
 *   missing_rate = 0.2         # share of training samples given a missing pattern (official miss_rate 0.2)
 *   missing_seed = 1           # seed of which samples lose which modalities (drawn once, the same every epoch)
 *   teacher_epochs = -1        # epochs of the teacher phase on complete data before train.epochs student epochs;
 *                              # -1 = as many as train.epochs; 0 = no teacher (and no KL term)
 *   loss { kl = 0.1, recon = 0.1, tag = 0.1 }   # official weights of the three auxiliary terms
 *   l2 = 0.0001                # L2 on the classifier's output layer (official l2_regularizer(0.0001) on W_l, b_l)
 *   token_init = word_vectors  # token embeddings from the table's word vectors where it has them, or random
 *   embedding_dim = 32         # randomly initialised token embeddings
 *   patch_size = 8             # pixel images: non-overlapping patches of patch_size x patch_size pixels
 * }
 * </pre>
 *
 * @param configPath where the section was read from, for messages (e.g. {@code train.model})
 */
public record TateParams(String configPath, List<String> modalities, int dim, int heads, int maxLength,
                         double missingRate, long missingSeed, int teacherEpochs, LossWeights loss, double l2,
                         TokenInit tokenInit, int embeddingDim, int patchSize) implements ModelParams {

    /** Weights of the auxiliary terms: encoder KL to the teacher, reconstruction KL, tag MAE. */
    public record LossWeights(double kl, double recon, double tag) implements Serializable {
    }

    public enum TokenInit { WORD_VECTORS, RANDOM }

    public TateParams {
        modalities = List.copyOf(modalities);
    }

    public static TateParams parse(Conf c) {
        List<String> mods = ModelParams.modalityNames(c, "TATE", "its missing patterns drop some and keep others");
        int dim = c.integer("dim", 32, n -> n >= 1 && n <= 4096, "between 1 and 4096");
        int heads = c.integer("heads", 4, n -> n >= 1 && n <= 64, "between 1 and 64");
        if (dim % heads != 0) {
            throw new ConfigException("config key '" + c.full("heads") + "': " + heads + " heads do not divide dim = " + dim);
        }
        int maxLength = c.integer("max_length", 24, n -> n >= 1 && n <= 4096, "between 1 and 4096");
        double rate = c.number("missing_rate", 0.2, x -> x >= 0 && x <= 1, "in [0, 1] (a share of samples)");
        long seed = c.longValue("missing_seed", 1, s -> true, "");
        int teacher = c.integer("teacher_epochs", -1, n -> n >= -1 && n <= 100_000,
                "-1 (as many as train.epochs) or a number of epochs >= 0");
        Conf lc = c.section("loss");
        LossWeights w = new LossWeights(lc.number("kl", 0.1, x -> x >= 0, ">= 0"),
                lc.number("recon", 0.1, x -> x >= 0, ">= 0"), lc.number("tag", 0.1, x -> x >= 0, ">= 0"));
        double l2 = c.number("l2", 1e-4, x -> x >= 0, ">= 0");
        TokenInit init = c.enumValue("token_init", TokenInit.class, TokenInit.WORD_VECTORS);
        int embDim = c.integer("embedding_dim", 32, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        int patch = c.integer("patch_size", 8, n -> n >= 1 && n <= 1024, "between 1 and 1024");
        return new TateParams(c.path(), mods, dim, heads, maxLength, rate, seed, teacher, w, l2, init, embDim, patch);
    }

    /** Epochs of the teacher phase when the student phase has {@code epochs}. */
    public int teacherEpochs(int epochs) {
        return teacherEpochs < 0 ? epochs : teacherEpochs;
    }

    @Override
    public TateSpec resolve(FeatureTableMetadata table, String tablePath) {
        if (!"classification".equals(table.task())) {
            throw new InputException("feature table " + tablePath + " has task '" + table.task()
                    + "'; TATE is a classifier");
        }
        List<String> classes = table.classes();
        if (classes == null || classes.size() < 2) {
            throw new InputException("feature table " + tablePath + " has classes " + classes
                    + "; a classifier needs at least two");
        }
        List<String> names = modalities.isEmpty() ? table.modalityNames() : modalities;
        if (names.size() < 2) {
            throw new InputException("feature table " + tablePath + " has modalities " + table.modalityNames()
                    + "; TATE needs at least two");
        }
        if (dim % (names.size() - 1) != 0) {
            throw new ConfigException("config key '" + key("dim") + "': each of the " + names.size() + " modalities is "
                    + "projected into the common space by " + (names.size() - 1) + " shared pair matrices of dim / "
                    + (names.size() - 1) + " columns, which " + dim + " is not divisible into");
        }
        List<TfrNetSpec.Input> inputs = new ArrayList<>();
        for (String n : names) {
            FeatureTableMetadata.Modality m = table.modality(n);
            if (m == null) {
                throw new ConfigException("config key '" + key("modalities") + "' names modality '" + n
                        + "', which feature table " + tablePath + " does not have; it has " + table.modalityNames());
            }
            inputs.add(input(m, tablePath));
        }
        return new TateSpec(this, List.copyOf(classes), inputs);
    }

    private TfrNetSpec.Input input(FeatureTableMetadata.Modality m, String tablePath) {
        return TfrNetSpec.Input.resolve(m, tablePath, maxLength, embeddingDim, tokenInit == TokenInit.WORD_VECTORS,
                patchSize, key("patch_size"), key("max_length"), "TATE");
    }

    private String key(String k) {
        return configPath == null || configPath.isEmpty() ? k : configPath + "." + k;
    }
}
