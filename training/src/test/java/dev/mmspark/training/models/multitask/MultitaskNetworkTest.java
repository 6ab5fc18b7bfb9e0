package dev.mmspark.training.models.multitask;

import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.layers.GradientChecks;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.Optimisation;
import org.apache.spark.sql.Row;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

import static dev.mmspark.training.models.multitask.MultitaskFixtures.image;
import static dev.mmspark.training.models.multitask.MultitaskFixtures.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultitaskNetworkTest {

    private static ComputationGraph network(MultitaskSpec spec, DataType dt) {
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(MultitaskFixtures.optimisation(dt)));
        net.init();
        return net;
    }

    private static INDArray[] toDouble(INDArray[] a) {
        return a == null ? null : Arrays.stream(a).map(x -> x == null ? null : x.castTo(DataType.DOUBLE))
                .toArray(INDArray[]::new);
    }

    @Test
    void hasThePapersSevenHeadsInOrder() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        assertEquals(List.of("i", "t", "#", "it", "i#", "t#", "it#"),
                spec.outputs().stream().map(ModelOutput::label).toList());
        assertEquals(List.of("image", "text", "tags"), spec.outputs().get(6).requires());
        assertEquals(List.of("head_image", "head_text", "head_tags", "head_image_text", "head_image_tags",
                "head_text_tags", "head_image_text_tags"), network(spec, DataType.FLOAT).getConfiguration()
                .getNetworkOutputs());
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        for (MultitaskSpec spec : List.of(MultitaskFixtures.tinySpec(),
                MultitaskFixtures.spec(MultitaskFixtures.metadata(true, true, true), ""))) {
            ComputationGraphConfiguration conf = spec.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
            assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        }
    }

    /** Every fusion operator is a drop-in for the bimodal and trimodal heads, and survives both round trips. */
    @Test
    void everyFusionOperatorBuildsTheHeads() {
        for (String fusion : dev.mmspark.training.fusion.FusionOperatorsTest.TINY) {
            MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(true, true, true),
                    MultitaskFixtures.TINY + "\nfusion = " + fusion);
            assertEquals(spec, Json.read(Json.write(spec), MultitaskSpec.class), fusion);
            ComputationGraphConfiguration conf = spec.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
            assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()), fusion);
            ComputationGraph net = new ComputationGraph(conf);
            net.init();
            assertEquals(7, net.getConfiguration().getNetworkOutputs().size(), fusion);
            // one fusion per multimodal head (it, i#, t#, it#)
            assertEquals(4, Arrays.stream(net.getVertices()).filter(v -> v.getVertexName().startsWith("fuse_")).count(),
                    fusion);
            // and trains on a batch with sequence masks, label masks and missing modalities
            MultiDataSet b = spec.batchBuilder().build(List.of(
                    row("complete", 2, image(1), new int[]{3, 4, 5, 6}, new int[]{1, 2}),
                    row("text-only", 0, null, new int[]{7, 8}, null),
                    row("no-text", 1, image(2), null, new int[]{3})), null, true);
            net.fit(b);
            assertTrue(Double.isFinite(net.score()), fusion);
        }
    }

    @Test
    void specSurvivesJsonRoundTrip() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        assertEquals(spec, Json.read(Json.write(spec), MultitaskSpec.class));
    }

    @Test
    void paperDefaultsGiveThePapersSizes() {
        MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(true, true, true), "");
        ComputationGraph net = network(spec, DataType.FLOAT);
        // text: 3 windows x 100 filters x (max, avg, min) = 900 -> 300; tags: 300 filters; heads 256-128
        assertEquals(900 * 300 + 300, net.getLayer("text_repr").numParams());
        assertEquals(250L * 300 + 300, net.getLayer("tags_conv").numParams());
        assertEquals(900L * 256 + 256, net.getLayer("head_image_text_tags_fc1").numParams());
        assertEquals(256L * 128 + 128, net.getLayer("head_image_text_tags_fc2").numParams());
        assertEquals(128L * 3 + 3, net.getLayer("head_image_text_tags").numParams());
    }

    @Test
    void tableWithoutTagsBuildsOnlyTheHeadsItCan() {
        MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(true, true, false), MultitaskFixtures.TINY);
        assertEquals(List.of("i", "t", "it"), spec.outputs().stream().map(ModelOutput::label).toList());
        assertEquals(List.of("image", "text"), spec.modalities());
        ComputationGraph net = network(spec, DataType.FLOAT);
        MultiDataSet batch = spec.batchBuilder().build(List.of(
                new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(new Object[]{"a", "train", 1, true,
                        image(1), true, new int[]{2, 3}, false, null}, MultitaskFixtures.SCHEMA)), null, true);
        assertEquals(3, net.output(false, batch.getFeatures(), batch.getFeaturesMaskArrays()).length);
    }

    /**
     * Gradient check of the whole network and its masked multitask loss in double precision: complete
     * samples, samples missing one or two modalities (zero inputs, all-zero masks, label-masked heads) and
     * texts of different lengths (padding masks).
     */
    @Test
    void gradientsOfMaskedMultitaskLossAreCorrect() {
        Nd4j.getRandom().setSeed(7);
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        // GradientCheckUtil needs an updater that applies the raw gradient
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(
                new Optimisation(Optimisation.Optimizer.SGD, 1.0, 0, 7, DataType.DOUBLE)));
        net.init();
        List<Row> rows = List.of(
                row("complete", 2, image(1), new int[]{3, 4, 5, 6}, new int[]{1, 2}),
                row("text-only", 0, null, new int[]{7, 8}, null),
                row("no-text", 1, image(2), null, new int[]{3}),
                row("image-only", 2, image(3), null, null),
                row("short-text", 1, image(4), new int[]{9}, new int[]{4, 5, 6}));
        MultiDataSet b = spec.batchBuilder().build(rows, null, true);
        boolean ok = GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(toDouble(b.getFeatures())).labels(toDouble(b.getLabels()))
                .inputMask(toDouble(b.getFeaturesMaskArrays())).labelMask(toDouble(b.getLabelsMaskArrays())));
        assertTrue(ok, "gradient check of the multitask network with masks and missing modalities");
    }

    /**
     * Hand-computable loss: with the output layers' weights zeroed and biases ln(1), ln(2), ln(3), every head
     * outputs p = (1/6, 2/6, 3/6) whatever its input, so
     * L = (1/B) sum_n sum_h m_{n,h} (-ln p[y_n]):
     * a complete sample of class 2 feeds 7 heads (7 ln 2), a text-only sample of class 0 one head (ln 6), an
     * image+tags sample of class 1 three heads i, #, i# (3 ln 3); B = 3.
     */
    @Test
    void lossIsTheMaskedSumOfHeadCrossEntropies() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        ComputationGraph net = network(spec, DataType.DOUBLE);
        for (ModelOutput o : spec.outputs()) {
            net.getLayer(o.vertex()).setParam("W", net.getLayer(o.vertex()).getParam("W").mul(0));
            net.getLayer(o.vertex()).setParam("b", Nd4j.create(new double[][]{{0, Math.log(2), Math.log(3)}}));
        }
        List<Row> rows = List.of(
                row("complete", 2, image(1), new int[]{3, 4, 5}, new int[]{1}),
                row("text-only", 0, null, new int[]{7, 8}, null),
                row("image-tags", 1, image(2), null, new int[]{3, 2}));
        MultiDataSet b = spec.batchBuilder().build(rows, null, true);
        double expected = (7 * Math.log(2) + Math.log(6) + 3 * Math.log(3)) / 3;
        double score = net.score(new org.nd4j.linalg.dataset.MultiDataSet(toDouble(b.getFeatures()),
                toDouble(b.getLabels()), toDouble(b.getFeaturesMaskArrays()), toDouble(b.getLabelsMaskArrays())));
        assertEquals(expected, score, 1e-9);
        // the label masks themselves: which heads each sample feeds
        assertArrayEquals(new double[]{1, 0, 1}, b.getLabelsMaskArray(0).toDoubleVector()); // i
        assertArrayEquals(new double[]{1, 1, 0}, b.getLabelsMaskArray(1).toDoubleVector()); // t
        assertArrayEquals(new double[]{1, 0, 1}, b.getLabelsMaskArray(4).toDoubleVector()); // i#
        assertArrayEquals(new double[]{1, 0, 0}, b.getLabelsMaskArray(6).toDoubleVector()); // it#
    }

    /**
     * The image role on a pretrained backbone's pooled embedding (or a precomputed vector): the branch is the
     * paper's FC(300) on that vector.
     */
    @Test
    void imageFromABackboneEmbeddingOrAVector() {
        for (ModalityKind kind : List.of(ModalityKind.IMAGE_EMBEDDING, ModalityKind.VECTOR)) {
            FeatureTableMetadata base = MultitaskFixtures.metadata(false, true, false);
            List<FeatureTableMetadata.Modality> ms = new java.util.ArrayList<>(base.modalities());
            ms.add(0, new FeatureTableMetadata.Modality("image", kind, List.of(5), java.util.Map.of("train", 3L), "x", 1,
                    java.util.Map.of(), null, null, null, null, kind == ModalityKind.IMAGE_EMBEDDING ? 5 : null));
            FeatureTableMetadata table = new FeatureTableMetadata(base.format(), base.formatVersion(), base.task(),
                    base.classes(), ms, base.rows(), base.tableHash(), null, java.util.Map.of(), null, List.of(),
                    java.util.Map.of(), base.createdAt(), 0);
            MultitaskSpec spec = MultitaskFixtures.spec(table, MultitaskFixtures.TINY);
            assertEquals(List.of("i", "t", "it"), spec.outputs().stream().map(ModelOutput::label).toList());
            String column = kind == ModalityKind.IMAGE_EMBEDDING ? "image_pooled" : "image_values";
            org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                    .add("id", "string").add("label_index", "int").add("image_present", "boolean")
                    .add(column, "array<float>").add("text_present", "boolean").add("text_ids", "array<int>");
            Row r = new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(new Object[]{"a", 1, true,
                    new float[]{0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, false, null}, schema);
            ComputationGraph net = network(spec, DataType.FLOAT);
            MultiDataSet b = spec.batchBuilder().build(List.of(r), null, true);
            assertArrayEquals(new long[]{1, 5}, b.getFeatures(0).shape());
            assertEquals(0.3f, b.getFeatures(0).getFloat(0, 2), 0f);
            assertEquals(3, net.output(false, b.getFeatures(), b.getFeaturesMaskArrays()).length);
            assertTrue(spec.batchBuilder().columns().contains(column));
        }
    }

    /** Training mode (dropout on, the paper's 0.5) on a batch mixing complete and incomplete samples. */
    @Test
    void trainsWithDropoutOnMixedSamples() {
        MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(true, true, true),
                MultitaskFixtures.TINY + "text.dropout = 0.5");
        ComputationGraph net = network(spec, DataType.FLOAT);
        MultiDataSet b = spec.batchBuilder().build(List.of(
                row("complete", 2, image(1), new int[]{3, 4, 5, 6}, new int[]{1, 2}),
                row("text-only", 0, null, new int[]{7, 8}, null),
                row("image-tags", 1, image(2), null, new int[]{3})), null, true);
        INDArray before = net.params().dup();
        double first = net.score(b);
        for (int i = 0; i < 30; i++) {
            net.fit(b);
        }
        assertTrue(Double.isFinite(net.score()), "score " + net.score());
        assertTrue(net.score(b) < first, "30 Adam steps on one batch lower its loss: " + first + " -> " + net.score(b));
        assertTrue(net.params().sub(before).norm2Number().doubleValue() > 0);
    }

    /**
     * A one-example minibatch (DL4J's Spark workers re-cut minibatches and can leave one example): its
     * [1, 1] label masks must weigh that example's heads, not be refused as per-class masks.
     */
    @Test
    void oneExampleMinibatchIsMaskedPerHead() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        ComputationGraph net = network(spec, DataType.DOUBLE);
        MultiDataSet one = spec.batchBuilder().build(List.of(row("text-only", 1, null, new int[]{2, 3}, null)), null,
                true);
        MultiDataSet d = new org.nd4j.linalg.dataset.MultiDataSet(toDouble(one.getFeatures()),
                toDouble(one.getLabels()), toDouble(one.getFeaturesMaskArrays()), toDouble(one.getLabelsMaskArrays()));
        // only head t counts: the score is its cross-entropy
        INDArray p = net.output(false, d.getFeatures(), d.getFeaturesMaskArrays())[1];
        assertEquals(-Math.log(p.getDouble(0, 1)), net.score(d), 1e-9);
        net.fit(d);
        assertTrue(Double.isFinite(net.score()));
    }

    /** A text's class distribution must not depend on how much its minibatch pads it. */
    @Test
    void textFeaturesDoNotDependOnPadding() {
        MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(false, true, false),
                MultitaskFixtures.TINY);
        ComputationGraph net = network(spec, DataType.FLOAT);
        Row shortText = row("short", 0, null, new int[]{3, 4}, null);
        Row longText = row("long", 1, null, new int[]{5, 6, 7, 8, 9, 10, 11, 12, 13}, null);
        MultiDataSet alone = spec.batchBuilder().build(List.of(shortText), null, false);
        MultiDataSet padded = spec.batchBuilder().build(List.of(shortText, longText), null, false);
        assertEquals(9, padded.getFeatures(0).size(2));
        INDArray a = net.output(false, alone.getFeatures(), alone.getFeaturesMaskArrays())[0];
        INDArray b = net.output(false, padded.getFeatures(), padded.getFeaturesMaskArrays())[0];
        assertArrayEquals(a.getRow(0).toFloatVector(), b.getRow(0).toFloatVector(), 1e-6f);
    }
}
