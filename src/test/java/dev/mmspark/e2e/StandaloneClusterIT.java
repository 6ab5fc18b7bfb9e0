package dev.mmspark.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jobs on a real multi-process cluster: a standalone master and two workers on loopback, the
 * application jar submitted with spark-submit in client and cluster deploy modes.
 */
class StandaloneClusterIT {
    @TempDir
    static Path tmp;
    static StandaloneCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = StandaloneCluster.start(Files.createDirectories(tmp.resolve("cluster")), 2, 1, "3g");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static List<String> submitArgs(String deployMode) {
        List<String> a = new ArrayList<>(List.of("--master", cluster.masterUrl(), "--deploy-mode", deployMode,
                "--conf", "spark.executor.memory=1g", "--conf", "spark.executor.cores=1",
                "--conf", "spark.cores.max=2",
                "--conf", "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=1500M",
                "--conf", "spark.driver.memory=1g",
                // bin/spark-submit adds Java 17's --add-opens to a cluster-mode driver; SparkSubmit called
                // directly (as here) does not, so they are passed like a user of the class would.
                "--conf", "spark.driver.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=1500M "
                        + String.join(" ", E2e.opens()),
                "--conf", "spark.speculation=false"));
        if (deployMode.equals("cluster")) {
            // the driver runs on a worker: wait for it so the test sees its outcome
            a.addAll(List.of("--conf", "spark.standalone.submit.waitAppCompletion=true"));
        }
        return a;
    }

    static Path config(String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path conf = dir.resolve("job.conf");
        Files.writeString(conf, """
                schema_version = 1
                generate { output = "%1$s/dataset", samples = 120, image_size = 16, seed = 3, partitions = 2 }
                dataset { path = ${generate.output} }
                extract { output = "%1$s/features", image { size = 16 }, text { dim = 8, word2vec_iterations = 1 } }
                """.formatted(dir));
        return conf;
    }

    @Test
    void extractInClientMode() throws Exception {
        Path conf = config("client");
        E2e.Run gen = E2e.sparkSubmit(tmp, submitArgs("client"), List.of("generate", "--config", conf.toString()), 300);
        assertEquals(0, gen.exitCode(), gen.output());
        E2e.Run ext = E2e.sparkSubmit(tmp, submitArgs("client"), List.of("extract", "--config", conf.toString()), 600);
        assertEquals(0, ext.exitCode(), ext.output());
        assertTrue(ext.output().contains("on spark://127.0.0.1"), ext.output());
        assertTrue(Files.exists(conf.getParent().resolve("features/metadata.json")));
    }

    @Test
    void extractInClusterMode() throws Exception {
        Path conf = config("cluster");
        // In cluster mode spark-submit's exit code does not carry the driver's (Spark's standalone client exits
        // 0 once the driver ends), so the outcome is read from the job's manifest, as a scheduler would.
        for (String job : List.of("generate", "extract")) {
            Path manifest = conf.getParent().resolve(job + ".json");
            E2e.Run run = E2e.sparkSubmit(tmp, submitArgs("cluster"),
                    List.of(job, "--config", conf.toString(), "--manifest", manifest.toString()), 600);
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(Files.exists(manifest), run.output() + cluster.driverLogs());
            assertTrue(Files.readString(manifest).contains("\"status\" : \"ok\""), Files.readString(manifest));
        }
        assertTrue(Files.exists(conf.getParent().resolve("features/metadata.json")));
    }
}
