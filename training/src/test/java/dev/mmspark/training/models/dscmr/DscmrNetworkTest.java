package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.ModelOutput;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DscmrNetworkTest {

    private static ComputationGraph network(DscmrSpec spec, DataType dt) {
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(DscmrFixtures.optimisation(dt)));
        net.init();
        return net;
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        for (DscmrSpec spec : List.of(DscmrFixtures.tinySpec(),
                DscmrFixtures.spec(DscmrFixtures.pixelsAndTokens(), DscmrFixtures.TINY))) {
            ComputationGraphConfiguration conf = spec.graphConfiguration(DscmrFixtures.optimisation(DataType.FLOAT));
            assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        }
        // the loss layer's settings take part in the comparison (so the round trip above really covers them)
        ComputationGraphConfiguration a = DscmrFixtures.tinySpec().graphConfiguration(
                DscmrFixtures.optimisation(DataType.FLOAT));
        ComputationGraphConfiguration b = DscmrFixtures.spec(DscmrFixtures.vectors(), DscmrFixtures.TINY
                + "alpha = 0.5").graphConfiguration(DscmrFixtures.optimisation(DataType.FLOAT));
        assertNotEquals(a, b);
    }

    @Test
    void specSurvivesJsonRoundTrip() {
        for (DscmrSpec spec : List.of(DscmrFixtures.tinySpec(),
                DscmrFixtures.spec(DscmrFixtures.pixelsAndTokens(), DscmrFixtures.TINY))) {
            assertEquals(spec, Json.read(Json.write(spec), DscmrSpec.class));
        }
    }

    @Test
    void oneOutputThatNeedsBothModalities() {
        DscmrSpec spec = DscmrFixtures.tinySpec();
        assertEquals(List.of(new ModelOutput("dscmr", "it", List.of("image", "text"))), spec.outputs());
        assertEquals(List.of("image", "text", "pair_flag"),
                network(spec, DataType.FLOAT).getConfiguration().getNetworkInputs());
    }

    /** The reference code's sizes (IDCM_NN: FC 2048 per modality, shared 2048 -> 1024, classifier) on Wikipedia. */
    @Test
    void referenceDefaultsOnWikipediaSizedInputs() {
        FeatureTableMetadata wiki = DscmrFixtures.table(List.of(
                DscmrFixtures.modality("image", ModalityKind.VECTOR, List.of(128), null, null, null),
                DscmrFixtures.modality("text", ModalityKind.VECTOR, List.of(10), null, null, null)));
        ComputationGraph net = network(DscmrFixtures.spec(wiki, ""), DataType.FLOAT);
        assertEquals(128L * 2048 + 2048, net.getLayer("image_fc1").numParams());
        assertEquals(10L * 2048 + 2048, net.getLayer("text_fc1").numParams());
        assertEquals(2048L * 1024 + 1024, net.getLayer("common").numParams());
        assertEquals(1024L * 3 + 3, net.getLayer("dscmr").numParams());
        assertEquals(128L * 2048 + 2048 + 10L * 2048 + 2048 + 2048L * 1024 + 1024 + 1024L * 3 + 3, net.numParams(),
                "no other parameters: the shared layers exist once");
    }

    /**
     * The last layer is shared: u = h_image W + b and v = h_text W + b with the one W and b of layer 'common',
     * and changing that W changes both modalities' representations.
     */
    @Test
    void theCommonLayerIsOneParameterSetAppliedToBothModalities() {
        DscmrSpec spec = DscmrFixtures.tinySpec();
        ComputationGraph net = network(spec, DataType.DOUBLE);
        INDArray image = Nd4j.rand(DataType.DOUBLE, 4, DscmrFixtures.IMAGE_DIM);
        INDArray text = Nd4j.rand(DataType.DOUBLE, 4, DscmrFixtures.TEXT_DIM);
        INDArray flag = Nd4j.ones(DataType.DOUBLE, 4, 1);
        Map<String, INDArray> acts = net.feedForward(new INDArray[]{image, text, flag}, false);
        INDArray w = net.getLayer("common").getParam("W");
        INDArray b = net.getLayer("common").getParam("b");
        assertEquals(acts.get("image_fc1").mmul(w).addRowVector(b), acts.get("common_image"));
        assertEquals(acts.get("text_fc2").mmul(w).addRowVector(b), acts.get("common_text"));

        w.addi(0.5);
        Map<String, INDArray> after = net.feedForward(new INDArray[]{image, text, flag}, false);
        assertNotEquals(acts.get("common_image"), after.get("common_image"));
        assertNotEquals(acts.get("common_text"), after.get("common_text"));
        assertEquals(acts.get("image_fc1"), after.get("image_fc1"));
    }

    @Test
    void predictorEmbedsEachModalityFromItsOwnFeatures() throws Exception {
        DscmrSpec spec = DscmrFixtures.tinySpec();
        ComputationGraph net = network(spec, DataType.FLOAT);
        float[] i1 = DscmrFixtures.vector(1, DscmrFixtures.IMAGE_DIM);
        float[] t1 = DscmrFixtures.vector(2, DscmrFixtures.TEXT_DIM);
        float[] t2 = DscmrFixtures.vector(3, DscmrFixtures.TEXT_DIM);
        List<Row> rows = List.of(DscmrFixtures.row("a", 0, i1, t1), DscmrFixtures.row("b", 1, i1, t2),
                DscmrFixtures.row("c", 2, i1, null), DscmrFixtures.row("d", 0, null, t2));
        EmbeddingPredictor p = serialised(spec.embeddingPredictor(net));
        assertEquals(List.of("image", "text"), p.modalities());
        assertEquals(3, p.dimension());

        float[][] images = p.embeddings(rows, "image");
        float[][] texts = p.embeddings(rows, "text");
        // the same image gives the same embedding whatever text it comes with, or without one
        assertArrayEquals(images[0], images[1], 0f);
        assertArrayEquals(images[0], images[2], 0f);
        assertNull(images[3]);
        assertNull(texts[2]);
        assertArrayEquals(texts[1], texts[3], 0f);
        assertFalse(java.util.Arrays.equals(texts[0], texts[1]));

        // and it is the network's common_image activation
        MultiDataSet batch = spec.batchBuilder().build(rows.subList(0, 1), null, false);
        INDArray u = net.feedForward(batch.getFeatures(), false).get("common_image");
        assertArrayEquals(u.getRow(0).toFloatVector(), images[0], 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> p.embeddings(rows, "tags"));
    }

    @Test
    void batchBuilderFlagsPairsAndZeroesAbsentModalities() {
        DscmrSpec spec = DscmrFixtures.tinySpec();
        List<Row> rows = List.of(DscmrFixtures.row("a", 0, DscmrFixtures.vector(1, 6), DscmrFixtures.vector(2, 4)),
                DscmrFixtures.row("b", 2, null, DscmrFixtures.vector(3, 4)));
        MultiDataSet mds = spec.batchBuilder().build(rows, null, true);
        assertArrayEquals(new float[]{1, 0}, mds.getFeatures(2).toFloatVector());
        assertArrayEquals(new float[6], mds.getFeatures(0).getRow(1).toFloatVector());
        assertArrayEquals(new float[]{0, 0, 1}, mds.getLabels(0).getRow(1).toFloatVector());
        assertArrayEquals(new float[]{1, 0}, mds.getLabelsMaskArray(0).toFloatVector());
        // a caller withholding the text unpairs the row
        MultiDataSet dropped = spec.batchBuilder().build(rows.subList(0, 1), List.of(java.util.Set.of("image")), true);
        assertArrayEquals(new float[]{0}, dropped.getFeatures(2).toFloatVector());
    }

    /** Pixels through the small CNN and tokens through the mean of word embeddings, with masks. */
    @Test
    void pixelAndTokenInputsRunForward() {
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.pixelsAndTokens(), DscmrFixtures.TINY);
        ComputationGraph net = network(spec, DataType.FLOAT);
        StructType schema = new StructType().add("id", DataTypes.StringType).add("split", DataTypes.StringType)
                .add("label_index", DataTypes.IntegerType)
                .add("image_present", DataTypes.BooleanType)
                .add("image_values", DataTypes.createArrayType(DataTypes.FloatType))
                .add("text_present", DataTypes.BooleanType)
                .add("text_ids", DataTypes.createArrayType(DataTypes.IntegerType));
        float[] pixels = new float[3 * 8 * 8];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) Math.cos(i * 0.1);
        }
        List<Row> rows = List.of(
                new GenericRowWithSchema(new Object[]{"a", "train", 0, true, pixels, true, new int[]{2, 5, 7}}, schema),
                new GenericRowWithSchema(new Object[]{"b", "train", 1, true, pixels, true, new int[]{2, 5, 7, 7, 9, 3}},
                        schema));
        EmbeddingPredictor p = spec.embeddingPredictor(net);
        float[][] texts = p.embeddings(rows, "text");
        float[][] alone = p.embeddings(rows.subList(0, 1), "text");
        // a text's embedding does not depend on how much its minibatch pads it
        assertArrayEquals(alone[0], texts[0], 1e-6f);
        MultiDataSet mds = spec.batchBuilder().build(rows, null, true);
        net.setInputs(mds.getFeatures());
        net.setLayerMaskArrays(mds.getFeaturesMaskArrays(), null);
        net.setLabels(mds.getLabels());
        net.computeGradientAndScore();
        assertEquals(true, Double.isFinite(net.score()));
    }

    @Test
    void settingsAreValidatedWithTheirKeys() {
        ConfigException sizes = assertThrows(ConfigException.class, () -> DscmrParams.parse(
                Conf.parse("m { image.hidden = [8], text.hidden = [4] }").section("m")));
        assertEquals("config key 'm.text.hidden': its last size (4) must equal the last size of 'm.image.hidden' (8): "
                + "the shared common-space layer takes the output of both subnetworks", sizes.getMessage());
        ConfigException same = assertThrows(ConfigException.class, () -> DscmrParams.parse(
                Conf.parse("m { modalities { image = text } }").section("m")));
        assertEquals("config key 'm.modalities': image and text are both 'text'; DSCMR maps two different modalities "
                + "into one space", same.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> DscmrParams.parse(
                Conf.parse("m { modalities { text = caption } }").section("m")).resolve(DscmrFixtures.vectors(), "/t"));
        assertEquals("config key 'm.modalities.text' names modality 'caption', which feature table /t does not have; "
                + "it has [image, text] (DSCMR needs two)", missing.getMessage());
        FeatureTableMetadata noVectors = DscmrFixtures.table(List.of(
                DscmrFixtures.modality("image", ModalityKind.VECTOR, List.of(5), null, null, null),
                DscmrFixtures.modality("text", ModalityKind.TOKENS, List.of(20), 20, null, null)));
        ConfigException init = assertThrows(ConfigException.class, () -> DscmrFixtures.spec(noVectors, ""));
        assertEquals("config key 'text.init' is word_vectors, but modality 'text' of feature table /tables/tiny has no "
                + "word vectors; set it to random", init.getMessage());
        FeatureTableMetadata sequence = DscmrFixtures.table(List.of(
                DscmrFixtures.modality("image", ModalityKind.SEQUENCE, List.of(-1, 5), null, null, null),
                DscmrFixtures.modality("text", ModalityKind.VECTOR, List.of(5), null, null, null)));
        InputException seq = assertThrows(InputException.class, () -> DscmrFixtures.spec(sequence, ""));
        assertEquals(true, seq.getMessage().contains("Sequence inputs are not implemented"), seq.getMessage());
    }

    @SuppressWarnings("unchecked")
    private static <T> T serialised(T o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }
}
