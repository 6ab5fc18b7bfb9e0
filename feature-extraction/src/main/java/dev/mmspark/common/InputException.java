package dev.mmspark.common;

/**
 * Malformed input data. The message always names where the problem is (file, row or record id, column)
 * and what was expected, e.g. {@code posts/17.jpg: not a decodable image (JPEG data is truncated)}.
 */
public class InputException extends MmsparkException {
    public InputException(String message) {
        super(ExitCode.BAD_INPUT, message);
    }

    public InputException(String message, Throwable cause) {
        super(ExitCode.BAD_INPUT, message, cause);
    }
}
