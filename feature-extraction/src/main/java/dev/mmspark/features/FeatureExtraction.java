package dev.mmspark.features;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.SampleSchema;
import dev.mmspark.data.Split;
import dev.mmspark.features.ExtractionConfig.ImageMode;
import dev.mmspark.features.image.ImageBackbone;
import dev.mmspark.features.image.ImageDecoder;
import dev.mmspark.features.image.ImagePreprocessor;
import dev.mmspark.features.text.MiniLmEncoder;
import dev.mmspark.features.text.Tokenizer;
import dev.mmspark.features.text.Vocabulary;
import dev.mmspark.features.text.WordPieceTokenizer;
import dev.mmspark.features.text.WordVectors;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.collection.JavaConverters;

import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns a dataset in {@link SampleSchema} into a feature table (Parquet) with one row per sample: split,
 * label, and per modality a presence flag plus its features. Vocabularies and the word-embedding table are
 * written as Parquet beside it, and {@code metadata.json} records extractors, configuration, input hash
 * and counts.
 *
 * <p>Everything runs on the executors except what is small by construction (vocabularies, word vectors
 * for the vocabulary, class names, counts). The output appears at its destination only when complete.
 *
 * <pre>
 * output/
 *   features/          Parquet, one row per sample
 *   vocab/text/        Parquet (id, token, count)        when the text modality exists
 *   vocab/tags/        Parquet (id, token, count)        when the tags modality exists
 *   embeddings/text/   Parquet (id, vector float[])      word vectors in vocabulary order
 *   metadata.json
 * </pre>
 *
 * <p>With {@code extract.text.bert.enabled}, every text is also embedded by the quantised all-MiniLM-L6-v2
 * ({@link MiniLmEncoder}, ONNX Runtime, one session per executor JVM): its sentence vector becomes a vector
 * modality ({@code text_minilm} by default) and its word-piece vectors a sequence modality
 * ({@code text_minilm_tokens}), in the columns every precomputed vector and sequence has.
 */
public final class FeatureExtraction {
    private static final Logger LOG = LoggerFactory.getLogger(FeatureExtraction.class);
    public static final int EXTRACTOR_VERSION = 1;

    private FeatureExtraction() {
    }

    /** What the extraction produced. */
    public record Result(String output, FeatureTableMetadata metadata) {
    }

    /** Settings shared with the executor-side row builder (all serialisable). */
    private record RowPlan(String task, Map<String, Integer> classIndex, boolean image, ExtractionConfig.Image imageCfg,
                           boolean text, int maxTokens, boolean failTooLong, boolean lowercase, boolean tags,
                           int maxTags, List<String> vectorNames, Map<String, Integer> vectorDims,
                           List<String> sequenceNames, Map<String, Integer> sequenceDims, boolean bert,
                           ExtractionConfig.Bert bertCfg) implements Serializable {
    }

    /** Counts the executors report back (all accumulators). */
    private record Counters(LongAccumulator truncated, LongAccumulator emptyTexts, LongAccumulator bertTruncated,
                            LongAccumulator bertEmpty, LongAccumulator bertTexts, LongAccumulator bertNanos)
            implements Serializable {
    }

    public static Result run(SparkSession spark, Dataset<Row> samples, DatasetConfig dataset, ExtractionConfig cfg,
                             boolean overwrite, BadRecords bad, JsonNode resolvedConfig) {
        long t0 = System.currentTimeMillis();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // Fail before any work if the destination is taken.
        try (AtomicOutput out = AtomicOutput.begin(jsc.hadoopConfiguration(), cfg.output(), overwrite, "feature table")) {
            Dataset<Row> data = cfg.partitions() > 0 ? samples.repartition(cfg.partitions()) : samples;
            data = data.persist(StorageLevel.MEMORY_AND_DISK());
            try {
                return extract(spark, jsc, data, dataset, cfg, bad, resolvedConfig, out, t0);
            } finally {
                data.unpersist();
            }
        }
    }

