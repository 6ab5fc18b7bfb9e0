package dev.mmspark.features.text;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WordPiece tokenizer against the vocabulary of all-MiniLM-L6-v2's tokenizer.json (the uncased BERT
 * vocabulary). Every expected id below was looked up in that file's {@code model.vocab} by hand (e.g.
 * {@code "hello": 7592}); the splits of unknown words follow greedy longest-match-first over that vocabulary.
 */
class WordPieceTokenizerTest {
    private static WordPieceTokenizer tok;

    @BeforeAll
    static void load() {
        tok = MiniLmEncoder.loadTokenizer();
    }

    private static WordPieceTokenizer.Encoding enc(String text) {
        return tok.encode(text, 128);
    }

    @Test
    void vocabularyIsTheUncasedBertOne() {
        assertEquals(30522, tok.vocabSize());
        assertEquals(0, tok.padId());
        assertEquals(101, tok.id("[CLS]"));
        assertEquals(102, tok.id("[SEP]"));
        assertEquals(100, tok.id("[UNK]"));
    }

    @Test
    void helloWorld() {
        WordPieceTokenizer.Encoding e = enc("Hello, world!");
        assertEquals(List.of("[CLS]", "hello", ",", "world", "!", "[SEP]"), e.pieces());
        assertArrayEquals(new int[]{101, 7592, 1010, 2088, 999, 102}, e.ids());
        assertArrayEquals(new long[]{1, 1, 1, 1, 1, 1}, e.attentionMask());
        assertArrayEquals(new long[6], e.tokenTypeIds());
        assertFalse(e.truncated());
        assertEquals(4, e.wordPieces());
    }

    @Test
    void unknownWordsSplitIntoContinuationPieces() {
        // bert-base-uncased's well-known split of "unaffable"
        assertEquals(List.of("[CLS]", "una", "##ffa", "##ble", "[SEP]"), enc("unaffable").pieces());
        assertArrayEquals(new int[]{101, 14477, 20961, 3468, 102}, enc("unaffable").ids());
        assertArrayEquals(new int[]{101, 7861, 8270, 4667, 2015, 102}, enc("Embeddings").ids());
        assertEquals(List.of("[CLS]", "x", "##yl", "##ophone", "[SEP]"), enc("XYLOPHONE").pieces());
    }

    @Test
    void accentsAreStrippedAndCaseFolded() {
        // cafe 7668, naive 15743, resume 13746
        assertArrayEquals(new int[]{101, 7668, 15743, 13746, 102}, enc("Café NAÏVE résumé").ids());
    }

    @Test
    void punctuationAndSymbolsAreSplitOff() {
        // $ 1002, 5 1019, . 1012, dog 3899
        assertArrayEquals(new int[]{101, 1002, 1019, 1012, 3899, 102}, enc("$5.dog").ids());
    }

    @Test
    void cjkIdeographsAreSingleWordsAndUnknownOnesAreUnk() {
        // 我 1855; 爱 is not in the vocabulary -> [UNK] 100; you 2017
        assertEquals(List.of("[CLS]", "我", "[UNK]", "you", "[SEP]"), enc("我爱you").pieces());
        assertArrayEquals(new int[]{101, 1855, 100, 2017, 102}, enc("我爱you").ids());
    }

    @Test
    void controlAndZeroWidthCharactersAreDroppedWhitespaceSplits() {
        assertArrayEquals(new int[]{101, 7592, 2088, 102}, enc("hel\u200Blo\u0000\tworld\uFFFD").ids());
        assertArrayEquals(new int[]{101, 7592, 2088, 102}, enc("hello\u00A0\nworld").ids());
    }

    @Test
    void wordsOverAHundredCharactersAreUnk() {
        assertArrayEquals(new int[]{101, 100, 1037, 102}, enc("a".repeat(101) + " a").ids());
    }

    @Test
    void emptyOrBlankTextGivesOnlyClsAndSep() {
        for (String s : new String[]{null, "", "   ", "\u200B\u0001"}) {
            WordPieceTokenizer.Encoding e = enc(s);
            assertArrayEquals(new int[]{101, 102}, e.ids());
            assertEquals(0, e.wordPieces());
        }
    }

    @Test
    void truncationKeepsClsAndSep() {
        // the 1996, dog 3899
        WordPieceTokenizer.Encoding e = tok.encode("the dog the dog the dog", 5);
        assertArrayEquals(new int[]{101, 1996, 3899, 1996, 102}, e.ids());
        assertTrue(e.truncated());
        assertEquals(6, e.wordPieces());
        assertFalse(tok.encode("the dog the", 5).truncated());
    }
}
