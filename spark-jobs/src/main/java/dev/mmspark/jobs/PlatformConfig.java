package dev.mmspark.jobs;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.synthetic.SyntheticConfig;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.evaluation.sweep.SweepSpec;
import dev.mmspark.evaluation.report.ReportConfig;
import dev.mmspark.evaluation.leaderboard.PromoteConfig;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.features.kg.KgExtractionConfig;

import java.util.Map;

/**
 * A whole configuration file, parsed and validated at once before Spark starts: every section that is
 * present is checked (so a typo in a section another job uses is still caught), and unknown keys are
 * rejected. Jobs ask for the sections they need with {@code require*}.
 */
public final class PlatformConfig {
    private final Conf root;
    private final String sparkMaster;
    private final Map<String, String> sparkConf;
    private final DatasetConfig dataset;
    private final SyntheticConfig generate;
    private final String generateOutput;
    private final ExtractionConfig extract;
    private final TrainConfig train;
    private final EvaluateConfig evaluate;
    private final LeaderboardConfig leaderboard;
    private final KgExtractionConfig kgExtract;
    private final SweepSpec sweep;
    private final ReportConfig report;
    private final PromoteConfig promote;

    private PlatformConfig(Conf root) {
        this.root = root;
        // 'vars' holds free-form values for HOCON substitutions (${vars.work}); nothing reads it directly.
        root.stringMap("vars");
        Conf spark = root.section("spark");
        this.sparkMaster = spark.string("master", "local[*]");
        this.sparkConf = spark.stringMap("conf");
        this.dataset = root.has("dataset") ? DatasetConfig.from(root.section("dataset")) : null;
        if (root.has("generate")) {
            Conf g = root.section("generate");
            this.generateOutput = g.requireString("output");
            this.generate = SyntheticConfig.from(g);
        } else {
            this.generate = null;
            this.generateOutput = null;
        }
        this.extract = root.has("extract") ? ExtractionConfig.from(root.section("extract")) : null;
        // extract.kg: how a knowledge-graph dataset (dataset.format = dbp15k) is extracted
        this.kgExtract = root.has("extract") ? KgExtractionConfig.from(root.section("extract")) : null;
        this.train = root.has("train") ? TrainConfig.from(root.section("train")) : null;
        this.evaluate = root.has("evaluate") ? EvaluateConfig.from(root.section("evaluate")) : null;
        this.leaderboard = LeaderboardConfig.from(root.section("leaderboard"));
        this.sweep = root.has("sweep") ? SweepSpec.from(root.section("sweep")) : null;
        this.report = ReportConfig.from(root.section("report"));
        this.promote = root.has("promote") ? PromoteConfig.from(root.section("promote")) : null;
        root.rejectUnknownKeys();
    }

    public static PlatformConfig from(Conf root) {
        return new PlatformConfig(root);
    }

    public Conf root() {
        return root;
    }

    public String sparkMaster() {
        return sparkMaster;
    }

    public Map<String, String> sparkConf() {
        return sparkConf;
    }

    public DatasetConfig requireDataset() {
        return require(dataset, "dataset");
    }

    public SyntheticConfig requireGenerate() {
        return require(generate, "generate");
    }

    public String generateOutput() {
        return require(generateOutput, "generate");
    }

    public ExtractionConfig requireExtract() {
        return require(extract, "extract");
    }

    /** The {@code extract} section as a knowledge-graph extraction ({@code output}, {@code partitions}, {@code kg}). */
    public KgExtractionConfig requireKgExtract() {
        return require(kgExtract, "extract");
    }

    public TrainConfig requireTrain() {
        return require(train, "train");
    }

    public EvaluateConfig requireEvaluate() {
        return require(evaluate, "evaluate");
    }

    public SweepSpec requireSweep() {
        return require(sweep, "sweep");
    }

    /** The report section; every key has a default. */
    public ReportConfig report() {
        return report;
    }

    public PromoteConfig requirePromote() {
        return require(promote, "promote");
    }

    /** The sweep section, or null when the file has none. */
    public SweepSpec sweep() {
        return sweep;
    }

    /** The leaderboard section; every key has a default, so it is never missing. */
    public LeaderboardConfig leaderboard() {
        return leaderboard;
    }

    private static <T> T require(T value, String section) {
        if (value == null) {
            throw new ConfigException("this job needs the config section '" + section + " { ... }', which is missing"
                    + " (see conf/quickstart.conf for an example)");
        }
        return value;
    }
}
