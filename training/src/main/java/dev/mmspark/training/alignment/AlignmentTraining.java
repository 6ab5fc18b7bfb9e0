package dev.mmspark.training.alignment;

import dev.mmspark.common.InputException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.common.spark.Durations;
import dev.mmspark.features.kg.KgTable;
import dev.mmspark.features.kg.KgTableMetadata;
import dev.mmspark.features.kg.KgTensors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Entry point of {@code mmspark train-alignment}: opens the KG table, resolves the modalities, splits off the
 * validation pairs, trains ({@link AlignmentTrainer}) or resumes, and writes the model directory
 * ({@link ModelDirectory}) with the joint embeddings of every entity and a self-describing metadata.json.
 */
public final class AlignmentTraining {
    private static final Logger LOG = LoggerFactory.getLogger(AlignmentTraining.class);
    public static final String FORMAT = "mmspark-alignment-model";
    public static final int FORMAT_VERSION = 1;

    /** Schema of {@code embeddings/}. */
    public static final StructType EMBEDDING_SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("graph", DataTypes.IntegerType, false)
            .add("entity", DataTypes.IntegerType, false)
            .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private AlignmentTraining() {
    }

    /** What a job reports: the model directory and its metadata. */
    public record Result(String output, Map<String, Object> metadata) {
    }

