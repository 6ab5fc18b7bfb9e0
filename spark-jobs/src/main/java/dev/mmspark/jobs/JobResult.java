package dev.mmspark.jobs;

import dev.mmspark.common.ExitCode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of a job: its exit code and the facts a scheduler needs (run ids, row counts, table
 * versions, output paths), written as the JSON manifest given by {@code --manifest}.
 */
public record JobResult(ExitCode exitCode, Map<String, Object> facts) {
    public static JobResult ok(Map<String, Object> facts) {
        return new JobResult(ExitCode.OK, new LinkedHashMap<>(facts));
    }
}
