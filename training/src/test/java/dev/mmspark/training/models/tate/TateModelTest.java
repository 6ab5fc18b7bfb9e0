package dev.mmspark.training.models.tate;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.models.multitask.MultitaskFixtures;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TATE as a registered model: settings, resolution, missing patterns and tags, the network, both phases, training. */
class TateModelTest {
    static final String TINY = "dim = 4\nheads = 2\nmax_length = 5\nembedding_dim = 3\npatch_size = 4\n";

    static TateSpec spec(String hocon) {
        return (TateSpec) TateParams.parse(Conf.parse(hocon)).resolve(MultitaskFixtures.metadata(true, true, true),
                "/tables/tiny");
    }

    static List<Row> rows() {
        return List.of(
                MultitaskFixtures.row("a", 0, MultitaskFixtures.image(1), new int[]{2, 3, 4}, new int[]{1}),
                MultitaskFixtures.row("b", 1, MultitaskFixtures.image(2), new int[]{5, 6, 7, 2, 3, 4, 5}, new int[]{2, 3}),
                MultitaskFixtures.row("c", 2, null, new int[]{6, 7}, new int[]{2, 3}),
                MultitaskFixtures.row("d", 1, MultitaskFixtures.image(4), new int[]{4}, new int[]{4}));
    }

    @Test
    void registeredWithTheOfficialWeights() {
        assertTrue(ModelRegistry.find("tate").isPresent());
        TateParams p = TateParams.parse(Conf.parse(""));
        assertEquals(0.2, p.missingRate());
        assertEquals(4, p.heads());
        assertEquals(new TateParams.LossWeights(0.1, 0.1, 0.1), p.loss());
        assertEquals(1e-4, p.l2());
        assertEquals(7, p.teacherEpochs(7));                           // default: as many as the student's
        assertEquals(2, TateParams.parse(Conf.parse("teacher_epochs = 2")).teacherEpochs(7));
    }

    @Test
    void exampleConfigsParse() {
        Conf root = Conf.load(new java.io.File("../conf/tate-synthetic.conf"), List.of());
        TateParams p = (TateParams) TrainConfig.from(root.section("train")).modelParams();
        assertEquals(0.2, p.missingRate());
        assertEquals(2, p.teacherEpochs());
        Conf mvsa = Conf.load(new java.io.File("../conf/mvsa-single-tate.conf"), List.of());
        assertEquals(25, ((TateParams) TrainConfig.from(mvsa.section("train")).modelParams()).maxLength());
    }

