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

/** The application jar runs unchanged through real spark-submit (local master, client deploy mode). */
class SparkSubmitIT {
    @TempDir
    Path tmp;

    @Test
    void generateAndExtractThroughSparkSubmit() throws Exception {
        Path conf = tmp.resolve("job.conf");
        Files.writeString(conf, """
                schema_version = 1
                generate { output = "%1$s/dataset", samples = 80, image_size = 16, seed = 5, partitions = 2 }
                dataset { path = ${generate.output} }
                extract { output = "%1$s/features", image { size = 16 }, text { dim = 8, word2vec_iterations = 1 } }
                """.formatted(tmp));
        E2e.Run gen = E2e.sparkSubmit(tmp, List.of("--master", "local[2]"),
                List.of("generate", "--config", conf.toString()), 300);
        assertEquals(0, gen.exitCode(), gen.output());
        E2e.Run ext = E2e.sparkSubmit(tmp, List.of("--master", "local[2]"),
                List.of("extract", "--config", conf.toString(), "--manifest", tmp.resolve("m.json").toString()), 300);
        assertEquals(0, ext.exitCode(), ext.output());
        JsonNode m = new ObjectMapper().readTree(tmp.resolve("m.json").toFile());
        assertEquals("ok", m.get("status").asText());
        long rows = 0;
        for (JsonNode n : m.get("rows")) {
            rows += n.asLong();
        }
        assertEquals(80, rows);
        assertTrue(Files.exists(tmp.resolve("features/metadata.json")));
        // a second run refuses to clobber the output, with the documented exit code
        E2e.Run again = E2e.sparkSubmit(tmp, List.of("--master", "local[2]"),
                List.of("extract", "--config", conf.toString()), 300);
        assertEquals(4, again.exitCode(), again.output());
        assertTrue(again.output().contains("already exists"), again.output());
    }
}
