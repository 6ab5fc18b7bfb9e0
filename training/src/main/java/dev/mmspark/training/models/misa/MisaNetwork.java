package dev.mmspark.training.models.misa;

import dev.mmspark.training.fusion.FusionOperator;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.MaskedGlobalPooling;
import dev.mmspark.training.layers.MaskedGlobalPooling.Statistic;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.Task;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The MISA network (Hazarika, Zimmermann &amp; Poria, ACM MM 2020; {@code declare-lab/MISA}):
 * <ul>
 *   <li>per modality, an utterance encoder over its sequence: token embedding (word vectors where the table
 *       has them) or the raw vectors, a position-wise projection (1-wide convolution, {@code encoder_dim},
 *       ReLU), max and mean pooling over the real positions, then the paper's projection to {@code hidden}
 *       (Linear + ReLU; the LayerNorm that ends it is in {@link MisaCore}). The official code encodes text with
 *       BERT and audio/video with LSTMs; a pooled position-wise encoder is used here because it costs a
 *       fraction of an LSTM on CPUs and the representations MISA studies are the ones built on top of it;</li>
 *   <li>{@link MisaCore}: shared and private encoders, decoders, and the Transformer over the 2M vectors;</li>
 *   <li>the head on the fused vector: Linear(2Mh, 3h) + ReLU, dropout, Linear(3h, classes or 1) (official
 *       {@code fusion}: Linear, Dropout, ReLU, Linear -- dropout and ReLU commute). The fused vector is the
 *       concatenation of the 2M Transformer outputs, as in the paper; with another {@link Fusions fusion
 *       operator} ({@code model.fusion}) it is that operator over the M per-modality vectors [private_m;
 *       shared_m] (2h each), so that a sweep can compare the final fusion like the multitask model's;</li>
 *   <li>{@link MisaLoss}: task loss plus the weighted similarity (CMD), difference and reconstruction losses.</li>
 * </ul>
 */
public final class MisaNetwork {

    private MisaNetwork() {
    }

    public static String input(MisaSpec.Input in) {
        return "in_" + in.modality();
    }

    /** The presence input of a modality ([B, 1], 1 = the sample has it): only with a non-concat fusion. */
    public static String presence(MisaSpec.Input in) {
        return "present_" + in.modality();
    }

    public static String embedding(MisaSpec.Input in) {
        return in.modality() + "_embedding";
    }

