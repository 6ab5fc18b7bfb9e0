package dev.mmspark.training;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.io.Serializable;
import java.util.Map;

/**
 * One training epoch, as logged and recorded in checkpoints and the saved model.
 *
 * @param loss               mean training loss over the epoch's minibatches, weighted by minibatch size,
 *                           each computed by the worker that fitted it just before its update
 * @param seconds            wall time of the epoch's training (without validation and checkpointing)
 * @param validationAccuracy accuracy of the model's predictions (each sample answered by the output for
 *                           its modalities) on the validation split, or null when not computed
 * @param outputAccuracy     per output label, accuracy on the validation samples having its modalities
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EpochStats(int epoch, double loss, long examples, double seconds, double examplesPerSecond,
                         Double validationAccuracy, Map<String, Double> outputAccuracy) implements Serializable {
}
