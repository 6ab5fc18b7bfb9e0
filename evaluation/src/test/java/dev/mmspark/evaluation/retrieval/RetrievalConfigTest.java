package dev.mmspark.evaluation.retrieval;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code evaluate.retrieval} section: defaults, and every bad value refused with its full key path. */
class RetrievalConfigTest {

    private static RetrievalConfig parse(String retrieval) {
        Conf root = Conf.parse("evaluate { model = m\nretrieval { " + retrieval + " } }");
        RetrievalConfig rc = EvaluateConfig.from(root.section("evaluate")).retrieval();
        root.rejectUnknownKeys();
        return rc;
    }

    private static void refused(String retrieval, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(retrieval), retrieval);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void defaults() {
        RetrievalConfig rc = parse("");
        assertEquals(List.of(1, 5, 10, 50), rc.ks());
        assertEquals(1024, rc.blockSize());
        assertEquals(List.of(RetrievalConfig.Baseline.CCA, RetrievalConfig.Baseline.RAW_COSINE), rc.baselines());
        assertEquals(new RetrievalConfig.CcaSettings(1e-3, 0, 0), rc.cca());
        RetrievalConfig set = parse("ks = [3], block_size = 7, baselines = [raw-cosine], cca { regularisation = 0.5, "
                + "components = 4, correlation_power = 4 }");
        assertEquals(List.of(3), set.ks());
        assertEquals(7, set.blockSize());
        assertEquals(List.of(RetrievalConfig.Baseline.RAW_COSINE), set.baselines());
        assertEquals(new RetrievalConfig.CcaSettings(0.5, 4, 4), set.cca());
        assertEquals(List.of(), parse("baselines = []").baselines());
    }

    @Test
    void badValuesNameTheirKey() {
        refused("ks = [0, 5]", "evaluate.retrieval.ks", "between 1 and 1000000");
        refused("ks = [5, 5]", "evaluate.retrieval.ks", "distinct cut-offs");
        refused("ks = []", "evaluate.retrieval.ks", "distinct cut-offs");
        refused("block_size = 0", "evaluate.retrieval.block_size", "between 1 and 10000000");
        refused("baselines = [pca]", "evaluate.retrieval.baselines", "'pca'", "cca");
        refused("baselines = [cca, cca]", "evaluate.retrieval.baselines", "distinct");
        refused("cca.regularisation = -1", "evaluate.retrieval.cca.regularisation", "in [0, 1e6]");
        refused("cca.components = -2", "evaluate.retrieval.cca.components", "between 0 and 100000");
        refused("cca.correlation_power = 101", "evaluate.retrieval.cca.correlation_power", "in [0, 100]");
        refused("block = 5", "evaluate.retrieval.block", "not a known key");
    }
}
