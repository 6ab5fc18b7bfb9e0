package dev.mmspark.evaluation.sweep;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing and expansion of the sweep section, without Spark. */
class SweepSpecTest {
    static final String BASE = """
            sweep {
              name = t
              features = [/tmp/features]
              models = [multitask]
              fusions = [concat]
              seeds = [1, 2, 3]
              missing_rates = [0, 0.5]
              output = /tmp/sweep
              %s
              train { model { representation_dim = 16 }, epochs = 1 }
            }
            """;

    static SweepSpec spec(String extra) {
        Conf root = Conf.parse(BASE.formatted(extra), "test.conf", List.of());
        SweepSpec s = SweepSpec.from(root.section("sweep"));
        root.rejectUnknownKeys();
        return s;
    }

    @Test
    void expandsTheCrossProductInAStableOrder() {
        SweepSpec s = spec("grid { learning_rate = [0.001, 0.01], \"model.head_hidden\" = [[8], [16, 8]] }");
        List<SweepSpec.Combination> c = s.combinations();
        assertEquals(1 * 1 * 2 * 2 * 3, c.size());
        assertEquals(c.stream().map(SweepSpec.Combination::label).toList(),
                s.combinations().stream().map(SweepSpec.Combination::label).toList());
        assertEquals(12, c.stream().map(SweepSpec.Combination::label).distinct().count());
        SweepSpec.Resolved r = s.resolve(c.get(c.size() - 1), "/tmp/features", "/tmp/sweep/x", 1);
        assertEquals(0.01, r.train().learningRate());
        assertEquals(3, r.train().seed());
        assertEquals(1, r.train().workers());
        assertEquals(List.of(0.0, 0.5), r.evaluate().modalityRates());
        assertEquals("t", r.evaluate().sweepId());
        assertEquals("/tmp/sweep/x", r.evaluate().model());
    }

    @Test
    void randomDrawsAreReproducibleAndInRange() {
        String random = "random { samples = 4, seed = 9, params { learning_rate { min = 0.0001, max = 0.01, scale = log } } }";
        List<String> a = spec(random).combinations().stream().map(SweepSpec.Combination::label).toList();
        List<String> b = spec(random).combinations().stream().map(SweepSpec.Combination::label).toList();
        assertEquals(a, b);
        assertEquals(4 * 3, a.size());
        for (SweepSpec.Combination c : spec(random).combinations()) {
            double lr = ((Number) c.params().get("learning_rate").unwrapped()).doubleValue();
            assertTrue(lr >= 0.0001 && lr <= 0.01, "lr " + lr);
        }
        Set<Object> draws = spec(random).combinations().stream().map(c -> c.params().get("learning_rate").unwrapped())
                .collect(Collectors.toSet());
        assertEquals(4, draws.size());
    }

    /** An operator object on the fusion axis sets its sizes; its label is what the results' fusion column holds. */
    @Test
    void fusionObjectsSetTheOperatorsSizes() {
        SweepSpec s = spec("fusions = [concat, { name = mcb, output_dim = 32, mm_dim = 400 }]");
        assertEquals(List.of("concat", "mcb{mm_dim=400,output_dim=32}"), s.fusions());
        SweepSpec.Combination mcb = s.combinations().stream().filter(c -> c.fusion().startsWith("mcb")).findFirst()
                .orElseThrow();
        assertEquals("multitask mcb{mm_dim=400,output_dim=32} seed=1", mcb.label());
        SweepSpec.Resolved r = s.resolve(mcb, "/tmp/features", "/tmp/sweep/x", 1);
        dev.mmspark.training.fusion.FusionSpec f =
                ((dev.mmspark.training.models.multitask.MultitaskParams) r.train().modelParams()).fusion();
        assertEquals(new dev.mmspark.training.fusion.FusionSpec("mcb", Map.of("mm_dim", 400, "output_dim", 32)), f);
        ConfigException nameless = assertThrows(ConfigException.class, () -> spec("fusions = [{ mm_dim = 4 }]"));
        assertTrue(nameless.getMessage().contains("'sweep.fusions': an operator object needs a 'name'"),
                nameless.getMessage());
        ConfigException badSize = assertThrows(ConfigException.class,
                () -> spec("fusions = [{ name = mcb, mm_dim = -4 }]"));
        assertTrue(badSize.getMessage().contains("mm_dim"), badSize.getMessage());
    }

