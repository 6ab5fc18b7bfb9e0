package dev.mmspark.training.models.tfrnet;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.text.Vocabulary;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.models.multitask.MultitaskFixtures;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TFR-Net as a registered model: settings, resolution, the training frame drop, the whole network, training. */
class TfrNetModelTest {
    static final String TINY = "dim = 4\nheads = 2\nlayers = 1\nmax_length = 5\nfusion_hidden = 3\ncls_hidden = 4\n"
            + "fusion_dropout = 0\nembedding_dim = 3\npatch_size = 4\n";

    static TfrNetSpec spec(String hocon) {
        return (TfrNetSpec) TfrNetParams.parse(Conf.parse(hocon)).resolve(MultitaskFixtures.metadata(true, true, true),
                "/tables/tiny");
    }

    static List<Row> rows() {
        return List.of(
                MultitaskFixtures.row("a", 0, MultitaskFixtures.image(1), new int[]{2, 3, 4}, new int[]{1}),
                MultitaskFixtures.row("b", 1, MultitaskFixtures.image(2), new int[]{5, 6, 7, 2, 3, 4, 5}, null),
                MultitaskFixtures.row("c", 2, null, new int[]{6, 7}, new int[]{2, 3}),
                MultitaskFixtures.row("d", 1, MultitaskFixtures.image(4), null, new int[]{4}));
    }

    @Test
    void registeredWithTheOfficialDefaults() {
        assertTrue(ModelRegistry.find("tfrnet").isPresent());
        TfrNetParams p = TfrNetParams.parse(Conf.parse(""));
        assertEquals(30, p.dim());
        assertEquals(6, p.heads());
        assertEquals(3, p.layers());
        assertEquals(50, p.maxLength());
        assertEquals(36, p.fusionHidden());
        assertEquals(0.2, p.fusionDropout());
        assertEquals(128, p.clsHidden());
        assertEquals(0.0, p.clsDropout());
        assertEquals(0.0, p.loss().cmd());
        assertEquals(111, p.missingSeed());
        assertEquals("concat", p.fusion().name());
    }

    /** The example config parses, with the official MOSI sizes as its defaults. */
    @Test
    void exampleConfigParses() {
        Conf root = Conf.load(new java.io.File("../conf/tfrnet-synthetic.conf"), List.of());
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        TfrNetParams p = (TfrNetParams) cfg.modelParams();
        assertEquals(List.of(1.0, 1.0, 1.0), p.loss().recon());
        assertEquals(0.5, p.missingRate());
        assertEquals(30, p.dim());
    }

