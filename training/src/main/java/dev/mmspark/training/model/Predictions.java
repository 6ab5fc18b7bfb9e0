package dev.mmspark.training.model;

import java.io.Serializable;
import java.util.List;

/**
 * What a {@link Predictor} returns for a list of rows.
 *
 * @param classes       class names, the columns of {@code probabilities} (classification; empty otherwise)
 * @param probabilities per row the class distribution (classification), else null
 * @param values        per row the predicted value (regression), else null
 * @param outputs       per row the {@link ModelOutput#label()} of the output that answered, or
 *                      {@link #PRIOR} when no output could use the row's modalities and the training prior
 *                      (class frequencies, or the mean target) was returned
 */
public record Predictions(List<String> classes, float[][] probabilities, float[] values, String[] outputs)
        implements Serializable {

    public static final String PRIOR = "prior";

    public int size() {
        return outputs.length;
    }

    /** The most probable class of row {@code i} (the first on ties). */
    public int predictedClass(int i) {
        return argmax(probabilities[i]);
    }

    /** The index of the largest value (the first on ties): the predicted class of a class distribution. */
    public static int argmax(float[] p) {
        int best = 0;
        for (int k = 1; k < p.length; k++) {
            if (p[k] > p[best]) {
                best = k;
            }
        }
        return best;
    }
}
