package dev.mmspark.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the project as a user does: the launcher script, or real spark-submit with the application jar and
 * a Spark distribution assembled from the project's own Spark jars (src/test/spark-dist).
 */
final class E2e {
    private E2e() {
    }

    static Path root() {
        return Path.of(System.getProperty("mmspark.project.root", "../..")).toAbsolutePath().normalize();
    }

    static Path appJar() throws IOException {
        try (Stream<Path> s = Files.list(root().resolve("spark-jobs/target"))) {
            return s.filter(p -> p.getFileName().toString().endsWith("-app.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no application jar: run mvn package first"));
        }
    }

    static Path sparkHome() {
        return root().resolve("src/test/spark-dist/target/spark-home");
    }

    static List<String> opens() {
        return List.of(System.getProperty("mmspark.java17.opens", "").split("\\s+")).stream()
                .filter(s -> !s.isBlank()).toList();
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A finished child process: exit code and everything it printed. */
    record Run(int exitCode, String output) {
    }

    /** spark-submit (org.apache.spark.deploy.SparkSubmit) of the application jar with the given arguments. */
    static Run sparkSubmit(Path workDir, List<String> submitArgs, List<String> appArgs, long timeoutSeconds)
            throws Exception {
        return run(workDir, sparkSubmitCommand(submitArgs, appArgs), Map.of("SPARK_HOME", sparkHome().toString()),
                timeoutSeconds);
    }

    /** A running child process and the file its output goes to. */
    record Started(Process process, Path log) {
        String output() throws IOException {
            return Files.readString(log);
        }

        Run await(long timeoutSeconds) throws Exception {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError("command timed out after " + timeoutSeconds + " s\n" + output());
            }
            return new Run(process.exitValue(), output());
        }
    }

    /** Starts spark-submit without waiting for it (for tests that kill it, or its executors, midway). */
    static Started startSparkSubmit(Path workDir, List<String> submitArgs, List<String> appArgs) throws Exception {
        return start(workDir, sparkSubmitCommand(submitArgs, appArgs), Map.of("SPARK_HOME", sparkHome().toString()));
    }

    private static List<String> sparkSubmitCommand(List<String> submitArgs, List<String> appArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(opens());
        cmd.addAll(List.of("-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=3G",
                "-Dlog4j2.configurationFile=" + root().resolve("conf/log4j2.properties"),
                "-cp", sparkHome().resolve("jars") + File.separator + "*", "org.apache.spark.deploy.SparkSubmit"));
        cmd.addAll(submitArgs);
        cmd.addAll(List.of("--class", "dev.mmspark.jobs.Main", appJar().toString()));
        cmd.addAll(appArgs);
        return cmd;
    }

    /** The local launcher, spark-jobs/bin/mmspark. */
    static Run launcher(Path workDir, List<String> args, long timeoutSeconds) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(root().resolve("spark-jobs/bin/mmspark").toString()));
        cmd.addAll(args);
        return run(workDir, cmd, Map.of("MMSPARK_DRIVER_MEMORY", "2g", "MMSPARK_OFFHEAP", "3G"), timeoutSeconds);
    }

    static Run run(Path workDir, List<String> cmd, Map<String, String> env, long timeoutSeconds) throws Exception {
        return start(workDir, cmd, env).await(timeoutSeconds);
    }

    static Started start(Path workDir, List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        Path log = Files.createTempFile(workDir, "run", ".log");
        pb.redirectOutput(log.toFile());
        return new Started(pb.start(), log);
    }
}
