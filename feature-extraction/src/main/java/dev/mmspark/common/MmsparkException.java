package dev.mmspark.common;

/**
 * An error a user can act on: bad configuration, bad input data, an output that would be clobbered.
 * Jobs print {@link #getMessage()} without a stack trace and exit with {@link #exitCode()}, so that a
 * scheduler (Airflow) can tell a user error from a crash without parsing logs.
 */
public class MmsparkException extends RuntimeException {
    private final ExitCode exitCode;

    public MmsparkException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public MmsparkException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
