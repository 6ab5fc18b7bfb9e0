package dev.mmspark.training.models.dscmr;

import dev.mmspark.training.fusion.FusionOperator;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.MaskedGlobalPooling;
import dev.mmspark.training.layers.SampleMaskedMCXENT;
import dev.mmspark.training.layers.SmallImageCnn;
import dev.mmspark.training.model.Optimisation;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.StackVertex;
import org.deeplearning4j.nn.conf.graph.UnstackVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * The DSCMR network of Zhen et al., "Deep Supervised Cross-Modal Retrieval" (CVPR 2019), as the reference code
 * builds it ({@code penghu-cs/DSCMR}, {@code model.IDCM_NN}):
 *
 * <pre>
 *   image ──[encoder]── FC+ReLU (image.hidden) ──┐                  ┌── common_image (u) ──┐
 *                                                ├─ stack ─ common ─┤                      ├─ pair ─ dscmr (losses)
 *   text  ──[encoder]── FC+ReLU (text.hidden)  ──┘  [2B, H]  linear └── common_text  (v) ──┤   [B, 2d+1]
 *   pair_flag [B, 1] ───────────────────────────────────────────────────────────────────────┘
 * </pre>
 *
 * <p><b>Weight sharing.</b> The paper's last layers of the two subnetworks share their weights. A DL4J
 * ComputationGraph has no shared layers, so both branch outputs are stacked along the minibatch dimension
 * ({@link StackVertex}: {@code [B, H]} and {@code [B, H]} give {@code [2B, H]}), pass through one linear layer
 * {@code common} (the reference's {@code linearLayer}, one parameter set), and are split back
 * ({@link UnstackVertex} 0 and 1). The backward pass then sums both modalities' gradients into that one
 * layer -- exactly what a shared layer gets -- with native DL4J ops only, no SameDiff vertex. The other shared
 * layer, the linear classifier ({@code linearLayer2}), sits in the loss layer ({@link DscmrLoss}), which
 * applies its one parameter set to both modalities.
 *
 * <p>Subnetwork encoders by input kind: none for precomputed vectors (the reference feeds VGG-19 and
 * sentence-CNN features straight into its FC layers); {@link SmallImageCnn} for pixels; for tokens an
 * embedding (the table's word vectors, trainable) averaged over the real tokens. Weights are initialised
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for the reference's layers.
 *
 * <p><b>Pair head</b> (only with {@code pair_fusion}; not in the paper): a second output,
 * <pre>
 *   common_image (u) ──┐
 *                      ├─ pair_fusion (any {@link Fusions} operator) ── pair_classifier (softmax over the classes)
 *   common_text  (v) ──┘
 * </pre>
 * trained by cross-entropy with a per-sample label mask equal to the pair flag ({@link SampleMaskedMCXENT}: only
 * pairs contribute). {@code pair_weight} w scales it through the loss's per-class weights, all equal to w (so
 * w = 1 adds no weights at all). DL4J averages an output layer's score over the whole minibatch B, masked rows
 * counting 0, so the head adds w (1/B) sum over pairs of CE to DSCMR's L (whose terms average over the n
 * pairs): with a share n/B of pairs below 1 the head's weight relative to L is w n/B. The gradient reaches the
 * shared common layer and both subnetworks, i.e. it also shapes the retrieval space. Fusion operators that are
 * not workspace-safe ({@link FusionOperator#workspacesSafe()}) turn DL4J's workspaces off for the whole network.
 */
public final class DscmrNetwork {
    public static final String PAIR_FLAG = "pair_flag";
    public static final String STACK = "stack";
    public static final String COMMON = "common";
    public static final String PAIR = "pair";
    /** The pair head's fusion vertex (prefix of the vertices the operator adds). */
    public static final String PAIR_FUSION = "pair_fusion";

    private DscmrNetwork() {
    }

    /** The input vertex of a subnetwork (inputs are fed image, text, pair flag). */
    public static String input(DscmrParams.Role r) {
        return r.key();
    }

    /** The vertex whose activations are a modality's common-space representations {@code [B, d]}. */
    public static String commonVertex(DscmrParams.Role r) {
        return COMMON + "_" + r.key();
    }

    static String embedding(DscmrParams.Role r) {
        return r.key() + "_embedding";
    }

    public static ComputationGraphConfiguration build(DscmrSpec spec, Optimisation opt) {
        return build(spec, opt, 1.0);
    }

    /** With another weight of the label-space loss than DSCMR's 1: tests isolate each loss term with it. */
    static ComputationGraphConfiguration build(DscmrSpec spec, Optimisation opt, double labelWeight) {
        DscmrParams.PairHead pairHead = spec.params().pair();
        FusionOperator pairFusion = pairHead == null ? null : Fusions.operator(pairHead.fusion());
        NeuralNetConfiguration.Builder base = opt.baseConfiguration()
                .weightInit(WeightInit.UNIFORM)
                .activation(Activation.RELU);
        if (pairFusion != null && !pairFusion.workspacesSafe()) {
            // SameDiff fusion vertices break under DL4J workspaces (see FusionOperator#workspacesSafe)
            base.trainingWorkspaceMode(WorkspaceMode.NONE).inferenceWorkspaceMode(WorkspaceMode.NONE);
        }
        GraphBuilder g = base.graphBuilder();
        DscmrParams.Role[] roles = DscmrParams.Role.values();
        for (DscmrParams.Role r : roles) {
            g.addInputs(input(r));
        }
        g.addInputs(PAIR_FLAG);
        g.setInputTypes(inputType(spec.image()), inputType(spec.text()), InputType.feedForward(1));

        String[] branches = new String[roles.length];
        for (int i = 0; i < roles.length; i++) {
            branches[i] = branch(g, roles[i], spec.input(roles[i]), spec.params().branch(roles[i]));
        }
        int d = spec.params().commonDim();
        g.addVertex(STACK, new StackVertex(), branches);
        g.addLayer(COMMON, new DenseLayer.Builder().nOut(d).activation(Activation.IDENTITY).build(), STACK);
        for (int i = 0; i < roles.length; i++) {
            g.addVertex(commonVertex(roles[i]), new UnstackVertex(i, roles.length), COMMON);
        }
        g.addVertex(PAIR, new MergeVertex(), commonVertex(DscmrParams.Role.IMAGE), commonVertex(DscmrParams.Role.TEXT),
                PAIR_FLAG);
        g.addLayer(DscmrSpec.OUTPUT, new DscmrLoss(d, spec.classes().size(), labelWeight, spec.params().alpha(),
                spec.params().beta()), PAIR);
        if (pairFusion == null) {
            g.setOutputs(DscmrSpec.OUTPUT);
        } else {
            FusionOperator.Fused fused = pairFusion.fuse(g, PAIR_FUSION, List.of(
                    new FusionOperator.Branch(commonVertex(DscmrParams.Role.IMAGE), d),
                    new FusionOperator.Branch(commonVertex(DscmrParams.Role.TEXT), d)));
            SampleMaskedMCXENT loss = pairHead.weight() == 1.0 ? new SampleMaskedMCXENT()
                    : new SampleMaskedMCXENT(Nd4j.valueArrayOf(new long[]{1, spec.classes().size()},
                    pairHead.weight(), DataType.DOUBLE));
            g.addLayer(DscmrSpec.PAIR_OUTPUT, new OutputLayer.Builder(loss).nOut(spec.classes().size())
                    .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), fused.vertex());
            g.setOutputs(DscmrSpec.OUTPUT, DscmrSpec.PAIR_OUTPUT);
        }
        ComputationGraphConfiguration conf = g.build();
        // DL4J M2.1's graph builder sets every layer's nIn from the inferred input types, overriding the
        // configured value; an embedding's nIn is its vocabulary size, not the width (1) of its id input.
        for (DscmrParams.Role r : roles) {
            if (spec.input(r).source() == DscmrSpec.Source.TOKENS) {
                ((EmbeddingSequenceLayer) ((LayerVertex) conf.getVertices().get(embedding(r))).getLayerConf()
                        .getLayer()).setNIn(spec.input(r).vocabSize());
            }
        }
        return conf;
    }

    private static InputType inputType(DscmrSpec.BranchInput in) {
        return switch (in.source()) {
            case VECTOR, EMBEDDING -> InputType.feedForward(in.dim());
            case PIXELS -> InputType.convolutional(in.height(), in.width(), in.channels());
            case TOKENS -> InputType.recurrent(1, RNNFormat.NCW);
        };
    }

    /** The encoder and FC layers of one subnetwork; returns the last FC vertex. */
    private static String branch(GraphBuilder g, DscmrParams.Role r, DscmrSpec.BranchInput in,
                                 DscmrParams.BranchParams p) {
        String prev = input(r);
        switch (in.source()) {
            case PIXELS -> prev = SmallImageCnn.add(g, r.key(), prev, p.cnnChannels());
            case TOKENS -> {
                g.addLayer(embedding(r), new EmbeddingSequenceLayer.Builder().nIn(in.vocabSize())
                        .nOut(in.embeddingDim()).hasBias(false).activation(Activation.IDENTITY)
                        .outputDataFormat(RNNFormat.NCW).inferInputLength(true).build(), prev);
                String mean = r.key() + "_mean";
                g.addLayer(mean, new MaskedGlobalPooling(List.of(MaskedGlobalPooling.Statistic.AVG)), embedding(r));
                prev = mean;
            }
            case VECTOR, EMBEDDING -> {
            }
        }
        List<Integer> hidden = p.hidden();
        for (int i = 0; i < hidden.size(); i++) {
            String fc = r.key() + "_fc" + (i + 1);
            g.addLayer(fc, new DenseLayer.Builder().nOut(hidden.get(i)).activation(Activation.RELU).build(), prev);
            prev = fc;
        }
        return prev;
    }
}
