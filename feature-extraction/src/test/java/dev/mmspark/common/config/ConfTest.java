package dev.mmspark.common.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfTest {

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