    private static Result extract(SparkSession spark, JavaSparkContext jsc, Dataset<Row> data, DatasetConfig dataset,
                                  ExtractionConfig cfg, BadRecords bad, JsonNode resolvedConfig, AtomicOutput out,
                                  long t0) {
        // One pass for every count the plan needs (each Spark job costs seconds on a small cluster).
        Row counts = data.agg(functions.count("*"), functions.count(SampleSchema.TARGET),
                functions.count(SampleSchema.IMAGE), functions.count(SampleSchema.TEXT),
                functions.count(SampleSchema.TAGS)).first();
        long records = counts.getLong(0);
        if (records == 0) {
            throw new InputException("dataset " + dataset.path() + " has no usable samples"
                    + (bad.skipped() > 0 ? " (all " + bad.skipped() + " records were skipped as bad)" : ""));
        }
        LOG.info("Dataset {}: {} samples", dataset.path(), records);
        checkDuplicateIds(data);

        // ---- labels
        List<Row> labelRows = data.where(functions.col(SampleSchema.LABEL).isNotNull())
                .select(SampleSchema.LABEL).distinct().collectAsList();
        TreeSet<String> seen = new TreeSet<>();
        labelRows.forEach(r -> seen.add(r.getString(0)));
        long targets = counts.getLong(1);
        String task = !seen.isEmpty() ? "classification" : (targets > 0 ? "regression" : "unlabeled");
        List<String> classes = new ArrayList<>(dataset.classes().isEmpty() ? seen : dataset.classes());
        if (!dataset.classes().isEmpty()) {
            for (String l : seen) {
                if (!dataset.classes().contains(l)) {
                    Row first = data.where(functions.col(SampleSchema.LABEL).equalTo(l))
                            .select(SampleSchema.ID, SampleSchema.SOURCE).first();
                    throw new InputException(first.getString(1) + " (sample '" + first.getString(0) + "'): label '"
                            + l + "' is not one of the configured classes " + dataset.classes()
                            + " (dataset.classes)");
                }
            }
        }
        Map<String, Integer> classIndex = new LinkedHashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            classIndex.put(classes.get(i), i);
        }

        // ---- which modalities exist, and vector dimensions
        boolean hasImage = cfg.image().mode() != ImageMode.NONE && counts.getLong(2) > 0;
        boolean hasText = counts.getLong(3) > 0;
        boolean hasTags = counts.getLong(4) > 0;
        Map<String, Integer> vectorDims = dimensions(data, SampleSchema.VECTORS, false);
        Map<String, Integer> sequenceDims = dimensions(data, SampleSchema.SEQUENCES, true);
        for (String n : vectorDims.keySet()) {
            checkName(n, hasImage, hasText, hasTags, sequenceDims.keySet());
        }
        for (String n : sequenceDims.keySet()) {
            checkName(n, hasImage, hasText, hasTags, Set.of());
        }
        ExtractionConfig.Bert bertCfg = cfg.text().bert();
        boolean hasBert = hasText && bertCfg.enabled();
        if (bertCfg.enabled() && !hasText) {
            LOG.warn("extract.text.bert is enabled but the dataset has no texts; no MiniLM columns are written");
        }
        if (hasBert) {
            for (String n : List.of(bertCfg.name(), bertCfg.tokensName())) {
                if (n.equals(SampleSchema.IMAGE) || n.equals(SampleSchema.TEXT) || n.equals(SampleSchema.TAGS)
                        || vectorDims.containsKey(n) || sequenceDims.containsKey(n)) {
                    throw new InputException("modality name '" + n + "' of the MiniLM encoder (extract.text.bert.name)"
                            + " is already a modality of the dataset; choose another name");
                }
            }
        }

        Tokenizer tokenizer = new Tokenizer(cfg.text().lowercase());
        Vocabulary textVocab = null;
        WordVectors.Table textVectors = null;
        if (hasText) {
            JavaRDD<List<String>> trainTokens = tokens(data, tokenizer, false);
            textVocab = Vocabulary.build(trainTokens, cfg.text().minCount(), cfg.text().maxVocab());
            LOG.info("Text vocabulary: {} tokens (min_count {}, max_vocab {})", textVocab.size(), cfg.text().minCount(),
                    cfg.text().maxVocab());
            textVectors = switch (cfg.text().vectors()) {
                case FILE -> WordVectors.fromTextFile(jsc.hadoopConfiguration(), cfg.text().vectorsPath(), textVocab,
                        cfg.text().seed());
                case WORD2VEC -> WordVectors.trainWord2Vec(spark,
                        tokens(data, tokenizer, cfg.text().word2vecUseUnlabeled()), textVocab, cfg.text().dim(),
                        cfg.text().word2vecWindow(), cfg.text().word2vecIterations(), 1, cfg.text().seed());
                case RANDOM -> WordVectors.random(textVocab, cfg.text().dim(), cfg.text().seed());
            };
        }
        Vocabulary tagVocab = null;
        if (hasTags) {
            JavaRDD<List<String>> tagLists = data
                    .where(functions.col(SampleSchema.SPLIT).equalTo(Split.TRAIN.id())
                            .and(functions.col(SampleSchema.TAGS).isNotNull()))
                    .select(SampleSchema.TAGS).javaRDD()
                    .map(r -> normalisedTags(r.getList(0)));
            tagVocab = Vocabulary.build(tagLists, cfg.tags().minCount(), cfg.tags().maxVocab());
            LOG.info("Tag vocabulary: {} tags", tagVocab.size());
        }

