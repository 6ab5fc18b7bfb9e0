package dev.mmspark.training;

import dev.mmspark.common.InputException;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.Predictions;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Distributed training on a tiny synthetic feature table: two workers on local[2] with parameter averaging,
 * saving, loading, predicting on executors, checkpoints and resume.
 */
class DistributedTrainerTest {
    /** A small multitask model: every branch and head is there, with few units. */
    static final String MODEL = """
            representation_dim = 16
            head_hidden = [16, 8]
            image { cnn_channels = [4, 8] }
            text { filters = 8, windows = [2, 3] }
            tags { embedding_dim = 8, filters = 8 }
            """;

    private static SparkSession spark;
    private static String table;

    @BeforeAll
    static void setUp() {
        spark = SparkTestSession.get();
        table = TinyFeatureTable.path();
    }

    static TrainConfig config(String dir, String extra) {
        Conf root = Conf.parse("train {\nmodel { name = multitask\n" + MODEL + "}\nfeatures = \"" + table + "\"\n"
                + "output = \"" + dir + "/model\"\nepochs = 2\nbatch_size_per_worker = 16\naveraging_frequency = 2\n"
                + "workers = 2\nlearning_rate = 0.005\n" + extra + "}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        return cfg;
    }

    private static List<Row> rows(String split, TrainedModel model) {
        return DistributedTrainer.labelled(FeatureTable.open(spark, table), split,
                model.spec().batchBuilder().columns()).orderBy("id").collectAsList();
    }

    @Test
    void trainsOnTwoWorkersThenSavesReloadsAndPredicts() {
        String dir = TinyFeatureTable.scratch("two-workers");
        TrainConfig cfg = config(dir, "");
        DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, false);
        ModelMetadata meta = r.metadata();
        long trainRows = FeatureTable.open(spark, table).split("train").count();
        long perEpoch = trainRows - trainRows % 16; // exact minibatches of 16, the rest waits for the next epoch
        assertEquals(2, meta.history().size());
        for (EpochStats e : meta.history()) {
            assertEquals(perEpoch, e.examples(), "full minibatches of distinct examples each epoch");
            assertTrue(e.loss() > 0 && Double.isFinite(e.loss()), "loss " + e.loss());
            assertNotNull(e.validationAccuracy());
            assertEquals(7, e.outputAccuracy().size());
        }
        assertEquals(2, meta.training().workers());
        assertEquals(FeatureTable.open(spark, table).metadata().tableHash(), meta.featureTable().tableHash());
        assertEquals(Set.of("text", "tags"), meta.featureTable().vocabularies().keySet());
        assertEquals(42L, ((Number) meta.config().get("seed")).longValue());
        assertEquals(1.0, sum(meta.prior()), 1e-6);
        assertTrue(new File(dir, "model/network.zip").isFile());
        assertFalse(new File(dir, "model.work/export").exists(), "exported minibatches are removed");
        assertEquals(2, new File(dir, "model.work/checkpoints").list((d, n) -> n.startsWith("epoch-")).length);
        // keep_best (default): the saved model is the epoch with the best validation accuracy, kept on disk
        EpochStats top = DistributedTrainer.bestStats(meta.history(), Integer.MAX_VALUE);
        assertEquals(top.epoch(), meta.validation().epoch());
        Checkpoints best = new Checkpoints(spark.sparkContext().hadoopConfiguration(), cfg.bestDir(), 1);
        assertEquals(top.epoch(), best.latest().orElseThrow().state().epoch());
        assertEquals(best.restore(best.latest().orElseThrow()).params(), r.model().network().params());

        TrainedModel loaded = TrainedModels.load(spark, cfg.output());
        loaded.checkCompatible(FeatureTable.open(spark, table));
        assertEquals(r.model().network().params(), loaded.network().params());
        List<Row> test = rows("test", loaded);
        Predictions before = r.model().predictor().predictions(test, null);
        Predictions after = loaded.predictor().predictions(test, null);
        assertArrayEquals(before.outputs(), after.outputs());
        for (int i = 0; i < test.size(); i++) {
            assertArrayEquals(before.probabilities()[i], after.probabilities()[i], 1e-6f);
            assertEquals(1.0, sum(after.probabilities()[i]), 1e-4);
        }

        // the documented way: broadcast the predictor and call it on the executors
        Broadcast<GraphPredictor> bc = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(loaded.predictor());
        List<float[]> distributed = DistributedTrainer.labelled(FeatureTable.open(spark, table), "test",
                        loaded.spec().batchBuilder().columns()).orderBy("id").javaRDD()
                .mapPartitions(it -> {
                    List<Row> batch = new ArrayList<>();
                    it.forEachRemaining(batch::add);
                    return batch.isEmpty() ? List.<float[]>of().iterator()
                            : Arrays.asList(bc.value().predict(batch, null)).iterator();
                }).collect();
        assertEquals(test.size(), distributed.size());
        for (int i = 0; i < test.size(); i++) {
            assertArrayEquals(after.probabilities()[i], distributed.get(i), 1e-6f);
        }
    }

