package dev.mmspark.training.model;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The spec of a model that maps two or more modalities into one common space (cross-modal retrieval models
 * such as DSCMR). Such a model is evaluated by ranking the items of one modality against queries of another
 * in that space rather than by its per-sample predictions.
 */
public interface CommonSpaceSpec extends ModelSpec {

    /** An embedding predictor holding a copy of {@code network}'s parameters. */
    EmbeddingPredictor embeddingPredictor(ComputationGraph network);
}
