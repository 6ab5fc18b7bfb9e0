package dev.mmspark.evaluation.leaderboard;

import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The results table. Every evaluation appends its rows in one Iceberg commit, so a reader sees all rows
 * of an evaluation or none, and concurrent writers (parallel sweeps) lose nothing: Iceberg retries a
 * commit that raced with another against the new table state, and {@link FileLockManager} makes the
 * commit itself safe across processes on a local file system.
 */
public final class Leaderboard {
    private static final Logger LOG = LoggerFactory.getLogger(Leaderboard.class);

    public static final StructType SCHEMA = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("sweep_id", DataTypes.StringType, true)
            .add("model", DataTypes.StringType, false)
            .add("fusion", DataTypes.StringType, true)
            .add("dataset", DataTypes.StringType, false)
            .add("feature_table", DataTypes.StringType, false)
            .add("feature_table_hash", DataTypes.StringType, false)
            .add("split", DataTypes.StringType, false)
            .add("seed", DataTypes.LongType, false)
            .add("config_hash", DataTypes.StringType, false)
            .add("config", DataTypes.StringType, false)
            .add("eval_subset", DataTypes.StringType, false)
            .add("missing_protocol", DataTypes.StringType, false)
            .add("missing_rate", DataTypes.DoubleType, false)
            .add("missing_pattern", DataTypes.StringType, true)
            .add("metric_set", DataTypes.StringType, false)
            .add("n_samples", DataTypes.LongType, false)
            .add("metrics", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false)
            .add("details", DataTypes.StringType, true)
            .add("model_path", DataTypes.StringType, true)
            .add("param_count", DataTypes.LongType, false)
            .add("train_seconds", DataTypes.DoubleType, false)
            .add("examples_per_second", DataTypes.DoubleType, false)
            .add("code_version", DataTypes.StringType, false)
            .add("spark_version", DataTypes.StringType, false)
            .add("dl4j_version", DataTypes.StringType, false)
            .add("trained_at", DataTypes.TimestampType, true)
            .add("evaluated_at", DataTypes.TimestampType, false);

    private final SparkSession spark;
    private final LeaderboardConfig config;

    private Leaderboard(SparkSession spark, LeaderboardConfig config) {
        this.spark = spark;
        this.config = config;
    }

    /**
     * Registers the Iceberg catalog in this session (catalogs are resolved lazily, so this works on a
     * running session) and returns the leaderboard.
     */
    public static Leaderboard open(SparkSession spark, LeaderboardConfig config) {
        configureCatalog(spark, config);
        return new Leaderboard(spark, config);
    }

    /** The catalog settings a fresh session needs to read the tables by name (printed in the README too). */
    public static void configureCatalog(SparkSession spark, LeaderboardConfig config) {
        String prefix = "spark.sql.catalog." + config.catalog();
        spark.conf().set(prefix, "org.apache.iceberg.spark.SparkCatalog");
        spark.conf().set(prefix + ".type", "hadoop");
        spark.conf().set(prefix + ".warehouse", qualify(spark, config.warehouse()));
        spark.conf().set(prefix + ".lock-impl", FileLockManager.class.getName());
        // Other processes (parallel sweeps, evaluations) commit to the same table: without this, a session keeps
        // the table metadata it loaded first and its reads miss their commits (a sweep would then rerun runs
        // that are already in the table).
        spark.conf().set(prefix + ".cache-enabled", "false");
    }

    static String qualify(SparkSession spark, String warehouse) {
        try {
            Path p = new Path(warehouse);
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).makeQualified(p).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve warehouse " + warehouse, e);
        }
    }

    public String tableName() {
        return config.qualifiedName();
    }

    public LeaderboardConfig config() {
        return config;
    }

    public SparkSession spark() {
        return spark;
    }

    /** Creates the namespace and the results table if they do not exist yet. */
    public void ensureTable() {
        spark.sql("CREATE NAMESPACE IF NOT EXISTS " + config.catalog() + "." + config.namespace());
        StringBuilder cols = new StringBuilder();
        for (var f : SCHEMA.fields()) {
            if (cols.length() > 0) {
                cols.append(", ");
            }
            cols.append(f.name()).append(' ').append(f.dataType().sql());
            if (!f.nullable()) {
                cols.append(" NOT NULL");
            }
        }
        spark.sql("CREATE TABLE IF NOT EXISTS " + tableName() + " (" + cols + ") USING iceberg "
                + "PARTITIONED BY (dataset) "
                + "TBLPROPERTIES ('commit.retry.num-retries'='20', 'commit.retry.min-wait-ms'='50', "
                + "'format-version'='2')");
    }

    /** Appends all rows in one atomic commit and returns the new snapshot id. */
    public long append(List<ResultRow> rows) {
        ensureTable();
        if (rows.isEmpty()) {
            return currentSnapshot();
        }
        try {
            spark.createDataFrame(toRows(rows), SCHEMA).writeTo(tableName()).append();
        } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
            throw new IllegalStateException("table " + tableName() + " vanished after it was created", e);
        }
        long snapshot = currentSnapshot();
        LOG.info("Appended {} row(s) to {} (snapshot {})", rows.size(), tableName(), snapshot);
        return snapshot;
    }

    public Dataset<Row> read() {
        ensureTable();
        return spark.table(tableName());
    }

    public long currentSnapshot() {
        List<Row> r = spark.sql("SELECT snapshot_id FROM " + tableName() + ".snapshots ORDER BY committed_at DESC"
                + " LIMIT 1").collectAsList();
        return r.isEmpty() ? -1 : r.get(0).getLong(0);
    }

    /** Whether any row of this run is already committed (used to skip finished runs on a rerun). */
    public boolean hasRun(String runId) {
        ensureTable();
        return !spark.table(tableName()).where(org.apache.spark.sql.functions.col("run_id").equalTo(runId)).limit(1)
                .collectAsList().isEmpty();
    }

    static List<Row> toRows(List<ResultRow> rows) {
        List<Row> out = new ArrayList<>(rows.size());
        for (ResultRow r : rows) {
            out.add(RowFactory.create(r.runId(), r.sweepId(), r.model(), r.fusion(), r.dataset(), r.featureTable(),
                    r.featureTableHash(), r.split(), r.seed(), r.configHash(), r.config(), r.evalSubset(),
                    r.missingProtocol(), r.missingRate(), r.missingPattern(), r.metricSet(), r.nSamples(),
                    JavaConverters.mapAsScalaMap(r.metrics()), r.details(), r.modelPath(), r.paramCount(),
                    r.trainSeconds(), r.examplesPerSecond(), r.codeVersion(), r.sparkVersion(), r.dl4jVersion(),
                    r.trainedAt(), r.evaluatedAt()));
        }
        return out;
    }
}
