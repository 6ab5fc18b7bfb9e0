package dev.mmspark.training.models;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.models.misa.MisaParams;
import dev.mmspark.training.models.misa.MisaSpec;
import dev.mmspark.training.models.multitask.MultitaskFixtures;
import dev.mmspark.training.models.multitask.MultitaskSpec;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MiniLM modalities of extract.text.bert as model inputs: the sentence vector (kind vector) as the
 * multitask model's text, the word-piece vectors (kind sequence) as MISA's text sequence.
 */
class MiniLmInputsTest {
    private static final int DIM = 6; // 384 in a real table; small here

    /** The fixture table (image pixels, word tokens, tags) plus the two MiniLM modalities. */
    static FeatureTableMetadata table() {
        FeatureTableMetadata base = MultitaskFixtures.metadata(true, true, true);
        List<FeatureTableMetadata.Modality> ms = new ArrayList<>(base.modalities());
        ms.add(new FeatureTableMetadata.Modality("text_minilm", ModalityKind.VECTOR, List.of(DIM), Map.of("train", 3L),
                "minilm-l6-v2-q-onnx", 1, Map.of(), null, null, null, null, null));
        ms.add(new FeatureTableMetadata.Modality("text_minilm_tokens", ModalityKind.SEQUENCE, List.of(-1, DIM),
                Map.of("train", 3L), "minilm-l6-v2-q-onnx", 1, Map.of(), null, null, null, null, null));
        return new FeatureTableMetadata(base.format(), base.formatVersion(), base.task(), base.classes(), ms,
                base.rows(), base.tableHash(), null, Map.of(), null, List.of(), Map.of(), base.createdAt(), 0);
    }

    private static MultitaskSpec multitask() {
        return MultitaskFixtures.spec(table(), MultitaskFixtures.TINY
                + "modalities { image = none, text = text_minilm, tags = none }");
    }

    @Test
    void multitaskTakesTheSentenceVectorAsItsText() {
        MultitaskSpec spec = multitask();
        assertTrue(spec.text().fromVector());
        assertEquals(DIM, spec.text().embeddingDim());
        assertEquals(List.of("t"), spec.outputs().stream().map(ModelOutput::label).toList());
        assertEquals(List.of("text_minilm_values"), spec.batchBuilder().columns().stream()
                .filter(c -> c.startsWith("text")).filter(c -> !c.endsWith("_present")).toList());

        StructType schema = new StructType().add("id", "string").add("label_index", "int")
                .add("text_minilm_present", "boolean").add("text_minilm_values", "array<float>");
        float[] v = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
        List<Row> rows = List.of(new GenericRowWithSchema(new Object[]{"a", 1, true, v}, schema),
                new GenericRowWithSchema(new Object[]{"b", 0, false, null}, schema));
        MultiDataSet b = spec.batchBuilder().build(rows, null, true);
        INDArray x = b.getFeatures(0);
        assertArrayEquals(new long[]{2, DIM}, x.shape());
        assertEquals(0.3f, x.getFloat(0, 2), 0f);
        assertEquals(0f, x.getFloat(1, 2), 0f);
        assertEquals(1f, b.getLabelsMaskArray(0).getFloat(0), 0f);
        assertEquals(0f, b.getLabelsMaskArray(0).getFloat(1), 0f);

        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(
                MultitaskFixtures.optimisation(DataType.FLOAT)));
        net.init();
        spec.initialise(net, null); // no word vectors to copy for a vector text
        INDArray[] out = net.output(false, b.getFeatures(), b.getFeaturesMaskArrays());
        assertArrayEquals(new long[]{2, 3}, out[0].shape());
        net.fit(b);
    }

    @Test
    void trimodalWithTheSentenceVectorBuildsAllSevenHeads() {
        MultitaskSpec spec = MultitaskFixtures.spec(table(), MultitaskFixtures.TINY
                + "modalities { text = text_minilm }");
        assertEquals(List.of("i", "t", "#", "it", "i#", "t#", "it#"),
                spec.outputs().stream().map(ModelOutput::label).toList());
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(
                MultitaskFixtures.optimisation(DataType.FLOAT)));
        net.init();
        assertEquals(7, net.getConfiguration().getNetworkOutputs().size());
    }

    @Test
    void vectorTextSpecSurvivesJsonAndOldSpecsReadAsTokens() {
        MultitaskSpec spec = multitask();
        assertEquals(spec, Json.read(Json.write(spec), MultitaskSpec.class));
        // a spec saved before TokenInput had a source: tokens
        MultitaskSpec tokens = MultitaskFixtures.tinySpec();
        ObjectNode tree = Json.MAPPER.valueToTree(tokens);
        ((ObjectNode) tree.get("text")).remove("source");
        MultitaskSpec old = Json.MAPPER.convertValue(tree, MultitaskSpec.class);
        assertFalse(old.text().fromVector());
        assertEquals(tokens, old);
    }

    @Test
    void misaTakesTheWordPieceVectorsAsItsTextSequence() {
        MisaSpec spec = (MisaSpec) MisaParams.parse(Conf.parse(
                "hidden = 4\nencoder_dim = 3\nfeedforward = 5\ndropout = 0\npatch_size = 4\n"
                        + "modalities = [image, text_minilm_tokens, tags]")).resolve(table(), "/tables/tiny");
        assertEquals(List.of("image", "text_minilm_tokens", "tags"), spec.modalities());
        MisaSpec.Input text = spec.inputs().get(1);
        assertEquals(MisaSpec.Source.SEQUENCE, text.source());
        assertEquals(DIM, text.dim());
        assertTrue(spec.batchBuilder().columns().contains("text_minilm_tokens_values"));
    }
}
