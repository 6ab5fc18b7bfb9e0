package dev.mmspark.jobs;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of every job, locally ({@code spark-jobs/bin/mmspark <command>}) and on a cluster
 * ({@code spark-submit --class dev.mmspark.jobs.Main mmspark-spark-jobs-*-app.jar <command>}).
 * Exit codes are documented in README.md and {@link dev.mmspark.common.ExitCode}.
 */
@Command(name = "mmspark", mixinStandardHelpOptions = true, versionProvider = Commands.Version.class,
        description = "Multimodal deep learning on Apache Spark: extract features, train, evaluate, sweep.",
        subcommands = {Commands.Generate.class, Commands.Extract.class, Commands.Train.class,
                Commands.Evaluate.class, Commands.LeaderboardCommand.class, Commands.SweepCommand.class,
                Commands.ReportCommand.class, Commands.PromoteCommand.class, Commands.Quickstart.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command and returns its exit code (used by tests and the launcher). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        // usage errors are configuration errors
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println(ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return dev.mmspark.common.ExitCode.BAD_CONFIG.code();
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }
}
