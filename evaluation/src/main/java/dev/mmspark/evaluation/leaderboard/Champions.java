package dev.mmspark.evaluation.leaderboard;

import dev.mmspark.evaluation.stats.SeedStatistics;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The champion of each dataset, kept in the Iceberg table {@code <table>_champions} (one appended row per
 * promotion: the history of champions). A challenger -- the best setting of the summary on the dataset's
 * newest feature table under the natural test condition -- replaces the champion only when its mean is
 * higher and a paired t-test over their common seeds gives p below {@code alpha}; the first challenger of a
 * dataset is promoted without a test.
 */
public final class Champions {
    private static final Logger LOG = LoggerFactory.getLogger(Champions.class);

    public static final StructType SCHEMA = new StructType()
            .add("dataset", DataTypes.StringType, false)
            .add("feature_table_hash", DataTypes.StringType, false)
            .add("metric", DataTypes.StringType, false)
            .add("setting_id", DataTypes.StringType, false)
            .add("model", DataTypes.StringType, false)
            .add("fusion", DataTypes.StringType, true)
            .add("setting", DataTypes.StringType, false)
            .add("mean", DataTypes.DoubleType, false)
            .add("n_seeds", DataTypes.IntegerType, false)
            .add("run_ids", DataTypes.createArrayType(DataTypes.StringType, false), false)
            .add("previous_setting_id", DataTypes.StringType, true)
            .add("p_value", DataTypes.DoubleType, true)
            .add("promoted_at", DataTypes.TimestampType, false);

    private Champions() {
    }

    /**
     * @param promoted   whether the challenger became the champion
     * @param reason     why (for the log and the manifest)
     * @param challenger the challenger's setting id (null when there is no candidate)
     * @param champion   the champion's setting id before the decision (null when none)
     * @param pValue     the paired test's p-value, when one was computed
     */
    public record Decision(boolean promoted, String reason, String challenger, String champion, Double challengerMean,
                           Double championMean, Double pValue, int pairedSeeds) {
    }

    public static String tableName(Leaderboard lb) {
        return lb.config().qualified(lb.config().table() + "_champions");
    }

