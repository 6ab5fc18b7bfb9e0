package dev.mmspark.evaluation.leaderboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmspark.common.RunIds;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.stats.SeedStatistics;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The aggregated leaderboard: one row per (dataset, table, split, setting, evaluation condition, metric)
 * over the seeds a setting was run with. A setting is a run's resolved training config without its seed
 * and paths ({@code setting_id} hashes it), so the runs of a sweep that differ only in their seed are
 * its repetitions. Per row: mean, sample sd, 95% t interval, rank among the settings evaluated under the
 * same condition (1 = best; higher is better except for error metrics), and a paired t-test over the
 * common seeds against the best setting. Written as the Iceberg table {@code <table>_summary}, replaced in
 * one commit on every refresh (older versions stay readable by time travel).
 */
public final class LeaderboardSummary {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderboardSummary.class);

    /** Metrics where lower is better. */
    private static final Set<String> LOWER_IS_BETTER = Set.of("mae", "mse", "rmse", "loss", "log_loss");

    public static final StructType SCHEMA = new StructType()
            .add("dataset", DataTypes.StringType, false)
            .add("feature_table_hash", DataTypes.StringType, false)
            .add("split", DataTypes.StringType, false)
            .add("model", DataTypes.StringType, false)
            .add("fusion", DataTypes.StringType, true)
            .add("setting_id", DataTypes.StringType, false)
            .add("setting", DataTypes.StringType, false)
            .add("eval_subset", DataTypes.StringType, false)
            .add("missing_protocol", DataTypes.StringType, false)
            .add("missing_rate", DataTypes.DoubleType, false)
            .add("metric_set", DataTypes.StringType, false)
            .add("metric", DataTypes.StringType, false)
            .add("n_seeds", DataTypes.IntegerType, false)
            .add("seeds", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("mean", DataTypes.DoubleType, false)
            .add("std", DataTypes.DoubleType, true)
            .add("ci95_low", DataTypes.DoubleType, true)
            .add("ci95_high", DataTypes.DoubleType, true)
            .add("rank", DataTypes.IntegerType, false)
            .add("n_settings", DataTypes.IntegerType, false)
            .add("best_setting_id", DataTypes.StringType, false)
            .add("diff_vs_best", DataTypes.DoubleType, false)
            .add("paired_seeds_vs_best", DataTypes.IntegerType, false)
            .add("p_value_vs_best", DataTypes.DoubleType, true)
            .add("significantly_worse", DataTypes.BooleanType, false)
            .add("param_count", DataTypes.LongType, false)
            .add("sweep_ids", DataTypes.createArrayType(DataTypes.StringType, false), false)
            .add("run_ids", DataTypes.createArrayType(DataTypes.StringType, false), false)
            .add("refreshed_at", DataTypes.TimestampType, false);

    /** Significance level of {@code significantly_worse}. */
    public static final double ALPHA = 0.05;

    private LeaderboardSummary() {
    }

    /** One result of one run: the input of the aggregation. */
    public record Observation(String dataset, String tableHash, String split, String model, String fusion,
                              String settingId, String setting, String subset, String protocol, double rate,
                              String metricSet, String metric, long seed, double value, long paramCount,
                              String sweepId, String runId, Timestamp evaluatedAt) {
    }

    /** The setting of a run: its config JSON without seed and paths, canonical, and a short hash of that. */
    public static String[] setting(String configJson) {
        JsonNode tree = Json.tree(configJson);
        if (tree instanceof ObjectNode o) {
            for (String k : List.of("seed", "output", "work_dir", "features")) {
                o.remove(k);
            }
        }
        String canonical = RunIds.canonicalJson(tree);
        return new String[]{ContentHash.ofString(canonical).substring(0, 12), canonical};
    }

    /** Observations of every committed (not failed) result row of the table. */
    public static List<Observation> observations(Leaderboard lb) {
        List<Row> rows = lb.read().where(functions.col("metric_set").notEqual("failed"))
                .select("dataset", "feature_table_hash", "split", "model", "fusion", "config", "eval_subset",
                        "missing_protocol", "missing_rate", "metric_set", "metrics", "seed", "param_count",
                        "sweep_id", "run_id", "evaluated_at").collectAsList();
        Map<String, String[]> settings = new java.util.HashMap<>();
        List<Observation> out = new ArrayList<>();
        for (Row r : rows) {
            String[] s = settings.computeIfAbsent(r.getString(5), LeaderboardSummary::setting);
            Map<String, Object> metrics = JavaConverters.mapAsJavaMap(r.getMap(10));
            for (Map.Entry<String, Object> m : new TreeMap<>(metrics).entrySet()) {
                double v = ((Number) m.getValue()).doubleValue();
                if (!Double.isFinite(v)) {
                    continue;
                }
                out.add(new Observation(r.getString(0), r.getString(1), r.getString(2), r.getString(3),
                        r.isNullAt(4) ? null : r.getString(4), s[0], s[1], r.getString(6), r.getString(7),
                        r.getDouble(8), r.getString(9), m.getKey(), r.getLong(11), v, r.getLong(12),
                        r.isNullAt(13) ? null : r.getString(13), r.getString(14), r.getTimestamp(15)));
            }
        }
        return out;
    }

    /** One aggregated row (the table's columns). */
    public record Entry(String dataset, String tableHash, String split, String model, String fusion, String settingId,
                        String setting, String subset, String protocol, double rate, String metricSet, String metric,
                        List<Long> seeds, SeedStatistics.Summary summary, int rank, int nSettings,
                        String bestSettingId, double diffVsBest, int pairedSeeds, Double pValue,
                        boolean significantlyWorse, long paramCount, List<String> sweepIds, List<String> runIds) {
    }

    /**
     * Aggregates observations: per (condition, setting) the latest value of each seed (a retrained run with
     * the same setting and seed replaces the older one), then statistics, ranks and tests per condition.
     */
    public static List<Entry> aggregate(List<Observation> obs) {
        Map<List<Object>, Map<String, Map<Long, Observation>>> byCondition = new TreeMap<>(LeaderboardSummary::compareKeys);
        for (Observation o : obs) {
            List<Object> cond = List.of(o.dataset(), o.tableHash(), o.split(), o.subset(), o.protocol(), o.rate(),
                    o.metricSet(), o.metric());
            Map<Long, Observation> seeds = byCondition.computeIfAbsent(cond, k -> new TreeMap<>())
                    .computeIfAbsent(o.settingId(), k -> new TreeMap<>());
            Observation prev = seeds.get(o.seed());
            if (prev == null || o.evaluatedAt().after(prev.evaluatedAt())) {
                seeds.put(o.seed(), o);
            }
        }
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<List<Object>, Map<String, Map<Long, Observation>>> c : byCondition.entrySet()) {
            String metric = (String) c.getKey().get(7);
            boolean lower = LOWER_IS_BETTER.contains(metric);
            List<Map.Entry<String, Map<Long, Observation>>> settings = new ArrayList<>(c.getValue().entrySet());
            Map<String, SeedStatistics.Summary> stats = new LinkedHashMap<>();
            for (Map.Entry<String, Map<Long, Observation>> s : settings) {
                stats.put(s.getKey(), SeedStatistics.summarise(s.getValue().values().stream()
                        .mapToDouble(Observation::value).toArray()));
            }
            Comparator<Map.Entry<String, Map<Long, Observation>>> better = Comparator.comparingDouble(
                    s -> (lower ? 1 : -1) * stats.get(s.getKey()).mean());
            settings.sort(better.thenComparing(Map.Entry::getKey));
            Map.Entry<String, Map<Long, Observation>> best = settings.get(0);
            double bestMean = stats.get(best.getKey()).mean();
            int rank = 0;
            double prevMean = Double.NaN;
            for (int i = 0; i < settings.size(); i++) {
                Map.Entry<String, Map<Long, Observation>> s = settings.get(i);
                SeedStatistics.Summary st = stats.get(s.getKey());
                if (st.mean() != prevMean) {
                    rank = i + 1; // ties share a rank, the next rank skips ("1, 2, 2, 4")
                    prevMean = st.mean();
                }
                List<Long> common = new ArrayList<>(s.getValue().keySet());
                common.retainAll(best.getValue().keySet());
                Double p = null;
                if (!s.getKey().equals(best.getKey()) && common.size() >= 2) {
                    double[] a = common.stream().mapToDouble(k -> s.getValue().get(k).value()).toArray();
                    double[] b = common.stream().mapToDouble(k -> best.getValue().get(k).value()).toArray();
                    p = SeedStatistics.pairedT(a, b).pValue();
                }
                double diff = st.mean() - bestMean;
                boolean worse = p != null && p < ALPHA && (lower ? diff > 0 : diff < 0);
                Observation any = s.getValue().values().iterator().next();
                List<String> sweeps = s.getValue().values().stream().map(Observation::sweepId)
                        .filter(java.util.Objects::nonNull).distinct().sorted().toList();
                List<String> runs = s.getValue().values().stream().map(Observation::runId).toList();
                long params = Math.round(s.getValue().values().stream().mapToLong(Observation::paramCount)
                        .average().orElse(0));
                List<Object> k = c.getKey();
                out.add(new Entry((String) k.get(0), (String) k.get(1), (String) k.get(2), any.model(), any.fusion(),
                        s.getKey(), any.setting(), (String) k.get(3), (String) k.get(4), (Double) k.get(5),
                        (String) k.get(6), metric, new ArrayList<>(s.getValue().keySet()), st, rank, settings.size(),
                        best.getKey(), diff, common.size(), p, worse, params, sweeps, runs));
            }
        }
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareKeys(List<Object> a, List<Object> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = ((Comparable) a.get(i)).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    /** {@code <table>_summary}, the aggregated table's name. */
    public static String tableName(Leaderboard lb) {
        return lb.config().qualified(lb.config().table() + "_summary");
    }

    /** Recomputes the summary from the whole results table and replaces {@code <table>_summary} in one commit. */
    public static List<Entry> refresh(Leaderboard lb) {
        long t0 = System.currentTimeMillis();
        List<Entry> entries = aggregate(observations(lb));
        SparkSession spark = lb.spark();
        String name = tableName(lb);
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            SeedStatistics.Summary s = e.summary();
            rows.add(RowFactory.create(e.dataset(), e.tableHash(), e.split(), e.model(), e.fusion(), e.settingId(),
                    e.setting(), e.subset(), e.protocol(), e.rate(), e.metricSet(), e.metric(), s.n(),
                    JavaConverters.asScalaBuffer(e.seeds()).toList(), s.mean(), nan(s.std()), nan(s.ciLow()),
                    nan(s.ciHigh()), e.rank(), e.nSettings(), e.bestSettingId(), e.diffVsBest(), e.pairedSeeds(),
                    e.pValue(), e.significantlyWorse(), e.paramCount(),
                    JavaConverters.asScalaBuffer(e.sweepIds()).toList(),
                    JavaConverters.asScalaBuffer(e.runIds()).toList(), now));
        }
        StringBuilder cols = new StringBuilder();
        for (var f : SCHEMA.fields()) {
            cols.append(cols.length() > 0 ? ", " : "").append(f.name()).append(' ').append(f.dataType().sql());
        }
        spark.sql("CREATE TABLE IF NOT EXISTS " + name + " (" + cols + ") USING iceberg "
                + "TBLPROPERTIES ('commit.retry.num-retries'='20', 'format-version'='2')");
        try {
            spark.createDataFrame(rows, SCHEMA).writeTo(name).overwrite(functions.lit(true));
        } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
            throw new IllegalStateException("table " + name + " vanished after it was created", e);
        }
        LOG.info("Refreshed {}: {} rows from the results of {} in {} ms", name, rows.size(), lb.tableName(),
                System.currentTimeMillis() - t0);
        return entries;
    }

    private static Double nan(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
