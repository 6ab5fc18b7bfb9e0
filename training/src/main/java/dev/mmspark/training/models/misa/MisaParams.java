package dev.mmspark.training.models.misa;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.fusion.ConcatFusion;
import dev.mmspark.training.fusion.FusionSpec;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.Task;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The settings of MISA ({@code train.model} with {@code name = misa}). Defaults are the official
 * configuration of {@code declare-lab/MISA} (MOSI): hidden 128, dropout 0.5, CMD with 5 moments, loss weights
 * sim 1.0, diff 0.3, recon 1.0, 2 attention heads; the Transformer's feed-forward width is PyTorch's default
 * 2048, which the official code keeps.
 *
 * <pre>
 * model {
 *   name = misa
 *   modalities = []            # table modalities to use, in order; empty = all of the table's (at least 2)
 *   hidden = 128               # size of every utterance vector and representation
 *   encoder_dim = 128          # per-position width of each modality's sequence encoder
 *   heads = 2                  # attention heads of the fusion Transformer (must divide hidden)
 *   feedforward = 2048         # the fusion Transformer's feed-forward width
 *   dropout = 0.5              # before the head's output layer
 *   cmd_moments = 5
 *   loss { sim = 1.0, diff = 0.3, recon = 1.0 }
 *   token_init = word_vectors  # token embeddings from the table's word vectors where it has them, or random
 *   embedding_dim = 100        # randomly initialised token embeddings
 *   patch_size = 8             # pixel images: non-overlapping patches of patch_size x patch_size pixels
 *   fusion = concat            # the final fusion (paper: concatenation of the 2M Transformer outputs); any
 *                              # name of dev.mmspark.training.fusion.Fusions, or { name = mlb, mm_dim = 600 }
 * }
 * </pre>
 * With another operator than {@code concat}, the Transformer's outputs are grouped per modality -- modality
 * m's private and shared vectors concatenated, 2h values -- and the operator fuses these M modality vectors
 * (the operators' interface: one vector per modality); {@code concat} keeps the official graph unchanged.
 * The tuned variant the paper reports (dropout 0.2, diff 0.1, sim 0.3) is the same keys with other values.
 *
 * @param configPath where the section was read from, for messages (e.g. {@code train.model})
 */
public record MisaParams(String configPath, List<String> modalities, int hidden, int encoderDim, int heads,
                         int feedForward, double dropout, int cmdMoments, LossWeights loss, TokenInit tokenInit,
                         int embeddingDim, int patchSize, FusionSpec fusion) implements ModelParams {

    /** alpha, beta, gamma of the paper's objective. */
    public record LossWeights(double sim, double diff, double recon) implements Serializable {
    }

    public enum TokenInit { WORD_VECTORS, RANDOM }

    public MisaParams {
        modalities = List.copyOf(modalities);
        // a spec saved before the fusion key existed has none: it was the official concatenation
        fusion = fusion == null ? FusionSpec.of(ConcatFusion.NAME) : fusion;
    }

    /** Whether the final fusion is the official concatenation (the graph of {@code declare-lab/MISA}). */
    public boolean officialFusion() {
        return ConcatFusion.NAME.equals(fusion.name());
    }

    public static MisaParams parse(Conf c) {
        List<String> mods = ModelParams.modalityNames(c, "MISA", "its similarity loss compares pairs");
        int hidden = c.integer("hidden", 128, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        int encoderDim = c.integer("encoder_dim", 128, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        int heads = c.integer("heads", 2, n -> n >= 1 && n <= 64, "between 1 and 64");
        if (hidden % heads != 0) {
            throw new ConfigException("config key '" + c.full("heads") + "': " + heads + " heads do not divide hidden = "
                    + hidden);
        }
        int ff = c.integer("feedforward", 2048, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        double dropout = c.number("dropout", 0.5, x -> x >= 0 && x < 1, "in [0, 1) (a drop probability)");
        int moments = c.integer("cmd_moments", 5, n -> n >= 1 && n <= 10, "between 1 and 10");
        Conf lc = c.section("loss");
        LossWeights w = new LossWeights(
                lc.number("sim", 1.0, x -> x >= 0, ">= 0"),
                lc.number("diff", 0.3, x -> x >= 0, ">= 0"),
                lc.number("recon", 1.0, x -> x >= 0, ">= 0"));
        TokenInit init = c.enumValue("token_init", TokenInit.class, TokenInit.WORD_VECTORS);
        int dim = c.integer("embedding_dim", 100, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        int patch = c.integer("patch_size", 8, n -> n >= 1 && n <= 1024, "between 1 and 1024");
        FusionSpec fusion = Fusions.parse(c, "fusion", ConcatFusion.NAME);
        return new MisaParams(c.path(), mods, hidden, encoderDim, heads, ff, dropout, moments, w, init, dim, patch,
                fusion);
    }

    @Override
    public MisaSpec resolve(FeatureTableMetadata table, String tablePath) {
        Task task = switch (table.task()) {
            case "classification" -> Task.CLASSIFICATION;
            case "regression" -> Task.REGRESSION;
            default -> throw new InputException("feature table " + tablePath + " has task '" + table.task()
                    + "'; MISA needs classification or regression");
        };
        List<String> classes = task == Task.CLASSIFICATION ? table.classes() : List.of();
        if (task == Task.CLASSIFICATION && (classes == null || classes.size() < 2)) {
            throw new InputException("feature table " + tablePath + " has classes " + classes
                    + "; a classifier needs at least two");
        }
        List<String> names = modalities.isEmpty() ? table.modalityNames() : modalities;
        if (names.size() < 2) {
            throw new InputException("feature table " + tablePath + " has modalities " + table.modalityNames()
                    + "; MISA needs at least two");
        }
        List<MisaSpec.Input> inputs = new ArrayList<>();
        for (String n : names) {
            FeatureTableMetadata.Modality m = table.modality(n);
            if (m == null) {
                throw new ConfigException("config key '" + key("modalities") + "' names modality '" + n
                        + "', which feature table " + tablePath + " does not have; it has " + table.modalityNames());
            }
            inputs.add(input(m, tablePath));
        }
        return new MisaSpec(this, task, List.copyOf(classes), inputs);
    }

    private MisaSpec.Input input(FeatureTableMetadata.Modality m, String tablePath) {
        List<Integer> shape = m.shape();
        return switch (m.kind()) {
            case TOKENS -> {
                if (m.vocabSize() == null) {
                    throw new InputException("modality '" + m.name() + "' of feature table " + tablePath
                            + " has tokens but no vocabulary size");
                }
                boolean pretrained = tokenInit == TokenInit.WORD_VECTORS && m.embeddingsPath() != null
                        && m.embeddingDim() != null;
                yield MisaSpec.Input.tokens(m.name(), m.vocabSize(), pretrained ? m.embeddingDim() : embeddingDim,
                        pretrained);
            }
            case IMAGE_EMBEDDING -> shape.size() == 2
                    ? MisaSpec.Input.floats(m.name(), MisaSpec.Source.REGIONS, shape.get(1), shape.get(0))
                    : MisaSpec.Input.floats(m.name(), MisaSpec.Source.POOLED,
                    m.pooledDim() != null ? m.pooledDim() : shape.get(shape.size() - 1), 1);
            case VECTOR -> MisaSpec.Input.floats(m.name(), MisaSpec.Source.VECTOR, shape.get(0), 1);
            case SEQUENCE -> MisaSpec.Input.floats(m.name(), MisaSpec.Source.SEQUENCE, shape.get(1), -1);
            case IMAGE_PIXELS -> {
                int ch = shape.get(0);
                int h = shape.get(1);
                int w = shape.get(2);
                if (h % patchSize != 0 || w % patchSize != 0) {
                    throw new ConfigException("config key '" + key("patch_size") + "': " + patchSize + " does not divide "
                            + "the " + h + "x" + w + " images of modality '" + m.name() + "' of " + tablePath);
                }
                yield MisaSpec.Input.patches(m.name(), ch, h, w, patchSize);
            }
            default -> throw new InputException("modality '" + m.name() + "' of feature table " + tablePath + " is "
                    + m.kind().name().toLowerCase(Locale.ROOT) + ", which MISA cannot read");
        };
    }

    private String key(String k) {
        return configPath == null || configPath.isEmpty() ? k : configPath + "." + k;
    }
}
