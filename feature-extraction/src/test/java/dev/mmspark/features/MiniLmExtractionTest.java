package dev.mmspark.features;

import dev.mmspark.features.text.MiniLmEncoder;
import dev.mmspark.testing.Failures;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MiniLM encoder in the extract job (local Spark): new vector and sequence modalities, and their metadata. */
class MiniLmExtractionTest {
    @TempDir
    static Path tmp;
    private static Path dataset;
    private static FeatureExtraction.Result result;
    private static Map<String, Row> rows;

    private static String line(String id, String split, String label, String text) {
        return "{\"id\":\"" + id + "\",\"split\":\"" + split + "\",\"label\":\"" + label + "\""
                + (text == null ? ",\"tags\":[\"t\"]" : ",\"text\":\"" + text + "\"") + "}";
    }

    @BeforeAll
    static void extract() throws Exception {
        Path dir = tmp.resolve("ds");
        Files.createDirectories(dir);
        dataset = TestData.manifest(dir,
                line("hello", "train", "a", "Hello, world!"),
                line("dog", "train", "b", "a happy dog plays in the park http://t.co/x1"),
                line("url", "train", "a", "http://t.co/only"),
                line("dots", "validation", "b", "..."),
                line("empty", "test", "a", "\\u200B\\u0001"), // blank texts are refused when read
                line("none", "test", "b", null),
                line("long", "test", "a", "one two three four five six seven eight nine ten"));
        result = FeatureExtractionTest.extract(dataset.toString(), tmp.resolve("features").toString(),
                "text { bert { enabled = true, max_tokens = 8 } }");
        rows = new HashMap<>();
        for (Row r : FeatureTable.open(SparkTestSession.get(), result.output()).rows().collectAsList()) {
            rows.put(r.getString(r.fieldIndex("id")), r);
        }
    }

    @AfterAll
    static void closeSharedSession() {
        // the executor-side session of this JVM (local Spark); the shutdown hook would close it too
        MiniLmEncoder.shared(1).close();
    }

    private static List<Float> floats(Row r, String column) {
        return r.isNullAt(r.fieldIndex(column)) ? null : r.getList(r.fieldIndex(column));
    }

    private static float[] array(List<Float> l) {
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }

    @Test
    void metadataDescribesAVectorAndASequenceModality() {
        FeatureTableMetadata m = result.metadata();
        assertEquals(List.of("text", "tags", "text_minilm", "text_minilm_tokens"), m.modalityNames());
        FeatureTableMetadata.Modality v = m.modality("text_minilm");
        assertEquals(ModalityKind.VECTOR, v.kind());
        assertEquals(List.of(384), v.shape());
        assertEquals("minilm-l6-v2-q-onnx", v.extractor());
        assertEquals(true, v.settings().get("quantised"));
        assertEquals(8, v.settings().get("max_tokens"));
        assertEquals(2L, v.settings().get("truncated_texts")); // dog and long
        // the zero-width/control text and the URL-only text have no word piece; a missing text is not counted
        assertEquals(2L, v.settings().get("texts_without_word_pieces"));
        assertEquals(4L, v.settings().get("texts_encoded"));
        FeatureTableMetadata.Modality s = m.modality("text_minilm_tokens");
        assertEquals(ModalityKind.SEQUENCE, s.kind());
        assertEquals(List.of(-1, 384), s.shape());
        assertEquals(Map.of("train", 2L, "validation", 1L, "test", 1L), s.presentRows());
        assertEquals(v.presentRows(), s.presentRows());
    }

    @Test
    void columnsHoldTheSentenceVectorAndOneVectorPerWordPiece() {
        Row hello = rows.get("hello");
        float[] sentence = array(floats(hello, "text_minilm_values"));
        assertEquals(384, sentence.length);
        double sq = 0;
        for (float x : sentence) {
            sq += x * x;
        }
        assertEquals(1.0, Math.sqrt(sq), 1e-5);
        assertEquals(6, hello.getInt(hello.fieldIndex("text_minilm_tokens_length"))); // [CLS] hello , world ! [SEP]
        assertEquals(6 * 384, floats(hello, "text_minilm_tokens_values").size());
        // the same vector as the encoder gives for the text alone (batch_size 1: independent of neighbours)
        try (MiniLmEncoder e = MiniLmEncoder.open(1)) {
            MiniLmEncoder.Embedding alone = e.embedTexts(List.of("Hello, world!"), 8, 1).get(0);
            assertArrayEquals(alone.sentence(), sentence);
            assertArrayEquals(alone.tokens(), array(floats(hello, "text_minilm_tokens_values")));
        }
        // the URL is dropped before tokenising: [CLS] a happy dog plays in the [SEP] (max_tokens 8 truncates "park")
        assertEquals(8, rows.get("dog").getInt(rows.get("dog").fieldIndex("text_minilm_tokens_length")));
        assertEquals(8, rows.get("long").getInt(rows.get("long").fieldIndex("text_minilm_tokens_length")));
    }

    @Test
    void textsWithoutWordPiecesAreAbsentLikeTextsWithoutTokens() {
        for (String id : List.of("url", "empty", "none")) {
            Row r = rows.get(id);
            assertFalse(r.getBoolean(r.fieldIndex("text_minilm_present")), id);
            assertNull(floats(r, "text_minilm_values"), id);
            assertFalse(r.getBoolean(r.fieldIndex("text_minilm_tokens_present")), id);
            assertEquals(0, r.getInt(r.fieldIndex("text_minilm_tokens_length")), id);
            assertFalse(r.getBoolean(r.fieldIndex("text_present")), id); // the word path agrees
        }
        // punctuation only: no word tokens, but three MiniLM word pieces
        Row dots = rows.get("dots");
        assertFalse(dots.getBoolean(dots.fieldIndex("text_present")));
        assertTrue(dots.getBoolean(dots.fieldIndex("text_minilm_present")));
        assertEquals(5, dots.getInt(dots.fieldIndex("text_minilm_tokens_length")));
    }

    @Test
    void tooLongFailsWithTheKeyToChange() throws Exception {
        // one too-long text only: with several, which one a task meets first depends on scheduling
        Path dir = tmp.resolve("long-ds");
        Files.createDirectories(dir);
        Path ds = TestData.manifest(dir, line("hello", "train", "a", "Hello, world!"),
                line("dog", "train", "b", "a happy dog plays in the park"));
        String msg = Failures.message(() -> FeatureExtractionTest.extract(ds.toString(),
                tmp.resolve("fail").toString(), "text { too_long = fail, bert { enabled = true, max_tokens = 8 } }"));
        assertEquals("samples.jsonl:2 (sample 'dog'): text has 7 MiniLM word pieces, more than "
                + "extract.text.bert.max_tokens = 8 minus 2 for [CLS] and [SEP] (set extract.text.too_long = truncate"
                + " to keep the first 6)", msg);
    }

    @Test
    void onlyTheSentenceVectorWhenTokenVectorsAreOff() {
        FeatureExtraction.Result r = FeatureExtractionTest.extract(dataset.toString(), tmp.resolve("sv").toString(),
                "text { bert { enabled = true, token_vectors = false, name = minilm } }");
        assertEquals(List.of("text", "tags", "minilm"), r.metadata().modalityNames());
        List<String> cols = List.of(SparkTestSession.get().read().parquet(r.output() + "/features").columns());
        assertTrue(cols.contains("minilm_values"));
        assertFalse(cols.stream().anyMatch(c -> c.startsWith("minilm_tokens")));
    }
}
