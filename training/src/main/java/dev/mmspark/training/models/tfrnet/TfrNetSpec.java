package dev.mmspark.training.models.tfrnet;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
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

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One TFR-Net model resolved against a feature table: the user's {@link TfrNetParams} plus, per modality, how its
 * sequence is read and how long it is. TFR-Net's per-position Transformers over the feature axis (the official
 * {@code trans_*_final}, whose width is the sequence length) need a fixed length per modality, so every sequence
 * is cut or zero-padded to {@link Input#steps()}: text and tags are token sequences, an image is its backbone's
 * region grid or a sequence of pixel patches, precomputed feature sequences (the CMU-MOSI format) are read as
 * they are, and a single vector is a sequence of one.
 *
 * <p>One network output, {@value #OUTPUT}. An absent modality is fed as zeros with all-zero masks, like MISA's.
 */
public record TfrNetSpec(TfrNetParams params, Task task, List<String> classes, List<Input> inputs) implements ModelSpec {
    private static final Logger LOG = LoggerFactory.getLogger(TfrNetSpec.class);
    public static final String OUTPUT = "tfrnet";

    /** How a modality's sequence is stored in the feature table. */
    public enum Source {
        /** Token ids {@code <m>_ids}, embedded. */
        TOKENS,
        /** A backbone's region grid {@code <m>_values} (R regions x D channels). */
        REGIONS,
        /** A backbone's pooled embedding {@code <m>_pooled}, a sequence of one. */
        POOLED,
        /** A vector {@code <m>_values}, a sequence of one. */
        VECTOR,
        /** A variable-length feature sequence {@code <m>_values} (len x D) with {@code <m>_length}. */
        SEQUENCE,
        /** Pixels {@code <m>_values} (C x H x W), cut into non-overlapping patches of C*p*p values. */
        PATCHES
    }

    /**
     * @param dim        per-position vector size entering the model (the embedding size for tokens)
     * @param steps      the fixed sequence length T the model reads (longer sequences are cut)
     * @param vocabSize  tokens only
     * @param pretrained tokens only: the embedding starts from the table's word vectors
     * @param channels   height width patch: pixel patches only
     */
    public record Input(String modality, Source source, int dim, int steps, int vocabSize, boolean pretrained,
                        int channels, int height, int width, int patch) implements Serializable {
        /**
         * How a sequence model with fixed lengths reads modality {@code m} of a feature table: token ids embedded
         * ({@code embeddingDim} wide unless the table's word vectors are used), a region grid or a pixel image as
         * a sequence of regions or patches, a feature sequence as it is, a single vector as a sequence of one; every
         * sequence cut to {@code maxLength}. Shared by TFR-Net and TATE.
         *
         * @param patchKey     the config key of {@code patchSize}, for messages (likewise {@code maxLengthKey})
         * @param model        the model's name, for messages
         */
        public static Input resolve(FeatureTableMetadata.Modality m, String tablePath, int maxLength, int embeddingDim,
                                    boolean wordVectors, int patchSize, String patchKey, String maxLengthKey,
                                    String model) {
            List<Integer> shape = m.shape();
            return switch (m.kind()) {
                case TOKENS -> {
                    if (m.vocabSize() == null) {
                        throw new InputException("modality '" + m.name() + "' of feature table " + tablePath
                                + " has tokens but no vocabulary size");
                    }
                    boolean pretrained = wordVectors && m.embeddingsPath() != null && m.embeddingDim() != null;
                    int natural = shape.isEmpty() || shape.get(0) < 1 ? maxLength : shape.get(0);
                    yield tokens(m.name(), m.vocabSize(), pretrained ? m.embeddingDim() : embeddingDim, pretrained,
                            Math.min(maxLength, natural));
                }
                case IMAGE_EMBEDDING -> shape.size() == 2
                        ? floats(m.name(), Source.REGIONS, shape.get(1), Math.min(maxLength, shape.get(0)))
                        : floats(m.name(), Source.POOLED,
                        m.pooledDim() != null ? m.pooledDim() : shape.get(shape.size() - 1), 1);
                case VECTOR -> floats(m.name(), Source.VECTOR, shape.get(0), 1);
                case SEQUENCE -> floats(m.name(), Source.SEQUENCE, shape.get(1), maxLength);
                case IMAGE_PIXELS -> {
                    int ch = shape.get(0);
                    int h = shape.get(1);
                    int w = shape.get(2);
                    if (h % patchSize != 0 || w % patchSize != 0) {
                        throw new ConfigException("config key '" + patchKey + "': " + patchSize + " does not divide "
                                + "the " + h + "x" + w + " images of modality '" + m.name() + "' of " + tablePath);
                    }
                    int patches = (h / patchSize) * (w / patchSize);
                    if (patches > maxLength) {
                        throw new ConfigException("config key '" + maxLengthKey + "': the " + h + "x" + w
                                + " images of '" + m.name() + "' are " + patches + " patches of " + patchSize
                                + " pixels, more than max_length = " + maxLength + "; raise max_length or patch_size");
                    }
                    yield patches(m.name(), ch, h, w, patchSize);
                }
                default -> throw new InputException("modality '" + m.name() + "' of feature table " + tablePath
                        + " is " + m.kind().name().toLowerCase(Locale.ROOT) + ", which " + model + " cannot read");
            };
        }

        static Input tokens(String modality, int vocabSize, int dim, boolean pretrained, int steps) {
            return new Input(modality, Source.TOKENS, dim, steps, vocabSize, pretrained, 0, 0, 0, 0);
        }

        static Input floats(String modality, Source source, int dim, int steps) {
            return new Input(modality, source, dim, steps, 0, false, 0, 0, 0, 0);
        }

        static Input patches(String modality, int channels, int height, int width, int patch) {
            return new Input(modality, Source.PATCHES, channels * patch * patch, (height / patch) * (width / patch), 0,
                    false, channels, height, width, patch);
        }

        /** Values per position of the network input: 1 (a token id) or {@link #dim()}. */
        public int inputChannels() {
            return source == Source.TOKENS ? 1 : dim;
        }
    }

    public TfrNetSpec {
        classes = List.copyOf(classes);
        inputs = List.copyOf(inputs);
    }

    @Override
    public String modelName() {
        return TfrNetModel.NAME;
    }

    @Override
    public List<String> modalities() {
        return inputs.stream().map(Input::modality).toList();
    }

    @Override
    public List<ModelOutput> outputs() {
        return List.of(new ModelOutput(OUTPUT, OUTPUT, List.of()));
    }

    @Override
    public ComputationGraphConfiguration graphConfiguration(Optimisation optimisation) {
        return TfrNetNetwork.build(this, optimisation);
    }

    /** Copies the table's word vectors into each pretrained token embedding. */
    @Override
    public void initialise(ComputationGraph network, FeatureTable table) {
        initialiseEmbeddings(network, table, inputs, TfrNetNetwork::embedding);
    }

    /**
     * Copies the table's word vectors into the embedding layer ({@code layer}) of each pretrained token input of
     * {@code inputs}; shared by the models that read {@link Input}s (TFR-Net, TATE).
     */
    public static void initialiseEmbeddings(ComputationGraph network, FeatureTable table, List<Input> inputs,
                                            Function<Input, String> layer) {
        for (Input in : inputs) {
            if (in.source() != Source.TOKENS || !in.pretrained()) {
                continue;
            }
            float[][] vectors = table.embeddings(in.modality());
            if (vectors == null || vectors.length != in.vocabSize() || vectors[0].length != in.dim()) {
                throw new InputException("feature table " + table.path() + ": the word vectors of '" + in.modality()
                        + "' are " + (vectors == null ? "missing" : vectors.length + "x" + vectors[0].length)
                        + ", expected " + in.vocabSize() + "x" + in.dim() + " (vocabulary x dimension)");
            }
            INDArray w = Nd4j.create(vectors).castTo(network.params().dataType());
            network.getLayer(layer.apply(in)).setParam("W", w);
            LOG.info("Initialised the '{}' embedding from the table's {}x{} word vectors", in.modality(),
                    vectors.length, vectors[0].length);
        }
    }

    @Override
    public BatchBuilder batchBuilder() {
        return new TfrNetBatchBuilder(this);
    }
}
