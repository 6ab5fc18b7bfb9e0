package dev.mmspark.training.models.multitask;

import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.Predictions;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.mmspark.training.models.multitask.MultitaskFixtures.image;
import static dev.mmspark.training.models.multitask.MultitaskFixtures.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class MultitaskPredictorTest {
    private static final float[] PRIOR = {0.2f, 0.3f, 0.5f};

    private static GraphPredictor predictor(MultitaskSpec spec) {
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT)));
        net.init();
        return new GraphPredictor(spec, net, PRIOR);
    }

    @Test
    void picksTheHeadOfTheAvailableModalities() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        GraphPredictor p = predictor(spec);
        Row complete = row("a", 0, image(1), new int[]{2, 3, 4}, new int[]{1, 2});
        Row textTags = row("b", 1, null, new int[]{5, 6}, new int[]{3});
        Row imageOnly = row("c", 2, image(2), null, null);
        Row nothing = row("d", 2, null, null, null);
        List<Row> rows = List.of(complete, textTags, imageOnly, nothing, complete, complete);
        List<Set<String>> available = Arrays.asList(null, null, null, null, Set.of("text"),
                Set.of("image", "tags", "audio"));
        // a null entry means everything the row has
        List<Set<String>> avail = new java.util.ArrayList<>();
        for (Set<String> s : available) {
            avail.add(s == null ? Set.of("image", "text", "tags") : s);
        }
        Predictions out = p.predictions(rows, avail);
        assertEquals(List.of("it#", "t#", "i", Predictions.PRIOR, "t", "i#"), Arrays.asList(out.outputs()));
        GraphPredictor.Scores s = p.scores(rows, avail);
        List<String> labels = s.outputs().stream().map(o -> o.label()).toList();
        for (int i = 0; i < rows.size(); i++) {
            if (i == 3) {
                assertArrayEquals(PRIOR, out.probabilities()[i]);
            } else {
                assertArrayEquals(s.values()[labels.indexOf(out.outputs()[i])][i], out.probabilities()[i]);
                assertEquals(1.0, sum(out.probabilities()[i]), 1e-5);
            }
        }
        // the answers really come from different heads
        assertNotEquals(Arrays.toString(out.probabilities()[0]), Arrays.toString(out.probabilities()[4]));
        assertEquals(List.of("neg", "neu", "pos"), p.classNames());
        assertEquals("multitask", p.modelName());
    }

    /** Dropping a modality must give exactly what the model gives for a row that never had it. */
    @Test
    void droppedModalityIsTreatedExactlyLikeAnAbsentOne() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        GraphPredictor p = predictor(spec);
        Row complete = row("a", 0, image(1), new int[]{2, 3, 4}, new int[]{1, 2});
        Row withoutText = row("a", 0, image(1), null, new int[]{1, 2});
        Row longText = row("z", 0, null, new int[]{1, 2, 3, 4, 5, 6, 7, 8}, null);
        MultiDataSet dropped = spec.batchBuilder().build(List.of(complete, longText),
                List.of(Set.of("image", "tags"), Set.of("text")), true);
        MultiDataSet absent = spec.batchBuilder().build(List.of(withoutText, longText), null, true);
        for (int i = 0; i < 3; i++) {
            assertEquals(absent.getFeatures(i), dropped.getFeatures(i));
            assertEquals(absent.getFeaturesMaskArray(i), dropped.getFeaturesMaskArray(i));
        }
        for (int o = 0; o < 7; o++) {
            assertEquals(absent.getLabelsMaskArray(o), dropped.getLabelsMaskArray(o));
        }
        float[][] a = p.predict(List.of(complete), List.of(Set.of("image", "tags")));
        float[][] b = p.predict(List.of(withoutText), null);
        assertArrayEquals(b[0], a[0]);
    }

    @Test
    void survivesJavaSerialisationAsABroadcastWould() throws Exception {
        GraphPredictor p = predictor(MultitaskFixtures.tinySpec());
        List<Row> rows = List.of(row("a", 0, image(1), new int[]{2, 3, 4}, new int[]{1, 2}));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(p);
        }
        GraphPredictor back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (GraphPredictor) in.readObject();
        }
        assertArrayEquals(p.predict(rows, null)[0], back.predict(rows, null)[0]);
    }

    @Test
    void imageInputIsTheRowsPixelsInChannelHeightWidthOrder() {
        MultitaskSpec spec = MultitaskFixtures.tinySpec();
        float[] pixels = image(5);
        MultiDataSet b = spec.batchBuilder().build(List.of(row("a", 0, pixels, null, null)), null, false);
        INDArray in = b.getFeatures(0);
        assertArrayEquals(new long[]{1, 3, 8, 8}, in.shape());
        assertEquals(pixels[64 + 8 * 2 + 5], in.getFloat(0, 1, 2, 5), 0f);
        // tokens: [batch, 1, length] and a mask of the real ones
        MultiDataSet t = spec.batchBuilder().build(List.of(row("a", 0, null, new int[]{7, 9}, null),
                row("b", 0, null, new int[]{4, 5, 6}, null)), null, false);
        assertArrayEquals(new long[]{2, 1, 3}, t.getFeatures(1).shape());
        assertArrayEquals(new float[]{7, 9, 0}, t.getFeatures(1).slice(0).ravel().toFloatVector());
        assertArrayEquals(new float[]{1, 1, 0, 1, 1, 1}, t.getFeaturesMaskArray(1).ravel().toFloatVector());
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }
}
