package dev.mmspark.evaluation.samples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.RunIds;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.ResultRow;
import dev.mmspark.evaluation.metrics.ClassificationMetrics;
import dev.mmspark.evaluation.metrics.ConfusionMetrics;
import dev.mmspark.evaluation.metrics.RegressionMetrics;
import dev.mmspark.evaluation.missing.FrameDropper;
import dev.mmspark.evaluation.missing.MissingProtocol;
import dev.mmspark.evaluation.missing.ModalityDropper;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.ModelMetadata;
import dev.mmspark.training.TrainedModel;
import dev.mmspark.training.TrainedModels;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.Predictions;
import dev.mmspark.training.model.Task;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Scores a trained per-sample model on a split, on the executors, under every requested condition in one
 * pass: each modality subset (on the rows that have it, and on the rows that have every modality), each
 * sample's natural modalities, and the missing-modality protocols at each rate. Per condition the
 * executors sum a confusion matrix (classification) or regression sums; only those come back. Writes one
 * leaderboard row per condition, a row per protocol with the area under the metric-vs-rate curve, and a
 * majority-class baseline row for the split.
 */
public final class SampleEvaluation {
    private static final Logger LOG = LoggerFactory.getLogger(SampleEvaluation.class);

    private SampleEvaluation() {
    }

    /** Everything computed, before it goes to the leaderboard. */
    public record Result(String runId, List<ResultRow> rows, Map<String, Map<String, Double>> byCondition) {
    }

    /** Per-condition tallies of one partition (or all of them). */
    private record Tally(ConfusionMetrics[] confusion, RegressionMetrics.Accumulator[] regression)
            implements Serializable {
        Tally plus(Tally o) {
            ConfusionMetrics[] c = new ConfusionMetrics[confusion.length];
            RegressionMetrics.Accumulator[] r = new RegressionMetrics.Accumulator[regression.length];
            for (int i = 0; i < c.length; i++) {
                c[i] = confusion[i] == null ? null : confusion[i].plus(o.confusion[i]);
                r[i] = regression[i] == null ? null : regression[i].plus(o.regression[i]);
            }
            return new Tally(c, r);
        }
    }

