package dev.mmspark.training.models.multitask;

import dev.mmspark.common.InputException;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.Task;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.io.Serializable;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One multitask model resolved against a feature table: the user's {@link MultitaskParams} plus the inputs
 * the table provides. Roles the table lacks are null; the network gets one classifier per non-empty subset
 * of the roles present (all seven, i t # it i# t# it#, with image, text and tags).
 *
 * @param image null when the model has no image branch
 * @param text  null when the model has no text branch
 * @param tags  null when the model has no tag branch
 */
public record MultitaskSpec(MultitaskParams params, List<String> classes, ImageInput image, TokenInput text,
                            TokenInput tags) implements ModelSpec {
    private static final Logger LOG = LoggerFactory.getLogger(MultitaskSpec.class);

    /** How the image arrives: raw pixels (a CNN is trained end to end) or a precomputed vector. */
    public enum ImageSource { PIXELS, EMBEDDING, VECTOR }

    /**
     * @param channels height width: pixel inputs ({@code <m>_values}, CHW)
     * @param dim      vector inputs ({@code <m>_pooled} for embeddings, {@code <m>_values} for vectors)
     */
    public record ImageInput(String modality, ImageSource source, int channels, int height, int width, int dim)
            implements Serializable {
        int pixels() {
            return channels * height * width;
        }
    }

    /** How the text arrives: token ids (the paper's text CNN) or a precomputed sentence vector. */
    public enum TextSource { TOKENS, VECTOR }

    /**
     * A token modality: ids into a vocabulary of {@code vocabSize} (0 = padding, 1 = unknown); or, for the text
     * role only, with {@code source = VECTOR}, a vector modality of {@code embeddingDim} values (e.g. the MiniLM
     * sentence vector, {@code extract.text.bert}) and no vocabulary.
     *
     * @param source null (a spec saved before the key existed) means tokens
     */
    public record TokenInput(String modality, int vocabSize, int embeddingDim, boolean pretrained, TextSource source)
            implements Serializable {
        public TokenInput {
            source = source == null ? TextSource.TOKENS : source;
        }

        public static TokenInput tokens(String modality, int vocabSize, int embeddingDim, boolean pretrained) {
            return new TokenInput(modality, vocabSize, embeddingDim, pretrained, TextSource.TOKENS);
        }

        /** A precomputed vector of {@code dim} values ({@code <m>_values}). */
        public static TokenInput vector(String modality, int dim) {
            return new TokenInput(modality, 0, dim, false, TextSource.VECTOR);
        }

        /** Whether the input is a precomputed vector rather than token ids. */
        public boolean fromVector() {
            return source == TextSource.VECTOR;
        }
    }

    public MultitaskSpec {
        classes = List.copyOf(classes);
    }

    @Override
    public String modelName() {
        return MultitaskModel.NAME;
    }

    @Override
    public Task task() {
        return Task.CLASSIFICATION;
    }

    /** The roles the model has, in canonical order. */
    public List<Role> roles() {
        List<Role> r = new ArrayList<>();
        if (image != null) {
            r.add(Role.IMAGE);
        }
        if (text != null) {
            r.add(Role.TEXT);
        }
        if (tags != null) {
            r.add(Role.TAGS);
        }
        return r;
    }

    public String modality(Role r) {
        return switch (r) {
            case IMAGE -> image.modality();
            case TEXT -> text.modality();
            case TAGS -> tags.modality();
        };
    }

    @Override
    public List<String> modalities() {
        return roles().stream().map(this::modality).toList();
    }

    /**
     * Every non-empty subset of the roles, by size, each in canonical order: i, t, #, it, i#, t#, it# (the
     * paper's seven classifiers) when all three roles are present.
     */
    public List<List<Role>> heads() {
        List<Role> roles = roles();
        List<List<Role>> heads = new ArrayList<>();
        for (int size = 1; size <= roles.size(); size++) {
            for (int mask = 1; mask < (1 << roles.size()); mask++) {
                if (Integer.bitCount(mask) != size) {
                    continue;
                }
                List<Role> h = new ArrayList<>();
                for (int i = 0; i < roles.size(); i++) {
                    if ((mask & (1 << i)) != 0) {
                        h.add(roles.get(i));
                    }
                }
                heads.add(h);
            }
        }
        // within a size, order subsets lexicographically by role order (it before i# before t#)
        heads.sort((a, b) -> {
            if (a.size() != b.size()) {
                return Integer.compare(a.size(), b.size());
            }
            for (int i = 0; i < a.size(); i++) {
                int c = Integer.compare(a.get(i).ordinal(), b.get(i).ordinal());
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        });
        return heads;
    }

    /** The output vertex of a head, e.g. {@code head_image_text}. */
    public static String headVertex(List<Role> head) {
        return "head_" + head.stream().map(Role::key).collect(Collectors.joining("_"));
    }

    /** The paper's name of a head, e.g. {@code it#}. */
    public static String headLabel(List<Role> head) {
        return head.stream().map(Role::letter).collect(Collectors.joining());
    }

    @Override
    public List<ModelOutput> outputs() {
        return heads().stream()
                .map(h -> new ModelOutput(headVertex(h), headLabel(h), h.stream().map(this::modality).toList()))
                .toList();
    }

    @Override
    public ComputationGraphConfiguration graphConfiguration(Optimisation optimisation) {
        return MultitaskNetwork.build(this, optimisation);
    }

    /** Copies the table's word vectors into the text embedding (paper: word2vec initialisation, trainable). */
    @Override
    public void initialise(ComputationGraph network, FeatureTable table) {
        if (text == null || text.fromVector() || !text.pretrained()) {
            return;
        }
        float[][] vectors = table.embeddings(text.modality());
        if (vectors == null || vectors.length != text.vocabSize() || vectors[0].length != text.embeddingDim()) {
            throw new InputException("feature table " + table.path() + ": the word vectors of '" + text.modality()
                    + "' are " + (vectors == null ? "missing" : vectors.length + "x" + vectors[0].length)
                    + ", expected " + text.vocabSize() + "x" + text.embeddingDim() + " (vocabulary x dimension)");
        }
        INDArray w = Nd4j.create(vectors).castTo(network.params().dataType());
        network.getLayer(MultitaskNetwork.TEXT_EMBEDDING).setParam("W", w);
        LOG.info("Initialised the text embedding from the table's {}x{} word vectors", vectors.length,
                vectors[0].length);
    }

    @Override
    public BatchBuilder batchBuilder() {
        return new MultitaskBatchBuilder(this);
    }
}
