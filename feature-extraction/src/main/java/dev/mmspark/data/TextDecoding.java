package dev.mmspark.data;

import dev.mmspark.common.InputException;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.List;

/**
 * Decodes text files whose encoding is not declared: each charset in order, strictly (a malformed byte
 * sequence rejects that charset), so that a GBK file is decoded as GBK instead of being dropped or turned
 * into replacement characters. MVSA-Single has 940 GBK files; GB18030 (a superset of GBK) also decodes the
 * 2 of them that plain GBK rejects.
 */
public record TextDecoding(List<String> charsets) implements Serializable {

    public static final TextDecoding UTF8_THEN_GB18030 = new TextDecoding(List.of("UTF-8", "GB18030"));

    public TextDecoding {
        for (String c : charsets) {
            if (!Charset.isSupported(c)) {
                throw new IllegalArgumentException("unsupported charset '" + c + "'");
            }
        }
        charsets = List.copyOf(charsets);
    }

    /** The decoded text and the charset that decoded it. */
    public record Decoded(String text, String charset) {
    }

    public Decoded decode(byte[] bytes, String where) {
        int offset = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            offset = 3; // UTF-8 byte order mark
        }
        for (String c : charsets) {
            try {
                String s = Charset.forName(c).newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, offset, bytes.length - offset)).toString();
                return new Decoded(s, c);
            } catch (CharacterCodingException e) {
                // try the next charset
            }
        }
        throw new InputException(where + ": text is not valid in any of the accepted encodings "
                + String.join(", ", charsets) + " (set dataset.text_encodings to add one)");
    }
}
