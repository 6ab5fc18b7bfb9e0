package dev.mmspark.common.spark;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SparkSessionsTest {

    @Test
    void defaultsApplyOnlyWhereTheUserSetNothing() {
        SparkConf local = new SparkConf(false);
        SparkSessions.applyDefaults(local, "local[2]");
        assertEquals("local[2]", local.get("spark.master"));
        assertEquals("8", local.get("spark.sql.shuffle.partitions"));
        assertEquals("false", local.get("spark.speculation"));
        assertEquals("PASSIVE", local.get("spark.executorEnv.OMP_WAIT_POLICY"));

        SparkConf submitted = new SparkConf(false).setMaster("spark://host:7077")
                .set("spark.executorEnv.OMP_WAIT_POLICY", "ACTIVE").set("spark.speculation", "true");
        SparkSessions.applyDefaults(submitted, "local[2]");
        assertEquals("spark://host:7077", submitted.get("spark.master"));
        assertFalse(submitted.contains("spark.sql.shuffle.partitions"), "a cluster keeps Spark's own default");
        assertEquals("ACTIVE", submitted.get("spark.executorEnv.OMP_WAIT_POLICY"));
        assertEquals("true", submitted.get("spark.speculation"));
    }
}
