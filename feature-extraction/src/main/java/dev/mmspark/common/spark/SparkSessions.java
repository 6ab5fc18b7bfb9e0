package dev.mmspark.common.spark;

import dev.mmspark.common.gpu.GpuTaskPlugin;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Creates the job's SparkSession. Under spark-submit the master and resources come from spark-submit;
 * launched any other way (the local launcher, tests) the session runs in local mode, so the same jar runs
 * unchanged on a laptop and on a cluster.
 */
public final class SparkSessions {
    private static final Logger LOG = LoggerFactory.getLogger(SparkSessions.class);

    private SparkSessions() {
    }

    /**
     * @param appName     the application name shown by the cluster manager
     * @param localMaster the master used when none was given by spark-submit, e.g. {@code local[*]}
     * @param extraConf   pass-through settings from the config's {@code spark.conf} section
     */
    public static SparkSession getOrCreate(String appName, String localMaster, Map<String, String> extraConf) {
        SparkConf conf = new SparkConf(true);
        applyDefaults(conf, localMaster);
        conf.setAppName(appName);
        extraConf.forEach(conf::set);
        addGpuPlugin(conf);
        if (conf.getBoolean("spark.speculation", false)) {
            LOG.warn("spark.speculation=true: speculative duplicates of training tasks would be averaged twice;"
                    + " disable it for training jobs");
        }
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        LOG.info("Spark {} session '{}' on {}", session.version(), appName, session.sparkContext().master());
        return session;
    }

    /**
     * The settings mmspark applies unless the user (spark-submit, {@code spark.conf}) set them: a local master
     * and small-run settings when none was given, speculation off, passive OpenMP waiting on executors.
     */
    static void applyDefaults(SparkConf conf, String localMaster) {
        if (!conf.contains("spark.master")) {
            conf.setMaster(localMaster);
            // Small local runs do not need 200 shuffle partitions.
            conf.setIfMissing("spark.sql.shuffle.partitions", "8");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        // A speculative duplicate of a training task would be averaged twice (platform-notes.md).
        conf.setIfMissing("spark.speculation", "false");
        // ND4J's native threads are GNU OpenMP threads, which spin when idle; next to Spark's own task threads
        // that spinning cost a third of the multitask model's step time here (README, "Benchmarks"). The
        // launcher sets the same for the driver and local mode.
        conf.setIfMissing("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        // Hadoop's local file system writes .crc side files; they only clutter outputs here.
        conf.setIfMissing("spark.hadoop.fs.file.impl.disable.cache", "false");
    }

    /**
     * With GPU scheduling on ({@code spark.task.resource.gpu.amount} set), adds {@link GpuTaskPlugin} to
     * {@code spark.plugins} so every task thread uses the GPU Spark assigned to it (ND4J ignores Spark's
     * assignment otherwise and may put two tasks on one GPU). Set {@code spark.plugins} yourself to opt out
     * of nothing: the plugin is appended to what is there.
     */
    static void addGpuPlugin(SparkConf conf) {
        if (!conf.contains("spark.task.resource.gpu.amount")) {
            return;
        }
        String plugin = GpuTaskPlugin.class.getName();
        String plugins = conf.get("spark.plugins", "");
        if (!java.util.Arrays.asList(plugins.split(",")).contains(plugin)) {
            conf.set("spark.plugins", plugins.isBlank() ? plugin : plugins + "," + plugin);
            LOG.info("GPU scheduling is on: added {} to spark.plugins", plugin);
        }
    }
}
