package dev.mmspark.training.models.tfrnet;

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

/**
 * The settings of TFR-Net ({@code train.model} with {@code name = tfrnet}). Defaults are the official MOSI
 * configuration of {@code thuiar/TFR-Net} ({@code config/config_regression.py}, {@code __TFR_Net}): Transformer
 * width 30 with 6 heads ({@code dst_feature_dim_nheads}), 3 layers ({@code nlevels}), sequences cut to 50
 * ({@code seq_lens}), gated-fusion hidden size 36 ({@code fusion_t_hid}), fusion dropout 0.2, classifier hidden
 * 128 with dropout 0.0, reconstruction loss SmoothL1 ({@code recloss_type = combine} with no
 * {@code weight_sim_loss} for MOSI, so the CMD term is off).
 *
 * <pre>
 * model {
 *   name = tfrnet
 *   modalities = []            # table modalities to use, in order; empty = all of the table's (at least 2)
 *   dim = 30                   # width of every Transformer of the alignment module
 *   heads = 6                  # attention heads of the intra- and cross-modal Transformers (must divide dim)
 *   layers = 3                 # layers of every Transformer (official nlevels)
 *   max_length = 50            # every sequence is cut / padded to min(max_length, its natural length)
 *   fusion_hidden = 36         # size of each modality's gated utterance vector
 *   fusion_dropout = 0.2       # on the gated utterance vectors
 *   cls_hidden = 128           # the classifier's hidden layer
 *   cls_dropout = 0.0          # before the classifier's output layer
 *   missing_rate = 0.5         # share of each training sequence's real frames dropped in the damaged copy
 *   missing_seed = 111         # seed of the training frame drop (official missing_seed[0])
 *   loss { recon = [], cmd = 0.0 }   # per-modality reconstruction weights ([] = 1.0 each; official MOSI
 *                              # text, audio, vision: [5, 2, 20]); weight of the CMD term of 'combine'
 *   token_init = word_vectors  # token embeddings from the table's word vectors where it has them, or random
 *   embedding_dim = 100        # randomly initialised token embeddings
 *   patch_size = 8             # pixel images: non-overlapping patches of patch_size x patch_size pixels
 *   fusion = concat            # how the gated utterance vectors are fused: concat = the paper's (C-GATE
 *                              # outputs concatenated); any name of dev.mmspark.training.fusion.Fusions
 * }
 * </pre>
 * The official code trains one model per missing rate, at the rate it is tested on, and its default rate is
 * 0 (no reconstruction target); one model evaluated over all rates needs one training rate, so the default is
 * the middle of the evaluated range, 0.5.
 *
 * @param configPath where the section was read from, for messages (e.g. {@code train.model})
 */
