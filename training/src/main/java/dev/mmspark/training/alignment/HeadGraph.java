package dev.mmspark.training.alignment;

import org.nd4j.autodiff.samediff.SameDiff;

import java.util.List;

/**
 * A built model head: the SameDiff graph from a minibatch's modality inputs to the joint embeddings and the
 * loss. Inputs, for each modality m and side s ({@code l}: graph-1 entities, {@code r}: their counterparts):
 * <ul>
 *   <li>{@link #input} [B, inputDim(m)]: the structure embeddings (a variable set each step, whose gradient the
 *       trainer back-propagates into the graph encoder; not one of {@link #params}), or the rows of
 *       {@link EntityFeatures} (placeholders);</li>
 *   <li>{@link #mask} [B]: 1 when the entity has the modality, 0 when not;</li>
 *   <li>the {@link #dropouts} of a training graph: multiplicative masks (keep/(1−p) or 0), drawn by the trainer
 *       from its seeded generator so that every step is reproducible.</li>
 * </ul>
 * The inference graph needs only the left side's inputs to compute {@link #joint}.
 *
 * @param sd         the graph
 * @param params     names of its trainable variables (the same names as in the {@link ParamSet})
 * @param loss       the scalar loss (training graphs)
 * @param joint      the joint embedding of the left inputs [B, jointDim]
 * @param jointDim   its size
 * @param dropouts   dropout inputs of a training graph (empty for inference)
 */
public record HeadGraph(SameDiff sd, List<String> params, String loss, String joint, int jointDim,
                        List<Dropout> dropouts) {

    /** The two sides of a pair. */
    public enum Side {
        L, R;

        public String id() {
            return this == L ? "l" : "r";
        }
    }

    /**
     * A dropout input: a mask of shape [B, shape...] with values 0 or 1/(1−rate).
     */
    public record Dropout(String name, double rate, long[] shape) {
    }

    public static String input(Modality m, Side s) {
        return "in_" + m.id() + "_" + s.id();
    }

    public static String mask(Modality m, Side s) {
        return "mask_" + m.id() + "_" + s.id();
    }
}
