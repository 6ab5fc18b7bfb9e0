package dev.mmspark.training.models.multitask;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.fusion.ConcatFusion;
import dev.mmspark.training.fusion.FusionSpec;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.MaskedGlobalPooling.Statistic;
import dev.mmspark.training.model.ModelParams;

import java.util.ArrayList;
import java.util.HashSet;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * The settings of the multitask model ({@code train.model} with {@code name = multitask}). Defaults are the
 * paper's (Page-Fortin &amp; Chaib-draa 2019) where it gives them:
 *
 * <pre>
 * model {
 *   name = multitask
 *   modalities { image = image, text = text, tags = tags }  # table modality per role; "none" drops a role
 *   representation_dim = 300        # r_i, r_t, r_# (paper: 300)
 *   head_hidden = [256, 128]        # each classifier FC(256)-ReLU-FC(128)-ReLU-softmax
 *   fusion = concat                 # bimodal/trimodal fusion (paper: concatenation); any name of
 *                                   # dev.mmspark.training.fusion.Fusions, or { name = mlb, mm_dim = 600 }
 *   image { cnn_channels = [32, 64, 64] }   # pixel inputs only: 3x3 conv + 2x2 max-pool blocks
 *   text {
 *     filters = 100, windows = [3, 4, 5], pooling = [max, avg, min]
 *     dropout = 0.5                 # on the embedded words; the paper uses dropout without a rate
 *     init = word_vectors           # or random (then embedding_dim applies)
 *                                   # a vector modality as text (modalities.text = text_minilm, the MiniLM
 *                                   # sentence vector) gets dropout and FC(300) instead of the CNN
 *     embedding_dim = 300
 *   }
 *   tags { embedding_dim = 250, filters = 300, window = 1 }
 * }
 * </pre>
 *
 * A role whose default modality name is not in the table is left out (a table without tags gets the
 * i, t and it heads); a name given explicitly must exist.
 *
 * @param configPath where the section was read from, for messages (e.g. {@code train.model})
 */
