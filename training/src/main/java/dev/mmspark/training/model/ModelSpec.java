package dev.mmspark.training.model;

import dev.mmspark.features.FeatureTable;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.Serializable;
import java.util.List;

/**
 * The complete description of one model instance: the user's settings plus everything taken from the
 * feature table it was resolved against (dimensions, vocabulary sizes, classes). Implementations are
 * records; they are written to a saved model's {@code metadata.json} with Jackson and read back to rebuild
 * the network, so they must not depend on anything but their components.
 */
public interface ModelSpec extends Serializable {

    /** The {@link SampleModelDefinition#name()} of the model this spec belongs to. */
    String modelName();

    Task task();

    /** Class names in label-index order (classification); empty for regression. */
    List<String> classes();

    /** The feature-table modalities the model reads, in input order. */
    List<String> modalities();

    /** The network's outputs in the order of {@code ComputationGraphConfiguration#getNetworkOutputs()}. */
    List<ModelOutput> outputs();

    /** The network. Custom parts must be JSON-serialisable layers/vertices: the configuration travels as JSON. */
    ComputationGraphConfiguration graphConfiguration(Optimisation optimisation);

    /**
     * Called once on the driver after {@code network.init()} for a fresh network (not on resume): e.g.
     * copies pretrained word vectors into an embedding layer.
     */
    default void initialise(ComputationGraph network, FeatureTable table) {
    }

    /** Turns feature-table rows into minibatches; runs on the executors. */
    BatchBuilder batchBuilder();

    /**
     * Epochs of a preliminary training phase run before the {@code epochs} epochs of {@code train.epochs}, in the
     * same run and through the same parameter averaging (TATE trains its teacher on complete data first). The
     * trainer then runs both phases' epochs in one count; validation-based model selection and early stopping look
     * only at the main phase. 0 (the default): one phase.
     */
    default int preliminaryEpochs(int epochs) {
        return 0;
    }

    /** The builder of training minibatches of the preliminary phase or of the main one; by default the same. */
    default BatchBuilder trainingBatchBuilder(boolean preliminary) {
        return batchBuilder();
    }

    /**
     * Called on the driver once, before the first epoch of the main phase, when there is a preliminary phase (not
     * when a run resumes inside or after that epoch): e.g. freezes a copy of what the preliminary phase trained.
     */
    default void startMainPhase(ComputationGraph network) {
    }
}
