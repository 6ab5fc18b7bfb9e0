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
 * for Airflow's classes and checks the chain, the spark-submit tasks, that every command is known to the
 * CLI and the manifest gathering. With {@code -Dmmspark.it.dagRun=true} it also runs the exact commands of
 * its tasks through spark-jobs/bin/mmspark on a tiny synthetic set (generate, extract, sweep, report,
 * promote, the DAG manifest, a retried sweep that adds nothing): about 4 minutes on an idle 2-core machine,
 * kept out of the default suite because PipelineIT and SweepTest already run those jobs.
 */
class AirflowDagIT {
    @Test
    void dagParsesAndItsCommandsRunThroughTheLauncher() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "python3 is needed to load the DAG file");
        Path root = E2e.root();
        boolean run = Boolean.getBoolean("mmspark.it.dagRun");
        E2e.Run r = E2e.run(root, List.of(python.toString(), "-m", "unittest", "-v",
                        "conf/airflow/test_mmspark_retraining.py"),
                Map.of("MMSPARK_DAG_RUN", run ? "1" : "0", "MMSPARK_DRIVER_MEMORY", "2g", "MMSPARK_OFFHEAP", "3G"), 1500);
        assertEquals(0, r.exitCode(), r.output());
        for (String test : List.of("test_chain", "test_spark_submit_tasks", "test_commands_are_known_to_the_cli",
                "test_manifest_gathers_job_manifests")) {
            assertTrue(r.output().matches("(?s).*" + test + " \\(.*\\) \\.\\.\\. ok.*"), test + ":\n" + r.output());
        }
        if (run) {
            assertTrue(r.output().matches("(?s).*test_run \\(.*DagRunTest.*\\) \\.\\.\\. ok.*"), r.output());
        }
    }
}
