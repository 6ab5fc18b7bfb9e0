package dev.mmspark.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daily pipeline as a user runs it with the launcher, one process per command: generate a tiny dataset,
 * extract features, train with parameter averaging over 2 workers, evaluate, then read the leaderboard table
 * by name from a new process (so a new Spark session that knows nothing but the catalog settings).
 */
class PipelineIT {
    @TempDir
    Path tmp;

    @Test
    void extractTrainEvaluateThenQueryTheTableByName() throws Exception {
        Path conf = tmp.resolve("pipeline.conf");
        Files.writeString(conf, """
                schema_version = 1
                vars { work = "%1$s" }
                spark { master = "local[2]" }
                generate { output = ${vars.work}"/dataset", samples = 160, image_size = 16, seed = 3, partitions = 2 }
                dataset { path = ${generate.output} }
                extract { output = ${vars.work}"/features", image { size = 16 }, text { dim = 16, word2vec_iterations = 1 } }
                train {
                  model { name = multitask }
                  features = ${extract.output}
                  output = ${vars.work}"/model"
                  epochs = 2
                  batch_size_per_worker = 8
                  averaging_frequency = 2
                  workers = 2
                  seed = 11
                }
                evaluate { model = ${train.output}, split = test, dataset = tiny-synthetic }
                leaderboard { warehouse = ${vars.work}"/warehouse" }
                """.formatted(tmp));
        for (String job : List.of("generate", "extract", "train", "evaluate")) {
            E2e.Run r = E2e.launcher(tmp, List.of(job, "--config", conf.toString(),
                    "--manifest", tmp.resolve(job + ".json").toString()), 600);
            assertEquals(0, r.exitCode(), job + " failed:\n" + r.output());
            assertEquals("ok", manifest(job).get("status").asText(), job);
        }
        // a second extract refuses to clobber the first one's output, with the documented exit code
        E2e.Run again = E2e.launcher(tmp, List.of("extract", "--config", conf.toString()), 600);
        assertEquals(4, again.exitCode(), again.output());
        assertTrue(again.output().contains("already exists"), again.output());

        // training really averaged parameters over two workers
        JsonNode meta = new ObjectMapper().readTree(tmp.resolve("model/metadata.json").toFile());
        assertEquals(2, meta.get("training").get("workers").asInt(), meta.toString());
        assertTrue(Files.exists(tmp.resolve("model/network.zip")));

        // A new process, so a new Spark session: the table is found by its name alone.
        E2e.Run q = E2e.launcher(tmp, List.of("leaderboard", "--config", conf.toString(), "--sql",
                "SELECT eval_subset, n_samples, metrics['accuracy'] AS accuracy FROM mmspark.leaderboard.results "
                        + "WHERE dataset = 'tiny-synthetic' AND model = 'multitask' ORDER BY eval_subset"), 600);
        assertEquals(0, q.exitCode(), q.output());
        for (String subset : List.of("natural", "i", "t", "#", "it", "i#", "t#", "it#")) {
            assertTrue(q.output().lines().anyMatch(l -> l.trim().startsWith(subset + " ")),
                    "no row for subset " + subset + " in:\n" + q.output());
        }
        // a mistyped column is the user's error, named with the table's columns, not a stack trace
        E2e.Run bad = E2e.launcher(tmp, List.of("leaderboard", "--config", conf.toString(), "--sql",
                "SELECT n FROM mmspark.leaderboard.results"), 600);
        assertEquals(2, bad.exitCode(), bad.output());
        assertTrue(bad.output().contains("--sql: the query is not valid Spark SQL over the leaderboard: "
                + "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `n` cannot be "
                + "resolved."), bad.output());
        assertTrue(bad.output().contains("n_samples, metrics"), bad.output());
        assertTrue(!bad.output().contains("\tat org.apache.spark"), "no stack trace:\n" + bad.output());
    }

    private JsonNode manifest(String job) throws Exception {
        return new ObjectMapper().readTree(tmp.resolve(job + ".json").toFile());
    }
}
