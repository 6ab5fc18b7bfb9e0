package dev.mmspark.jobs;

import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.samples.SampleEvaluation;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code mmspark evaluate}: scores a model on a split and appends the rows to the leaderboard. */
final class EvaluateJob {
    private EvaluateJob() {
    }

    static JobResult run(JobContext ctx) {
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        SampleEvaluation.Result r = SampleEvaluation.evaluateAndRecord(ctx.spark(), ctx.config().requireEvaluate(), lb);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("run_id", r.runId());
        facts.put("rows_appended", r.rows().size());
        facts.put("table", lb.tableName());
        facts.put("table_snapshot", lb.currentSnapshot());
        facts.put("metrics", r.byCondition());
        Console.conditions(r.byCondition());
        return JobResult.ok(facts);
    }
}
