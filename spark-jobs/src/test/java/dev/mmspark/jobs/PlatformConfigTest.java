package dev.mmspark.jobs;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The train/evaluate sections mean different things to the per-sample jobs and the entity-alignment jobs: which
 * reading applies, and that a model of the wrong kind or of no kind is a clear config error (no Spark here).
 */
class PlatformConfigTest {
    private static final String ALIGN = """
            schema_version = 1
            train { kg_table = kg, output = out, model { name = %s } }
            evaluate { model = out, csls_k = 3 }
            """;

    private static PlatformConfig parse(String text, PlatformConfig.Kind kind) {
        return PlatformConfig.from(Conf.parse(text), kind);
    }

    private static String error(String text, PlatformConfig.Kind kind) {
        return assertThrows(ConfigException.class, () -> parse(text, kind)).getMessage();
    }

    @Test
    void theJobDecidesTheKindAndTheModelNameDecidesForOtherJobs() {
        assertEquals(PlatformConfig.Kind.ALIGNMENT, PlatformConfig.kindOf("train-alignment"));
        assertEquals(PlatformConfig.Kind.ALIGNMENT, PlatformConfig.kindOf("evaluate-alignment"));
        assertEquals(PlatformConfig.Kind.SAMPLES, PlatformConfig.kindOf("train"));
        assertEquals(PlatformConfig.Kind.SAMPLES, PlatformConfig.kindOf("evaluate"));
        assertEquals(PlatformConfig.Kind.AUTO, PlatformConfig.kindOf("extract"));

        PlatformConfig c = parse(ALIGN.formatted("meaformer"), PlatformConfig.Kind.AUTO);
        assertEquals("meaformer", c.requireAlignmentTrain().modelName());
        assertEquals(3, c.requireAlignmentEvaluate().cslsK());
        assertTrue(assertThrows(ConfigException.class, c::requireTrain).getMessage()
                .startsWith("this job needs the config section 'train { ... }'"));
        assertNotNull(parse(ALIGN.formatted("MCLEA"), PlatformConfig.Kind.ALIGNMENT).requireAlignmentTrain());
    }

    @Test
    void aModelOfTheOtherKindOrOfNoKindIsAConfigErrorListingBoth() {
        assertEquals("config key 'train.model.name': 'mclea' is an entity-alignment model (inline config: 2); run it"
                + " with 'train-alignment'/'evaluate-alignment', or name a per-sample model: dscmr, misa, multitask, tate, tfrnet",
                error(ALIGN.formatted("mclea"), PlatformConfig.Kind.SAMPLES));
        assertEquals("config key 'train.model.name': 'multitask' is a per-sample model (inline config: 2); run it"
                + " with 'train'/'evaluate', or name an entity-alignment model: mclea, meaformer",
                error(ALIGN.formatted("multitask"), PlatformConfig.Kind.ALIGNMENT));
        for (PlatformConfig.Kind kind : PlatformConfig.Kind.values()) {
            assertEquals("config key 'train.model.name': unknown model 'gcn-align' (inline config: 2); per-sample"
                    + " models (train, evaluate): dscmr, misa, multitask, tate, tfrnet; entity-alignment models (train-alignment,"
                    + " evaluate-alignment): mclea, meaformer", error(ALIGN.formatted("gcn-align"), kind));
        }
    }

    @Test
    void badAlignmentValuesAndUnknownKeysNameTheKey() {
        assertEquals("config key 'evaluate.csls_k': expected an integer between 1 and 1000, found 0 (inline config: 4)",
                error(ALIGN.formatted("mclea") + "evaluate.csls_k = 0", PlatformConfig.Kind.ALIGNMENT));
        assertEquals("config key 'evaluate.block_size': expected an integer between 16 and 65536, found 8 (inline"
                + " config: 4)", error(ALIGN.formatted("mclea") + "evaluate.block_size = 8",
                PlatformConfig.Kind.ALIGNMENT));
        assertEquals("config key 'train.epochs': expected an integer between 1 and 100000, found 0 (inline config: 4)",
                error(ALIGN.formatted("mclea") + "train.epochs = 0", PlatformConfig.Kind.ALIGNMENT));
        String typo = error(ALIGN.formatted("mclea") + "evaluate.csls = 3", PlatformConfig.Kind.ALIGNMENT);
        assertTrue(typo.startsWith("config key 'evaluate.csls' is not a known key"), typo);
        // a per-sample key in an alignment train section is not silently ignored
        String perSample = error(ALIGN.formatted("mclea") + "train.features = f", PlatformConfig.Kind.ALIGNMENT);
        assertTrue(perSample.startsWith("config key 'train.features' is not a known key"), perSample);
    }
}
