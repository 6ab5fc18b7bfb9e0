package dev.mmspark.training.model;

import java.io.Serializable;
import java.util.List;

/**
 * One output of a model's network (a DL4J output layer).
 *
 * @param vertex   the output vertex name in the ComputationGraph
 * @param label    a short name for reports, e.g. the paper's {@code it#} for the image+text+tags head
 * @param requires the feature-table modalities the output needs: a sample contributes to this output's
 *                 loss only when it has all of them, and the predictor answers from this output only for
 *                 samples whose usable modalities include all of them (empty: always usable)
 */
public record ModelOutput(String vertex, String label, List<String> requires) implements Serializable {
    public ModelOutput {
        requires = List.copyOf(requires);
    }
}
