package dev.mmspark.common.gpu;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The plugin runs on every task thread before the task body. In local mode Spark assigns no GPU addresses,
 * so the tasks are seen and none is bound (StandaloneClusterIT assigns GPU addresses on standalone workers).
 */
class GpuTaskPluginTest {
    @Test
    void everyTaskPassesThroughThePlugin() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        assertEquals(GpuTaskPlugin.class.getName(), jsc.getConf().get("spark.plugins"));
        long before = GpuTaskPlugin.counts()[0];
        long n = jsc.parallelize(List.of(1, 2, 3, 4, 5, 6), 3).map(i -> i * 2).count();
        assertEquals(6, n);
        assertEquals(3, GpuTaskPlugin.counts()[0] - before, "one call per task");
        assertEquals(0, GpuTaskPlugin.counts()[1]);
        assertNull(GpuTaskPlugin.lastAddress());
    }
}
