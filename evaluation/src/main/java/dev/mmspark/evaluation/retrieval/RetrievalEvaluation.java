package dev.mmspark.evaluation.retrieval;

import dev.mmspark.common.InputException;
import dev.mmspark.common.RunIds;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.ResultRow;
import dev.mmspark.evaluation.metrics.ClassificationMetrics;
import dev.mmspark.evaluation.metrics.ConfusionMetrics;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.evaluation.samples.SampleEvaluation;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.ModelMetadata;
import dev.mmspark.training.TrainedModel;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.CommonSpaceSpec;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.Predictions;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Evaluates a common-space model (DSCMR) by cross-modal retrieval on a split, on the executors, next to the
 * classical baselines on the same features:
 *
 * <ul>
 *   <li>the labelled rows of the split are embedded where they are: each row that has the image (text)
 *       modality becomes an image (text) item, its common-space vector, its class;</li>
 *   <li>image -&gt; text: every image item queries all text items; text -&gt; image the other way round. Relevant
 *       means the same class; the similarity is the cosine; the metrics (mAP over the whole ranking, mAP@R,
 *       P@K, R@K) are computed exactly and blockwise ({@link BlockwiseRetrieval}), ties ranked by candidate
 *       id. A row without a modality is neither a query nor a candidate of that modality;</li>
 *   <li>CCA (fitted on the rows of the train split that have both modalities, {@link Cca}) and, when the two
 *       modalities' raw features have the same dimension, the raw features' cosine: the same protocol on the
 *       same rows, so the gain of the model is read off directly.</li>
 * </ul>
 *
 * One leaderboard row per method (metric set {@code retrieval}; models {@code dscmr}, {@code cca},
 * {@code raw_cosine}) with {@code map_i2t}, {@code map_t2i}, {@code map_avg}, {@code map_at_r_*},
 * {@code p_at_K_*} and {@code r_at_K_*}; "i2t" is the model's first modality querying its second.
 *
 * <p>A model with a pair classifier ({@link CommonSpaceSpec#pairClassifier()}: DSCMR with {@code pair_fusion})
 * also gets {@code pair_accuracy} and {@code pair_macro_f1} in its row: that output's argmax on the evaluated
 * rows that have both modalities, scored by {@link ConfusionMetrics} as the per-sample evaluation scores
 * classifiers (details under {@code pair_classifier}). The retrieval metrics do not change.
 */
public final class RetrievalEvaluation {
    private static final Logger LOG = LoggerFactory.getLogger(RetrievalEvaluation.class);
    public static final String METRIC_SET = "retrieval";
    public static final String CCA = "cca";
    public static final String RAW_COSINE = "raw_cosine";
    static final String[] DIRECTIONS = {"i2t", "t2i"};

    private RetrievalEvaluation() {
    }

    /** Everything computed, before it goes to the leaderboard. */
    public record Result(String runId, List<ResultRow> rows, Map<String, Map<String, Double>> byMethod,
                         List<String> notes) {
    }

    /** Both directions' metrics and what they were computed on. */
    record Scores(Map<String, Double> metrics, Map<String, Object> details) {
    }

    public static Result evaluateAndRecord(SparkSession spark, EvaluateConfig cfg, TrainedModel model,
                                           Leaderboard leaderboard) {
        Result r = evaluate(spark, cfg, model);
        leaderboard.append(r.rows());
        return r;
    }

    public static Result evaluate(SparkSession spark, EvaluateConfig cfg, TrainedModel model) {
        if (!cfg.modalityRates().isEmpty() || !cfg.frameRates().isEmpty()) {
            throw new ConfigException("config keys 'evaluate.missing.modality_rates' / 'frame_rates' are set, but "
                    + "model " + cfg.model() + " (" + model.modelName() + ") is evaluated by cross-modal retrieval; "
                    + "missing-modality protocols are implemented for per-sample models only");
        }
        long t0 = System.nanoTime();
        ModelMetadata meta = model.metadata();
        EmbeddingPredictor predictor = model.embeddingPredictor();
        String tablePath = cfg.features() != null ? cfg.features() : meta.featureTable().path();
        FeatureTable table = FeatureTable.open(spark, tablePath);
        model.checkCompatible(table);
        List<String> modalities = predictor.modalities();
        if (modalities.size() != 2) {
            throw new IllegalStateException("retrieval evaluates two modalities; " + model.modelName() + " embeds "
                    + modalities);
        }
        RetrievalConfig rc = cfg.retrieval();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String dataset = cfg.dataset() != null ? cfg.dataset() : SampleEvaluation.datasetName(table.metadata());
        Timestamp now = Timestamp.from(Instant.now());
        if (!cfg.split().equals("test")) {
            LOG.info("Evaluating retrieval on the {} split (not the test split)", cfg.split());
        }

        Dataset<Row> evalRows = labelled(table, cfg.split(), modalities);
        long n = evalRows.count();
        if (n == 0) {
            throw new InputException("feature table " + tablePath + " has no labelled rows with " + modalities.get(0)
                    + " or " + modalities.get(1) + " in split '" + cfg.split() + "' to evaluate on");
        }
        List<ResultRow> rows = new ArrayList<>();
        Map<String, Map<String, Double>> byMethod = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();

        Broadcast<EmbeddingPredictor> bc = jsc.broadcast(predictor);
        int batch = cfg.batchSize();
        JavaRDD<Tuple2<Integer, RetrievalItem>> embedded = evalRows
                .select(columns(predictor.columns())).javaRDD()
                .mapPartitions(it -> embed(it, bc.value(), modalities, batch));
        Scores modelScores = score(embedded, modalities, rc);
        bc.destroy();
        Optional<ModelOutput> pairHead = model.spec() instanceof CommonSpaceSpec cs ? cs.pairClassifier()
                : Optional.empty();
        if (pairHead.isPresent()) {
            ClassificationMetrics pm = pairClassification(jsc, evalRows, model.predictor(), pairHead.get(), batch);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("output", pairHead.get().vertex());
            d.put("fusion", SampleEvaluation.fusion(meta.spec()));
            d.put("rows", pm.n());
            d.put("rows_used", "labelled rows of the split with both " + modalities);
            if (pm.n() > 0) {
                modelScores.metrics().put("pair_accuracy", pm.accuracy());
                modelScores.metrics().put("pair_macro_f1", pm.macroF1());
                d.put("weighted_f1", pm.weightedF1());
                d.put("confusion", pm.confusion());
                LOG.info("Pair classifier of {} on {} {} pairs: accuracy {} macro-F1 {}", meta.model(), pm.n(),
                        cfg.split(), format(pm.accuracy()), format(pm.macroF1()));
            } else {
                String note = "pair classifier not scored: no row of split '" + cfg.split() + "' has both "
                        + modalities;
                LOG.info(note);
                notes.add(note);
            }
            modelScores.details().put("pair_classifier", d);
        }
        String runId = SampleEvaluation.runId(meta);
        rows.add(modelRow(meta, runId, cfg, dataset, tablePath, table, n, modelScores, now));
        byMethod.put(meta.model(), modelScores.metrics());
        LOG.info("Retrieval of {} on {} {} rows: mAP i2t {} t2i {} ({} s)", meta.model(), n, cfg.split(),
                format(modelScores.metrics().get("map_i2t")), format(modelScores.metrics().get("map_t2i")),
                format((System.nanoTime() - t0) / 1e9));

        if (rc.baselines().contains(RetrievalConfig.Baseline.CCA)
                || rc.baselines().contains(RetrievalConfig.Baseline.RAW_COSINE)) {
            RawFeatures x = RawFeatures.of(table, modalities.get(0));
            RawFeatures y = RawFeatures.of(table, modalities.get(1));
            Broadcast<RawFeatures> bx = jsc.broadcast(x);
            Broadcast<RawFeatures> by = jsc.broadcast(y);
            try {
                Column[] rawCols = columns(List.of(BatchBuilder.ID, BatchBuilder.LABEL_INDEX,
                        RowValues.presentColumn(x.modality()), x.column(), RowValues.presentColumn(y.modality()),
                        y.column()));
                if (rc.baselines().contains(RetrievalConfig.Baseline.CCA)) {
                    long f0 = System.nanoTime();
                    JavaRDD<double[][]> pairs = table.split("train").select(rawCols).javaRDD()
                            .map(r -> new double[][]{bx.value().vector(r), by.value().vector(r)})
                            .filter(p -> p[0] != null && p[1] != null)
                            .persist(StorageLevel.MEMORY_AND_DISK());
                    CcaModel cca;
                    try {
                        cca = Cca.fit(pairs, x.dim(), y.dim(), rc.cca());
                    } finally {
                        pairs.unpersist();
                    }
                    double fitSeconds = (System.nanoTime() - f0) / 1e9;
                    Broadcast<CcaModel> bcca = jsc.broadcast(cca);
                    JavaRDD<Tuple2<Integer, RetrievalItem>> projected = evalRows.select(rawCols)
                            .javaRDD().flatMap(r -> raw(r, bx.value(), by.value(), bcca.value()));
                    Scores s = score(projected, modalities, rc);
                    bcca.destroy();
                    s.details().put("cca", ccaDetails(cca, rc.cca(), fitSeconds));
                    rows.add(baselineRow(CCA, ccaConfig(cca, rc.cca(), modalities), cfg, dataset, tablePath, table, n,
                            s, (long) cca.components() * (x.dim() + y.dim() + 1) + x.dim() + y.dim(), fitSeconds,
                            meta, now));
                    byMethod.put(CCA, s.metrics());
                    LOG.info("CCA on {} x {} features of {} training pairs: {} components, correlations {}; mAP i2t {}"
                                    + " t2i {}", x.dim(), y.dim(), cca.pairs(), cca.components(),
                            format(cca.correlations()), format(s.metrics().get("map_i2t")),
                            format(s.metrics().get("map_t2i")));
                }
                if (rc.baselines().contains(RetrievalConfig.Baseline.RAW_COSINE)) {
                    if (x.dim() != y.dim()) {
                        String note = "raw_cosine baseline skipped: " + x.modality() + " features have " + x.dim()
                                + " values and " + y.modality() + " features " + y.dim()
                                + "; a cosine needs one space";
                        LOG.info(note);
                        notes.add(note);
                    } else {
                        JavaRDD<Tuple2<Integer, RetrievalItem>> plain = evalRows.select(rawCols)
                                .javaRDD().flatMap(r -> raw(r, bx.value(), by.value(), null));
                        Scores s = score(plain, modalities, rc);
                        rows.add(baselineRow(RAW_COSINE, Json.write(Map.of("model", RAW_COSINE, "modalities",
                                        modalities)), cfg, dataset, tablePath, table, n, s, 0, 0, meta, now));
                        byMethod.put(RAW_COSINE, s.metrics());
                    }
                }
            } finally {
                bx.destroy();
                by.destroy();
            }
        }
        LOG.info("Retrieval evaluation of {} done in {} s", meta.model(), format((System.nanoTime() - t0) / 1e9));
        return new Result(runId, rows, byMethod, notes);
    }

    /** Labelled rows of the split that have at least one of the two modalities. */
    static Dataset<Row> labelled(FeatureTable table, String split, List<String> modalities) {
        Column any = functions.coalesce(functions.col(RowValues.presentColumn(modalities.get(0))), functions.lit(false))
                .or(functions.coalesce(functions.col(RowValues.presentColumn(modalities.get(1))), functions.lit(false)));
        return table.split(split).where(functions.col(BatchBuilder.LABEL_INDEX).geq(0).and(any));
    }

    private static Column[] columns(List<String> names) {
        return new LinkedHashSet<>(names).stream().map(functions::col).toArray(Column[]::new);
    }

    /**
     * The confusion counts of {@code output} (a pair classifier) on the rows that it can use (both modalities),
     * computed on the executors.
     */
    static ClassificationMetrics pairClassification(JavaSparkContext jsc, Dataset<Row> rows, GraphPredictor p,
                                                    ModelOutput output, int batch) {
        List<ModelOutput> outputs = p.spec().outputs();
        int o = outputs.indexOf(output);
        if (o < 0) {
            throw new IllegalStateException("pair classifier " + output + " is not among the outputs " + outputs);
        }
        List<String> classes = p.classNames();
        Broadcast<GraphPredictor> bc = jsc.broadcast(p);
        try {
            ConfusionMetrics total = rows.select(columns(p.spec().batchBuilder().columns())).javaRDD()
                    .mapPartitions(it -> List.of(pairConfusion(it, bc.value(), o, batch)).iterator())
                    .fold(new ConfusionMetrics(classes.size()), ConfusionMetrics::plus);
            return total.metrics(classes);
        } finally {
            bc.destroy();
        }
    }

    /** One partition's (label, argmax of output {@code o}) counts over the rows that output can use. */
    static ConfusionMetrics pairConfusion(Iterator<Row> it, GraphPredictor p, int o, int batch) {
        ConfusionMetrics cm = new ConfusionMetrics(p.classNames().size());
        List<String> requires = p.spec().outputs().get(o).requires();
        List<Row> rows = new ArrayList<>(batch);
        while (it.hasNext()) {
            rows.add(it.next());
            if (rows.size() == batch || !it.hasNext()) {
                GraphPredictor.Scores s = p.scores(rows, null);
                for (int i = 0; i < rows.size(); i++) {
                    if (s.usable().get(i).containsAll(requires)) {
                        Row r = rows.get(i);
                        cm.add(r.getInt(r.fieldIndex(BatchBuilder.LABEL_INDEX)), Predictions.argmax(s.values()[o][i]));
                    }
                }
                rows.clear();
            }
        }
        return cm;
    }

    /** The items of a partition: (0, image item) and (1, text item) per row that has them. */
    static Iterator<Tuple2<Integer, RetrievalItem>> embed(Iterator<Row> it, EmbeddingPredictor p,
                                                          List<String> modalities, int batch) {
        List<Tuple2<Integer, RetrievalItem>> out = new ArrayList<>();
        List<Row> rows = new ArrayList<>(batch);
        while (it.hasNext()) {
            rows.add(it.next());
            if (rows.size() == batch || !it.hasNext()) {
                for (int m = 0; m < modalities.size(); m++) {
                    float[][] e = p.embeddings(rows, modalities.get(m));
                    for (int i = 0; i < rows.size(); i++) {
                        if (e[i] != null) {
                            out.add(new Tuple2<>(m, item(rows.get(i), e[i])));
                        }
                    }
                }
                rows.clear();
            }
        }
        return out.iterator();
    }

    /** A row's items from its raw features, projected by {@code cca} when given. */
    static Iterator<Tuple2<Integer, RetrievalItem>> raw(Row r, RawFeatures x, RawFeatures y, CcaModel cca) {
        List<Tuple2<Integer, RetrievalItem>> out = new ArrayList<>(2);
        double[] vx = x.vector(r);
        double[] vy = y.vector(r);
        if (vx != null) {
            out.add(new Tuple2<>(0, item(r, cca == null ? vx : cca.projectX(vx))));
        }
        if (vy != null) {
            out.add(new Tuple2<>(1, item(r, cca == null ? vy : cca.projectY(vy))));
        }
        return out.iterator();
    }

    private static RetrievalItem item(Row r, float[] v) {
        return RetrievalItem.of(r.getString(r.fieldIndex(BatchBuilder.ID)),
                r.getInt(r.fieldIndex(BatchBuilder.LABEL_INDEX)), v);
    }

    private static RetrievalItem item(Row r, double[] v) {
        return RetrievalItem.of(r.getString(r.fieldIndex(BatchBuilder.ID)),
                r.getInt(r.fieldIndex(BatchBuilder.LABEL_INDEX)), v);
    }

    /** Both directions on one set of items. */
    static Scores score(JavaRDD<Tuple2<Integer, RetrievalItem>> items, List<String> modalities, RetrievalConfig rc) {
        JavaRDD<Tuple2<Integer, RetrievalItem>> cached = items.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<RetrievalItem> first = cached.filter(t -> t._1() == 0).map(Tuple2::_2);
            JavaRDD<RetrievalItem> second = cached.filter(t -> t._1() == 1).map(Tuple2::_2);
            long nFirst = first.count();
            long nSecond = second.count();
            if (nFirst == 0 || nSecond == 0) {
                throw new InputException("retrieval needs items of both modalities; the evaluated rows have " + nFirst
                        + " with " + modalities.get(0) + " and " + nSecond + " with " + modalities.get(1));
            }
            DirectionMetrics i2t = BlockwiseRetrieval.evaluate(first, second, rc.ks(), rc.blockSize());
            DirectionMetrics t2i = BlockwiseRetrieval.evaluate(second, first, rc.ks(), rc.blockSize());
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.putAll(i2t.asMap(DIRECTIONS[0]));
            metrics.putAll(t2i.asMap(DIRECTIONS[1]));
            metrics.put("map_avg", (i2t.map() + t2i.map()) / 2);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put(DIRECTIONS[0], direction(i2t, modalities.get(0), modalities.get(1)));
            details.put(DIRECTIONS[1], direction(t2i, modalities.get(1), modalities.get(0)));
            details.put("similarity", "cosine");
            details.put("relevance", "same class");
            details.put("tie_rule", "equal similarities ranked by candidate id (ascending)");
            details.put("queries_without_relevant", "scored 0 and included in the means");
            details.put("ks", rc.ks());
            details.put("block_size", rc.blockSize());
            return new Scores(metrics, details);
        } finally {
            cached.unpersist();
        }
    }

    private static Map<String, Object> direction(DirectionMetrics m, String query, String candidate) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("query_modality", query);
        d.put("candidate_modality", candidate);
        d.put("queries", m.queries());
        d.put("candidates", m.candidates());
        d.put("queries_without_relevant", m.queriesWithoutRelevant());
        return d;
    }

    private static Map<String, Object> ccaDetails(CcaModel cca, RetrievalConfig.CcaSettings s, double seconds) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("fit_split", "train");
        d.put("fit_pairs", cca.pairs());
        d.put("components", cca.components());
        d.put("correlations", cca.correlations());
        d.put("regularisation", s.regularisation());
        d.put("correlation_power", s.correlationPower());
        d.put("fit_seconds", seconds);
        return d;
    }

    private static String ccaConfig(CcaModel cca, RetrievalConfig.CcaSettings s, List<String> modalities) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", CCA);
        c.put("modalities", modalities);
        c.put("regularisation", s.regularisation());
        c.put("components", s.components());
        c.put("correlation_power", s.correlationPower());
        c.put("fit_split", "train");
        return Json.write(c);
    }

    private static ResultRow modelRow(ModelMetadata meta, String runId, EvaluateConfig cfg, String dataset,
                                      String tablePath, FeatureTable table, long n, Scores s, Timestamp now) {
        Object seed = meta.config().get("seed");
        String config = Json.write(meta.config());
        ModelMetadata.Training tr = meta.training();
        return new ResultRow(runId, cfg.sweepId(), meta.model(), SampleEvaluation.fusion(meta.spec()), dataset,
                tablePath, table.metadata().tableHash(), cfg.split(), seed instanceof Number x ? x.longValue() : 0,
                ContentHash.ofString(config).substring(0, 16), config, "all", "none", 0, null, METRIC_SET, n,
                s.metrics(), Json.write(s.details()), cfg.model(), tr == null ? 0 : tr.parameters(),
                tr == null ? 0 : tr.trainingSeconds(), tr == null ? 0 : tr.examplesPerSecond(),
                SampleEvaluation.version(meta), String.valueOf(meta.provenance().get("spark_version")),
                meta.provenance().get("dl4j_version") + " (" + meta.provenance().get("nd4j_backend") + ")",
                tr == null || tr.finishedAt() == null ? null : Timestamp.from(Instant.parse(tr.finishedAt())), now);
    }

    /** A baseline's row: its settings are its config; no model directory; fitted in {@code seconds}. */
    private static ResultRow baselineRow(String name, String config, EvaluateConfig cfg, String dataset,
                                         String tablePath, FeatureTable table, long n, Scores s, long parameters,
                                         double seconds, ModelMetadata meta, Timestamp now) {
        String tableHash = table.metadata().tableHash();
        String version = SampleEvaluation.version(meta);
        return new ResultRow(RunIds.of(config, tableHash, version, 0), cfg.sweepId(), name, null, dataset, tablePath,
                tableHash, cfg.split(), 0, ContentHash.ofString(config).substring(0, 16), config, "all", "none", 0,
                null, METRIC_SET, n, s.metrics(), Json.write(s.details()), null, parameters, seconds, 0, version,
                String.valueOf(meta.provenance().get("spark_version")),
                meta.provenance().get("dl4j_version") + " (" + meta.provenance().get("nd4j_backend") + ")", null, now);
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String format(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", v[i]));
        }
        return sb.append(']').toString();
    }
}
