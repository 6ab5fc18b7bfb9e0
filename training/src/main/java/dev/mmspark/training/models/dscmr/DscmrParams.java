package dev.mmspark.training.models.dscmr;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.mmspark.common.InputException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.fusion.FusionSpec;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.SmallImageCnn;
import dev.mmspark.training.model.ModelParams;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * The settings of DSCMR ({@code train.model} with {@code name = dscmr}). Defaults are the reference code's
 * ({@code penghu-cs/DSCMR}: {@code model.IDCM_NN} and {@code main.py}):
 *
 * <pre>
 * model {
 *   name = dscmr
 *   modalities { image = image, text = text }   # the table modalities of the two subnetworks
 *   common_dim = 1024          # the shared linear layer into the common space (reference: 2048 -> 1024)
 *   alpha = 0.001              # weight of the common-space discrimination loss
 *   beta = 0.1                 # weight of the modality-invariance loss
 *   image {
 *     hidden = [2048]          # FC + ReLU layers of the subnetwork (reference ImgNN: one FC(2048))
 *     cnn_channels = [32, 64, 64]  # pixel inputs only: 3x3 conv + 2x2 max-pool blocks, then global average
 *     init = word_vectors      # token inputs only: word_vectors (the table's) or random
 *     embedding_dim = 300      # token inputs with random init
 *   }
 *   text { hidden = [2048], ... }   # the same keys (reference TextNN: one FC(2048))
 *   pair_fusion = mlb          # optional, absent by default: a pair head (not in the paper), see below
 *   pair_weight = 1.0          # weight of the pair head's loss (only with pair_fusion)
 * }
 * </pre>
 *
 * Each subnetwork's input follows the kind of its modality: a precomputed vector ({@code vector}, or a
 * backbone's pooled {@code image_embedding}) goes straight into the FC layers, as the reference's CNN and
 * sentence features do; {@code image_pixels} go through a small CNN first (no pretrained backbone is trained
 * here); {@code tokens} are embedded and averaged over the real tokens (a bag of word vectors: the simplest
 * text encoder that needs no extra training signal). The last {@code hidden} sizes of the two subnetworks must
 * be equal: the shared layer takes both.
 *
 * <p><b>Pair head (an extension, not DSCMR).</b> The paper maps image and text separately into the common space
 * and never fuses them. With {@code pair_fusion} set (any name of {@link Fusions}, or an object such as
 * {@code { name = mlb, mm_dim = 600 }}, as the multitask model's {@code fusion}) the network also fuses a pair's
 * two common-space representations u and v with that operator and classifies the fused vector with a softmax
 * layer, trained by cross-entropy on the pairs only, weighted by {@code pair_weight}. Absent, the network and the
 * saved spec are exactly DSCMR's.
 *
 * @param configPath where the section was read from, for messages (e.g. {@code train.model})
 * @param pair       the pair head, or null (DSCMR as published; then absent from the saved spec's JSON)
 */
public record DscmrParams(String configPath, String imageModality, String textModality, int commonDim, double alpha,
                          double beta, BranchParams image, BranchParams text,
                          @JsonInclude(JsonInclude.Include.NON_NULL) PairHead pair) implements ModelParams {

    /**
     * The optional pair head: {@code fusion} of a pair's common-space representations, then a softmax classifier
     * whose cross-entropy (pairs only) is weighted by {@code weight}.
     */
    public record PairHead(FusionSpec fusion, double weight) implements Serializable {
    }

    /** The two subnetworks. */
    public enum Role {
        IMAGE, TEXT;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum EmbeddingInit { WORD_VECTORS, RANDOM }

    /** One subnetwork's settings; the CNN and embedding keys apply only to pixel and token inputs. */
    public record BranchParams(List<Integer> hidden, List<Integer> cnnChannels, EmbeddingInit init, int embeddingDim)
            implements Serializable {
        public BranchParams {
            hidden = List.copyOf(hidden);
            cnnChannels = List.copyOf(cnnChannels);
        }
    }

    public static DscmrParams parse(Conf c) {
        Conf mc = c.section("modalities");
        String image = modalityName(mc, Role.IMAGE);
        String text = modalityName(mc, Role.TEXT);
        if (image.equals(text)) {
            throw new ConfigException("config key '" + mc.path() + "': image and text are both '" + image
                    + "'; DSCMR maps two different modalities into one space");
        }
        int common = c.integer("common_dim", 1024, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        double alpha = c.number("alpha", 1e-3, x -> x >= 0 && x <= 1e6, "in [0, 1e6]");
        double beta = c.number("beta", 1e-1, x -> x >= 0 && x <= 1e6, "in [0, 1e6]");
        BranchParams ib = branch(c.section(Role.IMAGE.key()));
        BranchParams tb = branch(c.section(Role.TEXT.key()));
        int li = ib.hidden().get(ib.hidden().size() - 1);
        int lt = tb.hidden().get(tb.hidden().size() - 1);
        if (li != lt) {
            throw new ConfigException("config key '" + c.full("text.hidden") + "': its last size (" + lt + ") must "
                    + "equal the last size of '" + c.full("image.hidden") + "' (" + li + "): the shared common-space "
                    + "layer takes the output of both subnetworks");
        }
        return new DscmrParams(c.path(), image, text, common, alpha, beta, ib, tb, pairHead(c));
    }

    private static PairHead pairHead(Conf c) {
        double weight = c.number("pair_weight", 1.0, x -> x >= 0 && x <= 1e6, "in [0, 1e6]");
        if (!c.has("pair_fusion")) {
            if (c.has("pair_weight")) {
                throw new ConfigException("config key '" + c.full("pair_weight") + "' is set, but '"
                        + c.full("pair_fusion") + "' is not: the weight belongs to the pair head, which only exists "
                        + "with a pair fusion");
            }
            return null;
        }
        return new PairHead(Fusions.parse(c, "pair_fusion", null), weight);
    }

    private static String modalityName(Conf mc, Role r) {
        String v = mc.string(r.key(), r.key());
        if (!v.matches("[a-z][a-z0-9_]*")) {
            throw new ConfigException("config key '" + mc.full(r.key()) + "': expected a modality name (lower-case "
                    + "letters, digits, '_'), found '" + v + "'");
        }
        return v;
    }

    private static BranchParams branch(Conf b) {
        List<Integer> hidden = b.integers("hidden", List.of(2048), n -> n >= 1 && n <= 100_000,
                "between 1 and 100000 (one FC + ReLU layer per entry)");
        if (hidden.isEmpty()) {
            throw new ConfigException("config key '" + b.full("hidden") + "': needs at least one layer (the shared "
                    + "layer takes its output)");
        }
        List<Integer> channels = b.integers("cnn_channels", List.of(32, 64, 64), n -> n >= 1 && n <= 4096,
                "between 1 and 4096 (one 3x3 conv + 2x2 max-pool block per entry)");
        if (channels.isEmpty()) {
            throw new ConfigException("config key '" + b.full("cnn_channels") + "': needs at least one block");
        }
        EmbeddingInit init = b.enumValue("init", EmbeddingInit.class, EmbeddingInit.WORD_VECTORS);
        int dim = b.integer("embedding_dim", 300, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
        return new BranchParams(hidden, channels, init, dim);
    }

    public String modality(Role r) {
        return r == Role.IMAGE ? imageModality : textModality;
    }

    public BranchParams branch(Role r) {
        return r == Role.IMAGE ? image : text;
    }

    @Override
    public DscmrSpec resolve(FeatureTableMetadata table, String tablePath) {
        if (!"classification".equals(table.task())) {
            throw new InputException("feature table " + tablePath + " has task '" + table.task() + "'; DSCMR is "
                    + "supervised by class labels (relevance in retrieval is 'same class')");
        }
        if (table.classes() == null || table.classes().size() < 2) {
            throw new InputException("feature table " + tablePath + " has classes " + table.classes()
                    + "; DSCMR needs at least two");
        }
        return new DscmrSpec(this, List.copyOf(table.classes()), input(table, tablePath, Role.IMAGE),
                input(table, tablePath, Role.TEXT));
    }

    private DscmrSpec.BranchInput input(FeatureTableMetadata table, String tablePath, Role r) {
        String name = modality(r);
        String key = key("modalities." + r.key());
        FeatureTableMetadata.Modality m = table.modality(name);
        if (m == null) {
            throw new ConfigException("config key '" + key + "' names modality '" + name + "', which feature table "
                    + tablePath + " does not have; it has " + table.modalityNames() + " (DSCMR needs two)");
        }
        BranchParams b = branch(r);
        List<Integer> shape = m.shape();
        return switch (m.kind()) {
            case VECTOR -> DscmrSpec.BranchInput.vector(name, DscmrSpec.Source.VECTOR, shape.get(0));
            case IMAGE_EMBEDDING -> DscmrSpec.BranchInput.vector(name, DscmrSpec.Source.EMBEDDING,
                    m.pooledDim() != null ? m.pooledDim() : shape.get(shape.size() - 1));
            case IMAGE_PIXELS -> {
                int h = shape.get(1);
                int w = shape.get(2);
                if (b.cnnChannels().size() > SmallImageCnn.maxBlocks(h, w)) {
                    throw new ConfigException("config key '" + key(r.key() + ".cnn_channels") + "': "
                            + b.cnnChannels().size() + " conv/pool blocks halve the image that many times, but "
                            + "modality '" + name + "' of " + tablePath + " is only " + h + "x" + w + " pixels; use at"
                            + " most " + SmallImageCnn.maxBlocks(h, w) + " blocks");
                }
                yield DscmrSpec.BranchInput.pixels(name, shape.get(0), h, w);
            }
            case TOKENS -> {
                if (m.vocabSize() == null) {
                    throw new InputException("modality '" + name + "' of feature table " + tablePath + " has tokens but"
                            + " no vocabulary size; was it written by the extract job?");
                }
                if (b.init() == EmbeddingInit.WORD_VECTORS) {
                    if (m.embeddingsPath() == null || m.embeddingDim() == null) {
                        throw new ConfigException("config key '" + key(r.key() + ".init") + "' is word_vectors, but "
                                + "modality '" + name + "' of feature table " + tablePath + " has no word vectors; set"
                                + " it to random");
                    }
                    yield DscmrSpec.BranchInput.tokens(name, m.vocabSize(), m.embeddingDim(), true);
                }
                yield DscmrSpec.BranchInput.tokens(name, m.vocabSize(), b.embeddingDim(), false);
            }
            case SEQUENCE -> throw new InputException("modality '" + name + "' of feature table " + tablePath
                    + " is a sequence of vectors; DSCMR's subnetworks take a vector, a backbone embedding, pixels or "
                    + "tokens (" + key + "). Sequence inputs are not implemented");
        };
    }

    private String key(String k) {
        return configPath == null || configPath.isEmpty() ? k : configPath + "." + k;
    }
}
