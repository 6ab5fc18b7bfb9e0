package dev.mmspark.common;

/**
 * Process exit codes of every job, documented in README.md ("Exit codes") so that schedulers can branch
 * on outcomes. Values are stable: never renumber an existing code.
 */
public enum ExitCode {
    /** The job did what was asked. */
    OK(0),
    /** Unexpected failure (a bug or an environment problem); the log has the stack trace. */
    INTERNAL_ERROR(1),
    /** The command line or a configuration key/value is invalid. Nothing was started. */
    BAD_CONFIG(2),
    /** Input data is malformed (corrupt image, wrong schema, NaN feature, ...). Nothing was written. */
    BAD_INPUT(3),
    /** The output path already holds another run's results and overwriting was not requested. */
    OUTPUT_EXISTS(4),
    /** A comparison job ran correctly but the challenger did not beat the champion. */
    NOT_PROMOTED(5),
    /** Some runs of a sweep failed; the others completed and were recorded. */
    PARTIAL_FAILURE(6);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