public record TfrNetParams(String configPath, List<String> modalities, int dim, int heads, int layers, int maxLength,
                           int fusionHidden, double fusionDropout, int clsHidden, double clsDropout,
                           double missingRate, long missingSeed, LossWeights loss, TokenInit tokenInit,
                           int embeddingDim, int patchSize, FusionSpec fusion) implements ModelParams {

    /**
     * @param recon per-modality weights of the reconstruction loss, in modality order (empty: 1.0 each)
     * @param cmd   weight of the CMD term added to each reconstruction loss (official {@code weight_sim_loss})
     */
    public record LossWeights(List<Double> recon, double cmd) implements Serializable {
        public LossWeights {
            recon = List.copyOf(recon);
        }
    }

    public enum TokenInit { WORD_VECTORS, RANDOM }

    public TfrNetParams {
        modalities = List.copyOf(modalities);
        fusion = fusion == null ? FusionSpec.of(ConcatFusion.NAME) : fusion;
    }

    /** Whether the final fusion is the official concatenation of the gated utterance vectors. */
    public boolean officialFusion() {
        return ConcatFusion.NAME.equals(fusion.name());
    }

    public static TfrNetParams parse(Conf c) {
        List<String> mods = ModelParams.modalityNames(c, "TFR-Net",
                "its cross-modal Transformers attend from one to another");
        int dim = c.integer("dim", 30, n -> n >= 1 && n <= 4096, "between 1 and 4096");
        int heads = c.integer("heads", 6, n -> n >= 1 && n <= 64, "between 1 and 64");
        if (dim % heads != 0) {
            throw new ConfigException("config key '" + c.full("heads") + "': " + heads + " heads do not divide dim = " + dim);
        }
        int layers = c.integer("layers", 3, n -> n >= 1 && n <= 24, "between 1 and 24");
        int maxLength = c.integer("max_length", 50, n -> n >= 1 && n <= 4096, "between 1 and 4096");
        int fusionHidden = c.integer("fusion_hidden", 36, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        double fusionDropout = c.number("fusion_dropout", 0.2, x -> x >= 0 && x < 1, "in [0, 1) (a drop probability)");
        int clsHidden = c.integer("cls_hidden", 128, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        double clsDropout = c.number("cls_dropout", 0.0, x -> x >= 0 && x < 1, "in [0, 1) (a drop probability)");
        double rate = c.number("missing_rate", 0.5, x -> x >= 0 && x <= 1, "in [0, 1] (a share of frames)");
        long seed = c.longValue("missing_seed", 111, s -> true, "");
        Conf lc = c.section("loss");
        List<Double> recon = lc.numbers("recon", List.of(), x -> x >= 0, ">= 0");
        if (!recon.isEmpty() && !mods.isEmpty() && recon.size() != mods.size()) {
            throw new ConfigException("config key '" + lc.full("recon") + "': " + recon.size() + " weights for "
                    + mods.size() + " modalities " + mods + "; give one per modality, in that order");
        }
        LossWeights w = new LossWeights(recon, lc.number("cmd", 0.0, x -> x >= 0, ">= 0"));
        TokenInit init = c.enumValue("token_init", TokenInit.class, TokenInit.WORD_VECTORS);
        int embDim = c.integer("embedding_dim", 100, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        int patch = c.integer("patch_size", 8, n -> n >= 1 && n <= 1024, "between 1 and 1024");
        FusionSpec fusion = Fusions.parse(c, "fusion", ConcatFusion.NAME);
        return new TfrNetParams(c.path(), mods, dim, heads, layers, maxLength, fusionHidden, fusionDropout, clsHidden,
                clsDropout, rate, seed, w, init, embDim, patch, fusion);
    }

    @Override
    public TfrNetSpec resolve(FeatureTableMetadata table, String tablePath) {
        Task task = switch (table.task()) {
            case "classification" -> Task.CLASSIFICATION;
            case "regression" -> Task.REGRESSION;
            default -> throw new InputException("feature table " + tablePath + " has task '" + table.task()
                    + "'; TFR-Net needs classification or regression");
        };
        List<String> classes = task == Task.CLASSIFICATION ? table.classes() : List.of();
        if (task == Task.CLASSIFICATION && (classes == null || classes.size() < 2)) {
            throw new InputException("feature table " + tablePath + " has classes " + classes
                    + "; a classifier needs at least two");
        }
        List<String> names = modalities.isEmpty() ? table.modalityNames() : modalities;
        if (names.size() < 2) {
            throw new InputException("feature table " + tablePath + " has modalities " + table.modalityNames()
                    + "; TFR-Net needs at least two");
        }
        if (!loss.recon().isEmpty() && loss.recon().size() != names.size()) {
            throw new ConfigException("config key '" + key("loss.recon") + "': " + loss.recon().size() + " weights for "
                    + names.size() + " modalities " + names + "; give one per modality, in that order");
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
        return new TfrNetSpec(this, task, List.copyOf(classes), inputs);
    }

    private TfrNetSpec.Input input(FeatureTableMetadata.Modality m, String tablePath) {
        return TfrNetSpec.Input.resolve(m, tablePath, maxLength, embeddingDim, tokenInit == TokenInit.WORD_VECTORS,
                patchSize, key("patch_size"), key("max_length"), "TFR-Net");
    }

    /** The reconstruction weight of modality {@code k} (in spec order). */
    public double reconWeight(int k) {
        return loss.recon().isEmpty() ? 1.0 : loss.recon().get(k);
    }

    private String key(String k) {
        return configPath == null || configPath.isEmpty() ? k : configPath + "." + k;
    }
}
