package dev.mmspark.training.alignment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.features.kg.KgExtractionConfig;
import dev.mmspark.features.kg.KgFeatureExtraction;
import dev.mmspark.features.kg.KgTable;
import dev.mmspark.features.kg.KgTensors;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark trainer end to end on a synthetic pair of graphs (two copies of a random 60-entity graph with
 * permuted ids, 30% of the pairs for training): two workers on local[2], parameter averaging every minibatch.
 */
class AlignmentTrainingTest {
    static final SparkSession SPARK = SparkTestSession.get();
    @TempDir
    static Path tmp;
    static String table;

    @BeforeAll
    static void extract() {
        SyntheticKg kg = new SyntheticKg(60, 3, true, 1);
        table = tmp.resolve("kg").toString();
        Conf c = Conf.parse("extract { output = \"" + table + "\"\nkg { name_vectors = random, dim = 8, char_ngram = 2,"
                + " split { seed = 3, train = 0.3 } } }");
        KgExtractionConfig cfg = KgExtractionConfig.from(c.section("extract"));
        KgFeatureExtraction.run(SPARK, kg.rows(SPARK, "synthetic"), new KgFeatureExtraction.Input("test", "/none",
                List.of()), cfg, false, new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "kg"), null);
    }

    static AlignmentTrainConfig config(String output, String model, String extra) {
        Conf c = Conf.parse("train { kg_table = \"" + table + "\", output = \"" + output + "\"\n model { " + model
                + " }\n workers = 2, batch_size = 8, averaging_frequency = 1, learning_rate = 0.005, seed = 5\n" + extra
                + " }");
        AlignmentTrainConfig cfg = AlignmentTrainConfig.from(c.section("train"));
        c.rejectUnknownKeys();
        return cfg;
    }

    /** Test-pair metrics computed from the written embeddings (cosine, left to right). */
    static Map<String, Double> testMetrics(String output) {
        KgTensors.Pairs test = KgTable.open(SPARK, table).testPairs();
        List<Row> rows = SPARK.read().parquet(output + "/" + ModelDirectory.EMBEDDINGS).orderBy("index").collectAsList();
        int dim = rows.get(0).getList(3).size();
        float[] l = new float[test.size() * dim];
        float[] r = new float[test.size() * dim];
        for (int i = 0; i < test.size(); i++) {
            List<Float> a = rows.get(test.left()[i]).getList(3);
            List<Float> b = rows.get(test.right()[i]).getList(3);
            for (int d = 0; d < dim; d++) {
                l[i * dim + d] = a.get(d);
                r[i * dim + d] = b.get(d);
            }
        }
        return RankingMetrics.compute(l, r, test.size(), dim, 3);
    }

    @Test
    void mcleaLearnsToAlignWithTwoWorkers() {
        String out = tmp.resolve("mclea").toString();
        AlignmentTraining.Result r = AlignmentTraining.train(SPARK, config(out, "name = mclea, modalities = [structure,"
                + " relation, name], dim = 16, modality_dim = 8", "epochs = 12, validation { fraction = 0.2, every = 4 }"),
                false, false);
        Map<String, Double> m = testMetrics(out);
        // 42 test pairs: chance H@1 is 1/42 ≈ 0.024
        assertTrue(m.get("cos_hits_at_1_l2r") > 0.3, "test H@1 " + m);
        assertEquals("structure+relation+name", r.metadata().get("modality_label"));
        @SuppressWarnings("unchecked")
        Map<String, Object> training = (Map<String, Object>) r.metadata().get("training");
        assertEquals(12, training.get("epochs"));
        assertEquals(2, training.get("workers"));
        assertTrue(Files.exists(Path.of(out, ModelDirectory.METADATA)));
        assertTrue(Files.exists(Path.of(out, ModelDirectory.PARAMS)));
    }

    @Test
    void meaformerTrainsOnEveryModalityItFinds() {
        // no modality list: all six of the paper, and the synthetic table has them all (images for half the entities)
        String out = tmp.resolve("meaformer").toString();
        AlignmentTraining.Result r = AlignmentTraining.train(SPARK, config(out, "name = meaformer, dim = 8,"
                + " intermediate = 8", "epochs = 8, learning_rate = 0.005, batch_size = 8"), false, false);
        assertEquals("structure+relation+attribute+image+name+char", r.metadata().get("modality_label"));
        Map<String, Double> m = testMetrics(out);
        assertTrue(m.get("cos_hits_at_1_l2r") > 0.3, "test H@1 " + m);
    }

    /**
     * Training 2 epochs and resuming to 3 continues at epoch 3 from the checkpoint, with the same result as an
     * uninterrupted 3-epoch run.
     */
    @Test
    void resumeContinuesAtTheNextEpoch() {
        String model = "name = mclea, modalities = [structure, name], dim = 8, modality_dim = 4";
        String a = tmp.resolve("resumed").toString();
        String b = tmp.resolve("straight").toString();
        AlignmentTraining.train(SPARK, config(a, model, "epochs = 2"), false, false);
        MmsparkException exists = assertThrows(MmsparkException.class,
                () -> AlignmentTraining.train(SPARK, config(a, model, "epochs = 3"), false, false));
        assertEquals(ExitCode.OUTPUT_EXISTS, exists.exitCode());
        // a finished model is not resumable: remove its completion marker to simulate a run stopped after epoch 2
        assertTrue(Path.of(a, ModelDirectory.METADATA).toFile().delete());
        AlignmentTraining.train(SPARK, config(a, model, "epochs = 3"), true, false);
        AlignmentTraining.train(SPARK, config(b, model, "epochs = 3"), false, false);
        JsonNode training = ModelDirectory.open(SPARK.sparkContext().hadoopConfiguration(), a).metadata().get("training");
        assertEquals("[2]", training.get("resumed_at").toString());
        List<Integer> epochs = new java.util.ArrayList<>();
        training.get("history").forEach(h -> epochs.add(h.get("epoch").asInt()));
        assertEquals(List.of(1, 2, 3), epochs);
        ParamSet pa = ModelDirectory.open(SPARK.sparkContext().hadoopConfiguration(), a).readParams();
        ParamSet pb = ModelDirectory.open(SPARK.sparkContext().hadoopConfiguration(), b).readParams();
        for (String name : pa.names()) {
            assertArrayEquals(pb.get(name), pa.get(name), 1e-6f, name);
        }
        // a different seed cannot resume this run
        assertTrue(Path.of(a, ModelDirectory.METADATA).toFile().delete());
        String msg = assertThrows(MmsparkException.class, () -> AlignmentTraining.train(SPARK,
                config(a, model, "epochs = 4, seed = 6"), true, false)).getMessage();
        assertTrue(msg.contains("seed = 5, the configuration now gives 6"), msg);
    }
}