    public static Result evaluate(SparkSession spark, EvaluateConfig cfg) {
        long t0 = System.currentTimeMillis();
        TrainedModel model = TrainedModels.load(spark, cfg.model());
        ModelMetadata meta = model.metadata();
        String tablePath = cfg.features() != null ? cfg.features() : meta.featureTable().path();
        FeatureTable table = FeatureTable.open(spark, tablePath);
        model.checkCompatible(table);
        GraphPredictor predictor = model.predictor();
        Task task = predictor.task();
        List<String> modalities = predictor.modalities();
        List<Condition> conditions = conditions(cfg, modalities);

        Dataset<Row> rows = table.split(cfg.split());
        rows = task == Task.CLASSIFICATION ? rows.where(functions.col("label_index").geq(0))
                : rows.where(functions.col("target").isNotNull());
        if (cfg.split().equals("train") || cfg.split().equals("validation")) {
            LOG.info("Evaluating on the {} split (not the test split)", cfg.split());
        }
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = rows.count();
            if (n == 0) {
                throw new InputException("feature table " + tablePath + " has no labelled rows in split '" + cfg.split()
                        + "' to evaluate on");
            }
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<GraphPredictor> bc = jsc.broadcast(predictor);
            FeatureTableMetadata tableMeta = table.metadata();
            StructType schema = rows.schema();
            int classes = predictor.classNames().size();
            Tally zero = zero(conditions.size(), task, classes);
            Tally total = rows.javaRDD()
                    .mapPartitions(it -> List.of(tally(it, bc.value(), conditions, cfg, tableMeta, schema, zero))
                            .iterator())
                    .treeAggregate(zero, Tally::plus, Tally::plus);
            bc.destroy();

            String runId = runId(meta);
            List<ResultRow> out = new ArrayList<>();
            Map<String, Map<String, Double>> byCondition = new LinkedHashMap<>();
            Timestamp now = Timestamp.from(Instant.now());
            String dataset = cfg.dataset() != null ? cfg.dataset() : datasetName(tableMeta);
            for (int c = 0; c < conditions.size(); c++) {
                Condition cond = conditions.get(c);
                Map<String, Double> metrics;
                long count;
                String details;
                if (task == Task.CLASSIFICATION) {
                    ClassificationMetrics m = total.confusion()[c].metrics(predictor.classNames());
                    metrics = m.asMap();
                    count = m.n();
                    details = Json.write(Map.of("confusion", m.confusion(), "f1_per_class", m.f1PerClass(),
                            "classes", predictor.classNames()));
                } else {
                    RegressionMetrics m = total.regression()[c].metrics();
                    metrics = m.asMap();
                    count = m.n();
                    details = null;
                }
                if (count == 0) {
                    continue; // e.g. no test row has this modality subset
                }
                String key = cond.label() + (cond.protocol() == MissingProtocol.NONE ? ""
                        : " " + cond.protocol().name().toLowerCase() + "@" + cond.rate());
                byCondition.put(key, metrics);
                out.add(row(meta, runId, cfg, dataset, tablePath, table, cond.label(), cond.protocol(), cond.rate(),
                        task == Task.CLASSIFICATION ? "classification" : "regression", count, metrics, details, now));
            }
            out.addAll(robustness(meta, runId, cfg, dataset, tablePath, table, conditions, out, now));
            if (task == Task.CLASSIFICATION) {
                out.add(majorityBaseline(spark, table, meta, cfg, dataset, tablePath, rows, n, now));
            }
            LOG.info("Evaluated {} on {} {} rows under {} conditions in {} ms", meta.model(), n, cfg.split(),
                    conditions.size(), System.currentTimeMillis() - t0);
            return new Result(runId, out, byCondition);
        } finally {
            rows.unpersist();
        }
    }

    /** Evaluates and appends every row to the leaderboard in one commit. */
    public static Result evaluateAndRecord(SparkSession spark, EvaluateConfig cfg, Leaderboard leaderboard) {
        Result r = evaluate(spark, cfg);
        leaderboard.append(r.rows());
        return r;
    }

    // ------------------------------------------------------------------ conditions

    static List<Condition> conditions(EvaluateConfig cfg, List<String> modalities) {
        List<Condition> out = new ArrayList<>();
        out.add(Condition.natural());
        if (cfg.subsets()) {
            int k = modalities.size();
            for (boolean complete : new boolean[]{false, true}) {
                if (complete && k < 2) {
                    break;
                }
                for (int mask = 1; mask < (1 << k); mask++) {
                    List<String> s = new ArrayList<>();
                    for (int i = 0; i < k; i++) {
                        if ((mask & (1 << i)) != 0) {
                            s.add(modalities.get(i));
                        }
                    }
                    out.add(new Condition(s, complete, MissingProtocol.NONE, 0));
                }
            }
        }
        for (double r : cfg.modalityRates()) {
            out.add(new Condition(null, false, MissingProtocol.MODALITY, r));
        }
        for (double r : cfg.frameRates()) {
            out.add(new Condition(null, false, MissingProtocol.FRAME, r));
        }
        return out;
    }

    private static Tally zero(int conditions, Task task, int classes) {
        ConfusionMetrics[] c = new ConfusionMetrics[conditions];
        RegressionMetrics.Accumulator[] r = new RegressionMetrics.Accumulator[conditions];
        for (int i = 0; i < conditions; i++) {
            if (task == Task.CLASSIFICATION) {
                c[i] = new ConfusionMetrics(classes);
            } else {
                r[i] = new RegressionMetrics.Accumulator();
            }
        }
        return new Tally(c, r);
    }

    private static Tally tally(Iterator<Row> it, GraphPredictor p, List<Condition> conditions, EvaluateConfig cfg,
                               FeatureTableMetadata tableMeta, StructType schema, Tally zero) {
        Tally t = zero(conditions.size(), p.task(), p.classNames().size());
        List<String> modalities = p.modalities();
        List<Row> batch = new ArrayList<>(cfg.batchSize());
        while (it.hasNext()) {
            batch.add(it.next());
            if (batch.size() == cfg.batchSize() || !it.hasNext()) {
                for (int c = 0; c < conditions.size(); c++) {
                    score(batch, conditions.get(c), c, p, modalities, cfg, tableMeta, schema, t);
                }
                batch.clear();
            }
        }
        return t;
    }

    private static void score(List<Row> batch, Condition cond, int c, GraphPredictor p, List<String> modalities,
                              EvaluateConfig cfg, FeatureTableMetadata tableMeta, StructType schema, Tally t) {
        List<Row> rows = new ArrayList<>();
        List<Set<String>> available = new ArrayList<>();
        ModalityDropper dropper = cond.protocol() == MissingProtocol.MODALITY
                ? new ModalityDropper(cond.rate(), cfg.missingSeed()) : null;
        FrameDropper frames = cond.protocol() == MissingProtocol.FRAME
                ? new FrameDropper(tableMeta, schema, cond.rate(), cfg.missingSeed()) : null;
        for (Row r : batch) {
            List<String> present = present(r, modalities);
            if (cond.subset() != null) {
                List<String> needed = cond.completeRows() ? modalities : cond.subset();
                if (!present.containsAll(needed)) {
                    continue;
                }
                rows.add(r);
                available.add(new LinkedHashSet<>(cond.subset()));
            } else if (dropper != null) {
                rows.add(r);
                available.add(dropper.available(r.getString(r.fieldIndex("id")), present));
            } else if (frames != null) {
                rows.add(frames.apply(r));
                available.add(new LinkedHashSet<>(present));
            } else {
                rows.add(r);
                available.add(new LinkedHashSet<>(present));
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        Predictions pred = p.predictions(rows, available);
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (p.task() == Task.CLASSIFICATION) {
                t.confusion()[c].add(r.getInt(r.fieldIndex("label_index")), pred.predictedClass(i));
            } else {
                t.regression()[c].add(r.getDouble(r.fieldIndex("target")), pred.values()[i]);
            }
        }
    }

    private static List<String> present(Row r, List<String> modalities) {
        List<String> out = new ArrayList<>();
        for (String m : modalities) {
            int idx = r.fieldIndex(m + "_present");
            if (!r.isNullAt(idx) && r.getBoolean(idx)) {
                out.add(m);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ rows

    /**
     * The area under each metric-vs-rate curve (trapezoidal rule over the rates evaluated, not normalised:
     * with rates 0..0.7 a model that never degrades has the area 0.7 x its accuracy), one row per protocol.
     */
    private static List<ResultRow> robustness(ModelMetadata meta, String runId, EvaluateConfig cfg, String dataset,
                                              String tablePath, FeatureTable table, List<Condition> conditions,
                                              List<ResultRow> rows, Timestamp now) {
        List<ResultRow> out = new ArrayList<>();
        for (MissingProtocol protocol : List.of(MissingProtocol.MODALITY, MissingProtocol.FRAME)) {
            TreeMap<Double, Map<String, Double>> curve = new TreeMap<>();
            for (ResultRow r : rows) {
                if (r.missingProtocol().equals(protocol.name().toLowerCase())) {
                    curve.put(r.missingRate(), r.metrics());
                }
            }
            if (curve.size() < 2) {
                continue;
            }
            Map<String, Double> areas = new LinkedHashMap<>();
            for (String metric : curve.firstEntry().getValue().keySet()) {
                double area = 0;
                Map.Entry<Double, Map<String, Double>> prev = null;
                for (Map.Entry<Double, Map<String, Double>> e : curve.entrySet()) {
                    if (prev != null) {
                        area += (e.getKey() - prev.getKey())
                                * (e.getValue().get(metric) + prev.getValue().get(metric)) / 2;
                    }
                    prev = e;
                }
                areas.put("auc_" + metric, area);
            }
            areas.put("rate_min", curve.firstKey());
            areas.put("rate_max", curve.lastKey());
            areas.put("rates", (double) curve.size());
            out.add(row(meta, runId, cfg, dataset, tablePath, table, "natural", protocol, curve.lastKey(),
                    "robustness", curve.size(), areas, Json.write(Map.of("rates", curve.keySet())), now));
        }
        return out;
    }

    /** Always predicting the most frequent class of the training split. */
    private static ResultRow majorityBaseline(SparkSession spark, FeatureTable table, ModelMetadata meta,
                                              EvaluateConfig cfg, String dataset, String tablePath,
                                              Dataset<Row> evalRows, long n, Timestamp now) {
        List<Row> counts = table.split("train").where(functions.col("label_index").geq(0))
                .groupBy("label_index").count().orderBy(functions.desc("count"), functions.asc("label_index"))
                .limit(1).collectAsList();
        int majority = counts.isEmpty() ? 0 : counts.get(0).getInt(0);
        List<String> classes = meta.classes();
        ConfusionMetrics cm = new ConfusionMetrics(classes.size());
        for (Row r : evalRows.groupBy("label_index").count().collectAsList()) {
            for (long i = 0; i < r.getLong(1); i++) {
                cm.add(r.getInt(0), majority);
            }
        }
        ClassificationMetrics m = cm.metrics(classes);
        String runId = RunIds.of("majority_class", table.metadata().tableHash(), "baseline", 0);
        return new ResultRow(runId, cfg.sweepId(), "majority_class", null, dataset, tablePath,
                table.metadata().tableHash(), cfg.split(), 0, "baseline", "{\"model\":\"majority_class\",\"class\":\""
                + classes.get(majority) + "\"}", "natural", "none", 0, null, "classification", n, m.asMap(),
                Json.write(Map.of("confusion", m.confusion(), "class", classes.get(majority))), null, 0, 0, 0,
                version(meta), String.valueOf(meta.provenance().get("spark_version")),
                String.valueOf(meta.provenance().get("dl4j_version")), null, now);
    }

    private static ResultRow row(ModelMetadata meta, String runId, EvaluateConfig cfg, String dataset, String tablePath,
                                 FeatureTable table, String subset, MissingProtocol protocol, double rate,
                                 String metricSet, long n, Map<String, Double> metrics, String details, Timestamp now) {
        Object seed = meta.config().get("seed");
        String config = Json.write(meta.config());
        ModelMetadata.Training tr = meta.training();
        return new ResultRow(runId, cfg.sweepId(), meta.model(), fusion(meta.spec()), dataset, tablePath,
                table.metadata().tableHash(), cfg.split(), seed instanceof Number s ? s.longValue() : 0,
                dev.mmspark.common.io.ContentHash.ofString(config).substring(0, 16), config, subset,
                protocol.name().toLowerCase(), rate, protocol == MissingProtocol.MODALITY && rate > 0 ? "mixed" : null,
                metricSet, n, metrics, details, cfg.model(), tr == null ? 0 : tr.parameters(),
                tr == null ? 0 : tr.trainingSeconds(), tr == null ? 0 : tr.examplesPerSecond(), version(meta),
                String.valueOf(meta.provenance().get("spark_version")),
                meta.provenance().get("dl4j_version") + " (" + meta.provenance().get("nd4j_backend") + ")",
                tr == null || tr.finishedAt() == null ? null : Timestamp.from(Instant.parse(tr.finishedAt())), now);
    }

    /**
     * The run id of a trained model: its resolved training settings without where files go (output,
     * work_dir, the table's path: its content hash stands for it), the table hash, code version and seed.
     */
    public static String runId(ModelMetadata meta) {
        return runId(meta.config(), meta.featureTable().tableHash(), version(meta));
    }

    /**
     * The same id from the parts, before the model exists ({@code TrainConfig.describe} of the run, the
     * table's content hash, {@code Provenance.codeVersion()}): a sweep skips runs whose id is in the table.
     */
    public static String runId(Map<String, Object> trainConfig, String tableHash, String codeVersion) {
        Map<String, Object> cfg = new TreeMap<>(trainConfig);
        cfg.remove("output");
        cfg.remove("work_dir");
        cfg.remove("features");
        Object seed = trainConfig.get("seed");
        return RunIds.of(RunIds.canonicalJson(cfg), tableHash, codeVersion, seed instanceof Number s ? s.longValue() : 0);
    }

    private static String version(ModelMetadata meta) {
        Map<String, Object> p = meta.provenance();
        Object commit = p.get("git_commit");
        return p.get("mmspark_version") + (commit == null || "unknown".equals(commit) ? "" : "+" + commit)
                + (Boolean.TRUE.equals(p.get("git_dirty")) ? ".dirty" : "");
    }

    /** The fusion operator named in a model spec, if any. */
    static String fusion(JsonNode spec) {
        if (spec == null) {
            return null;
        }
        JsonNode f = spec.findValue("fusion");
        if (f != null && f.has("name")) {
            return f.get("name").asText();
        }
        return f != null && f.isTextual() ? f.asText() : null;
    }

    /** The dataset name rows carry when the config names none: the input format, or a manifest's directory. */
    public static String datasetName(FeatureTableMetadata m) {
        if (m.input() == null) {
            return "unknown";
        }
        String format = m.input().format();
        if (!"manifest".equals(format)) {
            return format;
        }
        String path = m.input().path();
        String name = path.replaceAll("/+$", "");
        name = name.substring(name.lastIndexOf('/') + 1);
        return name.isEmpty() ? "manifest" : name;
    }
}
