package dev.mmspark.evaluation.missing;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModalityDropperTest {
    @Test
    void rateAndUniformPatternsAndNeverAll() {
        ModalityDropper d = new ModalityDropper(0.4, 3);
        List<String> all = List.of("image", "text", "tags");
        int degraded = 0;
        Map<Set<String>, Integer> patterns = new HashMap<>();
        int n = 30_000;
        for (int i = 0; i < n; i++) {
            Set<String> a = d.available("s" + i, all);
            assertTrue(!a.isEmpty());
            if (a.size() < 3) {
                degraded++;
                patterns.merge(a, 1, Integer::sum);
            }
        }
        assertEquals(0.4, degraded / (double) n, 0.01);
        assertEquals(6, patterns.size());
        for (int c : patterns.values()) {
            assertEquals(1.0 / 6, c / (double) degraded, 0.015);
        }
    }

    @Test
    void deterministicAndLeavesSingleModalitySamples() {
        ModalityDropper d = new ModalityDropper(1.0, 9);
        assertEquals(d.available("x", List.of("image", "text")), d.available("x", List.of("image", "text")));
        assertEquals(1, d.available("x", List.of("image", "text")).size());
        assertEquals(Set.of("text"), d.available("y", List.of("text")));
        assertEquals(Set.of("image", "text"), new ModalityDropper(0.0, 9).available("x", List.of("image", "text")));
    }
}