    public static ComputationGraphConfiguration build(MisaSpec spec, Optimisation opt) {
        MisaParams p = spec.params();
        // No workspaces: with DL4J's default workspaces, the backward pass of the MisaCore SameDiff vertex failed in
        // parameter-averaging training with "Axis array [-1249772008] contains values above array rank (rank=2)"
        // (a garbage reduction axis; probably memory of a recycled workspace). DL4J's gradient checks run without
        // workspaces and pass; with workspaces off the same training runs.
        GraphBuilder g = opt.baseConfiguration().trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .weightInit(WeightInit.RELU).activation(Activation.RELU).graphBuilder();
        List<MisaSpec.Input> inputs = spec.inputs();
        InputType[] types = new InputType[inputs.size()];
        String[] projected = new String[inputs.size()];
        for (int k = 0; k < inputs.size(); k++) {
            MisaSpec.Input in = inputs.get(k);
            g.addInputs(input(in));
            boolean tokens = in.source() == MisaSpec.Source.TOKENS;
            types[k] = InputType.recurrent(tokens ? 1 : in.dim(), RNNFormat.NCW);
            String prev = input(in);
            if (tokens) {
                g.addLayer(embedding(in), new EmbeddingSequenceLayer.Builder().nIn(in.vocabSize()).nOut(in.dim())
                        .hasBias(false).activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER)
                        .outputDataFormat(RNNFormat.NCW).inferInputLength(true).build(), prev);
                prev = embedding(in);
            }
            String m = in.modality();
            g.addLayer(m + "_encoder", new Convolution1DLayer.Builder().kernelSize(1).nOut(p.encoderDim())
                    .convolutionMode(ConvolutionMode.Same).rnnDataFormat(RNNFormat.NCW).activation(Activation.RELU)
                    .build(), prev);
            g.addLayer(m + "_pool", new MaskedGlobalPooling(List.of(Statistic.MAX, Statistic.AVG)), m + "_encoder");
            g.addLayer(m + "_project", new DenseLayer.Builder().nOut(p.hidden()).activation(Activation.RELU).build(),
                    m + "_pool");
            projected[k] = m + "_project";
        }
        if (!p.officialFusion()) {
            // presence masks for the fusion operator: a missing modality's vector is not zero after the encoders
            // (relu(b), LayerNorm, the Transformer mixes tokens), so without them it would still be fused
            types = Arrays.copyOf(types, 2 * inputs.size());
            for (int k = 0; k < inputs.size(); k++) {
                g.addInputs(presence(inputs.get(k)));
                types[inputs.size() + k] = InputType.feedForward(1);
            }
        }
        g.setInputTypes(types);
        int mods = inputs.size();
        int h = p.hidden();
        long fused = MisaCore.fusedSize(mods, h);
        long all = MisaCore.outputSize(mods, h);
        boolean regression = spec.task() == Task.REGRESSION;
        int outputs = regression ? 1 : spec.classes().size();
        g.addVertex("misa_core", new MisaCore(mods, h, p.heads(), p.feedForward()), projected)
                .addVertex("misa_fused", new SubsetVertex(0, (int) fused - 1), "misa_core")
                .addVertex("misa_aux", new SubsetVertex((int) fused, (int) all - 1), "misa_core");
        String headIn = "misa_fused";
        if (!p.officialFusion()) {
            headIn = fuseModalities(g, Fusions.operator(p.fusion()),
                    inputs.stream().map(MisaSpec.Input::modality).toList(),
                    inputs.stream().map(MisaNetwork::presence).toList(), h, "misa_fused");
        }
        g.addLayer("head_fc", new DenseLayer.Builder().nOut(3 * h).activation(Activation.RELU).build(), headIn);
        DenseLayer.Builder out = new DenseLayer.Builder().nOut(outputs).activation(Activation.IDENTITY)
                .weightInit(WeightInit.XAVIER);
        if (p.dropout() > 0) {
            out.dropOut(new Dropout(1.0 - p.dropout()));                 // DL4J's argument is the retain probability
        }
        g.addLayer("head_out", out.build(), "head_fc")
                .addVertex("misa_loss_in", new MergeVertex(), "head_out", "misa_aux")
                .addLayer(MisaSpec.OUTPUT, new MisaLoss(mods, h, outputs, regression, p.cmdMoments(), 1.0,
                        p.loss().sim(), p.loss().diff(), p.loss().recon()), "misa_loss_in")
                .setOutputs(MisaSpec.OUTPUT);
        ComputationGraphConfiguration conf = g.build();
        // DL4J M2.1's graph builder overrides an embedding's nIn (its vocabulary) with the id input's width (1)
        for (MisaSpec.Input in : inputs) {
            if (in.source() == MisaSpec.Source.TOKENS) {
                ((EmbeddingSequenceLayer) ((LayerVertex) conf.getVertices().get(embedding(in))).getLayerConf()
                        .getLayer()).setNIn(in.vocabSize());
            }
        }
        return conf;
    }

    /**
     * The fusion operator over one vector per modality: the Transformer output F is, token by token, the M
     * private vectors then the M shared ones (see {@link MisaCore}); modality m's vector is [F_m; F_{M+m}], with
     * the modality's presence input ({@code presence}, null for none) as its presence mask (a missing modality is
     * then left out as the operator defines: README "Fusion operators"). The network already runs without workspaces, which the fusion vertices need.
     */
    static String fuseModalities(GraphBuilder g, FusionOperator op, List<String> modalities, List<String> presence,
                                 int h, String fused) {
        int mods = modalities.size();
        List<FusionOperator.Branch> branches = new ArrayList<>();
        for (int m = 0; m < mods; m++) {
            String name = modalities.get(m);
            g.addVertex("misa_private_" + name, new SubsetVertex(m * h, (m + 1) * h - 1), fused)
                    .addVertex("misa_shared_" + name, new SubsetVertex((mods + m) * h, (mods + m + 1) * h - 1),
                            fused)
                    .addVertex("misa_modality_" + name, new MergeVertex(), "misa_private_" + name,
                            "misa_shared_" + name);
            branches.add(new FusionOperator.Branch("misa_modality_" + name, 2 * h,
                    presence == null ? null : presence.get(m)));
        }
        return op.fuse(g, "misa_fusion", branches).vertex();
    }
}
