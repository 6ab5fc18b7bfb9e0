package dev.mmspark.training.models.tate;

import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.Task;
import dev.mmspark.training.models.tfrnet.TfrNetSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * One TATE model resolved against a feature table: the user's {@link TateParams} plus, per modality, how its
 * sequence is read and how long it is. Every modality is a fixed-length sequence, read as TFR-Net reads it
 * ({@link TfrNetSpec.Input}): text and tags are token sequences, an image is its backbone's region grid or a
 * sequence of pixel patches, precomputed feature sequences are read as they are, a single vector is a sequence of
 * one. One network output, {@value #OUTPUT}; a classifier only (as the official code).
 *
 * <p>Training has two phases in one run ({@link #preliminaryEpochs}): the teacher phase trains the network on the
 * data as it is (no modality dropped, no KL term); {@link #startMainPhase} then copies the trained encoder into
 * the network's frozen teacher copy, and the student phase trains with missing patterns and the KL term to that
 * copy's output on the complete sample.
 */
public record TateSpec(TateParams params, List<String> classes, List<TfrNetSpec.Input> inputs) implements ModelSpec {
    private static final Logger LOG = LoggerFactory.getLogger(TateSpec.class);
    public static final String OUTPUT = "tate";

    public TateSpec {
        classes = List.copyOf(classes);
        inputs = List.copyOf(inputs);
    }

    @Override
    public String modelName() {
        return TateModel.NAME;
    }

    @Override
    public Task task() {
        return Task.CLASSIFICATION;
    }

    @Override
    public List<String> modalities() {
        return inputs.stream().map(TfrNetSpec.Input::modality).toList();
    }

    @Override
    public List<ModelOutput> outputs() {
        return List.of(new ModelOutput(OUTPUT, OUTPUT, List.of()));
    }

    @Override
    public ComputationGraphConfiguration graphConfiguration(Optimisation optimisation) {
        return TateNetwork.build(this, optimisation);
    }

    /** Copies the table's word vectors into each pretrained token embedding (the teacher's copy follows later). */
    @Override
    public void initialise(ComputationGraph network, FeatureTable table) {
        TfrNetSpec.initialiseEmbeddings(network, table, inputs, TateNetwork::embedding);
    }

    /** Inference minibatches (and training ones of the student phase). */
    @Override
    public BatchBuilder batchBuilder() {
        return new TateBatchBuilder(this, false);
    }

    /** The teacher phase: {@link TateParams#teacherEpochs(int)}. */
    @Override
    public int preliminaryEpochs(int epochs) {
        return params.teacherEpochs(epochs);
    }

    @Override
    public BatchBuilder trainingBatchBuilder(boolean preliminary) {
        return new TateBatchBuilder(this, preliminary);
    }

    /** Freezes the teacher: copies the trained encoder (and token embeddings) into the teacher's parameters. */
    @Override
    public void startMainPhase(ComputationGraph network) {
        Map<String, INDArray> core = network.getVertex(TateNetwork.CORE).paramTable(false);
        int copied = 0;
        for (Map.Entry<String, INDArray> e : core.entrySet()) {
            String student = TateCore.studentOf(e.getKey());
            if (student != null) {
                e.getValue().assign(core.get(student));
                copied++;
            }
        }
        for (TfrNetSpec.Input in : inputs) {
            if (in.source() == TfrNetSpec.Source.TOKENS) {
                network.getLayer(TateNetwork.teacherEmbedding(in)).getParam("W")
                        .assign(network.getLayer(TateNetwork.embedding(in)).getParam("W"));
                copied++;
            }
        }
        LOG.info("TATE: froze the teacher encoder ({} parameter arrays copied from the network trained on complete "
                + "data)", copied);
    }
}
