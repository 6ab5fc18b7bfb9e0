package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.graph.MergeVertex;

import java.util.List;

/**
 * Fusion by concatenation, [r_1; r_2; ...], the early-fusion baseline and the fusion of the multitask
 * model's bimodal and trimodal classifiers (Page-Fortin &amp; Chaib-draa 2019). No parameters.
 */
public final class ConcatFusion implements FusionOperator {
    public static final String NAME = "concat";

    @Override
    public Fused fuse(GraphBuilder graph, String name, List<Branch> inputs) {
        if (inputs.size() < 2) {
            throw new IllegalArgumentException("fusion '" + name + "' needs at least two inputs, got " + inputs);
        }
        graph.addVertex(name, new MergeVertex(), inputs.stream().map(Branch::vertex).toArray(String[]::new));
        return new Fused(name, inputs.stream().mapToInt(Branch::size).sum());
    }

    /** Built-in merge vertex only. */
    @Override
    public boolean workspacesSafe() {
        return true;
    }
}