    @Test
    void resumeContinuesAfterTheLastCheckpointAndRejectsOtherSettings() {
        String dir = TinyFeatureTable.scratch("resume");
        DistributedTrainer trainer = new DistributedTrainer(spark);
        DistributedTrainer.Result first = trainer.train(config(dir, "epochs = 1"), false, false);
        EpochStats epoch1 = first.metadata().history().get(0);
        String checkpoint = "file:" + new File(dir, "model.work/checkpoints/epoch-000001").getAbsolutePath();

        MmsparkException other = assertThrows(MmsparkException.class,
                () -> trainer.train(config(dir, "learning_rate = 0.01\nmodel.text.filters = 4"), true, true));
        assertEquals("cannot resume from checkpoint " + checkpoint + ": it was written with other settings: "
                + "train.model.text.filters is 8 in the checkpoint and 4 now; train.learning_rate is 0.005 in the "
                + "checkpoint and 0.01 now. Resume with the settings it was written with, or start over with --overwrite",
                other.getMessage());

        MmsparkException fresh = assertThrows(MmsparkException.class, () -> trainer.train(config(dir, ""), false, false));
        assertTrue(fresh.getMessage().contains("already exists"), fresh.getMessage());

        // keep_best off: this test is about the network of the last epoch continuing the checkpoint's
        DistributedTrainer.Result second = trainer.train(config(dir, "keep_best = false"), true, true);
        assertEquals(1, second.metadata().training().resumedFromEpoch());
        assertEquals(List.of(1, 2), second.metadata().history().stream().map(EpochStats::epoch).toList());
        assertEquals(epoch1, second.metadata().history().get(0), "epoch 1 comes from the checkpoint");
        assertEquals(2, second.model().network().getConfiguration().getEpochCount());
        assertNotEquals(first.model().network().params(), second.model().network().params());
    }

