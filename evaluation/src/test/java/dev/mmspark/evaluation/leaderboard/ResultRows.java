package dev.mmspark.evaluation.leaderboard;

import java.sql.Timestamp;
import java.util.Map;

/** Result rows for tests. */
final class ResultRows {
    private ResultRows() {
    }

    static ResultRow row(String runId, String model, double accuracy) {
        Timestamp now = new Timestamp(System.currentTimeMillis());
        return new ResultRow(runId, null, model, "concat", "synthetic", "/tmp/features", "hash", "test", 1,
                "cfg", "{}", "it#", "none", 0.0, null, "classification", 10, Map.of("accuracy", accuracy),
                null, "/tmp/model", 100, 1.0, 10.0, "test", "3.5.7", "1.0.0-M2.1", now, now);
    }
}
