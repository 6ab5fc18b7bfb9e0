package dev.mmspark.common.spark;

import dev.mmspark.common.gpu.GpuTaskPlugin;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SparkSessionsGpuTest {
    @Test
    void pluginIsAddedOnlyWithGpuScheduling() {
        SparkConf cpu = new SparkConf(false);
        SparkSessions.addGpuPlugin(cpu);
        assertFalse(cpu.contains("spark.plugins"));

        SparkConf gpu = new SparkConf(false).set("spark.task.resource.gpu.amount", "1")
                .set("spark.plugins", "com.example.Other");
        SparkSessions.addGpuPlugin(gpu);
        SparkSessions.addGpuPlugin(gpu);
        assertEquals("com.example.Other," + GpuTaskPlugin.class.getName(), gpu.get("spark.plugins"));
    }
}
