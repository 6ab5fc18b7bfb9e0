package dev.mmspark.jobs;

import dev.mmspark.evaluation.alignment.AlignmentEvaluation;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code mmspark evaluate-alignment}: sections {@code evaluate} and {@code leaderboard}. */
final class EvaluateAlignmentJob {
    private EvaluateAlignmentJob() {
    }

    static JobResult run(JobContext ctx) {
        AlignmentEvaluation.Result r = AlignmentEvaluation.evaluate(ctx.spark(), ctx.config().requireAlignmentEvaluate(),
                ctx.config().leaderboard());
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("model", r.rows().get(0).model());
        facts.put("eval_subset", r.rows().get(0).evalSubset());
        facts.put("test_pairs", r.cosine().n());
        facts.put("cosine", r.cosine().asMap());
        facts.put("csls", r.csls().asMap());
        facts.put("leaderboard_snapshot", r.snapshot());
        facts.put("run_id", r.rows().get(0).runId());
        return JobResult.ok(facts);
    }
}