    @Test
    void errorsNameTheKey() {
        ConfigException reserved = assertThrows(ConfigException.class, () -> spec("grid { seed = [1, 2] }"));
        assertTrue(reserved.getMessage().contains("sweep.grid.seed"), reserved.getMessage());
        ConfigException notList = assertThrows(ConfigException.class, () -> spec("grid { epochs = 3 }"));
        assertTrue(notList.getMessage().contains("expected a non-empty list"), notList.getMessage());
        // a misspelt train key is caught at load, naming the run it would break and the likely key
        ConfigException typo = assertThrows(ConfigException.class, () -> spec("grid { learning_rat = [0.1] }"));
        assertTrue(typo.getMessage().contains("run multitask concat learning_rat=0.1 seed=1")
                && typo.getMessage().contains("did you mean 'train.learning_rate'"), typo.getMessage());
        // a bad base value keeps its file and line
        ConfigException base = assertThrows(ConfigException.class, () -> spec("train.optimizer = nosuch"));
        assertTrue(base.getMessage().contains("train.optimizer") && base.getMessage().contains("test.conf"),
                base.getMessage());
        ConfigException fusion = assertThrows(ConfigException.class, () -> spec("fusions = [concat, nosuch]"));
        assertTrue(fusion.getMessage().contains("unknown fusion 'nosuch'") && fusion.getMessage().contains("concat"),
                fusion.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class, () -> spec("parallel_run = 2"));
        assertTrue(unknown.getMessage().contains("sweep.parallel_run"), unknown.getMessage());
    }

    /** Models of one sweep have their own keys: per_model settings apply to that model's runs only. */
    @Test
    void perModelSettingsApplyToTheirModelOnly() {
        String hocon = """
                sweep {
                  name = t
                  features = [/tmp/features]
                  models = [multitask, misa]
                  seeds = [1]
                  output = /tmp/sweep
                  train { epochs = 1, learning_rate = 0.002 }
                  per_model {
                    multitask { model { representation_dim = 16 } }
                    misa { model { hidden = 24 }, learning_rate = 0.0001 }
                  }
                }
                """;
        Conf root = Conf.parse(hocon, "test.conf", List.of());
        SweepSpec s = SweepSpec.from(root.section("sweep"));
        root.rejectUnknownKeys();
        Map<String, SweepSpec.Resolved> byModel = s.combinations().stream().collect(Collectors.toMap(
                SweepSpec.Combination::model, c -> s.resolve(c, "/tmp/features", "/tmp/sweep/x", 1)));
        assertEquals(0.002, byModel.get("multitask").train().learningRate());
        assertEquals(0.0001, byModel.get("misa").train().learningRate());
        assertEquals(1, byModel.get("misa").train().epochs());
        assertEquals(24, ((dev.mmspark.training.models.misa.MisaParams) byModel.get("misa").train().modelParams())
                .hidden());
        assertEquals(16, ((dev.mmspark.training.models.multitask.MultitaskParams) byModel.get("multitask").train()
                .modelParams()).representationDim());

        ConfigException notInModels = assertThrows(ConfigException.class, () -> SweepSpec.from(Conf.parse(
                hocon.replace("misa { model", "tfrnet { model"), "test.conf", List.of()).section("sweep")));
        assertTrue(notInModels.getMessage().contains("sweep.per_model.tfrnet")
                && notInModels.getMessage().contains("[multitask, misa]"), notInModels.getMessage());
        ConfigException sweepOwned = assertThrows(ConfigException.class, () -> SweepSpec.from(Conf.parse(
                hocon.replace("hidden = 24", "hidden = 24, fusion = sum"), "test.conf", List.of()).section("sweep")));
        assertTrue(sweepOwned.getMessage().contains("sweep.per_model.misa.model.fusion"), sweepOwned.getMessage());
        // a key of the wrong model is caught at load, naming the run it would break
        ConfigException wrongModel = assertThrows(ConfigException.class, () -> SweepSpec.from(Conf.parse(
                hocon.replace("hidden = 24", "representation_dim = 24"), "test.conf", List.of()).section("sweep")));
        assertTrue(wrongModel.getMessage().contains("run misa"), wrongModel.getMessage());
    }

    /** TATE has no fusion operator: it runs once per seed beside the fusion-crossed models, and its run resolves. */
    @Test
    void modelsWithoutAFusionOperatorAreNotCrossedWithTheFusionAxis() {
        String hocon = """
                sweep {
                  name = t
                  features = [/tmp/features]
                  models = [multitask, tate]
                  fusions = [concat, gmu]
                  seeds = [1, 2]
                  output = /tmp/sweep
                  train { epochs = 1 }
                }
                """;
        Conf root = Conf.parse(hocon, "test.conf", List.of());
        SweepSpec s = SweepSpec.from(root.section("sweep"));
        root.rejectUnknownKeys();
        List<String> labels = s.combinations().stream().map(SweepSpec.Combination::label).toList();
        assertEquals(List.of("multitask concat seed=1", "multitask concat seed=2", "multitask gmu seed=1",
                "multitask gmu seed=2", "tate seed=1", "tate seed=2"), labels);
        SweepSpec.Combination tate = s.combinations().get(4);
        assertEquals(null, tate.fusion());
        // resolving it parses TATE's section with no fusion key (it would be rejected as unknown)
        SweepSpec.Resolved r = s.resolve(tate, "/tmp/features", "/tmp/sweep/x", 1);
        assertEquals("tate", r.train().modelName());
    }
}
