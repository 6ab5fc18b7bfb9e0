package dev.mmspark.jobs;

import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.features.FeatureExtraction;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code mmspark extract}: dataset in, Parquet feature table out. */
final class ExtractJob {
    private ExtractJob() {
    }

    static JobResult run(JobContext ctx) {
        DatasetConfig dataset = ctx.config().requireDataset();
        ExtractionConfig extract = ctx.config().requireExtract();
        BadRecords bad = new BadRecords(ctx.spark().sparkContext(), dataset.onBadRecord(), "dataset");
        FeatureExtraction.Result r = FeatureExtraction.run(ctx.spark(), Datasets.read(ctx.spark(), dataset, bad),
                dataset, extract, ctx.overwrite(), bad, ctx.resolvedConfig());
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("output", r.output());
        facts.put("rows", r.metadata().rows());
        facts.put("table_hash", r.metadata().tableHash());
        facts.put("skipped_records", r.metadata().skippedRecords().size());
        return JobResult.ok(facts);
    }
}
