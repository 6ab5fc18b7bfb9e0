package dev.mmspark.training.alignment;

import java.io.Serializable;

/**
 * A model's optimisation defaults, as its paper's official run scripts set them; the {@code train} section may
 * override each ({@link AlignmentTrainConfig}).
 *
 * @param batchSize      aligned pairs per minibatch (MCLEA 512, MEAformer 3500)
 * @param learningRate   AdamW learning rate (both 5e-4)
 * @param weightDecay    AdamW decoupled weight decay (MCLEA: torch's default 0.01; MEAformer 1e-4)
 * @param schedule       learning-rate schedule (MCLEA constant; MEAformer cosine with warmup)
 * @param warmupFraction share of the steps with a linear warmup (MEAformer 0.15)
 * @param gradClip       global gradient-norm clipping, 0 for none (MEAformer 1.0)
 */
public record OptimizerSpec(int batchSize, double learningRate, double weightDecay, Schedule schedule,
                            double warmupFraction, double gradClip) implements Serializable {

    /** Learning-rate schedules over the whole run's steps. */
    public enum Schedule {
        /** The learning rate throughout. */
        CONSTANT,
        /** Linear warmup, then a half cosine to 0 (transformers' get_cosine_schedule_with_warmup). */
        COSINE
    }

    public OptimizerSpec {
        if (batchSize < 2 || !(learningRate > 0) || weightDecay < 0 || warmupFraction < 0 || warmupFraction >= 1
                || gradClip < 0) {
            throw new IllegalArgumentException("invalid optimiser settings " + batchSize + ", " + learningRate + ", "
                    + weightDecay + ", " + warmupFraction + ", " + gradClip);
        }
    }

    /** The learning rate at 0-based {@code step} of {@code totalSteps}. */
    public double learningRate(long step, long totalSteps) {
        if (schedule == Schedule.CONSTANT) {
            return learningRate;
        }
        long warmup = (long) (totalSteps * warmupFraction);
        if (step < warmup) {
            return learningRate * (double) step / Math.max(1, warmup);
        }
        double progress = (double) (step - warmup) / Math.max(1, totalSteps - warmup);
        return learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }
}
