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

    /** A representation to fuse: the vertex that outputs it and its size. */
    record Branch(String vertex, int size) {
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
}
