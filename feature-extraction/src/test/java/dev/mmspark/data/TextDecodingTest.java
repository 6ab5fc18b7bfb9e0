package dev.mmspark.data;

import dev.mmspark.common.InputException;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TextDecodingTest {
    @Test
    void utf8IsPreferredAndBomStripped() {
        byte[] b = "\uFEFFcaf\u00e9".getBytes(StandardCharsets.UTF_8);
        TextDecoding.Decoded d = TextDecoding.UTF8_THEN_GB18030.decode(b, "x.txt");
        assertEquals("caf\u00e9", d.text());
        assertEquals("UTF-8", d.charset());
    }

    @Test
    void gbkEllipsisFallsBackToGb18030() {
        // 0xA1 0xAD is the GBK ellipsis MVSA-Single uses; it is not valid UTF-8.
        byte[] b = {'o', 'k', (byte) 0xA1, (byte) 0xAD};
        TextDecoding.Decoded d = TextDecoding.UTF8_THEN_GB18030.decode(b, "x.txt");
        assertEquals("ok\u2026", d.text());
        assertEquals("GB18030", d.charset());
    }

    @Test
    void undecodableTextIsReported() {
        TextDecoding strict = new TextDecoding(List.of("UTF-8", "US-ASCII"));
        byte[] b = "\u4f60".getBytes(Charset.forName("GBK"));
        InputException e = assertThrows(InputException.class, () -> strict.decode(b, "posts/3.txt"));
        assertEquals("posts/3.txt: text is not valid in any of the accepted encodings UTF-8, US-ASCII (set"
                + " dataset.text_encodings to add one)", e.getMessage());
    }
}
