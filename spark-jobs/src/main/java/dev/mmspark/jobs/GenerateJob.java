package dev.mmspark.jobs;

import dev.mmspark.data.synthetic.SyntheticGenerator;

import java.util.Map;

/** {@code mmspark generate}: writes the synthetic dataset. */
final class GenerateJob {
    private GenerateJob() {
    }

    static JobResult run(JobContext ctx) {
        PlatformConfig c = ctx.config();
        SyntheticGenerator.Counts counts = new SyntheticGenerator(c.requireGenerate())
                .generate(ctx.spark(), c.generateOutput(), ctx.overwrite());
        return JobResult.ok(Map.of("output", c.generateOutput(), "samples", counts.samples(),
                "splits", counts.perSplit()));
    }
}
