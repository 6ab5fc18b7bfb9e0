package dev.mmspark.jobs;

import dev.mmspark.common.Provenance;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** The command-line commands; each is a few lines that hand a job body to {@link JobRunner}. */
final class Commands {
    private Commands() {
    }

    /** Flags every job takes. */
    static final class Common implements JobRunner.JobOptions {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "HOCON config file (see conf/)")
        String config;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "override a config value, e.g. --set train.epochs=3 (repeatable)")
        List<String> overrides = new ArrayList<>();

        @Option(names = "--overwrite", description = "replace an existing output instead of refusing")
        boolean overwrite;

        @Option(names = "--manifest", paramLabel = "FILE",
                description = "write a JSON manifest of the outcome (exit code, run ids, counts) for schedulers")
        String manifest;

        @Option(names = "--resume", description = "train: continue from the last complete checkpoint")
        boolean resume;

        String defaultConfig;

        @Override
        public String config() {
            if (config == null && defaultConfig == null) {
                throw new dev.mmspark.common.config.ConfigException("--config FILE is required for this command");
            }
            return config != null ? config : defaultConfig;
        }

        @Override
        public List<String> overrides() {
            return overrides;
        }

        @Override
        public boolean overwrite() {
            return overwrite;
        }

        @Override
        public boolean resume() {
            return resume;
        }

        @Override
        public boolean dryRun() {
            return false;
        }

        @Override
        public String manifest() {
            return manifest;
        }
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            Provenance p = Provenance.current();
            return new String[]{"mmspark " + p.codeVersion(), "Spark " + p.sparkVersion() + ", DL4J " + p.dl4jVersion()
                    + " (" + p.nd4jBackend() + "), " + p.javaVersion()};
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Generate the built-in synthetic image+text+tag dataset (config section 'generate').")
    static final class Generate implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("generate", common, GenerateJob::run);
        }
    }

    @Command(name = "extract", mixinStandardHelpOptions = true,
            description = "Extract per-modality features of a dataset into a Parquet feature table "
                    + "(sections 'dataset' and 'extract').")
    static final class Extract implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("extract", common, ExtractJob::run);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train a model on a feature table with parameter averaging across executors "
                    + "(section 'train'); --resume continues from the last complete checkpoint.")
    static final class Train implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("train", common, TrainJob::run);
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = "Evaluate a trained model on a split under every modality subset and missing-modality "
                    + "condition, and append the results to the leaderboard (sections 'evaluate', 'leaderboard').")
    static final class Evaluate implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("evaluate", common, EvaluateJob::run);
        }
    }

    @Command(name = "leaderboard", mixinStandardHelpOptions = true,
            description = "Print the leaderboard, or the result of a Spark SQL query over it (section 'leaderboard').")
    static final class LeaderboardCommand implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--sql", paramLabel = "QUERY", description = "a Spark SQL query; the tables are named "
                + "<catalog>.<namespace>.<table>, by default mmspark.leaderboard.results")
        String sql;

        @Option(names = "--limit", paramLabel = "N", description = "rows to print (default 50)")
        int limit = 50;

        @Override
        public Integer call() {
            return JobRunner.run("leaderboard", common, ctx -> LeaderboardJob.run(ctx, sql, limit));
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Run a sweep (section 'sweep'): models x fusions x hyperparameters x seeds, each run evaluated "
                    + "under every missing-modality rate; runs already in the leaderboard are skipped; refreshes the "
                    + "summary table and writes the report.")
    static final class SweepCommand implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--dry-run", description = "print the expanded runs with their ids and status; run nothing")
        boolean dryRun;

        @Option(names = "--max-runs", paramLabel = "N",
                description = "start at most N runs now; the rest stay for the next invocation (default: all)")
        int maxRuns;

        @Override
        public Integer call() {
            return JobRunner.run("sweep", common, ctx -> SweepJob.run(ctx, dryRun, maxRuns));
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Refresh the summary table (mean, sd, CI, rank, paired test over seeds) and render the "
                    + "leaderboard as an HTML page with PNG charts (sections 'leaderboard', 'report').")
    static final class ReportCommand implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("report", common, ReportJob::run);
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Compare the best setting of the summary with the current champion of a dataset and promote "
                    + "it only when it is significantly better (paired t-test over seeds); exit code 5 when not "
                    + "(section 'promote').")
    static final class PromoteCommand implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            return JobRunner.run("promote", common, PromoteJob::run);
        }
    }

    @Command(name = "quickstart", mixinStandardHelpOptions = true,
            description = "Run the whole pipeline on the built-in synthetic dataset: generate, extract, train, "
                    + "evaluate, print the leaderboard (default config conf/quickstart.conf).")
    static final class Quickstart implements Callable<Integer> {
        @Mixin
        Common common;

        @Override
        public Integer call() {
            common.defaultConfig = "conf/quickstart.conf";
            return JobRunner.run("quickstart", common, QuickstartJob::run);
        }
    }
}
