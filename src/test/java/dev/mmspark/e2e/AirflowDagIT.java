package dev.mmspark.e2e;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The retraining DAG (conf/airflow/mmspark_retraining.py): its Python test parses the DAG with stand-ins
 * for Airflow's classes, then runs the exact commands of its tasks through spark-jobs/bin/mmspark on a tiny
 * synthetic set (generate, extract, sweep, report, promote, the DAG manifest, and a retried sweep that
 * adds nothing).
 */
class AirflowDagIT {
    @Test
    void dagParsesAndItsCommandsRunThroughTheLauncher() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "python3 is needed to load the DAG file");
        Path root = E2e.root();
        E2e.Run r = E2e.run(root, List.of(python.toString(), "conf/airflow/test_mmspark_retraining.py"),
                Map.of("MMSPARK_DAG_RUN", "1", "MMSPARK_DRIVER_MEMORY", "2g", "MMSPARK_OFFHEAP", "3G"), 1500);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().matches("(?s).*test_run \\(.*DagRunTest.*\\) \\.\\.\\. ok.*"), r.output());
    }
}
