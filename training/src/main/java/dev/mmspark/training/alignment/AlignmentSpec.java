package dev.mmspark.training.alignment;

import org.nd4j.linalg.api.buffer.DataType;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A validated model specification: which modalities, the sizes, the objective's constants and the optimiser
 * defaults, with the papers' values as defaults. Each model package has one (a record parsed from the
 * {@code train.model} config section) and its own graph builder; the structure encoder ({@link GraphAttention})
 * and the trainer are shared.
 */
public interface AlignmentSpec extends Serializable {
    /** The registered model name ({@link AlignmentModels}). */
    String model();

    /** The modalities used, in {@link Modality} order. */
    List<Modality> modalities();

    /** The same specification with another modality set (the trainer narrows the default to the table's). */
    AlignmentSpec withModalities(List<Modality> modalities);

    /** The structure encoder (used when {@link #modalities()} has structure). */
    GraphAttention.Spec gat();

    /** Relations kept in the relation bag (MCLEA: the 1000 most frequent). */
    int relationTop();

    /** Attributes kept in the attribute bag (MCLEA: the 1000 most frequent). */
    int attributeTop();

    /** The paper's optimisation settings. */
    OptimizerSpec optimizer();

    /** Adds the parameters of everything but the structure encoder, initialised as the reference code does. */
    void initHead(ParamSet params, Map<Modality, Integer> inputDims, SplittableRandom rng);

    /**
     * Builds the SameDiff graph of the encoders, fusion and objective for a minibatch of pairs (inputs per
     * {@link HeadGraph}), with the variables taken from {@code params}.
     *
     * @param training with dropout inputs (a training graph) or without (inference)
     */
    HeadGraph buildHead(ParamSet params, Map<Modality, Integer> inputDims, boolean training, DataType dataType);

    default boolean hasStructure() {
        return modalities().contains(Modality.STRUCTURE);
    }

    /** The eval_subset label of the leaderboard, e.g. {@code structure+relation+name}. */
    default String modalityLabel() {
        return Modality.label(modalities());
    }
}
