package dev.mmspark.training.models.multitask;

import dev.mmspark.training.fusion.FusionOperator;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.MaskedGlobalPooling;
import dev.mmspark.training.layers.MaskedGlobalPooling.Statistic;
import dev.mmspark.training.layers.SampleMaskedMCXENT;
import dev.mmspark.training.layers.SmallImageCnn;
import dev.mmspark.training.model.Optimisation;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The network of the multimodal multitask emotion model of Page-Fortin &amp; Chaib-draa, "Multimodal
 * Multitask Emotion Recognition using Images, Texts and Tags" (ICMR WCRML 2019):
 *
 * <ul>
 *   <li>image r_i (300): the paper fine-tunes an ImageNet DenseNet-121 whose last layer is replaced by
 *       FC(300). No such backbone ships with this platform, so from pixels a small CNN is trained end to end
 *       (3x3 conv + ReLU + 2x2 max-pool blocks, global average pooling, FC(300)); from a pretrained
 *       backbone's pooled embedding (or any precomputed vector) the branch is the paper's FC(300) alone;</li>
 *   <li>text r_t (300): word embedding (word2vec-initialised, trainable), dropout (drawn independently for
 *       each convolution's input, a DL4J constraint; the paper's figure shares one mask), three parallel 1-D
 *       convolutions of 100 filters over 3, 4 and 5 words + ReLU, global max, average and min pooling of
 *       each over the real words only, concatenated (900), FC(300);</li>
 *   <li>text from a precomputed sentence vector instead (e.g. the MiniLM one, {@code modalities.text =
 *       text_minilm}): dropout (text.dropout) and FC(300);</li>
 *   <li>tags r_# (300): tag embedding (250, random init), convolution of 300 filters over 1 tag + ReLU,
 *       global max pooling over the real tags;</li>
 *   <li>seven classifiers, one per non-empty subset of {i, t, #}; a multimodal one fuses its inputs (by
 *       concatenation in the paper; any {@link Fusions fusion operator} by name here); each is
 *       FC(256)-ReLU-FC(128)-ReLU-softmax.</li>
 * </ul>
 *
 * <p>The loss is the sum of the seven cross-entropies, each over the samples that have the head's
 * modalities. With {@code m_{n,h}} the label mask of sample n for head h (1 iff the sample has every
 * modality of h, see {@link dev.mmspark.training.model.BatchBuilder}) and B the minibatch size:
 * <pre>
 *   L = (1/B) * sum_n sum_h m_{n,h} * CE(y_n, yhat_h(n)),   CE(y, p) = -log p[y]
 * </pre>
 * which is DL4J's score of a graph with one cross-entropy output layer per head and per-example label masks
 * ({@link SampleMaskedMCXENT}; pinned by
 * {@code MultitaskNetworkTest#lossIsTheMaskedSumOfHeadCrossEntropies}). A missing modality's input is zeros
 * with an all-zero mask, so its branch outputs finite values that only the masked-out heads see.
 *
 * <p>The activation of the 300-d FC layers is not stated in the paper; ReLU, as everywhere else in it.
 * Text convolutions use "same" zero padding so that texts shorter than the window still give features;
 * padded positions are zero vectors (the embedding layer masks them) and are excluded from the pooling, so
 * a text's features do not depend on how much its minibatch is padded.
 */
public final class MultitaskNetwork {

    public static final String TEXT_EMBEDDING = "text_embedding";
    public static final String TAGS_EMBEDDING = "tags_embedding";

    private MultitaskNetwork() {
    }

    /** The input vertex name of a role (the batch builder feeds inputs in {@link MultitaskSpec#roles()} order). */
    public static String input(Role r) {
        return r.key();
    }

    public static ComputationGraphConfiguration build(MultitaskSpec spec, Optimisation opt) {
        FusionOperator fusion = Fusions.operator(spec.params().fusion());
        NeuralNetConfiguration.Builder base = opt.baseConfiguration()
                .weightInit(WeightInit.RELU)
                .activation(Activation.RELU);
        if (!fusion.workspacesSafe()) {
            // SameDiff fusion vertices break under DL4J workspaces (see FusionOperator#workspacesSafe)
            base.trainingWorkspaceMode(WorkspaceMode.NONE).inferenceWorkspaceMode(WorkspaceMode.NONE);
        }
        GraphBuilder g = base.graphBuilder();
        List<Role> roles = spec.roles();
        List<InputType> types = new ArrayList<>();
        for (Role r : roles) {
            g.addInputs(input(r));
            types.add(switch (r) {
                case IMAGE -> spec.image().source() == MultitaskSpec.ImageSource.PIXELS
                        ? InputType.convolutional(spec.image().height(), spec.image().width(), spec.image().channels())
                        : InputType.feedForward(spec.image().dim());
                case TEXT -> spec.text().fromVector() ? InputType.feedForward(spec.text().embeddingDim())
                        : InputType.recurrent(1, RNNFormat.NCW);
                case TAGS -> InputType.recurrent(1, RNNFormat.NCW);
            });
        }
        g.setInputTypes(types.toArray(new InputType[0]));

        int rep = spec.params().representationDim();
        Map<Role, FusionOperator.Branch> reps = new EnumMap<>(Role.class);
        if (spec.image() != null) {
            reps.put(Role.IMAGE, imageBranch(g, spec, rep));
        }
        if (spec.text() != null) {
            reps.put(Role.TEXT, textBranch(g, spec, rep));
        }
        if (spec.tags() != null) {
            reps.put(Role.TAGS, tagBranch(g, spec));
        }

        List<String> outputs = new ArrayList<>();
        for (List<Role> head : spec.heads()) {
            String name = MultitaskSpec.headVertex(head);
            FusionOperator.Branch in;
            if (head.size() == 1) {
                in = reps.get(head.get(0));
            } else {
                FusionOperator.Fused f = fusion.fuse(g, "fuse_" + name.substring("head_".length()),
                        head.stream().map(reps::get).toList());
                in = new FusionOperator.Branch(f.vertex(), f.size());
            }
            String prev = in.vertex();
            List<Integer> hidden = spec.params().headHidden();
            for (int i = 0; i < hidden.size(); i++) {
                String v = name + "_fc" + (i + 1);
                g.addLayer(v, new DenseLayer.Builder().nOut(hidden.get(i)).activation(Activation.RELU).build(), prev);
                prev = v;
            }
            g.addLayer(name, new OutputLayer.Builder(new SampleMaskedMCXENT())
                    .nOut(spec.classes().size()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(),
                    prev);
            outputs.add(name);
        }
        g.setOutputs(outputs.toArray(new String[0]));
        ComputationGraphConfiguration conf = g.build();
        // DL4J M2.1's graph builder sets every layer's nIn from the inferred input types, overriding the
        // configured value; an embedding's nIn is its vocabulary size, not the width (1) of its id input.
        if (spec.text() != null && !spec.text().fromVector()) {
            embeddingLayer(conf, TEXT_EMBEDDING).setNIn(spec.text().vocabSize());
        }
        if (spec.tags() != null) {
            embeddingLayer(conf, TAGS_EMBEDDING).setNIn(spec.tags().vocabSize());
        }
        return conf;
    }

    private static EmbeddingSequenceLayer embeddingLayer(ComputationGraphConfiguration conf, String vertex) {
        return (EmbeddingSequenceLayer) ((LayerVertex) conf.getVertices().get(vertex)).getLayerConf().getLayer();
    }

    private static FusionOperator.Branch imageBranch(GraphBuilder g, MultitaskSpec spec, int rep) {
        MultitaskSpec.ImageInput image = spec.image();
        String prev = input(Role.IMAGE);
        if (image.source() == MultitaskSpec.ImageSource.PIXELS) {
            prev = SmallImageCnn.add(g, "image", prev, spec.params().image().cnnChannels());
        }
        g.addLayer("image_repr", new DenseLayer.Builder().nOut(rep).activation(Activation.RELU).build(), prev);
        return new FusionOperator.Branch("image_repr", rep);
    }

    private static FusionOperator.Branch textBranch(GraphBuilder g, MultitaskSpec spec, int rep) {
        MultitaskSpec.TokenInput text = spec.text();
        MultitaskParams.TextParams p = spec.params().text();
        if (text.fromVector()) {
            // a sentence vector (e.g. MiniLM's): dropout on it and FC(r), like the image branch on an embedding
            DenseLayer.Builder fc = new DenseLayer.Builder().nOut(rep).activation(Activation.RELU);
            if (p.dropout() > 0) {
                fc.dropOut(new Dropout(1.0 - p.dropout()));
            }
            g.addLayer("text_repr", fc.build(), input(Role.TEXT));
            return new FusionOperator.Branch("text_repr", rep);
        }
        g.addLayer(TEXT_EMBEDDING, embedding(text), input(Role.TEXT));
        List<String> pooled = new ArrayList<>();
        for (int w : p.windows()) {
            String conv = "text_conv" + w;
            Convolution1DLayer.Builder b = new Convolution1DLayer.Builder().kernelSize(w).nOut(p.filters())
                    .convolutionMode(ConvolutionMode.Same).rnnDataFormat(RNNFormat.NCW).activation(Activation.RELU);
            if (p.dropout() > 0) {
                // dropout of the embedded words, applied to each convolution's input (DL4J's argument is the
                // retain probability); DL4J's DropoutLayer cannot take the sequence mask
                b.dropOut(new Dropout(1.0 - p.dropout()));
            }
            g.addLayer(conv, b.build(), TEXT_EMBEDDING);
            String pool = "text_pool" + w;
            g.addLayer(pool, new MaskedGlobalPooling(p.pooling()), conv);
            pooled.add(pool);
        }
        String features = pooled.get(0);
        if (pooled.size() > 1) {
            g.addVertex("text_features", new MergeVertex(), pooled.toArray(new String[0]));
            features = "text_features";
        }
        g.addLayer("text_repr", new DenseLayer.Builder().nOut(rep).activation(Activation.RELU).build(), features);
        return new FusionOperator.Branch("text_repr", rep);
    }

    private static FusionOperator.Branch tagBranch(GraphBuilder g, MultitaskSpec spec) {
        MultitaskParams.TagsParams p = spec.params().tags();
        g.addLayer(TAGS_EMBEDDING, embedding(spec.tags()), input(Role.TAGS));
        g.addLayer("tags_conv", new Convolution1DLayer.Builder().kernelSize(p.window()).nOut(p.filters())
                .convolutionMode(ConvolutionMode.Same).rnnDataFormat(RNNFormat.NCW).activation(Activation.RELU).build(),
                TAGS_EMBEDDING);
        g.addLayer("tags_repr", new MaskedGlobalPooling(List.of(Statistic.MAX)), "tags_conv");
        return new FusionOperator.Branch("tags_repr", p.filters());
    }

    private static EmbeddingSequenceLayer embedding(MultitaskSpec.TokenInput t) {
        // Xavier for a randomly initialised embedding; a pretrained one is overwritten after init
        return new EmbeddingSequenceLayer.Builder().nIn(t.vocabSize()).nOut(t.embeddingDim()).hasBias(false)
                .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).outputDataFormat(RNNFormat.NCW)
                .inferInputLength(true).build();
    }
}
