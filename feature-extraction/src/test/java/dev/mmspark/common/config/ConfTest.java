package dev.mmspark.common.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfTest {
    enum Mode { PIXELS, BACKBONE }

    @Test
    void typedGettersReturnValuesAndDefaults() {
        Conf c = Conf.parse("train { epochs = 3, lr = 0.01, on = true, mode = backbone, names = [a, b] }");
        Conf t = c.section("train");
        assertEquals(3, t.integer("epochs", 1, n -> n >= 1, ">= 1"));
        assertEquals(0.01, t.number("lr", 1, x -> x > 0, "> 0"), 1e-12);
        assertEquals(true, t.bool("on", false));
        assertEquals(Mode.BACKBONE, t.enumValue("mode", Mode.class, Mode.PIXELS));
        assertEquals(List.of("a", "b"), t.strings("names", List.of()));
        assertEquals(7, t.integer("missing", 7, n -> true, ""));
        t.rejectUnknownKeys();
    }

    @Test
    void outOfRangeValueNamesKeyValueAndOrigin() {
        Conf c = Conf.parse("train {\n  epochs = 0\n}", "conf/x.conf", List.of());
        ConfigException e = assertThrows(ConfigException.class,
                () -> c.section("train").integer("epochs", 1, n -> n >= 1, ">= 1"));
        assertEquals("config key 'train.epochs': expected an integer >= 1, found 0 (conf/x.conf: 2)", e.getMessage());
    }

    @Test
    void wrongTypeIsReported() {
        Conf c = Conf.parse("lr = fast", "conf/x.conf", List.of());
        ConfigException e = assertThrows(ConfigException.class, () -> c.number("lr", 1, x -> x > 0, "> 0"));
        assertEquals("config key 'lr': expected a number > 0, found 'fast' (conf/x.conf: 1)", e.getMessage());
    }

    @Test
    void badEnumValueListsTheChoices() {
        Conf c = Conf.parse("mode = pixel", "conf/x.conf", List.of());
        ConfigException e = assertThrows(ConfigException.class, () -> c.enumValue("mode", Mode.class, Mode.PIXELS));
        assertEquals("config key 'mode': expected one of pixels, backbone, found 'pixel' (conf/x.conf: 1)",
                e.getMessage());
    }

    @Test
    void unknownKeyGetsASuggestion() {
        Conf c = Conf.parse("train {\n  epochs = 2\n  lerning_rate = 0.1\n}", "conf/x.conf", List.of());
        Conf t = c.section("train");
        t.integer("epochs", 1, n -> true, "");
        t.number("learning_rate", 0.1, x -> true, "");
        ConfigException e = assertThrows(ConfigException.class, c::rejectUnknownKeys);
        assertEquals("config key 'train.lerning_rate' is not a known key (conf/x.conf: 3); did you mean "
                + "'train.learning_rate'?", e.getMessage());
    }

    @Test
    void overridesWinAndAreTyped() {
        Conf c = Conf.parse("train { epochs = 2 }", "x", List.of("train.epochs=5", "out=/tmp/a:b"));
        assertEquals(5, c.section("train").integer("epochs", 1, n -> true, ""));
        assertEquals("/tmp/a:b", c.string("out", null));
    }

    @Test
    void malformedOverrideIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> Conf.parse("", "x", List.of("epochs")));
        assertEquals("override 'epochs' must have the form key.path=value", e.getMessage());
    }

    @Test
    void newerSchemaVersionIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> Conf.parse("schema_version = 2", "conf/x.conf",
                List.of()));
        assertEquals("config key 'schema_version': this build reads schema version 1, found 2 (conf/x.conf: 1)",
                e.getMessage());
    }

    @Test
    void requiredStringMissing() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Conf.parse("extract {}", "conf/x.conf", List.of()).section("extract").requireString("output"));
        assertEquals("config key 'extract.output' is required (a non-empty string) but is missing in conf/x.conf: 1",
                e.getMessage());
    }

    /** A section whose direct keys are all read (here as sub-sections) must still have its deeper keys checked. */
    @Test
    void misspeltKeyBelowFullyReadSectionsIsReported() {
        Conf root = Conf.parse("a { b { size = 1, sise = 2 } }");
        root.section("a").section("b").integer("size", 0, n -> true, "");
        ConfigException e = assertThrows(ConfigException.class, root::rejectUnknownKeys);
        assertEquals("config key 'a.b.sise' is not a known key (inline config: 1); did you mean 'a.b.size'?",
                e.getMessage());
    }

    @Test
    void stringMapCoversItsKeys() {
        Conf root = Conf.parse("spark { conf { spark.executor.memory = 4g, spark.speculation = false } }");
        assertEquals(Map.of("spark.executor.memory", "4g", "spark.speculation", "false"),
                root.section("spark").stringMap("conf"));
        root.rejectUnknownKeys();
    }
}
