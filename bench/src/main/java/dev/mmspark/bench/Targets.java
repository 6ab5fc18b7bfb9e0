package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.fusion.FusionOperator;
import dev.mmspark.training.fusion.FusionSpec;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/** Builds the {@link Target} a case describes, by its {@code kind}. */
final class Targets {

    private Targets() {
    }

    /** The optimiser of every case: Adam, learning rate 1e-3, no weight decay (timing does not depend on it). */
    static Optimisation optimisation(long seed) {
        return new Optimisation(Optimisation.Optimizer.ADAM, 1e-3, 0, seed, DataType.FLOAT);
    }

    static Target build(File dir, JsonNode c) throws Exception {
        String kind = c.get("kind").asText();
        INDArray[] features = CaseFiles.readArrays(dir, c.get("features"));
        INDArray[] featureMasks = CaseFiles.readArrays(dir, c.get("featureMasks"));
        INDArray[] labels = CaseFiles.readArrays(dir, c.get("labels"));
        INDArray[] labelMasks = CaseFiles.readArrays(dir, c.get("labelMasks"));
        long seed = c.path("seed").asLong(1);
        switch (kind) {
            case "sample" -> {
                // The spec is the model's own self-description (what metadata.json stores), so the network is
                // built exactly as the train job builds it.
                Class<? extends ModelSpec> type = ModelRegistry.require(c.get("model").asText(), "case.json")
                        .specType();
                ModelSpec spec = Json.MAPPER.treeToValue(c.get("spec"), type);
                ComputationGraph net = new ComputationGraph(spec.graphConfiguration(optimisation(seed)));
                net.init();
                return new GraphTarget(net, features, featureMasks, labels, labelMasks);
            }
            case "fusion" -> {
                return new GraphTarget(fusionNetwork(c.get("spec"), seed), features, null, labels, null);
            }
            case "alignment" -> {
                return AlignmentTarget.build(dir, c);
            }
            default -> throw new IllegalArgumentException(dir + "/case.json: unknown case kind '" + kind
                    + "' (expected sample, fusion or alignment)");
        }
    }

    /**
     * A fusion operator alone: its inputs -> operator -> softmax classifier, as in the README's operator
     * table ({@code spec}: {@code name}, {@code inputSizes}, {@code classes}; operator settings at their defaults).
     */
    static ComputationGraph fusionNetwork(JsonNode spec, long seed) {
        String name = spec.get("name").asText();
        FusionOperator op = Fusions.operator(Fusions.parse(Conf.parse("fusion = " + name), "fusion", name));
        org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder base = optimisation(seed).baseConfiguration();
        if (!op.workspacesSafe()) {
            // as the models build it (FusionOperator#workspacesSafe)
            base.trainingWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE)
                    .inferenceWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE);
        }
        GraphBuilder g = base.graphBuilder();
        List<FusionOperator.Branch> in = new ArrayList<>();
        JsonNode sizes = spec.get("inputSizes");
        InputType[] types = new InputType[sizes.size()];
        for (int m = 0; m < sizes.size(); m++) {
            g.addInputs("x" + m);
            in.add(new FusionOperator.Branch("x" + m, sizes.get(m).asInt()));
            types[m] = InputType.feedForward(sizes.get(m).asInt());
        }
        g.setInputTypes(types);
        FusionOperator.Fused f = op.fuse(g, "fuse", in);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(spec.get("classes").asInt())
                .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** The output size of a fusion operator on {@code sizes} (for the case file). */
    static FusionSpec fusionSpec(String name) {
        return Fusions.parse(Conf.parse("fusion = " + name), "fusion", name);
    }
}