    public static Result train(SparkSession spark, AlignmentTrainConfig cfg, boolean resume, boolean overwrite) {
        long t0 = System.nanoTime();
        KgTable table = KgTable.open(spark, cfg.kgTable());
        KgTableMetadata tm = table.metadata();
        AlignmentSpec spec = resolveModalities(cfg, table);
        cfg = cfg.withSpec(spec);
        LOG.info("Training {} on {} ({} entities) with modalities {}", cfg.modelName(), cfg.kgTable(), tm.entities(),
                spec.modalityLabel());
        KgTensors tensors = table.tensors();
        AlignmentData data = new AlignmentData(tensors, table.has(KgTableMetadata.NAME) ? table.nameEmbeddings() : null);
        KgTensors.Pairs[] split = validationSplit(tensors.train(), cfg.validationFraction(), cfg.seed());
        KgTensors.Pairs train = split[0];
        KgTensors.Pairs validation = split[1];
        if (train.size() < 2) {
            throw new InputException("kg table " + cfg.kgTable() + " has " + train.size() + " training pair(s) after"
                    + " the validation split; at least 2 are needed");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int workers = cfg.workers() > 0 ? cfg.workers() : Math.max(1, jsc.defaultParallelism());
        Map<String, Object> resumeKey = resumeKey(cfg, tm, workers);

        ModelDirectory dir = ModelDirectory.prepare(spark.sparkContext().hadoopConfiguration(), cfg.output(), overwrite,
                resume);
        AlignmentTrainer trainer = new AlignmentTrainer(jsc, data, spec, cfg, workers, validation);
        try {
            ModelDirectory.Checkpoint start = resume ? dir.latest() : null;
            AdamW.State state;
            TrainingProgress progress;
            if (start != null) {
                checkResumable(start.progress().resumeKey(), resumeKey, cfg.output());
                state = start.state();
                progress = start.progress().resumed();
                LOG.info("Resuming {} after epoch {} of {}", cfg.output(), start.epoch(), cfg.epochs());
            } else {
                state = AdamW.State.fresh(trainer.driverNetwork().init(cfg.seed()));
                progress = new TrainingProgress(0, List.of(), train.left(), train.right(), 0, Map.of(), resumeKey, 0,
                        List.of());
            }
            LOG.info("{} parameters; {} training pairs ({} held out for validation), {} workers, batch {}, averaging"
                            + " every {} minibatches", state.params.size(), train.size(), validation.size(), workers,
                    cfg.optimizer().batchSize(), cfg.averagingFrequency());
            ModelDirectory.Checkpoint end = progress.epochs() >= cfg.epochs()
                    ? new ModelDirectory.Checkpoint(progress.epochs(), state, progress)
                    : trainer.train(state, progress, dir);

            ParamSet params = end.state().params;
            AlignmentNetwork net = trainer.driverNetwork();
            int[] all = new int[tensors.entityCount()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            float[] emb = net.embed(params, all);
            int dim = emb.length / all.length;
            dir.writeParams(params);
            writeEmbeddings(spark, dir.embeddingsPath(), tensors, emb, dim);
            Map<String, Object> meta = metadata(cfg, spec, tm, table, train, validation, workers, end, params, dim,
                    (System.nanoTime() - t0) / 1e9);
            dir.writeMetadata(meta);
            LOG.info("Model {} written: {} epochs, {} training time ({} per epoch)", dir.path(), end.epoch(),
                    Durations.format(end.progress().trainSeconds()),
                    Durations.format(end.progress().trainSeconds() / Math.max(1, end.progress().history().size())));
            return new Result(dir.path(), meta);
        } finally {
            trainer.close();
        }
    }

    /** The spec's modalities, narrowed to the table's when the config did not list them. */
    static AlignmentSpec resolveModalities(AlignmentTrainConfig cfg, KgTable table) {
        List<Modality> available = new ArrayList<>();
        for (Modality m : Modality.values()) {
            if (m == Modality.STRUCTURE || table.has(m.id())) {
                available.add(m);
            }
        }
        List<Modality> wanted = cfg.spec().modalities();
        List<Modality> missing = wanted.stream().filter(m -> !available.contains(m)).toList();
        if (missing.isEmpty()) {
            return cfg.spec();
        }
        if (cfg.explicitModalities()) {
            throw new ConfigException("config key 'train.model.modalities' lists " + Modality.label(missing)
                    + ", which the KG table " + cfg.kgTable() + " does not have; it has " + Modality.label(available));
        }
        List<Modality> kept = wanted.stream().filter(available::contains).toList();
        LOG.info("The KG table has no {}: training {} without them", Modality.label(missing), cfg.modelName());
        return cfg.spec().withModalities(kept);
    }

    /** A seeded share of the training pairs held out: {train, validation}. */
    static KgTensors.Pairs[] validationSplit(KgTensors.Pairs pairs, double fraction, long seed) {
        int n = pairs.size();
        int held = (int) Math.round(n * fraction);
        if (held == 0) {
            return new KgTensors.Pairs[]{pairs, new KgTensors.Pairs(new int[0], new int[0])};
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(AlignmentTrainer.mix(seed, 0x7a11dL, 1));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] vi = Arrays.copyOfRange(perm, 0, held);
        int[] ti = Arrays.copyOfRange(perm, held, n);
        Arrays.sort(vi);
        Arrays.sort(ti);
        return new KgTensors.Pairs[]{pick(pairs, ti), pick(pairs, vi)};
    }

    private static KgTensors.Pairs pick(KgTensors.Pairs p, int[] idx) {
        int[] l = new int[idx.length];
        int[] r = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            l[i] = p.left()[idx[i]];
            r[i] = p.right()[idx[i]];
        }
        return new KgTensors.Pairs(l, r);
    }

    /** What a resumed run must share with its checkpoint. */
    static Map<String, Object> resumeKey(AlignmentTrainConfig cfg, KgTableMetadata tm, int workers) {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("model", cfg.modelName());
        k.put("spec", Json.write(cfg.spec()));
        k.put("kg_table_hash", tm.tableHash());
        k.put("seed", cfg.seed());
        k.put("batch_size", cfg.optimizer().batchSize());
        k.put("workers", workers);
        k.put("averaging_frequency", cfg.averagingFrequency());
        k.put("validation_fraction", cfg.validationFraction());
        return k;
    }

    static void checkResumable(Map<String, Object> saved, Map<String, Object> now, String output) {
        for (Map.Entry<String, Object> e : now.entrySet()) {
            Object s = saved == null ? null : saved.get(e.getKey());
            if (!Objects.equals(String.valueOf(s), String.valueOf(e.getValue()))) {
                throw new ConfigException("cannot resume " + output + ": its checkpoint was trained with " + e.getKey()
                        + " = " + s + ", the configuration now gives " + e.getValue() + " (train with --overwrite to"
                        + " start over)");
            }
        }
    }

    private static void writeEmbeddings(SparkSession spark, String path, KgTensors t, float[] emb, int dim) {
        List<Row> rows = new ArrayList<>(t.entityCount());
        for (int i = 0; i < t.entityCount(); i++) {
            Float[] v = new Float[dim];
            for (int d = 0; d < dim; d++) {
                v[d] = emb[i * dim + d];
            }
            rows.add(RowFactory.create(i, t.graph(i), t.entityIds()[i], Arrays.asList(v)));
        }
        int partitions = Math.max(1, t.entityCount() / 20_000);
        try (AtomicOutput out = AtomicOutput.begin(spark.sparkContext().hadoopConfiguration(), path, true,
                "entity embeddings")) {
            spark.createDataFrame(rows, EMBEDDING_SCHEMA).repartition(partitions).write().parquet(out.path());
            out.commit();
        }
    }

    private static Map<String, Object> metadata(AlignmentTrainConfig cfg, AlignmentSpec spec, KgTableMetadata tm,
                                                KgTable table, KgTensors.Pairs train, KgTensors.Pairs validation,
                                                int workers, ModelDirectory.Checkpoint end, ParamSet params, int dim,
                                                double wallSeconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("model", cfg.modelName());
        m.put("reference", cfg.model().reference());
        m.put("modalities", spec.modalities().stream().map(Modality::id).toList());
        m.put("modality_label", spec.modalityLabel());
        m.put("spec", spec);
        m.put("config", cfg.resolved());
        m.put("config_hash", ContentHash.ofString(cfg.resolved().toString()));
        m.put("seed", cfg.seed());
        Map<String, Object> kg = new LinkedHashMap<>();
        kg.put("path", table.path());
        kg.put("name", tm.name());
        kg.put("table_hash", tm.tableHash());
        kg.put("entities", tm.entities());
        kg.put("graphs", tm.graphs());
        kg.put("modalities", tm.modalityNames());
        m.put("kg_table", kg);
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("seed", tm.split().seed());
        split.put("train_fraction", tm.split().trainFraction());
        split.put("train", tm.split().train());
        split.put("test", tm.split().test());
        split.put("validation_fraction", cfg.validationFraction());
        split.put("validation", validation.size());
        split.put("train_used", train.size());
        split.put("validation_left", validation.left());
        split.put("validation_right", validation.right());
        m.put("split", split);
        TrainingProgress p = end.progress();
        Map<String, Object> tr = new LinkedHashMap<>();
        tr.put("epochs", p.epochs());
        tr.put("steps", end.state().step);
        tr.put("workers", workers);
        tr.put("averaging_frequency", cfg.averagingFrequency());
        tr.put("optimizer", cfg.optimizer());
        tr.put("train_seconds", p.trainSeconds());
        tr.put("seconds_per_epoch", p.trainSeconds() / Math.max(1, p.history().size()));
        tr.put("wall_seconds_this_run", wallSeconds);
        tr.put("resumed_at", p.resumedAt());
        tr.put("self_training", cfg.selfTraining());
        tr.put("self_training_pairs_added", p.addedPairs());
        tr.put("history", p.history());
        m.put("training", tr);
        m.put("param_count", params.size());
        m.put("embedding_dim", dim);
        m.put("learned_weights", learnedWeights(spec, params));
        m.put("provenance", Provenance.current().asMap());
        m.put("created_at", Instant.now().toString());
        return m;
    }

    /** The interpretable learned scalars: fusion weights (MCLEA) and the loss weights exp(−s). */
    private static Map<String, Object> learnedWeights(AlignmentSpec spec, ParamSet p) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> names = spec.modalities().stream().map(Modality::id).toList();
        if (p.has("fusion.w")) {
            float[] w = p.get("fusion.w");
            double max = Double.NEGATIVE_INFINITY;
            for (float x : w) {
                max = Math.max(max, x);
            }
            double sum = 0;
            for (float x : w) {
                sum += Math.exp(x - max);
            }
            Map<String, Double> soft = new LinkedHashMap<>();
            for (int i = 0; i < w.length; i++) {
                soft.put(names.get(i), Math.exp(w[i] - max) / sum);
            }
            out.put("fusion_softmax", soft);
        }
        for (String key : List.of("loss.intra", "loss.align")) {
            if (p.has(key)) {
                Map<String, Double> prec = new LinkedHashMap<>();
                float[] s = p.get(key);
                for (int i = 0; i < s.length; i++) {
                    prec.put(names.get(i), Math.exp(-s[i]));
                }
                out.put(key + ".exp(-s)", prec);
            }
        }
        return out;
    }
}