    @Test
    void badSettingsNameTheirKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> TfrNetParams.parse(Conf.parse("dim = 10\nheads = 4")));
        assertTrue(e.getMessage().contains("'heads'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec("modalities = [image, audio]"));
        assertTrue(e.getMessage().contains("'audio'") && e.getMessage().contains("modalities"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TfrNetParams.parse(Conf.parse("missing_rate = 1.5")));
        assertTrue(e.getMessage().contains("missing_rate"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec(TINY + "loss { recon = [5, 2] }"));
        assertTrue(e.getMessage().contains("loss.recon"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec("patch_size = 1\nmax_length = 50"));
        assertTrue(e.getMessage().contains("max_length"), e.getMessage());
    }

    @Test
    void paramsAndSpecSurviveAJsonRoundTrip() throws Exception {
        TfrNetSpec s = spec(TINY + "loss { recon = [5, 2, 20], cmd = 0.5 }\nfusion { name = gmu, dim = 5 }");
        // as metadata.json stores it (DistributedTrainer) and TrainedModels reads it back
        String text = Json.MAPPER.writeValueAsString(Json.MAPPER.valueToTree(s));
        ModelSpec back = Json.MAPPER.treeToValue(Json.MAPPER.readTree(text), new TfrNetModel().specType());
        assertEquals(s, back);
        assertEquals(List.of(5.0, 2.0, 20.0), ((TfrNetSpec) back).params().loss().recon());
    }

    @Test
    void resolvesEveryModalityAsAFixedLengthSequence() {
        TfrNetSpec s = spec(TINY);
        assertEquals(List.of("image", "text", "tags"), s.modalities());
        TfrNetSpec.Input image = s.inputs().get(0);
        assertEquals(TfrNetSpec.Source.PATCHES, image.source());
        assertEquals(3 * 4 * 4, image.dim());
        assertEquals(4, image.steps());
        assertEquals(5, s.inputs().get(1).steps());                    // text: 150 tokens cut to max_length
        assertTrue(s.inputs().get(1).pretrained());
        assertEquals(3, s.inputs().get(2).dim());                      // tags: random embedding of embedding_dim
    }

    /** Training minibatches drop frames (seeded, reproducible); inference ones see the input as given. */
    @Test
    void framesAreDroppedOnlyInTrainingAndReproducibly() {
        TfrNetSpec s = spec(TINY + "missing_rate = 0.5");
        MultiDataSet train = s.batchBuilder().build(rows(), null, true);
        MultiDataSet again = s.batchBuilder().build(rows(), null, true);
        MultiDataSet infer = s.batchBuilder().build(rows(), null, false);
        for (int k = 0; k < 6; k++) {
            assertEquals(train.getFeatures(k), again.getFeatures(k));
        }
        INDArray text = train.getFeatures(2);                          // [4, 1, 10]: complete | damaged ids
        INDArray textMask = train.getFeatures(3);                      // [4, 2, 5]
        assertArrayEquals(new long[]{4, 1, 10}, text.shape());
        assertArrayEquals(new long[]{4, 2, 5}, textMask.shape());
        // row b: 7 ids cut to 5; the complete copy is the ids, the damaged one UNK where dropped
        int[] b = {5, 6, 7, 2, 3};
        int dropped = 0;
        int real = 0;
        for (int i = 0; i < rows().size(); i++) {
            for (int t = 0; t < 5; t++) {
                float isReal = textMask.getFloat(i, 0, t);
                float drop = textMask.getFloat(i, 1, t);
                assertTrue(drop <= isReal);
                real += (int) isReal;
                dropped += (int) drop;
                if (i == 1) {
                    assertEquals(b[t], text.getFloat(1, 0, t), 0f);
                    assertEquals(drop == 1 ? Vocabulary.UNK : b[t], text.getFloat(1, 0, 5 + t), 0f);
                }
                assertEquals(TfrNetBatchBuilder.dropped(111, 0.5, "abcd".substring(i, i + 1), "text", t) && isReal == 1,
                        drop == 1);
            }
        }
        assertTrue(dropped > 0 && dropped < real, dropped + " of " + real);
        // a dropped image patch is zero in the damaged copy only
        INDArray img = train.getFeatures(0);                           // [4, 48, 8]
        INDArray imgMask = train.getFeatures(1);
        for (int t = 0; t < 4; t++) {
            boolean drop = imgMask.getFloat(0, 1, t) == 1;
            for (int c = 0; c < 48; c++) {
                assertEquals(drop ? 0f : img.getFloat(0, c, t), img.getFloat(0, c, 4 + t), 0f);
            }
        }
        // inference: damaged = complete, nothing marked dropped
        INDArray itext = infer.getFeatures(2);
        for (int t = 0; t < 5; t++) {
            assertEquals(itext.getFloat(1, 0, t), itext.getFloat(1, 0, 5 + t), 0f);
        }
        for (int k = 1; k < 6; k += 2) {
            assertEquals(0.0, infer.getFeatures(k).get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .sumNumber().doubleValue());
        }
        // absent modalities: all zero masks (row c has no image, row d no text)
        assertEquals(0.0, imgMask.slice(2).sumNumber().doubleValue());
        assertEquals(0.0, textMask.slice(3).sumNumber().doubleValue());
        // the share of dropped frames follows missing_rate over many positions
        int n = 0;
        for (int i = 0; i < 2000; i++) {
            n += TfrNetBatchBuilder.dropped(111, 0.3, "row" + i, "text", i % 7) ? 1 : 0;
        }
        assertEquals(0.3, n / 2000.0, 0.04);
    }

    @Test
    void networkSurvivesJsonRoundTripAndLearnsATinyBatch() {
        TfrNetSpec s = spec(TINY);
        ComputationGraphConfiguration conf = s.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        MultiDataSet batch = s.batchBuilder().build(rows(), null, true);
        double first = net.score(batch, false);
        for (int i = 0; i < 40; i++) {
            net.fit(batch);
        }
        double last = net.score(batch, false);
        assertTrue(Double.isFinite(first) && last < first, "loss " + first + " -> " + last);
        GraphPredictor p = new GraphPredictor(s, net, new float[]{1 / 3f, 1 / 3f, 1 / 3f});
        float[][] probs = p.predict(rows(), List.of(Set.of("text"), Set.of("image"), Set.of(), Set.of("image", "tags")));
        for (float[] row : probs) {
            assertEquals(1.0, row[0] + row[1] + row[2], 1e-5);
        }
    }

    /** {@code model.fusion}: concat keeps the paper's graph; another operator fuses the gated vectors. */
    @Test
    void finalFusionComesFromConfig() {
        TfrNetSpec gmu = spec(TINY + "fusion { name = gmu, dim = 5 }");
        ComputationGraphConfiguration conf = gmu.graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        for (String m : List.of("image", "text", "tags")) {
            assertEquals(List.of("tfrnet_gated"), conf.getVertexInputs().get("tfrnet_gated_" + m));
        }
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        MultiDataSet batch = gmu.batchBuilder().build(rows(), null, true);
        double first = net.score(batch, false);
        for (int i = 0; i < 20; i++) {
            net.fit(batch);
        }
        assertTrue(net.score(batch, false) < first);
        ComputationGraphConfiguration concat = spec(TINY).graphConfiguration(MultitaskFixtures.optimisation(DataType.FLOAT));
        assertTrue(concat.getVertices().keySet().stream().noneMatch(v -> v.startsWith("tfrnet_gated_")));
    }

    @Test
    void trainsThroughTheDistributedTrainer() {
        String dir = TinyFeatureTable.scratch("tfrnet");
        Conf root = Conf.parse("train {\nmodel { name = tfrnet\ndim = 4\nheads = 2\nlayers = 1\nmax_length = 6\n"
                + "fusion_hidden = 4\ncls_hidden = 8\npatch_size = 8 }\nfeatures = \"" + TinyFeatureTable.path()
                + "\"\noutput = \"" + dir + "/model\"\nepochs = 1\nbatch_size_per_worker = 16\naveraging_frequency = 2\n"
                + "workers = 2\nlearning_rate = 0.002\n}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        DistributedTrainer.Result r = new DistributedTrainer(SparkTestSession.get()).train(cfg, false, false);
        assertEquals("tfrnet", r.metadata().model());
        assertEquals(1, r.metadata().history().size());
        assertTrue(Double.isFinite(r.metadata().history().get(0).loss()));
    }
}
