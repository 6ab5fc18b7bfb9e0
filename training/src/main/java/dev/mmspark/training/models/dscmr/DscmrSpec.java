package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.InputException;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.CommonSpaceSpec;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.ModelOutput;
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
import java.util.Optional;

/**
 * One DSCMR model resolved against a feature table: the user's {@link DscmrParams}, the class names and what
 * each subnetwork reads. Saved in the model's {@code metadata.json} and enough to rebuild the network.
 *
 * <p>DSCMR has no fusion step: the two modalities meet only in the shared layers and the losses. The optional
 * pair head ({@link DscmrParams.PairHead}, {@code train.model.pair_fusion}) fuses a pair's two common-space
 * representations with a fusion operator and classifies them, as a second network output.
 */
public record DscmrSpec(DscmrParams params, List<String> classes, BranchInput image, BranchInput text)
        implements CommonSpaceSpec {
    private static final Logger LOG = LoggerFactory.getLogger(DscmrSpec.class);

    /** The output vertex: the loss layer. */
    public static final String OUTPUT = "dscmr";
    /** The pair head's output vertex (only with {@code pair_fusion}): a softmax over the classes. */
    public static final String PAIR_OUTPUT = "pair_classifier";

    /** How a subnetwork's input arrives. */
    public enum Source { VECTOR, EMBEDDING, PIXELS, TOKENS }

    /**
     * One subnetwork's input.
     *
     * @param dim          vector length ({@code <m>_values} of a vector, {@code <m>_pooled} of an embedding)
     * @param channels     height width: pixel inputs ({@code <m>_values}, CHW)
     * @param vocabSize    embeddingDim pretrained: token inputs ({@code <m>_ids}; 0 = padding)
     */
    public record BranchInput(String modality, Source source, int dim, int channels, int height, int width,
                              int vocabSize, int embeddingDim, boolean pretrained) implements Serializable {

        static BranchInput vector(String modality, Source source, int dim) {
            return new BranchInput(modality, source, dim, 0, 0, 0, 0, 0, false);
        }

        static BranchInput pixels(String modality, int channels, int height, int width) {
            return new BranchInput(modality, Source.PIXELS, 0, channels, height, width, 0, 0, false);
        }

        static BranchInput tokens(String modality, int vocabSize, int embeddingDim, boolean pretrained) {
            return new BranchInput(modality, Source.TOKENS, 0, 0, 0, 0, vocabSize, embeddingDim, pretrained);
        }

        /** The feature-table column the subnetwork reads. */
        public String column() {
            return modality + switch (source) {
                case VECTOR, PIXELS -> "_values";
                case EMBEDDING -> "_pooled";
                case TOKENS -> "_ids";
            };
        }
    }

    public DscmrSpec {
        classes = List.copyOf(classes);
    }

    @Override
    public String modelName() {
        return DscmrModel.NAME;
    }

    @Override
    public Task task() {
        return Task.CLASSIFICATION;
    }

    public BranchInput input(DscmrParams.Role r) {
        return r == DscmrParams.Role.IMAGE ? image : text;
    }

    @Override
    public List<String> modalities() {
        return List.of(image.modality(), text.modality());
    }

    /**
     * The loss layer; it needs both modalities, so samples with one are left out of training (their label mask is
     * 0, and the pair flag the loss layer reads is 0) and the generic predictor answers them with the training
     * prior. With a pair head, its classifier second: it needs both modalities too, so its label mask (built by
     * {@link BatchBuilder}) is the pair flag; the generic predictor keeps answering from the first output on
     * this tie.
     */
    @Override
    public List<ModelOutput> outputs() {
        ModelOutput dscmr = new ModelOutput(OUTPUT, "it", modalities());
        return pairClassifier().map(p -> List.of(dscmr, p)).orElse(List.of(dscmr));
    }

    @Override
    public Optional<ModelOutput> pairClassifier() {
        return params.pair() == null ? Optional.empty()
                : Optional.of(new ModelOutput(PAIR_OUTPUT, "it_pair", modalities()));
    }

    @Override
    public ComputationGraphConfiguration graphConfiguration(Optimisation optimisation) {
        return DscmrNetwork.build(this, optimisation);
    }

    /** Copies the table's word vectors into each token subnetwork's embedding (then trained with the rest). */
    @Override
    public void initialise(ComputationGraph network, FeatureTable table) {
        for (DscmrParams.Role r : DscmrParams.Role.values()) {
            BranchInput in = input(r);
            if (in.source() != Source.TOKENS || !in.pretrained()) {
                continue;
            }
            float[][] vectors = table.embeddings(in.modality());
            if (vectors == null || vectors.length != in.vocabSize() || vectors[0].length != in.embeddingDim()) {
                throw new InputException("feature table " + table.path() + ": the word vectors of '" + in.modality()
                        + "' are " + (vectors == null ? "missing" : vectors.length + "x" + vectors[0].length)
                        + ", expected " + in.vocabSize() + "x" + in.embeddingDim() + " (vocabulary x dimension)");
            }
            INDArray w = Nd4j.create(vectors).castTo(network.params().dataType());
            network.getLayer(DscmrNetwork.embedding(r)).setParam("W", w);
            LOG.info("Initialised the {} embedding from the table's {}x{} word vectors", r.key(), vectors.length,
                    vectors[0].length);
        }
    }

    @Override
    public BatchBuilder batchBuilder() {
        return new DscmrBatchBuilder(this);
    }

    @Override
    public EmbeddingPredictor embeddingPredictor(ComputationGraph network) {
        return new DscmrPredictor(this, network);
    }
}
