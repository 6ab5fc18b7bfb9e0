package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A fusion operator that adds one {@link FusionVertex}, built for the sizes of its inputs. */
final class VertexFusion implements FusionOperator {
    private final String operator;
    private final Function<int[], FusionVertex> vertex;

    VertexFusion(String operator, Function<int[], FusionVertex> vertex) {
        this.operator = operator;
        this.vertex = vertex;
    }

    /** The vertex this operator adds for inputs of the given sizes (for tests and the benchmark). */
    FusionVertex vertex(int[] sizes) {
        return vertex.apply(sizes);
    }

    @Override
    public Fused fuse(GraphBuilder graph, String name, List<Branch> inputs) {
        if (inputs.size() < 2) {
            throw new IllegalArgumentException("fusion '" + operator + "' (" + name + ") needs at least two inputs, got "
                    + inputs);
        }
        boolean presence = FusionOperator.withPresence(name, inputs);
        FusionVertex v = vertex.apply(inputs.stream().mapToInt(Branch::size).toArray()).withPresenceInputs(presence);
        List<String> in = new ArrayList<>(inputs.stream().map(Branch::vertex).toList());
        if (presence) {
            inputs.forEach(b -> in.add(b.presence()));
        }
        graph.addVertex(name, v, in.toArray(String[]::new));
        return new Fused(name, v.outputSize());
    }

    @Override
    public String toString() {
        return operator;
    }
}