    @Test
    void badSettingsNameTheirKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> TateParams.parse(Conf.parse("dim = 10\nheads = 4")));
        assertTrue(e.getMessage().contains("'heads'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> spec("dim = 5\nheads = 1"));     // 3 modalities: 2 pair matrices
        assertTrue(e.getMessage().contains("dim"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TateParams.parse(Conf.parse("missing_rate = 1.5")));
        assertTrue(e.getMessage().contains("missing_rate"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TateParams.parse(Conf.parse("teacher_epochs = -2")));
        assertTrue(e.getMessage().contains("teacher_epochs"), e.getMessage());
    }

    @Test
    void paramsAndSpecSurviveAJsonRoundTrip() throws Exception {
        TateSpec s = spec(TINY + "loss { kl = 0.3, recon = 0.2, tag = 0.4 }\nteacher_epochs = 3");
        String text = Json.MAPPER.writeValueAsString(Json.MAPPER.valueToTree(s));
        ModelSpec back = Json.MAPPER.treeToValue(Json.MAPPER.readTree(text), new TateModel().specType());
        assertEquals(s, back);
        assertEquals(3, ((TateSpec) back).params().teacherEpochs());
    }

    /** The six patterns of three modalities, and the official tag bits for each. */
    @Test
    void sixPatternsAndTheirTags() {
        assertEquals(List.of(0b001, 0b010, 0b100, 0b011, 0b101, 0b110), TateBatchBuilder.patterns(3));
        assertEquals(List.of(0b01, 0b10), TateBatchBuilder.patterns(2));
        assertArrayEquals(new float[]{1, 0, 0, 0}, TateBatchBuilder.tag(0, 3));      // official flag -1
        assertArrayEquals(new float[]{0, 1, 0, 0}, TateBatchBuilder.tag(0b001, 3));  // flag 0: first missing
        assertArrayEquals(new float[]{0, 0, 1, 0}, TateBatchBuilder.tag(0b010, 3));  // flag 1
        assertArrayEquals(new float[]{0, 0, 0, 1}, TateBatchBuilder.tag(0b100, 3));  // flag 2
        assertArrayEquals(new float[]{0, 1, 1, 0}, TateBatchBuilder.tag(0b011, 3));  // flag 5
        assertArrayEquals(new float[]{0, 1, 0, 1}, TateBatchBuilder.tag(0b101, 3));  // flag 4
        assertArrayEquals(new float[]{0, 0, 1, 1}, TateBatchBuilder.tag(0b110, 3));  // flag 3
    }

    /** Every pattern is drawn, uniformly, for a share missing_rate of the samples, the same for the same seed. */
    @Test
    void patternDrawingCoversAllSixAndIsReproducible() {
        Map<Integer, Integer> counts = new HashMap<>();
        int missing = 0;
        int n = 6000;
        for (int i = 0; i < n; i++) {
            int p = TateBatchBuilder.pattern(1, 0.2, "row" + i, 3);
            assertEquals(p, TateBatchBuilder.pattern(1, 0.2, "row" + i, 3));
            if (p != 0) {
                missing++;
                counts.merge(p, 1, Integer::sum);
            }
        }
        assertEquals(0.2, missing / (double) n, 0.02);
        assertEquals(new HashSet<>(TateBatchBuilder.patterns(3)), counts.keySet());
        for (int c : counts.values()) {
            assertEquals(missing / 6.0, c, missing / 6.0 * 0.25, counts.toString());
        }
        int differ = 0;
        for (int i = 0; i < 200; i++) {
            differ += TateBatchBuilder.pattern(1, 0.5, "row" + i, 3) != TateBatchBuilder.pattern(2, 0.5, "row" + i, 3)
                    ? 1 : 0;
        }
        assertTrue(differ > 0, "another seed draws other patterns");
        assertEquals(0, TateBatchBuilder.pattern(1, 0, "row1", 3));
    }

    /** Student-phase training minibatches drop the drawn modalities; teacher-phase and inference ones do not. */
    @Test
    void patternsAreAppliedOnlyInStudentTraining() {
        TateSpec s = spec(TINY + "missing_rate = 1.0");
        MultiDataSet train = s.trainingBatchBuilder(false).build(rows(), null, true);
        MultiDataSet again = s.batchBuilder().build(rows(), null, true);
        MultiDataSet teacher = s.trainingBatchBuilder(true).build(rows(), null, true);
        MultiDataSet infer = s.batchBuilder().build(rows(), null, false);
        for (int k = 0; k < 10; k++) {
            assertEquals(train.getFeatures(k), again.getFeatures(k));
        }
        String[] ids = {"a", "b", "c", "d"};
        INDArray tags = train.getFeatures(9);                           // [4, 9]
        assertArrayEquals(new long[]{4, 9}, tags.shape());
        for (int i = 0; i < 4; i++) {
            int drawn = TateBatchBuilder.pattern(1, 1.0, ids[i], 3);
            assertNotEquals(0, drawn);
            int absent = i == 2 ? 0b001 : 0;                           // row c has no image
            float[] expected = TateBatchBuilder.tag(drawn | absent, 3);
            float[] complete = TateBatchBuilder.tag(absent, 3);
            for (int k = 0; k < 4; k++) {
                assertEquals(expected[k], tags.getFloat(i, k), 0f, "row " + ids[i] + " bit " + k);
                assertEquals(complete[k], tags.getFloat(i, 4 + k), 0f);
                assertEquals(complete[k], teacher.getFeatures(9).getFloat(i, k), 0f, "teacher phase: no drop");
                assertEquals(complete[k], infer.getFeatures(9).getFloat(i, k), 0f, "inference: no drop");
            }
            assertEquals(1f, tags.getFloat(i, 8), 0f, "KL switch on in the student phase");
            assertEquals(0f, teacher.getFeatures(9).getFloat(i, 8), 0f);
            assertEquals(0f, infer.getFeatures(9).getFloat(i, 8), 0f);
            for (int m = 0; m < 3; m++) {
                INDArray input = train.getFeatures(3 * m).slice(i);
                INDArray full = train.getFeatures(3 * m + 1).slice(i);
                INDArray mask = train.getFeatures(3 * m + 2).slice(i);
                boolean dropped = (drawn >> m & 1) == 1;
                boolean present = (absent >> m & 1) == 0;
                assertEquals(present ? 1.0 : 0.0, mask.getRow(1).maxNumber().doubleValue(), "complete mask");
                assertEquals(present && !dropped ? 1.0 : 0.0, mask.getRow(0).maxNumber().doubleValue(), "input mask");
                if (dropped || !present) {
                    assertEquals(0.0, input.norm1Number().doubleValue(), "a missing modality's input is zeros");
                } else {
                    assertEquals(full, input);
                }
                assertEquals(teacher.getFeatures(3 * m).slice(i), full, "the complete copy is the teacher phase's input");
            }
        }
        // the evaluation's unavailable modalities show in the tag too
        MultiDataSet degraded = s.batchBuilder().build(rows(), List.of(Set.of("text"), Set.of("image", "text", "tags"),
                Set.of("image", "tags"), Set.of()), false);
        assertArrayEquals(new float[]{0, 1, 0, 1}, degraded.getFeatures(9).getRow(0).toFloatVector().length == 9
                ? java.util.Arrays.copyOf(degraded.getFeatures(9).getRow(0).toFloatVector(), 4) : null);
        assertArrayEquals(new float[]{1, 0, 0, 0}, java.util.Arrays.copyOf(degraded.getFeatures(9).getRow(1)
                .toFloatVector(), 4));
        assertArrayEquals(new float[]{0, 1, 1, 0}, java.util.Arrays.copyOf(degraded.getFeatures(9).getRow(2)
                .toFloatVector(), 4));
    }

    /** Teacher phase, freeze, student phase: the teacher's parameters never move after the freeze. */
    @Test
    void teacherPhaseThenStudentPhaseInATinyFit() {
        TateSpec s = spec(TINY + "missing_rate = 0.5");
        // Adam with weight decay: neither may move the teacher
        ComputationGraphConfiguration conf = s.graphConfiguration(new Optimisation(Optimisation.Optimizer.ADAM, 1e-3,
                0.05, 42, DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        MultiDataSet teacherBatch = s.trainingBatchBuilder(true).build(rows(), null, true);
        double first = net.score(teacherBatch, false);
        for (int i = 0; i < 30; i++) {
            net.fit(teacherBatch);
        }
        double trained = net.score(teacherBatch, false);
        assertTrue(Double.isFinite(first) && trained < first, "teacher loss " + first + " -> " + trained);
        Map<String, INDArray> core = net.getVertex(TateNetwork.CORE).paramTable(false);
        assertNotEquals(core.get("m0Wp"), core.get("tm0Wp"));
        s.startMainPhase(net);
        assertEquals(core.get("m0Wp"), core.get("tm0Wp"));
        assertEquals(core.get("eW1"), core.get("teW1"));
        assertEquals(net.getLayer(TateNetwork.embedding(s.inputs().get(1))).getParam("W"),
                net.getLayer(TateNetwork.teacherEmbedding(s.inputs().get(1))).getParam("W"));
        INDArray teacherText = net.getLayer(TateNetwork.teacherEmbedding(s.inputs().get(1))).getParam("W").dup();
        Map<String, INDArray> frozen = new HashMap<>();
        core.forEach((k, v) -> {
            if (TateCore.isTeacher(k)) {
                frozen.put(k, v.dup());
            }
        });
        INDArray studentBefore = core.get("eW1").dup();
        MultiDataSet studentBatch = s.trainingBatchBuilder(false).build(rows(), null, true);
        double start = net.score(studentBatch, false);
        for (int i = 0; i < 20; i++) {
            net.fit(studentBatch);
        }
        double end = net.score(studentBatch, false);
        assertTrue(Double.isFinite(start) && end < start, "student loss " + start + " -> " + end);
        assertNotEquals(studentBefore, core.get("eW1"));
        frozen.forEach((k, v) -> assertEquals(v, net.getVertex(TateNetwork.CORE).paramTable(false).get(k), k));
        assertEquals(teacherText, net.getLayer(TateNetwork.teacherEmbedding(s.inputs().get(1))).getParam("W"));
        GraphPredictor p = new GraphPredictor(s, net, new float[]{1 / 3f, 1 / 3f, 1 / 3f});
        float[][] probs = p.predict(rows(), List.of(Set.of("text"), Set.of("image"), Set.of(), Set.of("image", "tags")));
        for (float[] row : probs) {
            assertEquals(1.0, row[0] + row[1] + row[2], 1e-5);
        }
    }

    /** Two phases through the parameter-averaging job: one teacher epoch, then one student epoch. */
    @Test
    void trainsThroughTheDistributedTrainer() {
        String dir = TinyFeatureTable.scratch("tate");
        Conf root = Conf.parse("train {\nmodel { name = tate\ndim = 4\nheads = 2\nmax_length = 6\nteacher_epochs = 1\n"
                + "patch_size = 8\nembedding_dim = 4 }\nfeatures = \"" + TinyFeatureTable.path()
                + "\"\noutput = \"" + dir + "/model\"\nepochs = 1\nbatch_size_per_worker = 16\naveraging_frequency = 2\n"
                + "workers = 2\nlearning_rate = 0.002\nweight_decay = 0.01\n}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        DistributedTrainer.Result r = new DistributedTrainer(SparkTestSession.get()).train(cfg, false, false);
        assertEquals("tate", r.metadata().model());
        assertEquals(2, r.metadata().history().size(), "one teacher epoch, one student epoch");
        assertTrue(r.metadata().history().stream().allMatch(h -> Double.isFinite(h.loss())));
        Map<String, INDArray> core = r.model().network().getVertex(TateNetwork.CORE).paramTable(false);
        // frozen at the start of epoch 2; the student moved on during it (weight decay did not touch the teacher)
        assertNotEquals(core.get("eW1"), core.get("teW1"));
        assertNotEquals(0.0, core.get("teW1").norm2Number().doubleValue());
    }
}