    @Test
    void aDriverLostInsideAnEpochResumesAtTheNextAveragingRound() throws Exception {
        // 105 training rows, 2 workers x 16 per minibatch, averaging every 2: two rounds per epoch. Dropout off:
        // its masks come from the executor thread's ND4J generator, whose state depends on what the JVM ran
        // before, so with dropout a resumed run is equivalent in distribution only, not to the bit.
        String extra = "epochs = 2\nkeep_best = false\ncheckpoint { every_rounds = 1, keep = 10 }\n"
                + "model.text.dropout = 0";
        String a = TinyFeatureTable.scratch("rounds-a");
        DistributedTrainer trainer = new DistributedTrainer(spark);
        DistributedTrainer.Result whole = trainer.train(config(a, extra), false, false);
        java.nio.file.Path ca = new File(a, "model.work/checkpoints").toPath();
        try (java.util.stream.Stream<java.nio.file.Path> s = Files.list(ca)) {
            assertEquals(List.of("epoch-000000-round-000001", "epoch-000001", "epoch-000001-round-000001",
                    "epoch-000002"), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("epoch"))
                    .sorted().toList());
        }
        // The driver of run b died during epoch 2, after its first averaging round was checkpointed.
        String b = TinyFeatureTable.scratch("rounds-b");
        java.nio.file.Path cb = Files.createDirectories(new File(b, "model.work/checkpoints").toPath());
        for (String name : List.of("epoch-000001", "epoch-000001-round-000001")) {
            org.apache.commons.io.FileUtils.copyDirectory(ca.resolve(name).toFile(), cb.resolve(name).toFile());
        }
        DistributedTrainer.Result resumed = trainer.train(config(b, extra), true, false);
        assertEquals(1, resumed.metadata().training().resumedFromEpoch());
        EpochStats w2 = whole.metadata().history().get(1);
        EpochStats r2 = resumed.metadata().history().get(1);
        assertEquals(w2.examples(), r2.examples(), "epoch 2 counts the examples of both rounds");
        assertEquals(w2.loss(), r2.loss(), 1e-3 * Math.abs(w2.loss()), "epoch 2 loss");
        INDArray diff = whole.model().network().params().sub(resumed.model().network().params());
        double maxDiff = diff.amaxNumber().doubleValue();
        assertTrue(maxDiff < 1e-4, "resumed parameters differ from the uninterrupted run's by " + maxDiff);
    }

    @Test
    void loadingRejectsANetworkThatIsNotTheOneTheSpecDescribes() throws Exception {
        String dir = TinyFeatureTable.scratch("mismatch");
        TrainConfig cfg = config(dir, "epochs = 1\nvalidate_each_epoch = false\ncheckpoint.every_epochs = 0");
        DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, false);
        assertFalse(new File(dir, "model.work/checkpoints").exists());

        // a network.zip of the same model with wider heads, next to the original metadata.json
        TrainConfig wider = config(dir + "/wider", "model.head_hidden = [12, 8]");
        ComputationGraph other = new ComputationGraph(wider.modelParams()
                .resolve(FeatureTable.open(spark, table).metadata(), table).graphConfiguration(wider.optimisation()));
        other.init();
        File zip = new File(dir, "model/network.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(other, zip, true);
        Files.deleteIfExists(new File(dir, "model/.network.zip.crc").toPath()); // Hadoop's checksum of the old file
        InputException e = assertThrows(InputException.class, () -> TrainedModels.load(spark, r.output()));
        long want = 16L * 16 + 16;
        long have = 16L * 12 + 12;
        assertEquals("model directory " + r.output() + ": network.zip does not match the multitask model its spec "
                + "describes: layer 'head_image_fc1' has " + have + " parameters, the spec needs " + want, e.getMessage());

        // a feature table with the classes in another order
        File copy = new File(dir, "table-copy");
        copyTree(new File(table), copy);
        File metaFile = new File(copy, "metadata.json");
        Files.writeString(metaFile.toPath(), Files.readString(metaFile.toPath())
                .replaceFirst("\"classes\" : \\[ \"c0\", \"c1\", \"c2\" \\]", "\"classes\" : [ \"c1\", \"c0\", \"c2\" ]"));
        TrainedModel model = r.model();
        InputException mismatch = assertThrows(InputException.class,
                () -> model.checkCompatible(FeatureTable.open(spark, copy.toString())));
        assertEquals("model " + r.output() + " (multitask, trained on " + table + ") does not fit feature table "
                + copy + ": the table has classes [c1, c0, c2], the model [c0, c1, c2]", mismatch.getMessage());
    }

    private static void copyTree(File from, File to) throws Exception {
        try (var s = Files.walk(from.toPath())) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) s::iterator) {
                java.nio.file.Path target = to.toPath().resolve(from.toPath().relativize(p));
                if (p.getFileName().toString().endsWith(".crc")) {
                    continue; // Hadoop's checksums would not match the edited copy
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    @Test
    void bestEpochIsTheEarliestHighestValidationAccuracy() {
        List<EpochStats> h = List.of(new EpochStats(1, 1, 1, 1, 1, 0.60, null), new EpochStats(2, 1, 1, 1, 1, 0.70, null),
                new EpochStats(3, 1, 1, 1, 1, 0.70, null), new EpochStats(4, 1, 1, 1, 1, 0.65, null));
        assertEquals(2, DistributedTrainer.bestStats(h, Integer.MAX_VALUE).epoch());
        assertEquals(1, DistributedTrainer.bestStats(h, 1).epoch());
        assertEquals(null, DistributedTrainer.bestStats(List.of(new EpochStats(1, 1, 1, 1, 1, null, null)), 9));
    }
}
