package dev.mmspark.features.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The uncased BERT tokenizer of a HuggingFace {@code tokenizer.json} (normalizer {@code BertNormalizer},
 * pre-tokenizer {@code BertPreTokenizer}, model {@code WordPiece}), re-implemented so that no Python or
 * native tokenizer is needed:
 *
 * <ol>
 *   <li>clean text: drop NUL, U+FFFD and control/format characters (Unicode category C except tab, newline
 *       and carriage return); every whitespace character becomes a space;</li>
 *   <li>put spaces around CJK ideographs (each becomes a word of its own);</li>
 *   <li>strip accents (NFD, then drop non-spacing marks) and lower-case;</li>
 *   <li>split on whitespace, and split off every punctuation character (ASCII punctuation and Unicode
 *       categories P*) as a word of its own;</li>
 *   <li>WordPiece: greedy longest-match-first against the vocabulary, continuation pieces prefixed with
 *       {@code ##}; a word with an unmatched remainder, or longer than 100 characters, becomes {@code [UNK]};</li>
 *   <li>{@code [CLS]} + pieces + {@code [SEP]}, truncated so that the whole fits {@code maxTokens}.</li>
 * </ol>
 *
 * Instances are immutable and thread-safe.
 */
public final class WordPieceTokenizer implements Serializable {
    public static final String CLS = "[CLS]";
    public static final String SEP = "[SEP]";
    public static final String UNK = "[UNK]";
    public static final String PAD = "[PAD]";
    private static final String PREFIX = "##";
    private static final int MAX_CHARS_PER_WORD = 100;

    private final Map<String, Integer> vocab;
    private final int clsId;
    private final int sepId;
    private final int unkId;
    private final int padId;

    /**
     * One text's model input: ids with [CLS] and [SEP], all real positions (the attention mask is 1 for
     * each; padding is added per batch), token types all 0 (single sentence).
     *
     * @param pieces    the word pieces, [CLS] and [SEP] included (parallel to ids)
     * @param truncated whether pieces were dropped to fit the maximum length
     * @param wordPieces how many word pieces the text had before truncation (without [CLS] and [SEP])
     */
    public record Encoding(int[] ids, List<String> pieces, boolean truncated, int wordPieces) implements Serializable {
        public int length() {
            return ids.length;
        }

        /** Attention mask of the unpadded input: all ones. */
        public long[] attentionMask() {
            long[] m = new long[ids.length];
            Arrays.fill(m, 1L);
            return m;
        }

        /** Token type ids of a single sentence: all zeros. */
        public long[] tokenTypeIds() {
            return new long[ids.length];
        }
    }

    public WordPieceTokenizer(Map<String, Integer> vocab) {
        this.vocab = Map.copyOf(vocab);
        this.clsId = require(CLS);
        this.sepId = require(SEP);
        this.unkId = require(UNK);
        this.padId = require(PAD);
    }

    private int require(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("the WordPiece vocabulary has no " + token + " token");
        }
        return id;
    }

    /** Reads the vocabulary of a HuggingFace tokenizer.json whose model is WordPiece. */
    public static WordPieceTokenizer fromTokenizerJson(InputStream in, String what) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer " + what, e);
        }
        JsonNode model = root.path("model");
        if (!"WordPiece".equals(model.path("type").asText())) {
            throw new IllegalArgumentException("tokenizer " + what + " has model type '" + model.path("type").asText()
                    + "', expected WordPiece");
        }
        JsonNode norm = root.path("normalizer");
        if (!norm.path("lowercase").asBoolean(false)) {
            throw new IllegalArgumentException("tokenizer " + what + " is not lower-casing (an uncased BERT vocabulary"
                    + " is expected)");
        }
        Map<String, Integer> vocab = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        if (vocab.isEmpty()) {
            throw new IllegalArgumentException("tokenizer " + what + " has an empty vocabulary");
        }
        return new WordPieceTokenizer(vocab);
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** The id of a token, or null when the vocabulary does not have it. */
    public Integer id(String token) {
        return vocab.get(token);
    }

    public int padId() {
        return padId;
    }

    /**
     * The text as model input of at most {@code maxTokens} ids ([CLS] and [SEP] included). A null text,
     * or one without any word piece (empty, only whitespace or control characters), gives [CLS] [SEP].
     */
    public Encoding encode(String text, int maxTokens) {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maxTokens must leave room for [CLS] and [SEP], found " + maxTokens);
        }
        List<String> pieces = wordPieces(text);
        int total = pieces.size();
        boolean truncated = total > maxTokens - 2;
        if (truncated) {
            pieces = pieces.subList(0, maxTokens - 2);
        }
        List<String> all = new ArrayList<>(pieces.size() + 2);
        all.add(CLS);
        all.addAll(pieces);
        all.add(SEP);
        int[] ids = new int[all.size()];
        ids[0] = clsId;
        for (int i = 1; i < ids.length - 1; i++) {
            ids[i] = vocab.getOrDefault(all.get(i), unkId);
        }
        ids[ids.length - 1] = sepId;
        return new Encoding(ids, List.copyOf(all), truncated, total);
    }

    /** The word pieces of a text, without [CLS] and [SEP] and without truncation. */
    public List<String> wordPieces(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String word : basicTokens(text)) {
            wordPiece(word, out);
        }
        return out;
    }

    /** BERT's basic tokenisation: cleaned, CJK-spaced, accent-stripped, lower-cased words and punctuation. */
    public static List<String> basicTokens(String text) {
        String t = normalise(text);
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        int i = 0;
        while (i < t.length()) {
            int cp = t.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == ' ') {
                flush(word, out);
            } else if (isPunctuation(cp)) {
                flush(word, out);
                out.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        }
        flush(word, out);
        return out;
    }

    private static void flush(StringBuilder word, List<String> out) {
        if (!word.isEmpty()) {
            out.add(word.toString());
            word.setLength(0);
        }
    }

    /** Steps 1 to 3 of the class description (HuggingFace's BertNormalizer with lowercase = true). */
    static String normalise(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                continue;
            }
            if (isWhitespace(cp)) {
                b.append(' ');
            } else if (isCjk(cp)) {
                b.append(' ').appendCodePoint(cp).append(' ');
            } else {
                b.appendCodePoint(cp);
            }
        }
        String nfd = Normalizer.normalize(b, Normalizer.Form.NFD);
        StringBuilder s = new StringBuilder(nfd.length());
        i = 0;
        while (i < nfd.length()) {
            int cp = nfd.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) != Character.NON_SPACING_MARK) {
                s.appendCodePoint(cp);
            }
        }
        return s.toString().toLowerCase(Locale.ROOT);
    }

    private void wordPiece(String word, List<String> out) {
        int n = word.codePointCount(0, word.length());
        if (n > MAX_CHARS_PER_WORD) {
            out.add(UNK);
            return;
        }
        List<String> pieces = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            String found = null;
            while (start < end) {
                String sub = word.substring(start, end);
                if (start > 0) {
                    sub = PREFIX + sub;
                }
                if (vocab.containsKey(sub)) {
                    found = sub;
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (found == null) {
                out.add(UNK);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    /** Tab, newline and carriage return are whitespace, not control characters. */
    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    /** Unicode White_Space (what Rust's char::is_whitespace tests). */
    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.isWhitespace(cp)
                || Character.isSpaceChar(cp);
    }

    /** ASCII punctuation (which includes $ + < = > ^ ` | ~) or a Unicode punctuation category. */
    static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideograph blocks BERT splits into single characters. */
    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
