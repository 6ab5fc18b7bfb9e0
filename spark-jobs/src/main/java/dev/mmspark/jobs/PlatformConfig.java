package dev.mmspark.jobs;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.evaluation.alignment.AlignmentEvalConfig;
import dev.mmspark.data.synthetic.SyntheticConfig;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.evaluation.sweep.SweepSpec;
import dev.mmspark.evaluation.report.ReportConfig;
import dev.mmspark.evaluation.leaderboard.PromoteConfig;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.features.kg.KgExtractionConfig;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.alignment.AlignmentModels;
import dev.mmspark.training.alignment.AlignmentTrainConfig;

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
    private final AlignmentTrainConfig alignmentTrain;
    private final AlignmentEvalConfig alignmentEvaluate;

    /**
     * How the {@code train} and {@code evaluate} sections are read. Both the per-sample models (train, evaluate)
     * and the entity-alignment models (train-alignment, evaluate-alignment) use sections of these names with
     * different keys; one file is one kind of run.
     */
    public enum Kind {
        /** train / evaluate / quickstart: {@link TrainConfig}, {@link EvaluateConfig}. */
        SAMPLES,
        /** train-alignment / evaluate-alignment: {@link AlignmentTrainConfig}, {@link AlignmentEvalConfig}. */
        ALIGNMENT,
        /** Any other job: alignment when {@code train.model.name} names an entity-alignment model. */
        AUTO
    }

    private PlatformConfig(Conf root, Kind kind) {
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
        boolean alignment = alignmentKind(root, kind);
        if (alignment) {
            // train / evaluate: the entity-alignment jobs (train-alignment, evaluate-alignment)
            this.train = null;
            this.evaluate = null;
            this.alignmentTrain = root.has("train") ? AlignmentTrainConfig.from(root.section("train")) : null;
            this.alignmentEvaluate = root.has("evaluate") ? AlignmentEvalConfig.from(root.section("evaluate")) : null;
        } else {
            this.alignmentTrain = null;
            this.alignmentEvaluate = null;
            this.train = root.has("train") ? TrainConfig.from(root.section("train")) : null;
            this.evaluate = root.has("evaluate") ? EvaluateConfig.from(root.section("evaluate")) : null;
        }
        this.leaderboard = LeaderboardConfig.from(root.section("leaderboard"));
        this.sweep = root.has("sweep") ? SweepSpec.from(root.section("sweep")) : null;
        this.report = ReportConfig.from(root.section("report"));
        this.promote = root.has("promote") ? PromoteConfig.from(root.section("promote")) : null;
        root.rejectUnknownKeys();
    }

    /** A config file for a job that does not read {@code train}/{@code evaluate} itself ({@link Kind#AUTO}). */
    public static PlatformConfig from(Conf root) {
        return new PlatformConfig(root, Kind.AUTO);
    }

    public static PlatformConfig from(Conf root, Kind kind) {
        return new PlatformConfig(root, kind);
    }

    /** The kind of run a job implies: its own name for the train/evaluate jobs, otherwise the config decides. */
    public static Kind kindOf(String job) {
        return switch (job) {
            case "train-alignment", "evaluate-alignment" -> Kind.ALIGNMENT;
            case "train", "evaluate", "quickstart" -> Kind.SAMPLES;
            default -> Kind.AUTO;
        };
    }

    /**
     * Whether the train/evaluate sections are read as entity alignment; a model name that belongs to the other
     * kind of job, or to none, is a config error that names both lists (so {@code train} with {@code mclea}
     * says to run {@code train-alignment}).
     */
    private static boolean alignmentKind(Conf root, Kind kind) {
        String key = "train.model.name";
        String name = root.has("train") && root.section("train").has("model")
                && root.section("train").section("model").has("name")
                ? root.section("train").section("model").string("name", null) : null;
        boolean isAlignment = name != null && AlignmentModels.has(name);
        boolean isSample = name != null && ModelRegistry.find(name).isPresent();
        if (name != null && !isAlignment && !isSample) {
            throw new ConfigException("config key '" + key + "': unknown model '" + name + "' ("
                    + root.origin(key) + "); per-sample models (train, evaluate): "
                    + String.join(", ", ModelRegistry.names()) + "; entity-alignment models (train-alignment,"
                    + " evaluate-alignment): " + AlignmentModels.names());
        }
        return switch (kind) {
            case ALIGNMENT -> {
                if (isSample) {
                    throw new ConfigException("config key '" + key + "': '" + name + "' is a per-sample model ("
                            + root.origin(key) + "); run it with 'train'/'evaluate', or name an entity-alignment"
                            + " model: " + AlignmentModels.names());
                }
                yield true;
            }
            case SAMPLES -> {
                if (isAlignment) {
                    throw new ConfigException("config key '" + key + "': '" + name + "' is an entity-alignment"
                            + " model (" + root.origin(key) + "); run it with 'train-alignment'/'evaluate-alignment',"
                            + " or name a per-sample model: " + String.join(", ", ModelRegistry.names()));
                }
                yield false;
            }
            case AUTO -> isAlignment;
        };
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

    /** The {@code train} section as an entity-alignment training run. */
    public AlignmentTrainConfig requireAlignmentTrain() {
        return require(alignmentTrain, "train");
    }

    /** The {@code evaluate} section as an entity-alignment evaluation. */
    public AlignmentEvalConfig requireAlignmentEvaluate() {
        return require(alignmentEvaluate, "evaluate");
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
