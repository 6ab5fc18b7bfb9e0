package dev.mmspark.training;

import dev.mmspark.common.InputException;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.CommonSpaceSpec;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A trained model loaded from its directory ({@link TrainedModels#load}): the network, its spec and its
 * metadata. Evaluation checks it against the feature table it is about to score
 * ({@link #checkCompatible}) and ships its {@link #predictor()} to the executors.
 */
public final class TrainedModel {
    private final String path;
    private final ModelMetadata metadata;
    private final ModelSpec spec;
    private final ComputationGraph network;

    TrainedModel(String path, ModelMetadata metadata, ModelSpec spec, ComputationGraph network) {
        this.path = path;
        this.metadata = metadata;
        this.spec = spec;
        this.network = network;
    }

    public String path() {
        return path;
    }

    public ModelMetadata metadata() {
        return metadata;
    }

    public String modelName() {
        return metadata.model();
    }

    public ModelSpec spec() {
        return spec;
    }

    public ComputationGraph network() {
        return network;
    }

    /** A serialisable predictor (a copy of the parameters): broadcast it and call it on the executors. */
    public GraphPredictor predictor() {
        return new GraphPredictor(spec, network, metadata.prior());
    }

    /** Whether the model maps its modalities into a common space (and is evaluated by retrieval). */
    public boolean isCommonSpace() {
        return spec instanceof CommonSpaceSpec;
    }

    /**
     * A serialisable embedding predictor (a copy of the parameters) for a common-space model such as DSCMR.
     *
     * @throws InputException when the model does not embed its modalities into a common space
     */
    public EmbeddingPredictor embeddingPredictor() {
        if (!(spec instanceof CommonSpaceSpec cs)) {
            throw new InputException("model " + path + " (" + modelName() + ") does not map its modalities into a "
                    + "common space, so it cannot rank one modality against another; retrieval needs a model such "
                    + "as dscmr");
        }
        return cs.embeddingPredictor(network);
    }

    /**
     * Fails, naming what differs, unless {@code table} has what this model was trained on: the same classes in
     * the same order, and for every modality the model reads the same kind and shape and -- for tokens -- the
     * same vocabulary (ids only mean the same words under the same vocabulary).
     */
    public void checkCompatible(FeatureTable table) {
        FeatureTableMetadata tm = table.metadata();
        ModelMetadata.TableRef trained = metadata.featureTable();
        String prefix = "model " + path + " (" + modelName() + ", trained on " + trained.path() + ") does not fit "
                + "feature table " + table.path() + ": ";
        if (!Objects.equals(tm.classes(), spec.classes())) {
            throw new InputException(prefix + "the table has classes " + tm.classes() + ", the model "
                    + spec.classes());
        }
        boolean sameTable = Objects.equals(tm.tableHash(), trained.tableHash());
        for (FeatureTableMetadata.Modality want : trained.modalities()) {
            FeatureTableMetadata.Modality have = tm.modality(want.name());
            if (have == null) {
                throw new InputException(prefix + "the table has no modality '" + want.name() + "' (it has "
                        + tm.modalityNames() + ")");
            }
            if (have.kind() != want.kind()) {
                throw new InputException(prefix + "modality '" + want.name() + "' is " + lower(have.kind())
                        + " in the table, " + lower(want.kind()) + " for the model");
            }
            if (want.kind() != ModalityKind.TOKENS && want.kind() != ModalityKind.SEQUENCE
                    && !Objects.equals(have.shape(), want.shape())) {
                throw new InputException(prefix + "modality '" + want.name() + "' has shape " + have.shape()
                        + " in the table, " + want.shape() + " for the model");
            }
            if (!Objects.equals(have.pooledDim(), want.pooledDim())) {
                throw new InputException(prefix + "modality '" + want.name() + "' has pooled dimension "
                        + have.pooledDim() + " in the table, " + want.pooledDim() + " for the model");
            }
            if (want.kind() == ModalityKind.TOKENS) {
                if (!Objects.equals(have.vocabSize(), want.vocabSize())) {
                    throw new InputException(prefix + "the vocabulary of '" + want.name() + "' has " + have.vocabSize()
                            + " tokens in the table, " + want.vocabSize() + " for the model");
                }
                String fp = trained.vocabularies().get(want.name());
                if (!sameTable && fp != null && !fp.equals(TrainedModels.vocabularyFingerprint(table, want.name()))) {
                    throw new InputException(prefix + "the vocabulary of '" + want.name() + "' differs (same size, "
                            + "other tokens or order): token ids would mean other words");
                }
            }
        }
    }

    private static String lower(ModalityKind k) {
        return k.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return "TrainedModel(" + modelName() + " at " + path + ", outputs " + spec.outputs().size() + ", classes "
                + List.copyOf(spec.classes()) + ")";
    }
}
