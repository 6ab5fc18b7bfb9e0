package dev.mmspark.jobs;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class QuickstartJobTest {
    private static Map<String, Map<String, Double>> metrics(double tri, double i, double t, double tags) {
        Map<String, Map<String, Double>> m = new LinkedHashMap<>();
        m.put("it#@complete", Map.of("accuracy", tri));
        m.put("i@complete", Map.of("accuracy", i));
        m.put("t@complete", Map.of("accuracy", t));
        m.put("#@complete", Map.of("accuracy", tags));
        return m;
    }

    @Test
    void verdictComparesTheTrimodalHeadWithEachUnimodalOne() {
        assertEquals("Trimodal head (it#) accuracy 0.8000 on the test samples with all three modalities; unimodal:"
                        + " i 0.6000 t 0.6500 # 0.5500 -> fusion beats every single modality",
                QuickstartJob.fusionVerdict(metrics(0.8, 0.6, 0.65, 0.55)));
        assertEquals("Trimodal head (it#) accuracy 0.6000 on the test samples with all three modalities; unimodal:"
                        + " i 0.6000 t 0.6500 # 0.5500 -> fusion does NOT beat every single modality",
                QuickstartJob.fusionVerdict(metrics(0.6, 0.6, 0.65, 0.55)));
    }

    @Test
    void noVerdictWithoutTheConditions() {
        assertNull(QuickstartJob.fusionVerdict(Map.of("natural", Map.of("accuracy", 0.5))));
        assertNull(QuickstartJob.fusionVerdict(null));
    }
}
