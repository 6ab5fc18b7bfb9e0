package dev.mmspark.evaluation.alignment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.evaluation.leaderboard.ResultRow;
import dev.mmspark.features.kg.KgTable;
import dev.mmspark.features.kg.KgTensors;
import dev.mmspark.training.alignment.ModelDirectory;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * Entry point of {@code mmspark evaluate-alignment}: the test pairs of the model's KG table are ranked with
 * the model's entity embeddings by {@link AlignmentEvaluator} (cosine and CSLS), and one leaderboard row per
 * similarity is appended (metric_set {@code alignment}, eval_subset = the modality set, the similarity in
 * {@code details}).
 */
public final class AlignmentEvaluation {
    private static final Logger LOG = LoggerFactory.getLogger(AlignmentEvaluation.class);
    public static final String METRIC_SET = "alignment";

    private AlignmentEvaluation() {
    }

    /** The rows appended, the leaderboard snapshot that holds them, and the metrics. */
    public record Result(List<ResultRow> rows, long snapshot, AlignmentMetrics cosine, AlignmentMetrics csls) {
    }

    public static Result evaluate(SparkSession spark, AlignmentEvalConfig cfg, LeaderboardConfig leaderboard) {
        ModelDirectory dir = ModelDirectory.open(spark.sparkContext().hadoopConfiguration(), cfg.model());
        JsonNode meta = dir.metadata();
        String tablePath = meta.path("kg_table").path("path").asText();
        KgTable table = KgTable.open(spark, tablePath);
        String trainedHash = meta.path("kg_table").path("table_hash").asText();
        if (!trainedHash.equals(table.metadata().tableHash())) {
            throw new InputException("model " + cfg.model() + " was trained on KG table " + tablePath + " with content"
                    + " hash " + trainedHash + ", but the table now hashes to " + table.metadata().tableHash()
                    + "; retrain the model");
        }
        KgTensors.Pairs test = table.testPairs();
        int n = test.size();
        int dim = meta.path("embedding_dim").asInt();
        Dataset<Row> embeddings = spark.read().parquet(dir.embeddingsPath()).select("index", "embedding");
        JavaPairRDD<Integer, float[]> left = side(spark, embeddings, test.left());
        JavaPairRDD<Integer, float[]> right = side(spark, embeddings, test.right());
        AlignmentMetrics[] m = AlignmentEvaluator.evaluate(JavaSparkContext.fromSparkContext(spark.sparkContext()),
                left, right, n, dim, cfg.settings());
        for (AlignmentMetrics x : m) {
            LOG.info("{} {} on {} test pairs ({}): H@1 {} H@10 {} MRR {} (l2r) | H@1 {} H@10 {} MRR {} (r2l)",
                    meta.path("model").asText(), x.similarity(), n, meta.path("modality_label").asText(),
                    f(x.hits1L2r()), f(x.hits10L2r()), f(x.mrrL2r()), f(x.hits1R2l()), f(x.hits10R2l()), f(x.mrrR2l()));
        }
        List<ResultRow> rows = new ArrayList<>();
        for (AlignmentMetrics x : m) {
            rows.add(row(meta, dir.path(), table, x, cfg));
        }
        Leaderboard board = Leaderboard.open(spark, leaderboard);
        long snapshot = board.append(rows);
        return new Result(rows, snapshot, m[0], m[1]);
    }

    private static String f(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    /** (pair number, embedding) of the given entity indices, joined on the executors. */
    private static JavaPairRDD<Integer, float[]> side(SparkSession spark, Dataset<Row> embeddings, int[] entities) {
        List<Row> pairs = new ArrayList<>(entities.length);
        for (int p = 0; p < entities.length; p++) {
            pairs.add(RowFactory.create(p, entities[p]));
        }
        StructType schema = new StructType().add("p", DataTypes.IntegerType, false).add("e", DataTypes.IntegerType,
                false);
        Dataset<Row> joined = spark.createDataFrame(pairs, schema).join(embeddings, col("e").equalTo(col("index")));
        return joined.select("p", "embedding").javaRDD().mapToPair(r -> {
            List<Float> v = r.getList(1);
            float[] a = new float[v.size()];
            for (int d = 0; d < a.length; d++) {
                a[d] = v.get(d);
            }
            return new Tuple2<>(r.getInt(0), a);
        });
    }

    private static ResultRow row(JsonNode meta, String modelPath, KgTable table, AlignmentMetrics m,
                                 AlignmentEvalConfig cfg) {
        Provenance prov = Provenance.current();
        JsonNode training = meta.path("training");
        String configHash = meta.path("config_hash").asText();
        String runId = ContentHash.ofString(configHash + "|" + table.metadata().tableHash() + "|"
                + meta.path("provenance").path("git_commit").asText() + "|" + meta.path("seed").asLong() + "|"
                + meta.path("created_at").asText()).substring(0, 16);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("similarity", m.similarity());
        details.put("csls_k", cfg.cslsK());
        details.put("rank", "1 + candidates with a strictly greater similarity; candidates: the other side's test"
                + " entities");
        details.put("block_size", cfg.blockSize());
        details.put("modalities", meta.path("modalities"));
        details.put("epochs", training.path("epochs").asInt());
        details.put("seconds_per_epoch", training.path("seconds_per_epoch").asDouble());
        details.put("split", meta.path("split"));
        double trainSeconds = training.path("train_seconds").asDouble();
        long pairs = 0;
        for (JsonNode h : training.path("history")) {
            pairs += h.path("pairs").asLong();
        }
        String fusion = switch (meta.path("model").asText()) {
            case "mclea" -> "weighted_concat";
            case "meaformer" -> "meta_weighted_concat";
            default -> null;
        };
        Timestamp trained = Timestamp.from(Instant.parse(meta.path("created_at").asText()));
        return new ResultRow(runId, null, meta.path("model").asText(), fusion, table.metadata().name(), table.path(),
                table.metadata().tableHash(), "test", meta.path("seed").asLong(), configHash,
                meta.path("config").toString(), meta.path("modality_label").asText(), "none", 0.0, null, METRIC_SET,
                m.n(), m.asMap(), Json.write(details), modelPath, meta.path("param_count").asLong(), trainSeconds,
                trainSeconds > 0 ? pairs / trainSeconds : 0, prov.codeVersion(), prov.sparkVersion(),
                prov.dl4jVersion() + " (" + prov.nd4jBackend() + ")", trained, Timestamp.from(Instant.now()));
    }
}