    public static Decision decide(Leaderboard lb, PromoteConfig cfg) {
        SparkSession spark = lb.spark();
        ensureTable(lb);
        List<LeaderboardSummary.Observation> obs = LeaderboardSummary.observations(lb);
        List<LeaderboardSummary.Observation> relevant = obs.stream()
                .filter(o -> o.dataset().equals(cfg.dataset()) && o.subset().equals("natural")
                        && o.protocol().equals("none") && o.metric().equals(cfg.metric())
                        && !o.metricSet().equals("robustness") && !o.model().equals("majority_class"))
                .toList();
        if (relevant.isEmpty()) {
            return new Decision(false, "no results for dataset '" + cfg.dataset() + "' with metric '" + cfg.metric()
                    + "'", null, null, null, null, null, 0);
        }
        String table = relevant.stream().max(Comparator.comparing(LeaderboardSummary.Observation::evaluatedAt))
                .orElseThrow().tableHash();
        List<LeaderboardSummary.Observation> current = relevant.stream().filter(o -> o.tableHash().equals(table))
                .toList();
        List<LeaderboardSummary.Entry> entries = LeaderboardSummary.aggregate(current);
        LeaderboardSummary.Entry challenger = entries.stream()
                .filter(e -> cfg.sweep() == null || e.sweepIds().contains(cfg.sweep()))
                .min(Comparator.comparingInt(LeaderboardSummary.Entry::rank)
                        .thenComparing(LeaderboardSummary.Entry::settingId)).orElse(null);
        if (challenger == null) {
            return new Decision(false, "no setting of sweep '" + cfg.sweep() + "' on dataset '" + cfg.dataset() + "'",
                    null, null, null, null, null, 0);
        }
        List<Row> champ = spark.sql("SELECT setting_id FROM " + tableName(lb) + " WHERE dataset = '"
                + cfg.dataset().replace("'", "''") + "' AND metric = '" + cfg.metric().replace("'", "''")
                + "' ORDER BY promoted_at DESC LIMIT 1").collectAsList();
        String champion = champ.isEmpty() ? null : champ.get(0).getString(0);
        double cMean = challenger.summary().mean();
        if (champion == null) {
            record(lb, cfg, challenger, table, null, null);
            return new Decision(true, "no champion yet", challenger.settingId(), null, cMean, null, null, 0);
        }
        if (champion.equals(challenger.settingId())) {
            return new Decision(false, "the champion is still the best setting", challenger.settingId(), champion,
                    cMean, cMean, null, 0);
        }
        Map<Long, Double> a = perSeed(current, challenger.settingId());
        Map<Long, Double> b = perSeed(current, champion);
        if (b.isEmpty()) {
            return new Decision(false, "the champion " + champion + " has no results on the current feature table "
                    + table + "; evaluate it there before comparing", challenger.settingId(), champion, cMean, null,
                    null, 0);
        }
        List<Long> common = new ArrayList<>(a.keySet());
        common.retainAll(b.keySet());
        double bMean = b.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        if (common.size() < 2) {
            return new Decision(false, "fewer than 2 common seeds with the champion: no paired test",
                    challenger.settingId(), champion, cMean, bMean, null, common.size());
        }
        SeedStatistics.PairedTest t = SeedStatistics.pairedT(common.stream().mapToDouble(a::get).toArray(),
                common.stream().mapToDouble(b::get).toArray());
        boolean better = t.meanDifference() > 0 && t.pValue() < cfg.alpha();
        if (better) {
            record(lb, cfg, challenger, table, champion, t.pValue());
        }
        return new Decision(better, better ? "significantly better than the champion"
                : "not significantly better than the champion (paired t-test over " + common.size() + " seeds)",
                challenger.settingId(), champion, cMean, bMean, t.pValue(), common.size());
    }

    private static Map<Long, Double> perSeed(List<LeaderboardSummary.Observation> obs, String setting) {
        Map<Long, LeaderboardSummary.Observation> latest = new TreeMap<>();
        for (LeaderboardSummary.Observation o : obs) {
            if (o.settingId().equals(setting)) {
                latest.merge(o.seed(), o, (x, y) -> y.evaluatedAt().after(x.evaluatedAt()) ? y : x);
            }
        }
        Map<Long, Double> out = new TreeMap<>();
        latest.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    private static void ensureTable(Leaderboard lb) {
        lb.ensureTable();
        StringBuilder cols = new StringBuilder();
        for (var f : SCHEMA.fields()) {
            cols.append(cols.length() > 0 ? ", " : "").append(f.name()).append(' ').append(f.dataType().sql());
        }
        lb.spark().sql("CREATE TABLE IF NOT EXISTS " + tableName(lb) + " (" + cols + ") USING iceberg "
                + "TBLPROPERTIES ('commit.retry.num-retries'='20', 'format-version'='2')");
    }

    private static void record(Leaderboard lb, PromoteConfig cfg, LeaderboardSummary.Entry e, String table,
                               String previous, Double p) {
        Row row = RowFactory.create(cfg.dataset(), table, cfg.metric(), e.settingId(), e.model(), e.fusion(),
                e.setting(), e.summary().mean(), e.summary().n(), JavaConverters.asScalaBuffer(e.runIds()).toList(),
                previous, p, Timestamp.from(Instant.now()));
        try {
            lb.spark().createDataFrame(List.of(row), SCHEMA).writeTo(tableName(lb)).append();
        } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException ex) {
            throw new IllegalStateException("table " + tableName(lb) + " vanished after it was created", ex);
        }
        LOG.info("Promoted {} ({} {}) as the champion of {} ({} = {})", e.settingId(), e.model(), e.fusion(),
                cfg.dataset(), cfg.metric(), e.summary().mean());
    }
}
