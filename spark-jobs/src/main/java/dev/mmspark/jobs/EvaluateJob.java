package dev.mmspark.jobs;

import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.retrieval.RetrievalEvaluation;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.evaluation.samples.SampleEvaluation;
import dev.mmspark.training.TrainedModel;
import dev.mmspark.training.TrainedModels;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark evaluate}: scores a model on a split and appends the rows to the leaderboard. The model says
 * how: a common-space model (DSCMR) by cross-modal retrieval with its baselines, any other per sample under
 * every modality subset and missing-modality condition. One command for both, so a user cannot pick the wrong
 * protocol for a model, and the keys they share (model, features, split, dataset, sweep_id) are written once.
 */
final class EvaluateJob {
    private EvaluateJob() {
    }

    static JobResult run(JobContext ctx) {
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        EvaluateConfig cfg = ctx.config().requireEvaluate();
        TrainedModel model = TrainedModels.load(ctx.spark(), cfg.model());
        Map<String, Object> facts = new LinkedHashMap<>();
        if (model.isCommonSpace()) {
            RetrievalEvaluation.Result r = RetrievalEvaluation.evaluateAndRecord(ctx.spark(), cfg, model, lb);
            facts.put("run_id", r.runId());
            facts.put("protocol", RetrievalEvaluation.METRIC_SET);
            facts.put("rows_appended", r.rows().size());
            facts.put("metrics", r.byMethod());
            facts.put("notes", r.notes());
            Console.conditions(r.byMethod());
        } else {
            SampleEvaluation.Result r = SampleEvaluation.evaluateAndRecord(ctx.spark(), cfg, model, lb);
            facts.put("run_id", r.runId());
            facts.put("protocol", "per_sample");
            facts.put("rows_appended", r.rows().size());
            facts.put("metrics", r.byCondition());
            Console.conditions(r.byCondition());
        }
        facts.put("table", lb.tableName());
        facts.put("table_snapshot", lb.currentSnapshot());
        return JobResult.ok(facts);
    }
}
