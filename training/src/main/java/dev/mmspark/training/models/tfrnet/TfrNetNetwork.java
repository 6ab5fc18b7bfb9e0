package dev.mmspark.training.models.tfrnet;

import dev.mmspark.training.fusion.FusionOperator;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.Task;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;

import java.util.ArrayList;
import java.util.List;

/**
 * The TFR-Net network (Yuan et al., ACM MM 2021; {@code thuiar/TFR-Net}):
 * <ul>
 *   <li>per modality, the complete and damaged sequences side by side ({@link TfrNetBatchBuilder}); token ids go
 *       through one embedding layer (word vectors where the table has them), so the complete text's embedding is
 *       the reconstruction target and the damaged text's is what the model reads -- the roles of the official
 *       BERT encoder, which this project does not have;</li>
 *   <li>{@link TfrNetCore}: intra- and cross-modal Transformers, generators, per-modality gated (C-GATE)
 *       utterance vectors;</li>
 *   <li>the classifier (official {@code GATE_F.classifier}): dropout {@code fusion_dropout} on the gated vectors
 *       (the C-GATE's utterance dropout), BatchNorm, Linear({@code cls_hidden}) + LeakyReLU, dropout
 *       {@code cls_dropout}, Linear(classes or 1). The gated vectors are concatenated, as in the paper; with another
 *       {@link Fusions fusion operator} ({@code model.fusion}) that operator fuses the M gated vectors instead;</li>
 *   <li>{@link TfrNetLoss}: task loss plus the weighted reconstruction losses on the dropped positions.</li>
 * </ul>
 */
public final class TfrNetNetwork {

    private TfrNetNetwork() {
    }

    public static String input(TfrNetSpec.Input in) {
        return "in_" + in.modality();
    }

    public static String mask(TfrNetSpec.Input in) {
        return "mask_" + in.modality();
    }

    public static String embedding(TfrNetSpec.Input in) {
        return in.modality() + "_embedding";
    }

    public static ComputationGraphConfiguration build(TfrNetSpec spec, Optimisation opt) {
        TfrNetParams p = spec.params();
        // No workspaces: the backward pass of SameDiff vertices reads recycled workspace memory in DL4J M2.1 (see
        // MisaNetwork and FusionOperator#workspacesSafe); DL4J's gradient checks run without workspaces too.
        GraphBuilder g = opt.baseConfiguration().trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .weightInit(WeightInit.XAVIER).graphBuilder();
        List<TfrNetSpec.Input> inputs = spec.inputs();
        int mods = inputs.size();
        InputType[] types = new InputType[2 * mods];
        String[] coreIn = new String[2 * mods];
        int[] dims = new int[mods];
        int[] steps = new int[mods];
        for (int k = 0; k < mods; k++) {
            TfrNetSpec.Input in = inputs.get(k);
            g.addInputs(input(in), mask(in));
            types[2 * k] = InputType.recurrent(in.inputChannels(), 2L * in.steps(), RNNFormat.NCW);
            types[2 * k + 1] = InputType.recurrent(2, in.steps(), RNNFormat.NCW);
            String seq = input(in);
            if (in.source() == TfrNetSpec.Source.TOKENS) {
                g.addLayer(embedding(in), new EmbeddingSequenceLayer.Builder().nIn(in.vocabSize()).nOut(in.dim())
                        .hasBias(false).activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER)
                        .outputDataFormat(RNNFormat.NCW).inferInputLength(true).build(), seq);
                seq = embedding(in);
            }
            coreIn[2 * k] = seq;
            coreIn[2 * k + 1] = mask(in);
            dims[k] = in.dim();
            steps[k] = in.steps();
        }
        g.setInputTypes(types);
        int h = p.fusionHidden();
        int reps = mods * h;
        long all = TfrNetCore.outputSize(dims, steps, h);
        boolean regression = spec.task() == Task.REGRESSION;
        int outputs = regression ? 1 : spec.classes().size();
        g.addVertex("tfrnet_core", new TfrNetCore(dims, steps, p.dim(), p.heads(), p.layers(), h), coreIn)
                .addVertex("tfrnet_gated", new SubsetVertex(0, reps - 1), "tfrnet_core")
                .addVertex("tfrnet_aux", new SubsetVertex(reps, (int) all - 1), "tfrnet_core");
        String headIn = "tfrnet_gated";
        if (!p.officialFusion()) {
            headIn = fuseModalities(g, Fusions.operator(p.fusion()), spec.modalities(), h, "tfrnet_gated");
        }
        BatchNormalization.Builder bn = new BatchNormalization.Builder();
        if (p.fusionDropout() > 0) {
            bn.dropOut(new Dropout(1.0 - p.fusionDropout()));           // DL4J's argument is the retain probability
        }
        g.addLayer("head_norm", bn.build(), headIn)
                .addLayer("head_fc", new DenseLayer.Builder().nOut(p.clsHidden())
                        .activation(new ActivationLReLU(0.01)).build(), "head_norm");  // PyTorch's LeakyReLU slope
        DenseLayer.Builder out = new DenseLayer.Builder().nOut(outputs).activation(Activation.IDENTITY);
        if (p.clsDropout() > 0) {
            out.dropOut(new Dropout(1.0 - p.clsDropout()));
        }
        double[] weights = new double[mods];
        for (int k = 0; k < mods; k++) {
            weights[k] = p.reconWeight(k);
        }
        g.addLayer("head_out", out.build(), "head_fc")
                .addVertex("tfrnet_loss_in", new MergeVertex(), "head_out", "tfrnet_aux")
                .addLayer(TfrNetSpec.OUTPUT, new TfrNetLoss(dims, steps, outputs, regression, 1.0, weights,
                        p.loss().cmd()), "tfrnet_loss_in")
                .setOutputs(TfrNetSpec.OUTPUT);
        ComputationGraphConfiguration conf = g.build();
        // DL4J M2.1's graph builder overrides an embedding's nIn (its vocabulary) with the id input's width (1)
        for (TfrNetSpec.Input in : inputs) {
            if (in.source() == TfrNetSpec.Source.TOKENS) {
                ((EmbeddingSequenceLayer) ((LayerVertex) conf.getVertices().get(embedding(in))).getLayerConf()
                        .getLayer()).setNIn(in.vocabSize());
            }
        }
        return conf;
    }

    /** The fusion operator over the M gated utterance vectors (h values each, modality by modality). */
    static String fuseModalities(GraphBuilder g, FusionOperator op, List<String> modalities, int h, String gated) {
        List<FusionOperator.Branch> branches = new ArrayList<>();
        for (int m = 0; m < modalities.size(); m++) {
            String v = "tfrnet_gated_" + modalities.get(m);
            g.addVertex(v, new SubsetVertex(m * h, (m + 1) * h - 1), gated);
            branches.add(new FusionOperator.Branch(v, h));
        }
        return op.fuse(g, "tfrnet_fusion", branches).vertex();
    }
}
