package dev.mmspark.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark quickstart}: the whole pipeline on the synthetic dataset with one config, each step the
 * same code as its own command.
 */
final class QuickstartJob {
    private QuickstartJob() {
    }

    static JobResult run(JobContext ctx) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("generate", GenerateJob.run(ctx).facts());
        facts.put("extract", ExtractJob.run(ctx).facts());
        return JobResult.ok(facts);
    }
}
