package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.graph.MergeVertex;

import java.util.List;

/**
 * Fusion by concatenation, [r_1; r_2; ...], the early-fusion baseline and the fusion of the multitask
 * model's bimodal and trimodal classifiers (Page-Fortin &amp; Chaib-draa 2019). No parameters. With presence masks
 * a missing modality's block is exactly 0 ({@link MaskedConcatVertex}).
 */
public final class ConcatFusion implements FusionOperator {
    public static final String NAME = "concat";

    @Override
    public Fused fuse(GraphBuilder graph, String name, List<Branch> inputs) {
        if (inputs.size() < 2) {
            throw new IllegalArgumentException("fusion '" + name + "' needs at least two inputs, got " + inputs);
        }
        if (FusionOperator.withPresence(name, inputs)) {
            return new VertexFusion(NAME, MaskedConcatVertex::new).fuse(graph, name, inputs);
        }
        graph.addVertex(name, new MergeVertex(), inputs.stream().map(Branch::vertex).toArray(String[]::new));
        return new Fused(name, inputs.stream().mapToInt(Branch::size).sum());
    }

    /** Built-in merge vertex only. */
    @Override
    public boolean workspacesSafe() {
        return true;
    }

    /** With presence masks the concatenation is a SameDiff vertex ({@link MaskedConcatVertex}). */
    @Override
    public boolean workspacesSafe(boolean presence) {
        return !presence;
    }
}
