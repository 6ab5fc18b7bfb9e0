package dev.mmspark.features.text;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quantised all-MiniLM-L6-v2 through ONNX Runtime, loaded from the classpath. */
class MiniLmEncoderTest {
    private static MiniLmEncoder encoder;

    @BeforeAll
    static void open() {
        encoder = MiniLmEncoder.open(1);
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    private static float[] sentence(String text) {
        return encoder.embedTexts(List.of(text), 128, 1).get(0).sentence();
    }

    static double cosine(float[] a, float[] b) {
        double d = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return d / Math.sqrt(na * nb);
    }

    static double norm(float[] a) {
        double s = 0;
        for (float x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    @Test
    void sentenceVectorIsUnitLength384AndDeterministic() {
        float[] a = sentence("a happy dog plays in the park");
        assertEquals(MiniLmEncoder.DIM, a.length);
        assertEquals(1.0, norm(a), 1e-5);
        assertArrayEquals(a, sentence("a happy dog plays in the park"));
    }

    @Test
    void tokenVectorsCoverEveryWordPieceAndPoolToTheSentenceVector() {
        MiniLmEncoder.Embedding e = encoder.embedTexts(List.of("Hello, world!"), 128, 1).get(0);
        assertEquals(6, e.length()); // [CLS] hello , world ! [SEP]
        assertEquals(6 * MiniLmEncoder.DIM, e.tokens().length);
        assertArrayEquals(e.sentence(), MiniLmEncoder.meanPoolNormalised(e.tokens(), e.length()));
    }

    @Test
    void similarSentencesAreCloserThanUnrelatedOnes() {
        float[] dog = sentence("a happy dog plays in the park");
        float[] puppy = sentence("a joyful puppy playing in a park");
        float[] stocks = sentence("stock markets fell sharply today");
        double near = cosine(dog, puppy);
        double far = cosine(dog, stocks);
        assertTrue(near > 0.6, "dog/puppy cosine " + near);
        assertTrue(far < 0.2, "dog/stocks cosine " + far);
        assertTrue(near > far + 0.4, near + " vs " + far);
    }

    private static final List<String> MIXED = List.of("ok",
            "a happy dog plays in the park with a red ball and two children", "stock markets fell sharply today",
            "Hello, world!");

    @Test
    void oneTextPerPassDoesNotDependOnTheOtherTexts() {
        List<MiniLmEncoder.Embedding> all = encoder.embedTexts(MIXED, 128, 1);
        for (int i = 0; i < MIXED.size(); i++) {
            MiniLmEncoder.Embedding alone = encoder.embedTexts(List.of(MIXED.get(i)), 128, 1).get(0);
            assertArrayEquals(alone.sentence(), all.get(i).sentence());
            assertArrayEquals(alone.tokens(), all.get(i).tokens());
        }
    }

    @Test
    void paddedBatchesKeepOnlyRealPositions() {
        List<MiniLmEncoder.Embedding> batched = encoder.embedTexts(MIXED, 128, 4);
        for (int i = 0; i < MIXED.size(); i++) {
            MiniLmEncoder.Embedding alone = encoder.embedTexts(List.of(MIXED.get(i)), 128, 1).get(0);
            MiniLmEncoder.Embedding b = batched.get(i);
            assertEquals(alone.length(), b.length());
            assertEquals(alone.length() * MiniLmEncoder.DIM, b.tokens().length);
            assertEquals(1.0, norm(b.sentence()), 1e-5);
            // the batch-wide activation quantisation moves the vectors (class Javadoc), but not far
            assertTrue(cosine(alone.sentence(), b.sentence()) > 0.9, "text " + i);
        }
        // the same batch twice gives the same vectors
        List<MiniLmEncoder.Embedding> again = encoder.embedTexts(MIXED, 128, 4);
        for (int i = 0; i < MIXED.size(); i++) {
            assertArrayEquals(batched.get(i).tokens(), again.get(i).tokens());
        }
    }

    @Test
    void aTextRepeatedInABatchEqualsItselfAlone() {
        // no other text changes the quantisation scale, so the batched path must reproduce the single one
        String t = MIXED.get(1);
        float[] alone = sentence(t);
        List<MiniLmEncoder.Embedding> b = encoder.embedTexts(List.of(t, t, t), 128, 3);
        for (MiniLmEncoder.Embedding e : b) {
            assertEquals(1.0, cosine(alone, e.sentence()), 1e-6);
        }
    }

    @Test
    void emptyTextStillEmbedsClsAndSep() {
        MiniLmEncoder.Embedding e = encoder.embedTexts(List.of(""), 128, 1).get(0);
        assertEquals(2, e.length());
        assertEquals(1.0, norm(e.sentence()), 1e-5);
    }

    @Test
    void closedEncoderRefusesWork() {
        MiniLmEncoder own = MiniLmEncoder.open(1);
        own.close();
        own.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> own.embedTexts(List.of("x"), 16, 1));
    }
}
