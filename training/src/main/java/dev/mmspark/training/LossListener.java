package dev.mmspark.training;

import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

import java.io.Serializable;

/**
 * Collects the training loss of every minibatch the workers fit, through Spark accumulators: the training
 * master ships its listeners to the workers inside the task closure, and an accumulator updated in a task
 * reaches the driver when the task ends. Minibatches count by their number of examples.
 */
final class LossListener extends BaseTrainingListener implements Serializable {
    private final DoubleAccumulator weightedLoss;
    private final LongAccumulator examples;

    LossListener(DoubleAccumulator weightedLoss, LongAccumulator examples) {
        this.weightedLoss = weightedLoss;
        this.examples = examples;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        long n = model.batchSize();
        weightedLoss.add(model.score() * n);
        examples.add(n);
    }

    /** Adds what earlier rounds of this epoch fitted before a resume (on the driver). */
    void carry(double weightedLossSum, long exampleCount) {
        weightedLoss.add(weightedLossSum);
        examples.add(exampleCount);
    }

    double weightedLossSum() {
        return weightedLoss.value();
    }

    double meanLoss() {
        return examples.value() == 0 ? Double.NaN : weightedLoss.value() / examples.value();
    }

    long examples() {
        return examples.value();
    }
}