public record MultitaskParams(String configPath, Bindings modalities, int representationDim, List<Integer> headHidden,
                              FusionSpec fusion, ImageParams image, TextParams text, TagsParams tags)
        implements ModelParams {

    /** Which table modality plays each role; null: the role is off. */
    public record Bindings(String image, String text, String tags, List<String> explicit) implements Serializable {
        String of(Role r) {
            return switch (r) {
                case IMAGE -> image;
                case TEXT -> text;
                case TAGS -> tags;
            };
        }
    }

    public record ImageParams(List<Integer> cnnChannels) implements Serializable {
    }

    public enum EmbeddingInit { WORD_VECTORS, RANDOM }

    /**
     * @param dropout drop probability applied to the embedded words (0 disables it)
     */
    public record TextParams(int filters, List<Integer> windows, List<Statistic> pooling, double dropout,
                             EmbeddingInit init, int embeddingDim) implements Serializable {
    }

    public record TagsParams(int embeddingDim, int filters, int window) implements Serializable {
    }

    public static MultitaskParams parse(Conf c) {
        Conf mc = c.section("modalities");
        List<String> explicit = new ArrayList<>();
        String[] names = new String[Role.values().length];
        for (Role r : Role.values()) {
            if (mc.has(r.key())) {
                explicit.add(r.key());
            }
            String v = mc.string(r.key(), r.key());
            if (!v.equals("none") && !v.matches("[a-z][a-z0-9_]*")) {
                throw new ConfigException("config key '" + mc.full(r.key()) + "': expected a modality name (lower-case "
                        + "letters, digits, '_') or none, found '" + v + "'");
            }
            names[r.ordinal()] = v.equals("none") ? null : v;
        }
        if (names[0] == null && names[1] == null && names[2] == null) {
            throw new ConfigException("config key '" + mc.path() + "': every role is none; the model needs at least "
                    + "one of image, text, tags");
        }
        Bindings bindings = new Bindings(names[0], names[1], names[2], List.copyOf(explicit));

        int rep = c.integer("representation_dim", 300, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        List<Integer> hidden = c.integers("head_hidden", List.of(256, 128), n -> n >= 1 && n <= 100_000,
                "between 1 and 100000 (one entry per hidden layer)");
        FusionSpec fusion = Fusions.parse(c, "fusion", ConcatFusion.NAME);

        Conf ic = c.section("image");
        List<Integer> channels = ic.integers("cnn_channels", List.of(32, 64, 64), n -> n >= 1 && n <= 4096,
                "between 1 and 4096 (one 3x3 conv + 2x2 max-pool block per entry)");
        if (channels.isEmpty()) {
            throw new ConfigException("config key '" + ic.full("cnn_channels") + "': needs at least one block");
        }

        Conf tc = c.section("text");
        int filters = tc.integer("filters", 100, n -> n >= 1 && n <= 100_000, "between 1 and 100000");
        List<Integer> windows = tc.integers("windows", List.of(3, 4, 5), n -> n >= 1 && n <= 100,
                "between 1 and 100 (n-gram widths)");
        if (windows.isEmpty() || new HashSet<>(windows).size() != windows.size()) {
            throw new ConfigException("config key '" + tc.full("windows") + "': expected distinct window sizes, found "
                    + windows);
        }
        List<Statistic> pooling = new ArrayList<>();
        for (String s : tc.strings("pooling", List.of("max", "avg", "min"))) {
            try {
                Statistic st = Statistic.valueOf(s.trim().toUpperCase(Locale.ROOT));
                if (pooling.contains(st)) {
                    throw new IllegalArgumentException();
                }
                pooling.add(st);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("config key '" + tc.full("pooling") + "': expected distinct entries of max, "
                        + "avg, min, found '" + s + "'");
            }
        }
        if (pooling.isEmpty()) {
            throw new ConfigException("config key '" + tc.full("pooling") + "': needs at least one of max, avg, min");
        }
        double dropout = tc.number("dropout", 0.5, x -> x >= 0 && x < 1, "in [0, 1) (a drop probability)");
        EmbeddingInit init = tc.enumValue("init", EmbeddingInit.class, EmbeddingInit.WORD_VECTORS);
        int dim = tc.integer("embedding_dim", 300, n -> n >= 1 && n <= 10_000, "between 1 and 10000");

        Conf gc = c.section("tags");
        TagsParams tags = new TagsParams(
                gc.integer("embedding_dim", 250, n -> n >= 1 && n <= 10_000, "between 1 and 10000"),
                gc.integer("filters", 300, n -> n >= 1 && n <= 100_000, "between 1 and 100000"),
                gc.integer("window", 1, n -> n >= 1 && n <= 100, "between 1 and 100"));

        return new MultitaskParams(c.path(), bindings, rep, hidden, fusion, new ImageParams(channels),
                new TextParams(filters, windows, pooling, dropout, init, dim), tags);
    }

    @Override
    public MultitaskSpec resolve(FeatureTableMetadata table, String tablePath) {
        if (!"classification".equals(table.task())) {
            throw new InputException("feature table " + tablePath + " has task '" + table.task()
                    + "'; the multitask model is a classifier and needs class labels");
        }
        if (table.classes() == null || table.classes().size() < 2) {
            throw new InputException("feature table " + tablePath + " has classes " + table.classes()
                    + "; a classifier needs at least two");
        }
        MultitaskSpec.ImageInput image = null;
        MultitaskSpec.TokenInput text = null;
        MultitaskSpec.TokenInput tags = null;
        for (Role r : Role.values()) {
            String name = modalities.of(r);
            if (name == null) {
                continue;
            }
            FeatureTableMetadata.Modality m = table.modality(name);
            if (m == null) {
                if (modalities.explicit().contains(r.key())) {
                    throw new ConfigException("config key '" + key("modalities." + r.key()) + "' names modality '"
                            + name + "', which feature table " + tablePath + " does not have; it has "
                            + table.modalityNames());
                }
                continue;
            }
            switch (r) {
                case IMAGE -> image = imageInput(m, tablePath);
                // a vector modality (e.g. the MiniLM sentence vector) replaces the text CNN by FC(r)
                case TEXT -> text = m.kind() == ModalityKind.VECTOR
                        ? MultitaskSpec.TokenInput.vector(m.name(), m.shape().get(0))
                        : tokenInput(m, tablePath, r, text().init() == EmbeddingInit.WORD_VECTORS,
                        text().embeddingDim());
                case TAGS -> tags = tokenInput(m, tablePath, r, false, tags().embeddingDim());
            }
        }
        if (image == null && text == null && tags == null) {
            throw new InputException("feature table " + tablePath + " has none of the modalities the multitask model "
                    + "is configured for (" + key("modalities") + ": image=" + modalities.image() + ", text="
                    + modalities.text() + ", tags=" + modalities.tags() + "); it has " + table.modalityNames());
        }
        return new MultitaskSpec(this, List.copyOf(table.classes()), image, text, tags);
    }

    private MultitaskSpec.ImageInput imageInput(FeatureTableMetadata.Modality m, String tablePath) {
        List<Integer> shape = m.shape();
        return switch (m.kind()) {
            case IMAGE_PIXELS -> {
                int blocks = image.cnnChannels().size();
                int c = shape.get(0);
                int h = shape.get(1);
                int w = shape.get(2);
                if (Math.min(h, w) < (1 << blocks)) {
                    throw new ConfigException("config key '" + key("image.cnn_channels") + "': " + blocks
                            + " conv/pool blocks halve the image " + blocks + " times, but modality '" + m.name()
                            + "' of " + tablePath + " is only " + h + "x" + w + " pixels; use at most "
                            + (31 - Integer.numberOfLeadingZeros(Math.min(h, w))) + " blocks");
                }
                yield new MultitaskSpec.ImageInput(m.name(), MultitaskSpec.ImageSource.PIXELS, c, h, w, 0);
            }
            case IMAGE_EMBEDDING -> new MultitaskSpec.ImageInput(m.name(), MultitaskSpec.ImageSource.EMBEDDING, 0, 0, 0,
                    m.pooledDim() != null ? m.pooledDim() : shape.get(shape.size() - 1));
            case VECTOR -> new MultitaskSpec.ImageInput(m.name(), MultitaskSpec.ImageSource.VECTOR, 0, 0, 0,
                    shape.get(0));
            default -> throw new InputException("modality '" + m.name() + "' of feature table " + tablePath + " is "
                    + m.kind().name().toLowerCase(Locale.ROOT) + "; the image role needs image_pixels, image_embedding"
                    + " or vector (" + key("modalities.image") + ")");
        };
    }

    private MultitaskSpec.TokenInput tokenInput(FeatureTableMetadata.Modality m, String tablePath, Role r,
                                                boolean pretrained, int dim) {
        if (m.kind() != ModalityKind.TOKENS || m.vocabSize() == null) {
            throw new InputException("modality '" + m.name() + "' of feature table " + tablePath + " is "
                    + m.kind().name().toLowerCase(Locale.ROOT) + "; the " + r.key() + " role needs tokens with a "
                    + "vocabulary" + (r == Role.TEXT ? " or a vector" : "") + " (" + key("modalities." + r.key()) + ")");
        }
        if (pretrained) {
            if (m.embeddingsPath() == null || m.embeddingDim() == null) {
                throw new ConfigException("config key '" + key("text.init") + "' is word_vectors, but modality '"
                        + m.name() + "' of feature table " + tablePath + " has no word vectors; set it to random");
            }
            return MultitaskSpec.TokenInput.tokens(m.name(), m.vocabSize(), m.embeddingDim(), true);
        }
        return MultitaskSpec.TokenInput.tokens(m.name(), m.vocabSize(), dim, false);
    }

    private String key(String k) {
        return configPath == null || configPath.isEmpty() ? k : configPath + "." + k;
    }
}
