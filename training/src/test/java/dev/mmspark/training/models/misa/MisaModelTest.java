package dev.mmspark.training.models.misa;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.models.multitask.MultitaskFixtures;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MISA as a registered model: settings, resolution against a table, minibatches, the whole network, training. */
class MisaModelTest {
    static final String TINY = "hidden = 4\nencoder_dim = 3\nfeedforward = 5\ndropout = 0\nembedding_dim = 3\npatch_size = 4\n";

    static MisaSpec spec(String hocon) {
        return (MisaSpec) MisaParams.parse(Conf.parse(hocon)).resolve(MultitaskFixtures.metadata(true, true, true),
                "/tables/tiny");
    }

    @Test
    void registeredWithTheOfficialDefaults() {
        assertTrue(ModelRegistry.find("misa").isPresent());
        MisaParams p = MisaParams.parse(Conf.parse(""));
        assertEquals(128, p.hidden());
        assertEquals(0.5, p.dropout());
        assertEquals(5, p.cmdMoments());
        assertEquals(new MisaParams.LossWeights(1.0, 0.3, 1.0), p.loss());
        assertEquals(2, p.heads());
    }

    @Test
    void badSettingsNameTheirKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> MisaParams.parse(Conf.parse("hidden = 10\nheads = 4")));
        assertTrue(e.getMessage().contains("'heads'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec("modalities = [image, audio]"));
        assertTrue(e.getMessage().contains("'audio'") && e.getMessage().contains("modalities"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec("patch_size = 3"));
        assertTrue(e.getMessage().contains("patch_size"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> MisaParams.parse(Conf.parse("loss { sim = -1 }")));
        assertTrue(e.getMessage().contains("loss.sim"), e.getMessage());
    }

    @Test
    void resolvesEveryModalityAsASequence() {
        MisaSpec s = spec(TINY);
        assertEquals(List.of("image", "text", "tags"), s.modalities());
        MisaSpec.Input image = s.inputs().get(0);
        assertEquals(MisaSpec.Source.PATCHES, image.source());
        assertEquals(3 * 4 * 4, image.dim());
        assertEquals(4, image.steps());
        assertTrue(s.inputs().get(1).pretrained());
        assertEquals(3, s.inputs().get(2).dim());                     // tags: random embedding of embedding_dim
        FeatureTableMetadata.Modality regions = new FeatureTableMetadata.Modality("image",
                dev.mmspark.features.ModalityKind.IMAGE_EMBEDDING, List.of(49, 512), java.util.Map.of(), "backbone", 1,
                java.util.Map.of(), null, null, null, null, 512);
        MisaSpec.Input r = MisaParams.parse(Conf.parse("")).resolve(new FeatureTableMetadata(FeatureTableMetadata.FORMAT,
                FeatureTableMetadata.FORMAT_VERSION, "regression", null, List.of(regions,
                MultitaskFixtures.metadata(false, true, false).modalities().get(0)), java.util.Map.of(), "h", null,
                java.util.Map.of(), null, List.of(), java.util.Map.of(), "2024-01-01T00:00:00Z", 1.0), "/t").inputs().get(0);
        assertEquals(MisaSpec.Source.REGIONS, r.source());
        assertEquals(512, r.dim());
        assertEquals(49, r.steps());
    }

    /** Hand layout: pixel (c, y, x) of an 8x8 image in 4x4 patches. */
    @Test
    void patchesAreCutRowMajorWithChannelsFirstInside() {
        MisaSpec s = spec(TINY);
        Row row = MultitaskFixtures.row("a", 1, MultitaskFixtures.image(3), new int[]{2, 3}, null);
        MultiDataSet b = s.batchBuilder().build(List.of(row), null, true);
        INDArray img = b.getFeatures(0);                               // [1, 48, 4]
        assertArrayEquals(new long[]{1, 48, 4}, img.shape());
        float[] pixels = MultitaskFixtures.image(3);
        // pixel (c=2, y=5, x=6): patch (1, 1) = t 3, feature (2*4 + 1)*4 + 2 = 38
        assertEquals(pixels[(2 * 8 + 5) * 8 + 6], img.getFloat(0, 38, 3), 0f);
        // pixel (c=0, y=1, x=7): patch (0, 1) = t 1, feature (0*4 + 1)*4 + 3 = 7
        assertEquals(pixels[(0 * 8 + 1) * 8 + 7], img.getFloat(0, 7, 1), 0f);
        assertArrayEquals(new float[]{1, 1, 1, 1}, b.getFeaturesMaskArray(0).toFloatVector());
        assertArrayEquals(new float[]{0}, b.getFeaturesMaskArray(2).toFloatVector());   // absent tags
    }

    @Test
    void networkSurvivesJsonRoundTripAndLearnsATinyBatch() {
        MisaSpec s = spec(TINY);
        ComputationGraphConfiguration conf = s.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        List<Row> rows = List.of(
                MultitaskFixtures.row("a", 0, MultitaskFixtures.image(1), new int[]{2, 3, 4}, new int[]{1}),
                MultitaskFixtures.row("b", 1, MultitaskFixtures.image(2), new int[]{5}, null),
                MultitaskFixtures.row("c", 2, null, new int[]{6, 7}, new int[]{2, 3}),
                MultitaskFixtures.row("d", 1, MultitaskFixtures.image(4), null, new int[]{4}));
        MultiDataSet batch = s.batchBuilder().build(rows, null, true);
        net.setInputs(batch.getFeatures());
        double first = net.score(batch, false);
        for (int i = 0; i < 60; i++) {
            net.fit(batch);
        }
        double last = net.score(batch, false);
        assertTrue(Double.isFinite(first) && last < first, "loss " + first + " -> " + last);
        GraphPredictor p = new GraphPredictor(s, net, new float[]{1 / 3f, 1 / 3f, 1 / 3f});
        float[][] probs = p.predict(rows, List.of(Set.of("text"), Set.of("image"), Set.of(), Set.of("image", "tags")));
        for (float[] row : probs) {
            assertEquals(1.0, row[0] + row[1] + row[2], 1e-5);
        }
    }

    /** {@code model.fusion}: concat keeps the official graph; another operator fuses one vector per modality. */
    @Test
    void finalFusionComesFromConfig() {
        MisaSpec official = spec(TINY);
        assertTrue(official.params().officialFusion());
        ComputationGraphConfiguration concat = official.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertTrue(concat.getVertices().keySet().stream().noneMatch(v -> v.startsWith("misa_modality_")));

        MisaSpec gmu = spec(TINY + "fusion { name = gmu, dim = 5 }");
        assertEquals("gmu", gmu.params().fusion().name());
        ComputationGraphConfiguration conf = gmu.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        for (String m : List.of("image", "text", "tags")) {
            assertEquals(List.of("misa_private_" + m, "misa_shared_" + m), conf.getVertexInputs().get("misa_modality_" + m));
        }
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        // private_m then shared_m, h = 4 each: the head now reads GMU's 5 values instead of 2Mh = 24
        assertArrayEquals(new long[]{5, 12}, net.getLayer("head_fc").getParam("W").shape());
        List<Row> rows = List.of(
                MultitaskFixtures.row("a", 0, MultitaskFixtures.image(1), new int[]{2, 3, 4}, new int[]{1}),
                MultitaskFixtures.row("b", 1, MultitaskFixtures.image(2), new int[]{5}, null),
                MultitaskFixtures.row("c", 2, null, new int[]{6, 7}, new int[]{2, 3}));
        MultiDataSet batch = gmu.batchBuilder().build(rows, null, true);
        double first = net.score(batch, false);
        for (int i = 0; i < 60; i++) {
            net.fit(batch);
        }
        double last = net.score(batch, false);
        assertTrue(Double.isFinite(first) && last < first, "loss " + first + " -> " + last);

        ConfigException e = assertThrows(ConfigException.class, () -> MisaParams.parse(Conf.parse("fusion = fancy")));
        assertTrue(e.getMessage().contains("'fusion'") && e.getMessage().contains("mutan"), e.getMessage());
    }

    /**
     * With another fusion, each modality's presence reaches the operator: under the weighted sum a row without
     * tags fuses exactly Σ over image and text of a_m (v_m W_m + b_m), v_m the [private; shared] vector.
     */
    @Test
    void anAbsentModalityIsLeftOutOfTheFusion() {
        MisaSpec sum = spec(TINY + "fusion { name = sum, dim = 5 }");
        ComputationGraphConfiguration conf = sum.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertEquals(List.of("in_image", "in_text", "in_tags", "present_image", "present_text", "present_tags"),
                conf.getNetworkInputs());
        assertEquals(List.of("misa_modality_image", "misa_modality_text", "misa_modality_tags", "present_image",
                "present_text", "present_tags"), conf.getVertexInputs().get("misa_fusion"));
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        List<Row> rows = List.of(
                MultitaskFixtures.row("a", 0, MultitaskFixtures.image(1), new int[]{2, 3, 4}, new int[]{1}),
                MultitaskFixtures.row("b", 1, MultitaskFixtures.image(2), new int[]{5}, null));
        MultiDataSet batch = sum.batchBuilder().build(rows, null, false);
        assertArrayEquals(new float[]{1, 0}, batch.getFeatures(5).toFloatVector(), "row b has no tags");
        net.setLayerMaskArrays(batch.getFeaturesMaskArrays(), null);
        Map<String, INDArray> acts = net.feedForward(batch.getFeatures(), false, false);
        Map<String, INDArray> w = net.getVertex("misa_fusion").paramTable(false);
        for (int r = 0; r < 2; r++) {
            INDArray expected = Nd4j.zeros(DataType.FLOAT, 1, 5);
            List<String> present = r == 0 ? List.of("image", "text", "tags") : List.of("image", "text");
            for (String m : present) {
                int k = List.of("image", "text", "tags").indexOf(m);
                expected.addi(acts.get("misa_modality_" + m).getRow(r, true).mmul(w.get("W" + k)).addi(w.get("b" + k))
                        .muli(w.get("a" + k)));
            }
            assertArrayEquals(expected.toFloatVector(), acts.get("misa_fusion").getRow(r).toFloatVector(), 1e-5f,
                    "row " + r);
        }
    }

    @Test
    void trainsThroughTheDistributedTrainer() {
        String dir = TinyFeatureTable.scratch("misa");
        Conf root = Conf.parse("train {\nmodel { name = misa\nhidden = 8\nencoder_dim = 8\nfeedforward = 16\n"
                + "patch_size = 4 }\nfeatures = \"" + TinyFeatureTable.path() + "\"\noutput = \"" + dir
                + "/model\"\nepochs = 1\nbatch_size_per_worker = 16\naveraging_frequency = 2\nworkers = 2\n"
                + "learning_rate = 0.005\n}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        DistributedTrainer.Result r = new DistributedTrainer(SparkTestSession.get()).train(cfg, false, false);
        assertEquals("misa", r.metadata().model());
        assertEquals(1, r.metadata().history().size());
        assertTrue(Double.isFinite(r.metadata().history().get(0).loss()));
    }
}
