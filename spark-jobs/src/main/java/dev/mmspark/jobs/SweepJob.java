package dev.mmspark.jobs;

import dev.mmspark.common.ExitCode;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardSummary;
import dev.mmspark.evaluation.report.LeaderboardReport;
import dev.mmspark.evaluation.report.ReportConfig;
import dev.mmspark.evaluation.sweep.Sweep;
import dev.mmspark.evaluation.sweep.SweepSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code mmspark sweep}: expands the sweep, runs what is not in the leaderboard yet, refreshes the summary
 * table and writes the report. Exit code 6 (partial_failure) when some runs failed.
 */
final class SweepJob {
    private SweepJob() {
    }

    static JobResult run(JobContext ctx, boolean dryRun, int maxRuns) {
        SweepSpec spec = ctx.config().requireSweep();
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("sweep", spec.name());
        facts.put("table", lb.tableName());
        if (dryRun) {
            List<Sweep.PlannedRun> plan = Sweep.plan(ctx.spark(), spec);
            Set<String> committed = Sweep.committedRuns(lb);
            List<String[]> cells = new ArrayList<>();
            cells.add(new String[]{"#", "run_id", "status", "model", "fusion", "settings", "seed", "execution", "features"});
            long toRun = 0;
            for (Sweep.PlannedRun r : plan) {
                boolean done = committed.contains(r.runId());
                toRun += done ? 0 : 1;
                StringBuilder settings = new StringBuilder();
                r.combination().params().forEach((k, v) -> settings.append(settings.length() > 0 ? " " : "").append(k)
                        .append('=').append(v.unwrapped()));
                cells.add(new String[]{String.valueOf(r.index() + 1), r.runId(), done ? "committed" : "to run",
                        r.combination().model(), r.combination().fusion() == null ? "-" : r.combination().fusion(),
                        settings.toString(),
                        String.valueOf(r.combination().seed()),
                        r.mode().name().toLowerCase() + " x" + r.workers(), r.features()});
            }
            Console.rows(cells);
            facts.put("runs", plan.size());
            facts.put("to_run", toRun);
            facts.put("run_ids", plan.stream().map(Sweep.PlannedRun::runId).toList());
            facts.put("missing_rates", spec.missingRates());
            return JobResult.ok(facts);
        }
        Sweep.Result r = Sweep.run(ctx.spark(), spec, lb, maxRuns);
        facts.put("runs", r.plan().size());
        facts.put("done", r.count(Sweep.Status.DONE));
        facts.put("skipped", r.count(Sweep.Status.SKIPPED));
        facts.put("failed", r.count(Sweep.Status.FAILED));
        facts.put("not_started", r.count(Sweep.Status.NOT_STARTED));
        facts.put("rows_appended", r.rowsAppended());
        facts.put("sweep_seconds", r.seconds());
        List<Map<String, Object>> failures = new ArrayList<>();
        for (Sweep.Outcome o : r.outcomes()) {
            if (o.status() == Sweep.Status.FAILED) {
                failures.add(Map.of("run_id", o.run().runId(), "label", o.run().label(), "error", o.error()));
            }
        }
        facts.put("failures", failures);
        facts.put("run_ids", r.plan().stream().map(Sweep.PlannedRun::runId).toList());
        facts.put("table_snapshot", lb.currentSnapshot());
        List<LeaderboardSummary.Entry> entries = LeaderboardSummary.refresh(lb);
        facts.put("summary_table", LeaderboardSummary.tableName(lb));
        facts.put("summary_rows", entries.size());
        ReportConfig rc = ctx.config().report();
        LeaderboardReport.Result report = LeaderboardReport.write(lb, entries, rc.output(), spec.rankBy(), rc.top(),
                true);
        facts.put("report", report.output());
        facts.put("charts", report.charts());
        ExitCode code = r.count(Sweep.Status.FAILED) > 0 ? ExitCode.PARTIAL_FAILURE : ExitCode.OK;
        return new JobResult(code, facts);
    }
}
