package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;

import java.util.List;

/**
 * Fuses the representations of two or more modalities into one vector inside a ComputationGraph. A model
 * asks for its fusion by name ({@link Fusions}); the operator adds whatever layers and vertices it needs.
 * Operators with parameters or custom math (weighted sum, attention, GMU, TFN, LMF, bilinear pooling
 * families) add SameDiff layers/vertices, which travel to executors as JSON like built-in layers and whose
 * output goes through {@link dev.mmspark.training.layers.ExternalErrorsFix}.
 */
public interface FusionOperator {

    /**
     * A representation to fuse: the vertex that outputs it, its size and, optionally, the vertex that outputs its
     * presence mask ([batch, 1]: 1 where the sample has the modality, 0 where it is missing).
     *
     * <p>With presence masks (all branches or none), an operator fuses x_m p_m, so a missing modality is exactly
     * the zero vector whatever its encoder made of the empty input, and operators that can leave a missing
     * modality out do so (attention renormalises over the present ones, the weighted sum drops its term; README
     * "Fusion operators" has the column). Without them the branch is taken as given.
     */
    record Branch(String vertex, int size, String presence) {
        public Branch(String vertex, int size) {
            this(vertex, size, null);
        }
    }

    /** The fused representation: the vertex that outputs it and its size. */
    record Fused(String vertex, int size) {
    }

    /**
     * Adds the vertices that fuse {@code inputs} (two or more, in the model's canonical modality order).
     *
     * @param name a prefix unique within the graph for the vertices this call adds
     */
    Fused fuse(GraphBuilder graph, String name, List<Branch> inputs);

    /**
     * Whether a network holding this operator may run with DL4J's workspaces. SameDiff vertices may not: in
     * DL4J/ND4J 1.0.0-M2.1 their backward pass reads arrays that the workspace has already reused, which
     * crashed the JVM (SIGSEGV in native scalar ops) or failed with nonsense shapes for block, mcb, mfb, mfh
     * and mutan at their default sizes; with workspaces off every operator trains (bench/ cases). The same
     * failure hit MISA's SameDiff core.
     */
    default boolean workspacesSafe() {
        return false;
    }

    /** {@link #workspacesSafe()} for a fusion whose branches come with presence masks (or not). */
    default boolean workspacesSafe(boolean presence) {
        return workspacesSafe();
    }

    /**
     * Whether {@code inputs} carry presence masks: all of them or none (anything else is a programming error of
     * the model that builds the graph).
     */
    static boolean withPresence(String name, List<Branch> inputs) {
        long given = inputs.stream().filter(b -> b.presence() != null).count();
        if (given != 0 && given != inputs.size()) {
            throw new IllegalArgumentException("fusion " + name + ": presence masks must be given for all inputs or "
                    + "none, got " + inputs);
        }
        return given > 0;
    }
}
