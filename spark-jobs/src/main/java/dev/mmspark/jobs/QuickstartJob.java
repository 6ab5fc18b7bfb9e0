package dev.mmspark.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark quickstart}: the whole pipeline on the synthetic dataset with one config (generate,
 * extract, train, evaluate, print the leaderboard), each step the same code as its own command.
 */
final class QuickstartJob {
    private QuickstartJob() {
    }

    static JobResult run(JobContext ctx) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("generate", GenerateJob.run(ctx).facts());
        facts.put("extract", ExtractJob.run(ctx).facts());
        facts.put("train", TrainJob.run(ctx).facts());
        facts.put("evaluate", EvaluateJob.run(ctx).facts());
        facts.put("leaderboard", LeaderboardJob.run(ctx, null, 20).facts());
        return JobResult.ok(facts);
    }
}
