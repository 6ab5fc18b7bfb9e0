package dev.mmspark.jobs;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.common.spark.ProgressListener;
import dev.mmspark.common.spark.SparkSessions;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one job the same way for every command: load and validate the whole config (before Spark starts),
 * start or join a SparkSession, run, write the manifest, stop Spark, and turn failures into an exit code
 * with a one-line message (user errors) or a stack trace (bugs).
 */
public final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    /** A job body: parse-validate-run lives in the command; the body only calls library code. */
    @FunctionalInterface
    public interface Job {
        JobResult run(JobContext ctx) throws Exception;
    }

    private JobRunner() {
    }

    public static int run(String name, JobOptions opts, Job job) {
        long t0 = System.currentTimeMillis();
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("job", name);
        manifest.put("started_at", Instant.now().toString());
        manifest.put("mmspark", Provenance.current().codeVersion());
        SparkSession spark = null;
        boolean ownSession = false;
        ExitCode code;
        try {
            PlatformConfig config = PlatformConfig.from(Conf.load(new File(opts.config()), opts.overrides()),
                    PlatformConfig.kindOf(name));
            manifest.put("config", opts.config());
            ownSession = SparkSession.getDefaultSession().isEmpty();
            spark = SparkSessions.getOrCreate("mmspark " + name, config.sparkMaster(), config.sparkConf());
            ProgressListener progress = new ProgressListener(10_000);
            spark.sparkContext().addSparkListener(progress);
            try {
                JobResult result = job.run(new JobContext(config, spark, opts.overwrite(), opts.resume(), opts.dryRun()));
                manifest.putAll(result.facts());
                code = result.exitCode();
            } finally {
                spark.sparkContext().removeSparkListener(progress);
            }
        } catch (Throwable t) {
            MmsparkException user = userError(t);
            if (user != null) {
                LOG.error("{} failed: {}", name, user.getMessage());
                code = user.exitCode();
            } else {
                LOG.error(name + " failed with an unexpected error", t);
                code = ExitCode.INTERNAL_ERROR;
            }
            manifest.put("error", user != null ? user.getMessage() : String.valueOf(t));
        } finally {
            if (spark != null && ownSession) {
                spark.stop();
            }
        }
        manifest.put("exit_code", code.code());
        manifest.put("status", code.name().toLowerCase());
        manifest.put("wall_seconds", (System.currentTimeMillis() - t0) / 1000.0);
        if (opts.manifest() != null) {
            writeManifest(Path.of(opts.manifest()), manifest);
        }
        return code.code();
    }

    /** Finds a user-facing error anywhere in the cause chain (executor exceptions arrive wrapped). */
    static MmsparkException userError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof MmsparkException m) {
                return m;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    private static void writeManifest(Path path, Map<String, Object> manifest) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".manifest", ".json");
            Files.writeString(tmp, Json.write(manifest), StandardCharsets.UTF_8);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("Could not write the manifest {}: {}", path, e.getMessage());
        }
    }

    /** Shared command-line flags. */
    public interface JobOptions {
        String config();

        List<String> overrides();

        boolean overwrite();

        boolean resume();

        boolean dryRun();

        String manifest();
    }
}
