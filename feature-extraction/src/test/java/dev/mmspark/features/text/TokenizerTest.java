package dev.mmspark.features.text;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class TokenizerTest {
    @Test
    void wordsMentionsUrlsAndPunctuation() {
        assertEquals(List.of("don't", "stop", "<user>", "!", "!", "2day", "?"),
                new Tokenizer(true).tokenize("Don't STOP @ann_b!! http://t.co/xyz 2day?"));
    }

    @Test
    void tagsAreNormalised() {
        assertEquals("legday", Tokenizer.normaliseTag("#LegDay "));
        assertNull(Tokenizer.normaliseTag("##"));
    }
}