        RowPlan plan = new RowPlan(task, classIndex, hasImage, cfg.image(), hasText, cfg.text().maxTokens(),
                cfg.text().tooLong() == ExtractionConfig.TooLong.FAIL, cfg.text().lowercase(), hasTags,
                cfg.tags().maxTags(), new ArrayList<>(vectorDims.keySet()), vectorDims,
                new ArrayList<>(sequenceDims.keySet()), sequenceDims, hasBert, bertCfg);
        StructType schema = outputSchema(plan);
        Broadcast<Vocabulary> textVocabBc = jsc.broadcast(textVocab);
        Broadcast<Vocabulary> tagVocabBc = jsc.broadcast(tagVocab);
        Broadcast<SerializableConfiguration> hconf =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        LongAccumulator truncated = jsc.sc().longAccumulator("text.truncated");
        LongAccumulator emptyTexts = jsc.sc().longAccumulator("text.noTokens");
        Counters counters = new Counters(truncated, emptyTexts, jsc.sc().longAccumulator("bert.truncated"),
                jsc.sc().longAccumulator("bert.noWordPieces"), jsc.sc().longAccumulator("bert.texts"),
                jsc.sc().longAccumulator("bert.nanos"));

        JavaRDD<Row> rows = data.javaRDD().mapPartitions(it -> buildRows(it, plan, textVocabBc.value(),
                tagVocabBc.value(), hconf.value().value(), bad, counters));
        String root = out.path();
        spark.createDataFrame(rows, schema).write().parquet(root + "/features");
        LOG.info("Wrote features; computing per-modality counts");

        // ---- write vocabularies and embeddings
        if (textVocab != null) {
            textVocab.toDataFrame(spark).write().parquet(root + "/vocab/text");
            textVectors.toDataFrame(spark).write().parquet(root + "/embeddings/text");
        }
        if (tagVocab != null) {
            tagVocab.toDataFrame(spark).write().parquet(root + "/vocab/tags");
        }

