package dev.mmspark.bench;

/** One model, built and holding its minibatch, ready to be timed by {@link CaseRunner}. */
interface Target extends AutoCloseable {

    /** One training step on the case's minibatch: forward, backward, optimiser update. */
    void trainStep();

    /** One forward pass at inference (no dropout, no gradients) over the same minibatch. */
    void inferStep();

    /** The score (loss) of the last training step, NaN where the target does not keep one. */
    default double score() {
        return Double.NaN;
    }

    /** Trainable parameters, to check that the PyTorch port has the same architecture. */
    long parameters();

    @Override
    default void close() {
    }
}
