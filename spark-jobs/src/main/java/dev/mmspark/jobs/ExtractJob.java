package dev.mmspark.jobs;

import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.data.kg.Dbp15kReader;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.features.FeatureExtraction;
import dev.mmspark.features.kg.KgExtractionConfig;
import dev.mmspark.features.kg.KgFeatureExtraction;
import dev.mmspark.features.kg.KgTableMetadata;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark extract}: dataset in, Parquet feature table out. A knowledge-graph dataset
 * ({@code dataset.format = dbp15k}) becomes a KG feature table (extract.output, extract.kg); every other
 * format a per-sample feature table.
 */
final class ExtractJob {
    private ExtractJob() {
    }

    static JobResult run(JobContext ctx) {
        DatasetConfig dataset = ctx.config().requireDataset();
        if (dataset.format() == DatasetConfig.Format.DBP15K) {
            return runKg(ctx, dataset);
        }
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

    private static JobResult runKg(JobContext ctx, DatasetConfig dataset) {
        KgExtractionConfig extract = ctx.config().requireKgExtract();
        BadRecords bad = new BadRecords(ctx.spark().sparkContext(), dataset.onBadRecord(), "dataset");
        KgFeatureExtraction.Result r = KgFeatureExtraction.run(ctx.spark(),
                () -> Dbp15kReader.read(ctx.spark(), dataset.path(), dataset.kgPair(), bad),
                new KgFeatureExtraction.Input("dbp15k", dataset.path(), Dbp15kReader.inputFiles(dataset.kgPair())),
                extract, ctx.overwrite(), bad, ctx.resolvedConfig());
        KgTableMetadata m = r.metadata();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("output", r.output());
        facts.put("entities", m.entities());
        facts.put("pairs", Map.of("train", m.split().train(), "test", m.split().test()));
        facts.put("modalities", m.modalityNames());
        facts.put("table_hash", m.tableHash());
        facts.put("skipped_records", m.skippedRecords().size());
        return JobResult.ok(facts);
    }
}
