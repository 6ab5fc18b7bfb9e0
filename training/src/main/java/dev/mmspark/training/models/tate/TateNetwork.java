package dev.mmspark.training.models.tate;

import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.models.tfrnet.TfrNetSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;

/**
 * The TATE network (Zeng et al., SIGIR 2022; {@code JaydenZeng/TATE}):
 * <ul>
 *   <li>per modality the model's input, the complete sample and their masks ({@link TateBatchBuilder}); token ids
 *       of the input go through an embedding layer (word vectors where the table has them: the role of the
 *       official precomputed BERT / audio / visual features); the complete sample's ids by the teacher's frozen
 *       copy of that layer (learning rate 0);</li>
 *   <li>{@link TateCore}: per-modality encoders, common space, tagged tokens, encoder, decoder, sigmoid-attention
 *       pooling, and the frozen teacher encoder;</li>
 *   <li>the classifier as the official one: Linear(dim, no bias) then Linear(classes) with L2 {@code l2} (official
 *       {@code temp_new = dense(outputs_en, att_dim, use_bias=False)}; {@code W_l, b_l});</li>
 *   <li>{@link TateLoss}: cross-entropy + KL to the teacher + reconstruction KL + tag MAE.</li>
 * </ul>
 */
public final class TateNetwork {
    static final String CORE = "tate_core";

    private TateNetwork() {
    }

    public static String input(TfrNetSpec.Input in) {
        return "in_" + in.modality();
    }

    public static String complete(TfrNetSpec.Input in) {
        return "full_" + in.modality();
    }

    public static String mask(TfrNetSpec.Input in) {
        return "mask_" + in.modality();
    }

    public static final String TAGS = "tag";

    public static String embedding(TfrNetSpec.Input in) {
        return in.modality() + "_embedding";
    }

    /** The teacher's frozen copy of {@link #embedding}, which embeds the complete sample. */
    public static String teacherEmbedding(TfrNetSpec.Input in) {
        return "teacher_" + in.modality() + "_embedding";
    }

    public static ComputationGraphConfiguration build(TateSpec spec, Optimisation opt) {
        TateParams p = spec.params();
        // No workspaces: the backward pass of SameDiff vertices reads recycled workspace memory in DL4J M2.1 (see
        // MisaNetwork and FusionOperator#workspacesSafe).
        GraphBuilder g = opt.baseConfiguration().trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .weightInit(WeightInit.XAVIER).graphBuilder();
        List<TfrNetSpec.Input> inputs = spec.inputs();
        int mods = inputs.size();
        InputType[] types = new InputType[3 * mods + 1];
        String[] coreIn = new String[3 * mods + 1];
        int[] dims = new int[mods];
        int[] steps = new int[mods];
        for (int k = 0; k < mods; k++) {
            TfrNetSpec.Input in = inputs.get(k);
            g.addInputs(input(in), complete(in), mask(in));
            types[3 * k] = InputType.recurrent(in.inputChannels(), in.steps(), RNNFormat.NCW);
            types[3 * k + 1] = InputType.recurrent(in.inputChannels(), in.steps(), RNNFormat.NCW);
            String full = complete(in);
            types[3 * k + 2] = InputType.recurrent(2, in.steps(), RNNFormat.NCW);
            String seq = input(in);
            if (in.source() == TfrNetSpec.Source.TOKENS) {
                g.addLayer(embedding(in), tokenEmbedding(in), seq);
                seq = embedding(in);
                // the teacher's copy, set by TateSpec#startMainPhase and frozen by a zero learning rate: the update
                // is 0 x gradient and the decoupled weight decay lr x decay x W is 0 too. (DL4J's
                // FrozenLayerWithBackprop still took the weight decay; a gather inside a SameDiff vertex has a slow
                // and, with two of them in one graph, failing gradient in ND4J 1.0.0-M2.1.)
                EmbeddingSequenceLayer frozen = tokenEmbedding(in);
                frozen.setIUpdater(new Sgd(0.0));
                g.addLayer(teacherEmbedding(in), frozen, full);
                full = teacherEmbedding(in);
            }
            coreIn[3 * k] = seq;
            coreIn[3 * k + 1] = full;
            coreIn[3 * k + 2] = mask(in);
            dims[k] = in.dim();
            steps[k] = in.steps();
        }
        g.addInputs(TAGS);
        types[3 * mods] = InputType.feedForward(TateBatchBuilder.tagWidth(mods));
        coreIn[3 * mods] = TAGS;
        g.setInputTypes(types);
        int width = TateCore.width(p.dim(), mods);
        long all = TateCore.outputSize(steps, p.dim());
        int classes = spec.classes().size();
        g.addVertex(CORE, new TateCore(dims, steps, p.dim(), p.heads()), coreIn)
                .addVertex("tate_pooled", new SubsetVertex(0, width - 1), CORE)
                .addVertex("tate_aux", new SubsetVertex(width, (int) all - 1), CORE)
                .addLayer("head_fc", new DenseLayer.Builder().nOut(p.dim()).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "tate_pooled")
                .addLayer("head_out", new DenseLayer.Builder().nOut(classes).activation(Activation.IDENTITY)
                        .l2(p.l2()).l2Bias(p.l2()).build(), "head_fc")
                .addVertex("tate_loss_in", new MergeVertex(), "head_out", "tate_aux")
                .addLayer(TateSpec.OUTPUT, new TateLoss(classes, steps, p.dim(), 1.0, p.loss().kl(), p.loss().recon(),
                        p.loss().tag()), "tate_loss_in")
                .setOutputs(TateSpec.OUTPUT);
        ComputationGraphConfiguration conf = g.build();
        // DL4J M2.1's graph builder overrides an embedding's nIn (its vocabulary) with the id input's width (1)
        for (TfrNetSpec.Input in : inputs) {
            if (in.source() == TfrNetSpec.Source.TOKENS) {
                for (String layer : List.of(embedding(in), teacherEmbedding(in))) {
                    ((EmbeddingSequenceLayer) ((LayerVertex) conf.getVertices().get(layer)).getLayerConf().getLayer())
                            .setNIn(in.vocabSize());
                }
            }
        }
        return conf;
    }

    private static EmbeddingSequenceLayer tokenEmbedding(TfrNetSpec.Input in) {
        return new EmbeddingSequenceLayer.Builder().nIn(in.vocabSize()).nOut(in.dim()).hasBias(false)
                .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).outputDataFormat(RNNFormat.NCW)
                .inferInputLength(true).build();
    }
}
