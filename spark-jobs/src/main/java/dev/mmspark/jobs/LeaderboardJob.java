package dev.mmspark.jobs;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Map;

/** {@code mmspark leaderboard}: prints the leaderboard (or the result of a SQL query over it). */
final class LeaderboardJob {
    private LeaderboardJob() {
    }

    static final String DEFAULT_QUERY = """
            SELECT dataset, model, fusion, eval_subset, missing_protocol AS missing, missing_rate AS rate,
                   n_samples AS n, round(metrics['accuracy'], 4) AS accuracy, round(metrics['macro_f1'], 4) AS macro_f1,
                   run_id
            FROM %s
            WHERE metric_set = 'classification' AND eval_subset = 'natural' AND missing_protocol = 'none'
            ORDER BY dataset, accuracy DESC""";

    static JobResult run(JobContext ctx, String sql, int limit) {
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        lb.ensureTable();
        Dataset<Row> result;
        try {
            result = ctx.spark().sql(sql != null ? sql : DEFAULT_QUERY.formatted(lb.tableName()));
        } catch (Exception e) {
            // Scala throws the checked AnalysisException (ParseException is one) without declaring it.
            if (!(e instanceof org.apache.spark.sql.AnalysisException)) {
                throw e;
            }
            // a user's query that does not parse or names what is not there: their input, not our crash
            throw new MmsparkException(ExitCode.BAD_CONFIG, "--sql: the query is not valid Spark SQL over the "
                    + "leaderboard: " + e.getMessage().lines().findFirst().orElse("") + " (columns of "
                    + lb.tableName() + ": " + String.join(", ", ctx.spark().table(lb.tableName()).columns()) + ")");
        }
        long rows = Console.print(result, limit);
        return JobResult.ok(Map.of("table", lb.tableName(), "rows", rows, "table_snapshot", lb.currentSnapshot()));
    }
}
