package dev.mmspark.testing;

import dev.mmspark.common.MmsparkException;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** Assertions on user-facing errors, which arrive wrapped in SparkExceptions when thrown on executors. */
public final class Failures {
    private Failures() {
    }

    /** Runs {@code r}, which must fail, and returns the message of the user-facing error it carries. */
    public static String message(Runnable r) {
        return error(r).getMessage();
    }

    public static MmsparkException error(Runnable r) {
        Throwable t = assertThrows(Throwable.class, r::run);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof MmsparkException e) {
                return e;
            }
        }
        throw new AssertionError("expected a user-facing error (MmsparkException) but got " + t, t);
    }
}
