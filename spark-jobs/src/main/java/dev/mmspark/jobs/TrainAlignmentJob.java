package dev.mmspark.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.training.alignment.AlignmentTrainConfig;
import dev.mmspark.training.alignment.AlignmentTraining;
import dev.mmspark.training.alignment.ModelDirectory;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code mmspark train-alignment}: section {@code train} in, entity-alignment model directory out. */
final class TrainAlignmentJob {
    private TrainAlignmentJob() {
    }

    static JobResult run(JobContext ctx) {
        AlignmentTrainConfig cfg = ctx.config().requireAlignmentTrain();
        AlignmentTraining.Result r = AlignmentTraining.train(ctx.spark(), cfg, ctx.resume(), ctx.overwrite());
        JsonNode meta = ModelDirectory.open(ctx.spark().sparkContext().hadoopConfiguration(), r.output()).metadata();
        JsonNode training = meta.path("training");
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("output", r.output());
        facts.put("model", meta.path("model").asText());
        facts.put("modalities", meta.path("modality_label").asText());
        facts.put("epochs", training.path("epochs").asInt());
        facts.put("train_seconds", training.path("train_seconds").asDouble());
        facts.put("seconds_per_epoch", training.path("seconds_per_epoch").asDouble());
        facts.put("param_count", meta.path("param_count").asLong());
        JsonNode history = training.path("history");
        if (history.size() > 0) {
            JsonNode last = history.get(history.size() - 1);
            facts.put("last_loss", last.path("loss").asDouble());
            if (last.has("validation")) {
                facts.put("validation", last.path("validation"));
            }
        }
        return JobResult.ok(facts);
    }
}
