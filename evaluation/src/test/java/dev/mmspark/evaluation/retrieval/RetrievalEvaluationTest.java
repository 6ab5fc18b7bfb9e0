package dev.mmspark.evaluation.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.evaluation.leaderboard.ResultRow;
import dev.mmspark.evaluation.metrics.ConfusionMetrics;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.EpochStats;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.TrainedModel;
import dev.mmspark.training.TrainedModels;
import dev.mmspark.training.model.CommonSpaceSpec;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.Predictions;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DSCMR end to end on the tiny synthetic table (16x16 pixels through the CNN, tokens through averaged word
 * vectors, a third of the samples missing a modality): trained by the distributed trainer on two workers,
 * then evaluated by retrieval on the executors in several blocks, with CCA, into the leaderboard.
 */
class RetrievalEvaluationTest {
    private static SparkSession spark;
    private static String table;
    private static TrainedModel model;

    @BeforeAll
    static void train() {
        spark = SparkTestSession.get();
        table = TinyFeatureTable.path();
        String dir = TinyFeatureTable.scratch("dscmr");
        Conf root = Conf.parse("train {\nmodel { name = dscmr, common_dim = 8, image { hidden = [16], "
                + "cnn_channels = [4, 8] }, text { hidden = [16] } }\nfeatures = \"" + table + "\"\noutput = \"" + dir
                + "/model\"\nepochs = 2\nbatch_size_per_worker = 16\naveraging_frequency = 2\nworkers = 2\n"
                + "learning_rate = 0.005\ncheckpoint.every_epochs = 0\n}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, false);
        long paired = FeatureTable.open(spark, table).split("train")
                .where("image_present AND text_present AND label_index >= 0").count();
        long all = FeatureTable.open(spark, table).split("train").where("label_index >= 0").count();
        assertTrue(paired < all, "the fixture has unpaired training samples");
        // the trainer fits whole minibatches of 16 per epoch; more than the paired rows: the unpaired ones are fed
        // too (they add nothing to the loss)
        long fed = all - all % 16;
        assertTrue(fed > paired, "fed " + fed + ", paired " + paired);
        for (EpochStats e : r.metadata().history()) {
            assertEquals(fed, e.examples(), "every round's rows are fed, paired or not");
            assertTrue(Double.isFinite(e.loss()) && e.loss() > 0, "loss " + e.loss());
        }
        model = TrainedModels.load(spark, cfg.output());
    }

    private static EvaluateConfig config(String extra) {
        return EvaluateConfig.from(Conf.parse("model = \"" + model.path() + "\"\nbatch_size = 7\n"
                + "retrieval { ks = [1, 5], block_size = 16 }\n" + extra));
    }

    @Test
    void retrievalOfTheModelAndOfCcaOnTheExecutors() {
        RetrievalEvaluation.Result r = RetrievalEvaluation.evaluate(spark, config(""), model);
        assertEquals(List.of("dscmr", "cca"), r.rows().stream().map(ResultRow::model).toList());
        assertEquals(List.of("raw_cosine baseline skipped: image features have 768 values and text features 16; a "
                + "cosine needs one space"), r.notes());

        // the distributed mAP of the model equals the single-machine one on embeddings computed here
        List<Row> test = FeatureTable.open(spark, table).split("test").where("label_index >= 0").collectAsList();
        EmbeddingPredictor p = model.embeddingPredictor();
        List<RetrievalItem> images = items(test, p, "image");
        List<RetrievalItem> texts = items(test, p, "text");
        DirectionMetrics i2t = ReferenceRetrieval.evaluate(images, texts, List.of(1, 5));
        DirectionMetrics t2i = ReferenceRetrieval.evaluate(texts, images, List.of(1, 5));
        Map<String, Double> m = r.byMethod().get("dscmr");
        assertEquals(i2t.map(), m.get("map_i2t"), 1e-12);
        assertEquals(t2i.map(), m.get("map_t2i"), 1e-12);
        assertEquals(i2t.mapAtR(), m.get("map_at_r_i2t"), 1e-12);
        assertEquals(t2i.precisionAtK().get(5), m.get("p_at_5_t2i"), 1e-12);
        assertEquals((i2t.map() + t2i.map()) / 2, m.get("map_avg"), 1e-12);

        ResultRow row = r.rows().get(0);
        assertEquals("retrieval", row.metricSet());
        assertEquals(test.stream().filter(t -> t.getBoolean(t.fieldIndex("image_present"))
                || t.getBoolean(t.fieldIndex("text_present"))).count(), row.nSamples());
        JsonNode details = Json.tree(row.details());
        assertEquals(images.size(), details.get("i2t").get("queries").asLong());
        assertEquals(texts.size(), details.get("i2t").get("candidates").asLong());
        assertEquals("image", details.get("i2t").get("query_modality").asText());

        Map<String, Double> cca = r.byMethod().get("cca");
        assertEquals(m.keySet(), cca.keySet());
        for (double v : cca.values()) {
            assertTrue(v >= 0 && v <= 1, "metric in [0, 1]: " + cca);
        }
        JsonNode ccaDetails = Json.tree(r.rows().get(1).details()).get("cca");
        assertEquals(16, ccaDetails.get("components").asInt());
        assertTrue(ccaDetails.get("fit_pairs").asLong() > 10);
    }

    /**
     * DSCMR with a pair head (MLB, a SameDiff fusion vertex, trained through the distributed trainer): its row
     * gains pair_accuracy and pair_macro_f1 of the fused pair classifier on the test rows with both modalities --
     * equal to the argmax of that output computed here -- and keeps every retrieval metric; the model without a
     * head and the baselines get no pair metrics.
     */
    @Test
    void pairClassifierMetricsOnlyForAModelWithAPairHead() {
        String dir = TinyFeatureTable.scratch("dscmr-pair");
        Conf root = Conf.parse("train {\nmodel { name = dscmr, common_dim = 8, image { hidden = [16], "
                + "cnn_channels = [4, 8] }, text { hidden = [16] }, pair_fusion { name = mlb, mm_dim = 8, "
                + "output_dim = 4 }, pair_weight = 0.5 }\nfeatures = \"" + table + "\"\noutput = \"" + dir
                + "/model\"\nepochs = 1\nbatch_size_per_worker = 16\naveraging_frequency = 2\nworkers = 2\n"
                + "learning_rate = 0.005\ncheckpoint.every_epochs = 0\n}");
        TrainConfig cfg = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        DistributedTrainer.Result trained = new DistributedTrainer(spark).train(cfg, false, false);
        assertTrue(Double.isFinite(trained.metadata().history().get(0).loss()));
        TrainedModel paired = TrainedModels.load(spark, cfg.output());

        RetrievalEvaluation.Result r = RetrievalEvaluation.evaluate(spark, EvaluateConfig.from(Conf.parse("model = \""
                + paired.path() + "\"\nbatch_size = 7\nretrieval { ks = [1, 5], block_size = 16 }\n")), paired);
        Map<String, Double> m = r.byMethod().get("dscmr");
        Map<String, Double> plain = RetrievalEvaluation.evaluate(spark, config("retrieval.baselines = []"), model)
                .byMethod().get("dscmr");
        assertFalse(plain.containsKey("pair_accuracy") || plain.containsKey("pair_macro_f1"), plain.toString());
        assertFalse(r.byMethod().get("cca").containsKey("pair_accuracy"));
        java.util.Set<String> expected = new java.util.LinkedHashSet<>(plain.keySet());
        expected.add("pair_accuracy");
        expected.add("pair_macro_f1");
        assertEquals(expected, m.keySet());

        // the distributed figures equal the argmax of the pair output on the driver
        List<Row> pairs = FeatureTable.open(spark, table).split("test")
                .where("label_index >= 0 AND image_present AND text_present").collectAsList();
        GraphPredictor p = paired.predictor();
        int o = p.spec().outputs().indexOf(((CommonSpaceSpec) paired.spec()).pairClassifier().orElseThrow());
        assertEquals(1, o);
        GraphPredictor.Scores s = p.scores(pairs, null);
        ConfusionMetrics cm = new ConfusionMetrics(p.classNames().size());
        long correct = 0;
        for (int i = 0; i < pairs.size(); i++) {
            int label = pairs.get(i).getInt(pairs.get(i).fieldIndex("label_index"));
            int predicted = Predictions.argmax(s.values()[o][i]);
            cm.add(label, predicted);
            correct += label == predicted ? 1 : 0;
        }
        assertTrue(pairs.size() > 5, "test pairs: " + pairs.size());
        assertEquals((double) correct / pairs.size(), m.get("pair_accuracy"), 1e-12);
        assertEquals(cm.metrics(p.classNames()).macroF1(), m.get("pair_macro_f1"), 1e-12);

        ResultRow row = r.rows().get(0);
        assertEquals("mlb", row.fusion());
        JsonNode d = Json.tree(row.details()).get("pair_classifier");
        assertEquals(pairs.size(), d.get("rows").asLong());
        assertEquals("pair_classifier", d.get("output").asText());
    }

    @Test
    void rowsGoToTheLeaderboard() {
        String wh = TinyFeatureTable.scratch("dscmr-leaderboard") + "/warehouse";
        Leaderboard lb = Leaderboard.open(spark, new LeaderboardConfig(wh, "dscmrlb", "leaderboard", "results"));
        RetrievalEvaluation.evaluateAndRecord(spark, config("retrieval.baselines = [cca]"), model, lb);
        List<Row> rows = spark.sql("SELECT model, metric_set, metrics['map_i2t'], model_path FROM "
                + "dscmrlb.leaderboard.results ORDER BY model").collectAsList();
        assertEquals(List.of("cca", "dscmr"), rows.stream().map(x -> x.getString(0)).toList());
        assertEquals("retrieval", rows.get(0).getString(1));
        assertTrue(rows.get(0).isNullAt(3), "a baseline has no model directory");
    }

    @Test
    void missingModalityProtocolsAreRefusedForRetrieval() {
        ConfigException e = assertThrows(ConfigException.class, () -> RetrievalEvaluation.evaluate(spark,
                config("missing.modality_rates = [0.1]"), model));
        assertTrue(e.getMessage().contains("missing-modality protocols are implemented for per-sample models only"),
                e.getMessage());
    }

    private static List<RetrievalItem> items(List<Row> rows, EmbeddingPredictor p, String modality) {
        float[][] e = p.embeddings(rows, modality);
        List<RetrievalItem> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (e[i] != null) {
                Row r = rows.get(i);
                out.add(RetrievalItem.of(r.getString(r.fieldIndex("id")), r.getInt(r.fieldIndex("label_index")), e[i]));
            }
        }
        return out;
    }
}
