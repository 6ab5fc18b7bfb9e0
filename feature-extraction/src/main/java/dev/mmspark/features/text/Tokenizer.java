package dev.mmspark.features.text;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Word tokenizer for short social-media texts: lower-cases, drops URLs, maps @mentions to one
 * {@code <user>} token, keeps runs of letters/digits (with inner apostrophes) as words and '!' / '?' as
 * their own tokens (they carry sentiment), and drops other punctuation.
 */
public final class Tokenizer implements Serializable {
    public static final String USER = "<user>";
    private static final Pattern URL = Pattern.compile("(?i)\\b(?:https?://|www\\.)\\S+");
    private static final Pattern TOKEN = Pattern.compile("@[\\p{L}\\p{N}_]+|[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*|[!?]");

    private final boolean lowercase;

    public Tokenizer(boolean lowercase) {
        this.lowercase = lowercase;
    }

    /** The text with every URL replaced by a space (what {@link #tokenize} ignores). */
    public static String dropUrls(String text) {
        return text == null ? null : URL.matcher(text).replaceAll(" ");
    }

    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        String t = URL.matcher(text).replaceAll(" ");
        if (lowercase) {
            t = t.toLowerCase(Locale.ROOT);
        }
        Matcher m = TOKEN.matcher(t);
        while (m.find()) {
            String tok = m.group();
            out.add(tok.charAt(0) == '@' ? USER : tok);
        }
        return out;
    }

    /** Normalises a tag: lower-cased, without leading '#', trimmed; null when nothing is left. */
    public static String normaliseTag(String tag) {
        String t = tag.trim();
        while (t.startsWith("#")) {
            t = t.substring(1);
        }
        t = t.toLowerCase(Locale.ROOT).trim();
        return t.isEmpty() ? null : t;
    }
}
