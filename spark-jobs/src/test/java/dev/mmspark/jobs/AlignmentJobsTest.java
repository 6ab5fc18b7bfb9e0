package dev.mmspark.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.ExitCode;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The entity-alignment commands as a user runs them: a tiny dataset in DBP15K's file layout, extract,
 * train-alignment, evaluate-alignment, with exit codes and manifests.
 */
class AlignmentJobsTest {
    static final SparkSession SPARK = SparkTestSession.get();
    @TempDir
    static Path tmp;
    static Path conf;

    /** Two copies of a random 40-entity graph (ids 0..39 and 40..79, permuted), names sharing a token per pair. */
    @BeforeAll
    static void dataset() throws IOException {
        int n = 40;
        SplittableRandom rng = new SplittableRandom(3);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        Path pair = Files.createDirectories(tmp.resolve("dbp15k/zh_en"));
        Path names = Files.createDirectories(tmp.resolve("dbp15k/translated_ent_name"));
        List<String> e1 = new ArrayList<>();
        List<String> e2 = new ArrayList<>();
        List<String> t1 = new ArrayList<>();
        List<String> t2 = new ArrayList<>();
        List<String> ill = new ArrayList<>();
        StringBuilder json = new StringBuilder("[");
        TreeSet<Long> seen = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            e1.add(i + "\thttp://zh/" + i);
            e2.add((n + perm[i]) + "\thttp://en/" + perm[i]);
            ill.add(i + "\t" + (n + perm[i]));
            String word = "w" + rng.nextInt(30);
            json.append(i == 0 ? "" : ", ").append("[").append(i).append(", [\"").append(word).append("\", \"a")
                    .append(i).append("\"]], [").append(n + perm[i]).append(", [\"").append(word).append("\"]]");
            for (int k = 0; k < 3; k++) {
                int j = rng.nextInt(n);
                if (j != i && seen.add(Math.min(i, j) * 1000L + Math.max(i, j))) {
                    int r = rng.nextInt(4);
                    t1.add(i + "\t" + r + "\t" + j);
                    t2.add((n + perm[i]) + "\t" + (10 + r) + "\t" + (n + perm[j]));
                }
            }
        }
        Files.write(pair.resolve("ent_ids_1"), e1);
        Files.write(pair.resolve("ent_ids_2"), e2);
        Files.write(pair.resolve("triples_1"), t1);
        Files.write(pair.resolve("triples_2"), t2);
        Files.write(pair.resolve("ill_ent_ids"), ill);
        Files.writeString(names.resolve("dbp_zh_en.json"), json.append("]").toString());
        conf = tmp.resolve("align.conf");
        Files.writeString(conf, """
                schema_version = 1
                vars { work = "%s" }
                spark { master = "local[2]" }
                dataset { format = dbp15k, path = "%s", kg_pair = zh_en }
                extract { output = ${vars.work}"/kg", kg { name_vectors = random, dim = 8, split { seed = 1, train = 0.3 } } }
                train {
                  kg_table = ${extract.output}
                  output = ${vars.work}"/mclea"
                  model { name = mclea, modalities = [structure, relation, name], dim = 16, modality_dim = 8 }
                  epochs = 4, batch_size = 8, learning_rate = 0.005, workers = 2, averaging_frequency = 1
                }
                evaluate { model = ${train.output}, block_size = 16 }
                leaderboard { warehouse = ${vars.work}"/warehouse" }
                """.formatted(tmp.resolve("work"), tmp.resolve("dbp15k")));
    }

    private static int run(String... args) {
        return Main.run(args);
    }

    private static JsonNode manifest(String name) throws IOException {
        return Json.tree(Files.readString(tmp.resolve(name)));
    }

    @Test
    void extractTrainAndEvaluateThroughTheCommands() throws IOException {
        assertEquals(0, run("extract", "--config", conf.toString()));
        assertEquals(0, run("train-alignment", "--config", conf.toString(), "--manifest",
                tmp.resolve("train.json").toString()));
        JsonNode train = manifest("train.json");
        assertEquals("structure+relation+name", train.get("modalities").asText());
        assertEquals(4, train.get("epochs").asInt());

        // the model is not overwritten silently
        assertEquals(ExitCode.OUTPUT_EXISTS.code(), run("train-alignment", "--config", conf.toString()));

        assertEquals(0, run("evaluate-alignment", "--config", conf.toString(), "--manifest",
                tmp.resolve("eval.json").toString()));
        JsonNode eval = manifest("eval.json");
        int test = Json.tree(Files.readString(tmp.resolve("work/kg/metadata.json"))).get("split").get("test").asInt();
        assertEquals(test, eval.get("test_pairs").asInt());
        // how well it learns is AlignmentTrainingTest's business; here: the numbers reach the leaderboard intact
        double h1 = eval.get("csls").get("hits_at_1_l2r").asDouble();
        assertTrue(h1 >= 0 && h1 <= 1, "CSLS H@1 " + h1);

        List<Row> rows = Leaderboard.open(SPARK, LeaderboardConfig.from(dev.mmspark.common.config.Conf.parse(
                "warehouse = \"" + tmp.resolve("work/warehouse") + "\""))).read()
                .selectExpr("model", "eval_subset", "metric_set", "get_json_object(details, '$.similarity') AS similarity",
                        "metrics['hits_at_1_l2r']", "n_samples")
                .orderBy("similarity").collectAsList();
        assertEquals(2, rows.size());
        assertEquals("[mclea,structure+relation+name,alignment,cosine," + eval.get("cosine").get("hits_at_1_l2r")
                .asDouble() + "," + test + "]", rows.get(0).toString());
        assertEquals("csls", rows.get(1).getString(3));
        assertEquals(h1, rows.get(1).getDouble(4), 0.0);
    }

    @Test
    void aBadModelNameIsAConfigError() {
        assertEquals(ExitCode.BAD_CONFIG.code(), run("train-alignment", "--config", conf.toString(), "--set",
                "train.model.name=gcn-align"));
    }
}
