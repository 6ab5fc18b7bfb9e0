package dev.mmspark.bench;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.model.ModelParams;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The case list: every case can be written and timed on both sides (no Spark, no timing here). */
class SampleCasesTest {

    @Test
    void everyCaseNamesARegisteredModelWhoseSectionParsesAndAPytorchPort() {
        Set<String> names = new HashSet<>();
        for (SampleCases.SampleCase sc : SampleCases.MODELS) {
            assertTrue(names.add(sc.name()), "case name " + sc.name() + " is used twice");
            assertTrue(ModelRegistry.names().contains(sc.model()), sc.name() + ": model " + sc.model()
                    + " is not registered");
            ModelParams p = ModelRegistry.require(sc.model(), "test").parseParams(Conf.parse(sc.modelSection()));
            assertNotNull(p, sc.name());
            // the test runs in bench/: run_case.py imports models.<pytorch> from bench/pytorch/models/
            File port = new File("pytorch/models/" + sc.pytorchModule() + ".py");
            assertTrue(port.isFile(), sc.name() + ": no PyTorch port " + port.getAbsolutePath());
        }
    }

    /** bench/README.md reports the tate case as TATE at its defaults (dim 32, 4 heads, length 24). */
    @Test
    void theTateCaseIsTheModelAtItsDefaults() {
        SampleCases.SampleCase tate = SampleCases.MODELS.stream().filter(c -> c.name().equals("tate")).findFirst()
                .orElseThrow();
        assertEquals("tate", tate.model());
        assertEquals("tate", tate.pytorchModule());
        assertEquals(ModelRegistry.require("tate", "test").parseParams(Conf.parse("name = tate")),
                ModelRegistry.require("tate", "test").parseParams(Conf.parse(tate.modelSection())));
    }
}
