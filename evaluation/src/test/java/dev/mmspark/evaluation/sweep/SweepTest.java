package dev.mmspark.evaluation.sweep;

import dev.mmspark.common.config.Conf;
import dev.mmspark.evaluation.leaderboard.Champions;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardConfig;
import dev.mmspark.evaluation.leaderboard.LeaderboardSummary;
import dev.mmspark.evaluation.leaderboard.PromoteConfig;
import dev.mmspark.evaluation.report.LeaderboardReport;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.training.testing.TinyFeatureTable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A two-run sweep (two seeds, one epoch, a tiny model) on the 150-sample table: ids are stable, an
 * interrupted sweep (here: stopped after one run by --max-runs) resumes with only the missing run, a
 * rerun of a finished sweep adds nothing, a failing run is recorded and retried, and the summary, report
 * and promotion read the rows.
 */
class SweepTest {
    private static SweepSpec spec(String table, String out, String extra) {
        Conf root = Conf.parse("""
                sweep {
                  name = tiny
                  features = ["%s"]
                  models = [multitask]
                  fusions = [concat]
                  seeds = [1, 2]
                  missing_rates = [0, 0.5]
                  output = "%s/models"
                  parallel_runs = 2
                  train {
                    model { representation_dim = 8, head_hidden = [8], image { cnn_channels = [4] },
                            text { filters = 4, windows = [2] }, tags { embedding_dim = 4, filters = 4 } }
                    epochs = 1
                    batch_size_per_worker = 16
                    validate_each_epoch = false
                    %s
                  }
                  evaluate { subsets = false, dataset = tiny }
                }
                """.formatted(table, out, extra), "tiny-sweep.conf", List.of());
        SweepSpec s = SweepSpec.from(root.section("sweep"));
        root.rejectUnknownKeys();
        return s;
    }

    private static Map<String, Long> rowsPerRun(SparkSession spark, Leaderboard lb) {
        Map<String, Long> m = new HashMap<>();
        for (Row r : spark.sql("SELECT run_id, count(*) FROM " + lb.tableName() + " WHERE model = 'multitask' "
                + "AND metric_set <> 'failed' GROUP BY run_id").collectAsList()) {
            m.put(r.getString(0), r.getLong(1));
        }
        return m;
    }

    @Test
    void interruptedSweepResumesWithoutDuplicatesThenSummarisesReportsAndPromotes() throws Exception {
        SparkSession spark = SparkTestSession.get();
        String table = TinyFeatureTable.path();
        String out = TinyFeatureTable.scratch("sweep");
        Leaderboard lb = Leaderboard.open(spark, new LeaderboardConfig(out + "/wh", "swt", "leaderboard", "results"));
        SweepSpec spec = spec(table, out, "");

        List<Sweep.PlannedRun> plan = Sweep.plan(spark, spec);
        assertEquals(2, plan.size());
        assertEquals(plan.stream().map(Sweep.PlannedRun::runId).toList(),
                Sweep.plan(spark, spec(table, out, "")).stream().map(Sweep.PlannedRun::runId).toList());
        assertNotEquals(plan.get(0).runId(), plan.get(1).runId());

        Sweep.Result first = Sweep.run(spark, spec, lb, 1);
        assertEquals(1, first.count(Sweep.Status.DONE));
        assertEquals(1, first.count(Sweep.Status.NOT_STARTED));
        Map<String, Long> afterFirst = rowsPerRun(spark, lb);
        assertEquals(1, afterFirst.size());
        long perRun = afterFirst.get(plan.get(0).runId());
        // natural + modality@0 + modality@0.5 + one robustness row
        assertEquals(4, perRun);

        Sweep.Result second = Sweep.run(spark, spec, lb, 0);
        assertEquals(1, second.count(Sweep.Status.SKIPPED));
        assertEquals(1, second.count(Sweep.Status.DONE));
        assertEquals(Map.of(plan.get(0).runId(), perRun, plan.get(1).runId(), perRun), rowsPerRun(spark, lb));

        long before = spark.table(lb.tableName()).count();
        Sweep.Result third = Sweep.run(spark, spec, lb, 0);
        assertEquals(2, third.count(Sweep.Status.SKIPPED));
        assertEquals(before, spark.table(lb.tableName()).count());

        List<LeaderboardSummary.Entry> entries = LeaderboardSummary.refresh(lb);
        LeaderboardSummary.Entry natural = entries.stream().filter(e -> e.model().equals("multitask")
                && e.subset().equals("natural") && e.protocol().equals("none") && e.metric().equals("accuracy"))
                .findFirst().orElseThrow();
        assertEquals(2, natural.summary().n());
        double mean = spark.sql("SELECT avg(metrics['accuracy']) FROM " + lb.tableName() + " WHERE model = "
                + "'multitask' AND eval_subset = 'natural' AND missing_protocol = 'none' AND metric_set = "
                + "'classification'").first().getDouble(0);
        assertEquals(mean, natural.summary().mean(), 1e-12);
        assertEquals(entries.size(), spark.table(LeaderboardSummary.tableName(lb)).count());

        LeaderboardReport.Result report = LeaderboardReport.write(lb, entries, out + "/report", "accuracy", 5, true);
        assertTrue(Files.size(Path.of(out, "report", "index.html")) > 0);
        assertTrue(report.charts().contains("dataset1-robustness.png"), report.charts().toString());
        for (String png : report.charts()) {
            byte[] head = Files.readAllBytes(Path.of(out, "report", png));
            assertEquals((byte) 0x89, head[0]);
            assertEquals('P', head[1]);
        }

        PromoteConfig promote = new PromoteConfig("tiny", "accuracy", 0.05, null);
        Champions.Decision d = Champions.decide(lb, promote);
        assertTrue(d.promoted(), d.reason());
        Champions.Decision again = Champions.decide(lb, promote);
        assertFalse(again.promoted());
        assertEquals("the champion is still the best setting", again.reason());
    }

    @Test
    void aFailingRunIsRecordedAndDoesNotStopTheSweep() {
        SparkSession spark = SparkTestSession.get();
        String table = TinyFeatureTable.path();
        String out = TinyFeatureTable.scratch("sweep-failure");
        Leaderboard lb = Leaderboard.open(spark, new LeaderboardConfig(out + "/wh", "swf", "leaderboard", "results"));
        // a modality the table does not have: valid config, so every run fails only when it trains
        SweepSpec spec = spec(table, out, "model.modalities.image = nosuch");
        Sweep.Result r = Sweep.run(spark, spec, lb, 0);
        assertEquals(2, r.count(Sweep.Status.FAILED), r.outcomes().toString());
        assertEquals(2, spark.sql("SELECT * FROM " + lb.tableName() + " WHERE metric_set = 'failed'").count());
        // failures do not count as committed: a rerun tries them again
        assertTrue(Sweep.committedRuns(lb).isEmpty());
    }
}
