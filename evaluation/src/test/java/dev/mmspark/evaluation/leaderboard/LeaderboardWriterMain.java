package dev.mmspark.evaluation.leaderboard;

import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

/**
 * A separate writer process for {@link LeaderboardTest}: appends {@code commits} commits of
 * {@code rowsPerCommit} rows each, with run ids {@code <writer>-<commit>-<row>}.
 */
public final class LeaderboardWriterMain {
    private LeaderboardWriterMain() {
    }

    public static void main(String[] args) {
        String warehouse = args[0];
        String writer = args[1];
        int commits = Integer.parseInt(args[2]);
        int rowsPerCommit = Integer.parseInt(args[3]);
        SparkSession spark = SparkSession.builder().master("local[1]").appName("writer-" + writer)
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            Leaderboard lb = Leaderboard.open(spark, new LeaderboardConfig(warehouse, "mmspark", "leaderboard", "results"));
            for (int c = 0; c < commits; c++) {
                List<ResultRow> rows = new ArrayList<>();
                for (int r = 0; r < rowsPerCommit; r++) {
                    rows.add(ResultRows.row(writer + "-" + c + "-" + r, "m-" + writer, 0.5));
                }
                lb.append(rows);
            }
        } finally {
            spark.stop();
        }
    }
}
