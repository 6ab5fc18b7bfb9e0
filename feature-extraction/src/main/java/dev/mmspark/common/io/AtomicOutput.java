package dev.mmspark.common.io;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

/**
 * Writes a job's output directory so that readers never see a partial result: everything goes to a
 * hidden sibling directory, which is renamed onto the destination only when the job succeeds. A failed
 * or killed job leaves the destination untouched (at most a hidden {@code .name.tmp-*} sibling that Spark
 * and Hadoop listings skip).
 *
 * <p>Directory rename is atomic on HDFS and local file systems. On object stores (S3, GCS) a rename is a
 * copy; use a committer-aware location there (README "Output paths").
 */
public final class AtomicOutput implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicOutput.class);

    private final FileSystem fs;
    private final Path target;
    private final Path temp;
    private final boolean overwrite;
    private boolean committed;

    private AtomicOutput(FileSystem fs, Path target, Path temp, boolean overwrite) {
        this.fs = fs;
        this.target = target;
        this.temp = temp;
        this.overwrite = overwrite;
    }

    /**
     * Starts an output at {@code target}. Refuses (exit code {@link ExitCode#OUTPUT_EXISTS}) when the target
     * already exists and {@code overwrite} is false: an output path may hold another run's results.
     *
     * @param what a few words for messages, e.g. "feature table"
     */
    public static AtomicOutput begin(Configuration hadoopConf, String target, boolean overwrite, String what) {
        try {
            Path t = new Path(target);
            FileSystem fs = t.getFileSystem(hadoopConf);
            t = fs.makeQualified(t);
            if (fs.exists(t)) {
                if (!overwrite) {
                    throw new MmsparkException(ExitCode.OUTPUT_EXISTS, "output path " + target
                            + " already exists (it may hold another run's results); refusing to write the "
                            + what + " there. Choose another path or pass --overwrite to replace it");
                }
                LOG.warn("Output path {} exists and will be replaced when the {} is complete", target, what);
            }
            Path parent = t.getParent();
            if (parent != null) {
                fs.mkdirs(parent);
            }
            Path tmp = new Path(parent, "." + t.getName() + ".tmp-" + UUID.randomUUID());
            return new AtomicOutput(fs, t, tmp, overwrite);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare output " + target, e);
        }
    }

    /** Where the job writes; a fully qualified URI string usable by Spark writers. */
    public String path() {
        return temp.toString();
    }

    public Path tempPath() {
        return temp;
    }

    public Path targetPath() {
        return target;
    }

    public FileSystem fileSystem() {
        return fs;
    }

    /** Moves the finished output onto the destination, replacing an old one only if allowed. */
    public void commit() {
        try {
            Path trash = null;
            if (fs.exists(target)) {
                if (!overwrite) {
                    throw new MmsparkException(ExitCode.OUTPUT_EXISTS, "output path " + target
                            + " appeared while the job was running; refusing to replace it");
                }
                trash = new Path(target.getParent(), "." + target.getName() + ".old-" + UUID.randomUUID());
                rename(target, trash);
            }
            rename(temp, target);
            committed = true;
            if (trash != null) {
                fs.delete(trash, true);
            }
            LOG.info("Committed {}", target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit output " + target, e);
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename " + from + " -> " + to + " failed");
        }
    }

    /**
     * Deletes the temporary directory unless the output was committed. When a Spark job fails, the driver
     * learns of it before the job's other tasks have stopped: a task being killed may still create files
     * under the temporary directory after a first delete. So this waits (up to 30 s) until no task is
     * running, deletes, and deletes again if a straggler wrote something meanwhile.
     */
    @Override
    public void close() {
        if (committed) {
            return;
        }
        awaitRunningTasks(30_000);
        try {
            for (int attempt = 0; attempt < 5 && fs.exists(temp); attempt++) {
                fs.delete(temp, true);
                Thread.sleep(100);
            }
            if (fs.exists(temp)) {
                LOG.warn("Temporary output {} keeps reappearing; a task may still be writing to it", temp);
            }
        } catch (IOException e) {
            LOG.warn("Could not remove temporary output {}: {}", temp, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitRunningTasks(long timeoutMillis) {
        scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        if (active.isEmpty()) {
            return;
        }
        org.apache.spark.SparkStatusTracker tracker = active.get().statusTracker();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        try {
            while (System.currentTimeMillis() < deadline) {
                int running = 0;
                for (org.apache.spark.SparkExecutorInfo e : tracker.getExecutorInfos()) {
                    running += e.numRunningTasks();
                }
                if (running == 0) {
                    return;
                }
                Thread.sleep(50);
            }
            LOG.warn("Tasks still running {} ms after the job failed; removing the temporary output anyway",
                    timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
