package dev.mmspark.jobs;

import dev.mmspark.evaluation.samples.SampleEvaluation;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.ModelMetadata;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code mmspark train}: a feature table in, a trained model directory out (parameter averaging on Spark). */
final class TrainJob {
    private TrainJob() {
    }

    static JobResult run(JobContext ctx) {
        DistributedTrainer.Result r = new DistributedTrainer(ctx.spark())
                .train(ctx.config().requireTrain(), ctx.resume(), ctx.overwrite());
        ModelMetadata m = r.metadata();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("output", r.output());
        facts.put("run_id", SampleEvaluation.runId(m));
        facts.put("model", m.model());
        facts.put("epochs", m.training().epochs());
        facts.put("resumed_from_epoch", m.training().resumedFromEpoch());
        facts.put("training_seconds", m.training().trainingSeconds());
        facts.put("examples_per_second", m.training().examplesPerSecond());
        facts.put("parameters", m.training().parameters());
        if (m.validation() != null) {
            facts.put("validation", m.validation());
        }
        return JobResult.ok(facts);
    }
}
