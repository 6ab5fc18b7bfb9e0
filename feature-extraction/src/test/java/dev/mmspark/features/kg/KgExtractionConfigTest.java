package dev.mmspark.features.kg;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KgExtractionConfigTest {
    private static KgExtractionConfig parse(String kg) {
        return KgExtractionConfig.from(Conf.parse("extract { output = out\nkg { " + kg + " } }").section("extract"));
    }

    private static String error(String kg) {
        return assertThrows(ConfigException.class, () -> parse(kg)).getMessage();
    }

    @Test
    void defaults() {
        assertEquals(new KgExtractionConfig("out", 0, KgExtractionConfig.NameVectors.RANDOM, null, 100, 42, true, 2,
                10_000, 42, 0.3, 0), parse(""));
    }

    @Test
    void everyKey() {
        KgExtractionConfig c = parse("name_vectors = file, vectors_path = \"g.txt.gz\", seed = 1, lowercase = false,"
                + " char_ngram = 0, max_char_vocab = 500, split { seed = 9, train = 0.5 }, max_neighbors = 20");
        assertEquals(new KgExtractionConfig("out", 0, KgExtractionConfig.NameVectors.FILE, "g.txt.gz", 100, 1, false,
                0, 500, 9, 0.5, 20), c);
        assertEquals(false, c.charNgrams());
        assertEquals(0.5, c.split().trainFraction());
    }

    @Test
    void invalidCombinationsAreRefusedWithTheKey() {
        assertEquals("config key 'extract.kg.vectors_path' is required when 'extract.kg.name_vectors' is file (a GloVe"
                + " or word2vec text file, optionally .gz)", error("name_vectors = file"));
        assertEquals("config key 'extract.kg.dim' applies to random name vectors only (inline config: 2); with"
                + " name_vectors = file the dimension is the file's", error("name_vectors = file, vectors_path = x,"
                + " dim = 300"));
        assertEquals("config key 'extract.kg.vectors_path' is set but 'extract.kg.name_vectors' is random (inline"
                + " config: 2); set name_vectors = file to use the file, or remove vectors_path", error("vectors_path = x"));
        assertEquals("config key 'extract.kg.split.train': expected a number between 0 and 1 (exclusive): the share"
                + " of aligned pairs used for training, found 1 (inline config: 2)", error("split { train = 1 }"));
        assertEquals("config key 'extract.kg.char_ngram': expected an integer between 0 and 5 (0: no character"
                + " n-gram modality), found 6 (inline config: 2)", error("char_ngram = 6"));
    }
}
