package dev.mmspark.training.model;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Optional;

/**
 * The spec of a model that maps two or more modalities into one common space (cross-modal retrieval models
 * such as DSCMR). Such a model is evaluated by ranking the items of one modality against queries of another
 * in that space rather than by its per-sample predictions.
 */
public interface CommonSpaceSpec extends ModelSpec {

    /** An embedding predictor holding a copy of {@code network}'s parameters. */
    EmbeddingPredictor embeddingPredictor(ComputationGraph network);

    /**
     * The network output, one of {@link #outputs()}, that classifies a pair from the fusion of both modalities'
     * representations (DSCMR's optional pair head), if the model has one: evaluation then scores it on the
     * paired rows beside the retrieval metrics.
     */
    default Optional<ModelOutput> pairClassifier() {
        return Optional.empty();
    }
}
