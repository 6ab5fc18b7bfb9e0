package dev.mmspark.training.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.Serializable;

/**
 * The optimisation settings every model's network is built with (DL4J keeps the updater in the network
 * configuration, so they are part of it).
 *
 * @param weightDecay decoupled weight decay on weights, not biases (Loshchilov &amp; Hutter 2019), scaled by
 *                    the learning rate; 0 disables it
 * @param dataType    FLOAT for training; DOUBLE for gradient checks
 */
public record Optimisation(Optimizer optimizer, double learningRate, double weightDecay, long seed,
                           DataType dataType) implements Serializable {

    /** The optimisers a config may name ({@code train.optimizer}). */
    public enum Optimizer { ADAM, SGD, NESTEROVS, RMSPROP, ADAMAX, NADAM, AMSGRAD, ADAGRAD }

    public IUpdater updater() {
        return switch (optimizer) {
            case ADAM -> new Adam(learningRate);
            case SGD -> new Sgd(learningRate);
            case NESTEROVS -> new Nesterovs(learningRate, Nesterovs.DEFAULT_NESTEROV_MOMENTUM);
            case RMSPROP -> new RmsProp(learningRate);
            case ADAMAX -> new AdaMax(learningRate);
            case NADAM -> new Nadam(learningRate);
            case AMSGRAD -> new AMSGrad(learningRate);
            case ADAGRAD -> new AdaGrad(learningRate);
        };
    }

    /** A configuration builder with seed, data type, updater and weight decay set. */
    public NeuralNetConfiguration.Builder baseConfiguration() {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .updater(updater());
        if (weightDecay > 0) {
            b.weightDecay(weightDecay, true);
        }
        return b;
    }
}