        // ---- counts from what was written
        Dataset<Row> written = spark.read().parquet(root + "/features");
        Map<String, Long> rowsPerSplit = new TreeMap<>();
        Map<String, Map<String, Long>> presentPerSplit = presentCounts(written, rowsPerSplit);
        List<FeatureTableMetadata.Modality> modalities = new ArrayList<>();
        if (hasImage) {
            ExtractionConfig.Image ic = cfg.image();
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("size", ic.size());
            settings.put("normalisation", ic.normalisation().name().toLowerCase());
            settings.put("resize", ic.resize().name().toLowerCase());
            if (ic.mode() == ImageMode.PIXELS) {
                modalities.add(new FeatureTableMetadata.Modality(SampleSchema.IMAGE, ModalityKind.IMAGE_PIXELS,
                        List.of(3, ic.size(), ic.size()), presentPerSplit.get(SampleSchema.IMAGE), "image-pixels",
                        EXTRACTOR_VERSION, settings, null, null, null, null, null));
            } else {
                settings.put("backbone", ic.backbone());
                settings.put("layer", ic.backboneLayer());
                ImageBackbone bb = ImageBackbones.get(ic, jsc.hadoopConfiguration());
                settings.put("region_pool", ic.regionPool());
                settings.put("region_grid", List.of(bb.regionGrid()[0], bb.regionGrid()[1]));
                List<Integer> shape = ic.regions() ? List.of(bb.regionCount(), bb.regionDim()) : List.of(bb.pooledDim());
                modalities.add(new FeatureTableMetadata.Modality(SampleSchema.IMAGE, ModalityKind.IMAGE_EMBEDDING,
                        shape, presentPerSplit.get(SampleSchema.IMAGE), "image-backbone", EXTRACTOR_VERSION, settings,
                        null, null, null, null, bb.pooledDim()));
            }
        }
        if (hasText) {
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("max_tokens", cfg.text().maxTokens());
            settings.put("lowercase", cfg.text().lowercase());
            settings.put("min_count", cfg.text().minCount());
            settings.put("vectors", textVectors.source());
            settings.put("vectors_covered", textVectors.covered());
            settings.put("truncated_texts", truncated.value());
            settings.put("texts_without_tokens", emptyTexts.value());
            modalities.add(new FeatureTableMetadata.Modality(SampleSchema.TEXT, ModalityKind.TOKENS,
                    List.of(cfg.text().maxTokens()), presentPerSplit.get(SampleSchema.TEXT), "word-tokenizer",
                    EXTRACTOR_VERSION, settings, textVocab.size(), "vocab/text", "embeddings/text", textVectors.dim(),
                    null));
        }
        if (hasTags) {
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("max_tags", cfg.tags().maxTags());
            settings.put("min_count", cfg.tags().minCount());
            modalities.add(new FeatureTableMetadata.Modality(SampleSchema.TAGS, ModalityKind.TOKENS,
                    List.of(cfg.tags().maxTags()), presentPerSplit.get(SampleSchema.TAGS), "tag-vocabulary",
                    EXTRACTOR_VERSION, settings, tagVocab.size(), "vocab/tags", null, null, null));
        }
        for (Map.Entry<String, Integer> e : vectorDims.entrySet()) {
            modalities.add(new FeatureTableMetadata.Modality(e.getKey(), ModalityKind.VECTOR, List.of(e.getValue()),
                    presentPerSplit.get(e.getKey()), "precomputed-vector", EXTRACTOR_VERSION, Map.of(), null, null, null,
                    null, null));
        }
        for (Map.Entry<String, Integer> e : sequenceDims.entrySet()) {
            modalities.add(new FeatureTableMetadata.Modality(e.getKey(), ModalityKind.SEQUENCE,
                    List.of(-1, e.getValue()), presentPerSplit.get(e.getKey()), "precomputed-sequence", EXTRACTOR_VERSION,
                    Map.of(), null, null, null, null, null));
        }
        if (hasBert) {
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("model", MiniLmEncoder.MODEL_NAME);
            settings.put("model_resource", MiniLmEncoder.MODEL_RESOURCE);
            settings.put("quantised", true);
            settings.put("max_tokens", bertCfg.maxTokens());
            settings.put("batch_size", bertCfg.batchSize());
            settings.put("drop_urls", bertCfg.dropUrls());
            settings.put("pooling", "attention-masked mean of the last hidden state, L2-normalised");
            settings.put("token_vectors", "last hidden state per word piece, [CLS] and [SEP] included");
            settings.put("truncated_texts", counters.bertTruncated().value());
            settings.put("texts_without_word_pieces", counters.bertEmpty().value());
            settings.put("texts_encoded", counters.bertTexts().value());
            double encodeSeconds = counters.bertNanos().value() / 1e9;
            settings.put("encode_task_seconds", Math.round(encodeSeconds * 1000) / 1000.0);
            String extractor = "minilm-l6-v2-q-onnx";
            if (bertCfg.sentenceVector()) {
                modalities.add(new FeatureTableMetadata.Modality(bertCfg.name(), ModalityKind.VECTOR,
                        List.of(MiniLmEncoder.DIM), presentPerSplit.get(bertCfg.name()), extractor, EXTRACTOR_VERSION,
                        settings, null, null, null, null, null));
            }
            if (bertCfg.tokenVectors()) {
                modalities.add(new FeatureTableMetadata.Modality(bertCfg.tokensName(), ModalityKind.SEQUENCE,
                        List.of(-1, MiniLmEncoder.DIM), presentPerSplit.get(bertCfg.tokensName()), extractor,
                        EXTRACTOR_VERSION, settings, null, null, null, null, null));
            }
            LOG.info("MiniLM: {} texts encoded in {}s of task time ({} texts/s per task thread), {} truncated to {} "
                    + "word pieces, {} without word pieces", counters.bertTexts().value(),
                    String.format("%.1f", encodeSeconds), String.format("%.1f", counters.bertTexts().value()
                            / Math.max(encodeSeconds, 1e-9)), counters.bertTruncated().value(), bertCfg.maxTokens(),
                    counters.bertEmpty().value());
        }
        List<String> skipped = bad.report("input");
        if (truncated.value() > 0) {
            LOG.warn("{} text(s) had more than {} tokens and were truncated (extract.text.too_long = truncate)",
                    truncated.value(), cfg.text().maxTokens());
        }
        if (hasBert && counters.bertTruncated().value() > 0) {
            LOG.warn("{} text(s) had more than {} MiniLM word pieces ([CLS] and [SEP] included) and were truncated "
                    + "(extract.text.too_long = truncate)", counters.bertTruncated().value(), bertCfg.maxTokens());
        }
        String tableHash = ContentHash.of(jsc.hadoopConfiguration(), root + "/features", jsc);
        String inputHash = ContentHash.of(jsc.hadoopConfiguration(), dataset.path(), jsc);
        Map<String, Object> extraction = new LinkedHashMap<>();
        extraction.put("extractor_version", EXTRACTOR_VERSION);
        extraction.put("skipped_records", bad.skipped());
        double wall = (System.currentTimeMillis() - t0) / 1000.0;
        FeatureTableMetadata meta = new FeatureTableMetadata(FeatureTableMetadata.FORMAT,
                FeatureTableMetadata.FORMAT_VERSION, task, classes, modalities, rowsPerSplit, tableHash,
                new FeatureTableMetadata.Input(dataset.format().name().toLowerCase(), dataset.path(), inputHash, records),
                extraction, resolvedConfig, skipped, Provenance.current().asMap(), Instant.now().toString(), wall);
        writeText(out.fileSystem(), new Path(root, "metadata.json"), Json.write(meta));
        out.commit();
        LOG.info("Feature table {}: {} rows {} in {}s; modalities {}", cfg.output(), meta.totalRows(), rowsPerSplit,
                String.format("%.1f", wall), modalities.stream().map(m -> m.name() + "=" + m.presentTotal()).toList());
        return new Result(cfg.output(), meta);
    }

    // ------------------------------------------------------------------ checks

    private static void checkDuplicateIds(Dataset<Row> data) {
        List<Row> dups = data.groupBy(SampleSchema.ID).agg(functions.count("*").as("n"),
                        functions.min(SampleSchema.SOURCE).as("first"), functions.max(SampleSchema.SOURCE).as("last"))
                .where("n > 1").limit(5).collectAsList();
        if (!dups.isEmpty()) {
            Row d = dups.get(0);
            throw new InputException("sample id '" + d.getString(0) + "' occurs " + d.getLong(1) + " times (" + d.getString(2)
                    + " and " + d.getString(3) + "); ids must be unique");
        }
    }

    private static void checkName(String name, boolean image, boolean text, boolean tags, Set<String> others) {
        if ((name.equals(SampleSchema.IMAGE) && image) || (name.equals(SampleSchema.TEXT) && text)
                || (name.equals(SampleSchema.TAGS) && tags) || others.contains(name)) {
            throw new InputException("modality name '" + name + "' is used twice (as precomputed features and as "
                    + "another modality); rename the vectors/sequences entry");
        }
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new InputException("modality name '" + name + "' must be lower-case letters, digits and '_' "
                    + "(it becomes a column name)");
        }
    }

    /**
     * The dimension of each named vector (or sequence frame). All samples must agree; the first sample
     * that does not is named in the error.
     */
    private static Map<String, Integer> dimensions(Dataset<Row> data, String column, boolean sequences) {
        JavaRDD<Tuple2<String, Integer>> dims = data.where(functions.col(column).isNotNull())
                .select(column).javaRDD().flatMap(r -> {
                    List<Tuple2<String, Integer>> out = new ArrayList<>();
                    Map<String, Object> m = JavaConverters.mapAsJavaMap(r.getMap(0));
                    for (Map.Entry<String, Object> e : m.entrySet()) {
                        scala.collection.Seq<?> seq = (scala.collection.Seq<?>) e.getValue();
                        int d = sequences ? ((scala.collection.Seq<?>) seq.apply(0)).size() : seq.size();
                        out.add(new Tuple2<>(e.getKey(), d));
                    }
                    return out.iterator();
                });
        Map<String, Map<Integer, Long>> counts = new TreeMap<>();
        for (Tuple2<Tuple2<String, Integer>, Long> t : dims.mapToPair(x -> new Tuple2<>(x, 1L)).reduceByKey(Long::sum)
                .collect()) {
            counts.computeIfAbsent(t._1()._1(), k -> new TreeMap<>()).put(t._1()._2(), t._2());
        }
        Map<String, Integer> result = new TreeMap<>();
        for (Map.Entry<String, Map<Integer, Long>> e : counts.entrySet()) {
            int common = e.getValue().entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            if (e.getValue().size() > 1) {
                String name = e.getKey();
                Row bad = data.where(functions.col(column).getItem(name).isNotNull()
                                .and(functions.size(sequences ? functions.col(column).getItem(name).getItem(0)
                                        : functions.col(column).getItem(name)).notEqual(common)))
                        .select(SampleSchema.ID, SampleSchema.SOURCE, column).first();
                Object v = JavaConverters.mapAsJavaMap(bad.getMap(2)).get(name);
                int found = sequences ? ((scala.collection.Seq<?>) ((scala.collection.Seq<?>) v).apply(0)).size()
                        : ((scala.collection.Seq<?>) v).size();
                throw new InputException(bad.getString(1) + " (sample '" + bad.getString(0) + "'): " + column + "." + name
                        + " has " + found + " values" + (sequences ? " per frame" : "") + ", expected " + common
                        + " like the other " + e.getValue().get(common) + " samples (wrong vector length)");
            }
            result.put(e.getKey(), common);
        }
        return result;
    }

    // ------------------------------------------------------------------ text and tags

    private static JavaRDD<List<String>> tokens(Dataset<Row> data, Tokenizer tokenizer, boolean withUnlabeled) {
        var split = functions.col(SampleSchema.SPLIT);
        var cond = withUnlabeled ? split.equalTo(Split.TRAIN.id()).or(split.equalTo(Split.UNLABELED.id()))
                : split.equalTo(Split.TRAIN.id());
        return data.where(cond.and(functions.col(SampleSchema.TEXT).isNotNull())).select(SampleSchema.TEXT)
                .javaRDD().map(r -> tokenizer.tokenize(r.getString(0)));
    }

    static List<String> normalisedTags(List<String> raw) {
        List<String> out = new ArrayList<>();
        for (String t : raw) {
            String n = Tokenizer.normaliseTag(t);
            if (n != null && !out.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ output rows

    static StructType outputSchema(RowPlan plan) {
        StructType s = new StructType()
                .add("id", DataTypes.StringType, false)
                .add("split", DataTypes.StringType, false)
                .add("label", DataTypes.StringType, true)
                .add("label_index", DataTypes.IntegerType, false)
                .add("target", DataTypes.DoubleType, true);
        var floats = DataTypes.createArrayType(DataTypes.FloatType, false);
        var ints = DataTypes.createArrayType(DataTypes.IntegerType, false);
        if (plan.image()) {
            s = s.add("image_present", DataTypes.BooleanType, false);
            if (plan.imageCfg().mode() == ImageMode.PIXELS || plan.imageCfg().regions()) {
                s = s.add("image_values", floats, true);
            }
            if (plan.imageCfg().mode() == ImageMode.BACKBONE) {
                s = s.add("image_pooled", floats, true);
            }
        }
        if (plan.text()) {
            s = s.add("text_present", DataTypes.BooleanType, false).add("text_ids", ints, true)
                    .add("text_length", DataTypes.IntegerType, false);
        }
        if (plan.tags()) {
            s = s.add("tags_present", DataTypes.BooleanType, false).add("tags_ids", ints, true);
        }
        for (String n : plan.vectorNames()) {
            s = s.add(n + "_present", DataTypes.BooleanType, false).add(n + "_values", floats, true);
        }
        for (String n : plan.sequenceNames()) {
            s = s.add(n + "_present", DataTypes.BooleanType, false).add(n + "_values", floats, true)
                    .add(n + "_length", DataTypes.IntegerType, false);
        }
        if (plan.bert() && plan.bertCfg().sentenceVector()) {
            String n = plan.bertCfg().name();
            s = s.add(n + "_present", DataTypes.BooleanType, false).add(n + "_values", floats, true);
        }
        if (plan.bert() && plan.bertCfg().tokenVectors()) {
            String n = plan.bertCfg().tokensName();
            s = s.add(n + "_present", DataTypes.BooleanType, false).add(n + "_values", floats, true)
                    .add(n + "_length", DataTypes.IntegerType, false);
        }
        return s;
    }

    private static Iterator<Row> buildRows(Iterator<Row> it, RowPlan plan, Vocabulary textVocab, Vocabulary tagVocab,
                                           org.apache.hadoop.conf.Configuration hc, BadRecords bad,
                                           Counters counters) {
        LongAccumulator truncated = counters.truncated();
        LongAccumulator emptyTexts = counters.emptyTexts();
        Tokenizer tokenizer = new Tokenizer(plan.lowercase());
        ImagePreprocessor pre = new ImagePreprocessor(plan.imageCfg().size(), plan.imageCfg().normalisation(),
                plan.imageCfg().resize());
        boolean backboneMode = plan.image() && plan.imageCfg().mode() == ImageMode.BACKBONE;
        ImageBackbone backbone = backboneMode ? ImageBackbones.get(plan.imageCfg(), hc) : null;
        ExtractionConfig.Bert bertCfg = plan.bertCfg();
        // one ONNX Runtime session per executor JVM, created by the first task that needs it
        MiniLmEncoder encoder = plan.bert() ? MiniLmEncoder.shared(bertCfg.threads()) : null;
        WordPieceTokenizer wordPieces = encoder == null ? null : encoder.tokenizer();
        int batch = Math.max(backboneMode ? plan.imageCfg().batchSize() : 1, plan.bert() ? bertCfg.batchSize() : 1);
        // Rows are built in small batches so a backbone (or MiniLM) can embed several inputs per forward pass.
        return new Iterator<>() {
            private final List<Row> ready = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                while (next >= ready.size() && it.hasNext()) {
                    fill();
                }
                return next < ready.size();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return ready.get(next++);
            }

            private void fill() {
                ready.clear();
                next = 0;
                List<Object[]> pending = new ArrayList<>();
                List<BufferedImage> images = new ArrayList<>();
                List<Integer> imageOwner = new ArrayList<>();
                List<WordPieceTokenizer.Encoding> texts = new ArrayList<>();
                List<Integer> textOwner = new ArrayList<>();
                while (it.hasNext() && pending.size() < batch) {
                    Row r = it.next();
                    try {
                        Object[] values = base(r);
                        WordPieceTokenizer.Encoding enc = plan.bert() ? wordPieces(r) : null;
                        BufferedImage img = plan.image() ? readImage(r, hc) : null;
                        if (img != null && !backboneMode) {
                            values[values.length - 1] = pre.chw(img);
                        } else if (img != null) {
                            images.add(img);
                            imageOwner.add(pending.size());
                        }
                        if (enc != null) {
                            texts.add(enc);
                            textOwner.add(pending.size());
                        }
                        pending.add(values);
                    } catch (InputException e) {
                        bad.problem(e.getMessage());
                    }
                }
                Map<Integer, ImageBackbone.Embedding> embedded = new HashMap<>();
                if (!images.isEmpty()) {
                    List<ImageBackbone.Embedding> emb = backbone.embed(images, plan.imageCfg().regions());
                    for (int i = 0; i < emb.size(); i++) {
                        embedded.put(imageOwner.get(i), emb.get(i));
                    }
                }
                Map<Integer, MiniLmEncoder.Embedding> encoded = new HashMap<>();
                if (!texts.isEmpty()) {
                    long t0 = System.nanoTime();
                    List<MiniLmEncoder.Embedding> emb = encoder.embed(texts, bertCfg.batchSize());
                    counters.bertNanos().add(System.nanoTime() - t0);
                    counters.bertTexts().add(emb.size());
                    for (int i = 0; i < emb.size(); i++) {
                        encoded.put(textOwner.get(i), emb.get(i));
                    }
                }
                for (int i = 0; i < pending.size(); i++) {
                    ready.add(finish(pending.get(i), embedded.get(i), encoded.get(i)));
                }
            }

            /**
             * The MiniLM input of a sample's text; null when it has no text or the text has no word piece
             * (empty, blank, only control characters or URLs): then the MiniLM modalities are absent, as the
             * text modality is for a text without tokens.
             */
            private WordPieceTokenizer.Encoding wordPieces(Row r) {
                if (r.isNullAt(5)) {
                    return null;
                }
                String text = bertCfg.dropUrls() ? Tokenizer.dropUrls(r.getString(5)) : r.getString(5);
                WordPieceTokenizer.Encoding e = wordPieces.encode(text, bertCfg.maxTokens());
                if (e.wordPieces() == 0) {
                    counters.bertEmpty().add(1);
                    return null;
                }
                if (e.truncated()) {
                    if (plan.failTooLong()) {
                        throw new InputException(r.getString(9) + " (sample '" + r.getString(0) + "'): text has "
                                + e.wordPieces() + " MiniLM word pieces, more than extract.text.bert.max_tokens = "
                                + bertCfg.maxTokens() + " minus 2 for [CLS] and [SEP] (set extract.text.too_long = "
                                + "truncate to keep the first " + (bertCfg.maxTokens() - 2) + ")");
                    }
                    counters.bertTruncated().add(1);
                }
                return e;
            }

            /** Everything but images; the last slot carries pixel values to finish(). */
            private Object[] base(Row r) {
                String id = r.getString(0);
                String source = r.getString(9);
                List<Object> v = new ArrayList<>();
                v.add(id);
                v.add(r.getString(1));
                String label = r.isNullAt(2) ? null : r.getString(2);
                v.add(label);
                Integer li = label == null ? null : plan.classIndex().get(label);
                v.add(li == null ? -1 : li);
                v.add(r.isNullAt(3) ? null : r.getDouble(3));
                if (plan.text()) {
                    int[] ids = null;
                    if (!r.isNullAt(5)) {
                        List<String> toks = tokenizer.tokenize(r.getString(5));
                        if (toks.size() > plan.maxTokens()) {
                            if (plan.failTooLong()) {
                                throw new InputException(source + " (sample '" + id + "'): text has " + toks.size()
                                        + " tokens, more than extract.text.max_tokens = " + plan.maxTokens()
                                        + " (set extract.text.too_long = truncate to keep the first "
                                        + plan.maxTokens() + ")");
                            }
                            truncated.add(1);
                            toks = toks.subList(0, plan.maxTokens());
                        }
                        if (toks.isEmpty()) {
                            emptyTexts.add(1);
                        } else {
                            ids = new int[toks.size()];
                            for (int i = 0; i < ids.length; i++) {
                                ids[i] = textVocab.id(toks.get(i));
                            }
                        }
                    }
                    v.add(ids != null);
                    v.add(ids);
                    v.add(ids == null ? 0 : ids.length);
                }
                if (plan.tags()) {
                    int[] ids = null;
                    if (!r.isNullAt(6)) {
                        List<String> tags = normalisedTags(r.getList(6));
                        if (tags.size() > plan.maxTags()) {
                            tags = tags.subList(0, plan.maxTags());
                        }
                        if (!tags.isEmpty()) {
                            ids = new int[tags.size()];
                            for (int i = 0; i < ids.length; i++) {
                                ids[i] = tagVocab.id(tags.get(i));
                            }
                        }
                    }
                    v.add(ids != null);
                    v.add(ids);
                }
                Map<String, Object> vectors = r.isNullAt(7) ? Map.of() : JavaConverters.mapAsJavaMap(r.getMap(7));
                for (String n : plan.vectorNames()) {
                    Object raw = vectors.get(n);
                    float[] f = raw == null ? null : floats((scala.collection.Seq<?>) raw, plan.vectorDims().get(n),
                            source, id, "vectors." + n);
                    v.add(f != null);
                    v.add(f);
                }
                Map<String, Object> seqs = r.isNullAt(8) ? Map.of() : JavaConverters.mapAsJavaMap(r.getMap(8));
                for (String n : plan.sequenceNames()) {
                    Object raw = seqs.get(n);
                    float[] f = null;
                    int len = 0;
                    if (raw != null) {
                        scala.collection.Seq<?> frames = (scala.collection.Seq<?>) raw;
                        int d = plan.sequenceDims().get(n);
                        len = frames.size();
                        f = new float[len * d];
                        for (int i = 0; i < len; i++) {
                            float[] fr = floats((scala.collection.Seq<?>) frames.apply(i), d, source, id,
                                    "sequences." + n + "[" + i + "]");
                            System.arraycopy(fr, 0, f, i * d, d);
                        }
                    }
                    v.add(f != null);
                    v.add(f);
                    v.add(len);
                }
                v.add(null); // image pixels slot
                return v.toArray();
            }

            private Row finish(Object[] values, ImageBackbone.Embedding emb, MiniLmEncoder.Embedding text) {
                Object pixels = values[values.length - 1];
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    out.add(values[i]);
                }
                if (plan.image()) {
                    if (backboneMode) {
                        out.add(emb != null);
                        if (plan.imageCfg().regions()) {
                            out.add(emb == null ? null : emb.regions());
                        }
                        out.add(emb == null ? null : emb.pooled());
                    } else {
                        out.add(pixels != null);
                        out.add(pixels);
                    }
                }
                for (int i = 5; i < values.length - 1; i++) {
                    out.add(values[i]);
                }
                if (plan.bert() && bertCfg.sentenceVector()) {
                    out.add(text != null);
                    out.add(text == null ? null : text.sentence());
                }
                if (plan.bert() && bertCfg.tokenVectors()) {
                    out.add(text != null);
                    out.add(text == null ? null : text.tokens());
                    out.add(text == null ? 0 : text.length());
                }
                return RowFactory.create(out.stream().map(FeatureExtraction::sparkValue).toArray());
            }
        };
    }

    private static Object sparkValue(Object o) {
        if (o instanceof float[] f) {
            Float[] b = new Float[f.length];
            for (int i = 0; i < f.length; i++) {
                b[i] = f[i];
            }
            return b;
        }
        if (o instanceof int[] a) {
            Integer[] b = new Integer[a.length];
            for (int i = 0; i < a.length; i++) {
                b[i] = a[i];
            }
            return b;
        }
        return o;
    }

    private static float[] floats(scala.collection.Seq<?> seq, int expected, String source, String id, String column) {
        if (seq.size() != expected) {
            throw new InputException(source + " (sample '" + id + "'): " + column + " has " + seq.size()
                    + " values, expected " + expected + " (wrong vector length)");
        }
        float[] out = new float[expected];
        for (int i = 0; i < expected; i++) {
            double d = ((Number) seq.apply(i)).doubleValue();
            if (!Double.isFinite(d)) {
                throw new InputException(source + " (sample '" + id + "'): " + column + " element " + i + " is " + d
                        + "; feature values must be finite (no NaN or infinity)");
            }
            out[i] = (float) d;
        }
        return out;
    }

    private static BufferedImage readImage(Row r, org.apache.hadoop.conf.Configuration hc) {
        if (r.isNullAt(4)) {
            return null;
        }
        String uri = r.getString(4);
        String where = r.getString(9) + " (sample '" + r.getString(0) + "'): image " + uri;
        byte[] bytes;
        try {
            Path p = new Path(uri);
            FileSystem fs = p.getFileSystem(hc);
            try (FSDataInputStream in = fs.open(p)) {
                bytes = in.readAllBytes();
            }
        } catch (FileNotFoundException e) {
            throw new InputException(where + ": image file does not exist");
        } catch (IOException e) {
            throw new InputException(where + ": image file cannot be read (" + e.getMessage() + ")");
        }
        return ImageDecoder.decode(bytes, where);
    }

    /** Rows per split and, per modality, rows where it is present per split: one aggregation. */
    private static Map<String, Map<String, Long>> presentCounts(Dataset<Row> written, Map<String, Long> rowsPerSplit) {
        List<String> modalities = new ArrayList<>();
        List<org.apache.spark.sql.Column> aggs = new ArrayList<>();
        for (String c : written.columns()) {
            if (c.endsWith("_present")) {
                modalities.add(c.substring(0, c.length() - "_present".length()));
                aggs.add(functions.sum(functions.col(c).cast("long")));
            }
        }
        aggs.add(0, functions.count("*"));
        Map<String, Map<String, Long>> out = new HashMap<>();
        modalities.forEach(m -> out.put(m, new TreeMap<>()));
        for (Row r : written.groupBy("split").agg(aggs.get(0), aggs.subList(1, aggs.size())
                .toArray(new org.apache.spark.sql.Column[0])).collectAsList()) {
            rowsPerSplit.put(r.getString(0), r.getLong(1));
            for (int i = 0; i < modalities.size(); i++) {
                out.get(modalities.get(i)).put(r.getString(0), r.isNullAt(i + 2) ? 0L : r.getLong(i + 2));
            }
        }
        return out;
    }

    private static void writeText(FileSystem fs, Path p, String text) {
        try (FSDataOutputStream o = fs.create(p, true)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
    }
}
