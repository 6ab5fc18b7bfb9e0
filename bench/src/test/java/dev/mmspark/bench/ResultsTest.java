package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultsTest {

    private static JsonNode side(long params, double trainMs, double inferMs, double flops) {
        return Json.tree("{\"params\": " + params + ", \"train_ms\": " + trainMs + ", \"infer_ms\": " + inferMs
                + ", \"forward_flops\": " + flops + ", \"peak_rss_mb\": 100}");
    }

    @Test
    void ratiosThroughputAndRoofFractionAreComputedFromBothSides() {
        Results r = new Results();
        r.roof("pytorch (system OpenBLAS)", RoofRunner.REFERENCE, 200.0);
        // 1 GFLOP forward per batch: a training step counts 3 GFLOP; 30 ms -> 100 GFLOP/s -> half the roof
        r.model("m", "sample", 64, side(10, 30, 8, 0), side(10, 15, 4, 1e9), "ok");
        Map<String, Object> row = r.models().get(0);
        assertEquals(2.0, (double) row.get("train_ratio"), 1e-12);
        assertEquals(2.0, (double) row.get("infer_ratio"), 1e-12);
        assertEquals(64 * 1000.0 / 30, (double) row.get("train_ex_s_java"), 1e-9);
        assertEquals(100.0, (double) row.get("train_gflops_java"), 1e-9);
        assertEquals(0.5, (double) row.get("train_roof_fraction_java"), 1e-12);
        assertEquals(1.0, (double) row.get("train_roof_fraction_pytorch"), 1e-12);
        assertEquals("ok", row.get("status"));
    }

    @Test
    void anUncountedTrainingForwardLeavesOnlyTheInferenceRoofFraction() {
        Results r = new Results();
        r.roof("pytorch (system OpenBLAS)", RoofRunner.REFERENCE, 100.0);
        JsonNode torch = Json.tree("{\"params\": 5, \"train_ms\": 10, \"infer_ms\": 20, \"forward_flops\": 1e9, "
                + "\"train_forward_flops\": -1, \"peak_rss_mb\": 1}");
        r.model("align", "alignment", 512, side(5, 40, 40, 0), torch, "ok");
        Map<String, Object> row = r.models().get(0);
        assertNull(row.get("train_roof_fraction_java"));
        assertNull(row.get("train_forward_gflop_per_batch"));
        // 1 GFLOP in 40 ms = 25 GFLOP/s = a quarter of the roof; PyTorch: 20 ms -> a half
        assertEquals(0.25, (double) row.get("infer_roof_fraction_java"), 1e-12);
        assertEquals(0.5, (double) row.get("infer_roof_fraction_pytorch"), 1e-12);
    }

    @Test
    void differentParameterCountsAndAMissingSideAreFlagged() {
        Results r = new Results();
        r.model("a", "fusion", 64, side(10, 1, 1, 1), side(11, 1, 1, 1), "ok");
        r.model("b", "fusion", 64, side(10, 1, 1, 1), null, "pytorch failed");
        assertEquals("parameter counts differ", r.models().get(0).get("status"));
        assertNull(r.models().get(1).get("train_ratio"));
        assertNull(r.models().get(1).get("train_roof_fraction_java"), "no roof measured, no fraction");
    }

    @Test
    void tablesAndSummaryAreWritten(@TempDir File dir) throws Exception {
        Results r = new Results();
        r.roof("nd4j", RoofRunner.REFERENCE, 80.5);
        r.model("multitask", "sample", 64, side(1741143, 500, 100, 1.6e9), side(1741143, 250, 50, 1.6e9), "ok");
        r.spark("train, 2 workers", Map.of("seconds", 12.5));
        r.write(dir, 42);
        List<String> csv = Files.readAllLines(new File(dir, "models.csv").toPath());
        assertEquals(String.join(",", Results.MODEL_COLUMNS), csv.get(0));
        assertTrue(csv.get(1).startsWith("multitask,sample,64,1741143,1741143,500.0,250.0,2.0,"), csv.get(1));
        assertEquals(List.of("implementation,m_k_n,gflops", "nd4j,1024x768x384,80.5"),
                Files.readAllLines(new File(dir, "roof.csv").toPath()));
        String summary = Files.readString(new File(dir, "summary.txt").toPath());
        assertTrue(summary.contains("multitask"), summary);
        assertTrue(summary.contains("2.00"), summary);
        assertTrue(summary.contains("train, 2 workers: seconds 12.50"), summary);
    }

    @Test
    void csvCellsWithCommasOrQuotesAreQuoted() {
        assertEquals("plain", Results.csv("plain"));
        assertEquals("\"a,b\"", Results.csv("a,b"));
        assertEquals("\"say \"\"x\"\"\"", Results.csv("say \"x\""));
    }
}
