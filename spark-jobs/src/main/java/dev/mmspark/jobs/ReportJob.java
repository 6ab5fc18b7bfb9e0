package dev.mmspark.jobs;

import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardSummary;
import dev.mmspark.evaluation.report.LeaderboardReport;
import dev.mmspark.evaluation.report.ReportConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code mmspark report}: refreshes {@code <table>_summary} and renders the HTML report with its charts. */
final class ReportJob {
    private ReportJob() {
    }

    static JobResult run(JobContext ctx) {
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        List<LeaderboardSummary.Entry> entries = LeaderboardSummary.refresh(lb);
        ReportConfig rc = ctx.config().report();
        LeaderboardReport.Result r = LeaderboardReport.write(lb, entries, rc.output(), rc.metric(), rc.top(), true);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("summary_table", LeaderboardSummary.tableName(lb));
        facts.put("summary_rows", entries.size());
        facts.put("report", r.output());
        facts.put("charts", r.charts());
        facts.put("table_snapshot", lb.currentSnapshot());
        return JobResult.ok(facts);
    }
}
