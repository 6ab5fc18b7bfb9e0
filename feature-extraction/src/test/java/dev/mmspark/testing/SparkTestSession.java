package dev.mmspark.testing;

import org.apache.spark.sql.SparkSession;

/**
 * One local SparkSession per test JVM (Surefire forks one JVM per module), shared by all tests: starting
 * Spark costs seconds, and two sessions in one JVM fight over the SparkContext.
 */
public final class SparkTestSession {
    private static SparkSession session;

    private SparkTestSession() {
    }

    public static synchronized SparkSession get() {
        if (session == null || session.sparkContext().isStopped()) {
            session = SparkSession.builder()
                    .master("local[2]")
                    .appName("mmspark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.default.parallelism", "2")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.session.timeZone", "UTC")
                    // as on a GPU cluster: every task passes through the GPU binding (a no-op here)
                    .config("spark.plugins", "dev.mmspark.common.gpu.GpuTaskPlugin")
                    .getOrCreate();
        }
        return session;
    }
}
