package dev.mmspark.training;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.ExitCode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.Json;
import dev.mmspark.common.spark.Durations;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.SampleModelDefinition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Trains a {@link SampleModelDefinition} model on a feature table with DL4J's {@link SparkComputationGraph}
 * and synchronous parameter averaging ({@link ParameterAveragingTrainingMaster}):
 *
 * <ol>
 *   <li>the labelled training rows are read from Parquet with only the model's columns and cached once;</li>
 *   <li>each epoch, rows are shuffled by a key derived from (seed, epoch, sample id) -- deterministic, the
 *       same with or without a resume -- and cut into minibatches of exactly {@code batch_size_per_worker}
 *       by the model's {@link BatchBuilder} on the executors ({@link #minibatches}; the last
 *       {@code n mod batch_size_per_worker} rows of each epoch's order are left for later epochs);</li>
 *   <li>the executors write the minibatches to {@code work_dir/export} ({@link MinibatchFiles}); only their
 *       paths come back to the driver. Minibatches are rebuilt each epoch rather than exported once and
 *       reused, because the reshuffle changes which samples share a minibatch; building and writing them
 *       costs little next to fitting them;</li>
 *   <li>the epoch is fitted in rounds of {@code workers x averaging_frequency} minibatches, one
 *       {@code fitPaths} call each: the training master broadcasts the parameters and Adam state, each worker
 *       fits {@code averaging_frequency} minibatches from them, and parameters and updater state are averaged
 *       ({@code treeAggregate}). One call per round because, given more, dl4j-spark makes fewer, larger
 *       rounds in which workers skip whatever exceeds {@code averaging_frequency} minibatches;</li>
 *   <li>the epoch's training loss (mean over its minibatches, through accumulators), examples/s and an
 *       estimate of the time left are logged; optionally every output's validation accuracy too;</li>
 *   <li>a checkpoint (network + updater state + epoch + history) is written atomically; {@code resume}
 *       continues after the newest one if it was written with the same settings.</li>
 * </ol>
 *
 * The final model is written atomically to {@code output} ({@link TrainedModels}). Training statistics of
 * dl4j-spark stay off (they query an NTP server and cost time); speculation must be off, since a speculative
 * copy of a training task would be averaged in twice. Runs are reproducible up to dropout, whose random
 * masks ND4J draws per executor thread without a per-task seed.
 */
public final class DistributedTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);

    private final SparkSession spark;
    private final JavaSparkContext jsc;

    public DistributedTrainer(SparkSession spark) {
        this.spark = spark;
        this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** What a run produced. */
    public record Result(String output, ModelMetadata metadata, TrainedModel model) {
    }

    /**
     * @param resume    continue from the newest checkpoint in {@code work_dir/checkpoints} (which must have been
     *                  written with the same settings); without one, start from scratch
     * @param overwrite replace an existing model at {@code output} and discard checkpoints of an earlier run
     */
    public Result train(TrainConfig cfg, boolean resume, boolean overwrite) {
        long start = System.nanoTime();
        String startedAt = Instant.now().toString();
        if (spark.sparkContext().getConf().getBoolean("spark.speculation", false)) {
            throw new MmsparkException(ExitCode.BAD_CONFIG, "spark.speculation is true: a speculative copy of a "
                    + "training task would be averaged in twice. Set spark.speculation=false for training");
        }
        FeatureTable table = FeatureTable.open(spark, cfg.features());
        FeatureTableMetadata tm = table.metadata();
        SampleModelDefinition def = cfg.definition();
        ModelSpec spec = cfg.modelParams().resolve(tm, cfg.features());
        BatchBuilder builder = spec.batchBuilder();
        int workers = cfg.workers() > 0 ? cfg.workers() : jsc.defaultParallelism();
        Optimisation opt = cfg.optimisation();
        Configuration hc = jsc.hadoopConfiguration();
        Map<String, Object> resumeKeys = cfg.resumeKeys(workers);

        Dataset<Row> train = null;
        Dataset<Row> validation = null;
        try (AtomicOutput out = AtomicOutput.begin(hc, cfg.output(), overwrite, "model")) {
            Checkpoints checkpoints = new Checkpoints(hc, cfg.checkpointDir(), cfg.checkpointKeep());
            // The best epoch so far (keep_best), kept on disk so a resumed run still knows it.
            Checkpoints best = new Checkpoints(hc, cfg.bestDir(), 1);
            Optional<Checkpoints.Checkpoint> latest = checkpoints.latest();
            ComputationGraph net;
            List<EpochStats> history = new ArrayList<>();
            double trainingSeconds = 0;
            int resumedFrom = 0;
            Checkpoints.State resumedState = null;
            if (resume && latest.isPresent()) {
                Checkpoints.Checkpoint c = latest.get();
                checkResumable(c, resumeKeys, tm.tableHash(), cfg.features());
                net = checkpoints.restore(c);
                TrainedModels.checkStructure(net, spec, opt, "checkpoint " + c.path());
                history.addAll(c.state().history());
                trainingSeconds = c.state().trainingSeconds();
                resumedFrom = c.state().epoch();
                resumedState = c.state();
                LOG.info("Resuming from checkpoint {} (epoch {} of {} done{})", c.path(), resumedFrom, cfg.epochs(),
                        c.state().round() > 0 ? ", and " + c.state().round() + " averaging rounds of epoch "
                                + (resumedFrom + 1) : "");
            } else {
                if (resume) {
                    LOG.warn("--resume: no checkpoint in {}; starting from scratch", cfg.checkpointDir());
                } else if (latest.isPresent()) {
                    if (!overwrite) {
                        throw new MmsparkException(ExitCode.OUTPUT_EXISTS, cfg.checkpointDir() + " holds checkpoints"
                                + " of an earlier run (newest " + latest.get().path() + "); pass --resume to continue"
                                + " it or --overwrite to start over");
                    }
                    LOG.warn("Discarding the checkpoints of an earlier run in {}", cfg.checkpointDir());
                    checkpoints.clear();
                }
                best.clear();
                net = new ComputationGraph(spec.graphConfiguration(opt));
                net.init();
                spec.initialise(net, table);
            }

            List<String> columns = builder.columns();
            train = labelled(table, "train", columns).persist(StorageLevel.MEMORY_AND_DISK());
            long examples = train.count();
            if (examples == 0) {
                throw new InputException("feature table " + cfg.features() + " has no labelled training rows (split "
                        + "'train' with label_index >= 0)");
            }
            float[] prior = classPrior(train, spec.classes().size());
            if (cfg.validateEachEpoch()) {
                validation = labelled(table, "validation", columns).persist(StorageLevel.MEMORY_AND_DISK());
                if (validation.count() == 0) {
                    LOG.warn("Feature table {} has no labelled validation rows; no validation", cfg.features());
                    validation.unpersist();
                    validation = null;
                }
            }
            int partitions = Math.max(workers, train.rdd().getNumPartitions());
            long perEpoch = examples < cfg.batchSizePerWorker() ? examples
                    : examples - examples % cfg.batchSizePerWorker();
            if (perEpoch < examples) {
                LOG.info("Each epoch fits {} of the {} training examples in minibatches of {}; the last {} of each "
                        + "epoch's shuffled order wait for the next epoch", perEpoch, examples,
                        cfg.batchSizePerWorker(), examples - perEpoch);
            }
            LOG.info("Training {} ({} parameters, {} outputs) on {} examples of {}: {} epochs, {} workers x {} "
                            + "examples per minibatch, averaging every {} minibatches, {} lr {}", def.name(),
                    TrainedModels.parameterCount(net), spec.outputs().size(), examples, cfg.features(), cfg.epochs(), workers,
                    cfg.batchSizePerWorker(), cfg.averagingFrequency(),
                    cfg.optimizer().name().toLowerCase(Locale.ROOT), cfg.learningRate());

            long sessionStart = System.nanoTime();
            int firstEpoch = resumedFrom + 1;
            // a model with a preliminary phase (TATE's teacher) runs its epochs first, in the same count
            int preliminary = spec.preliminaryEpochs(cfg.epochs());
            int epochs = preliminary + cfg.epochs();
            for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
                jsc.setJobGroup("mmspark-train", "epoch " + epoch + "/" + epochs, false);
                if (preliminary > 0 && epoch == preliminary + 1
                        && !(epoch == firstEpoch && resumedState != null && resumedState.round() > 0)) {
                    spec.startMainPhase(net);
                    LOG.info("epoch {}/{}: the {} preliminary epochs are done; main phase", epoch, epochs, preliminary);
                }
                BatchBuilder epochBuilder = preliminary > 0 ? spec.trainingBatchBuilder(epoch <= preliminary) : builder;
                long t0 = System.nanoTime();
                LossListener loss = new LossListener(jsc.sc().doubleAccumulator("loss, epoch " + epoch),
                        jsc.sc().longAccumulator("examples, epoch " + epoch));
                String files = cfg.exportDir() + String.format(Locale.ROOT, "/epoch-%06d", epoch);
                List<JavaRDD<Row>> shuffled = new ArrayList<>();
                List<String> paths = MinibatchFiles.write(jsc, minibatches(train, examples, epochBuilder,
                        cfg.batchSizePerWorker(), cfg.seed(), epoch, partitions, shuffled), files);
                shuffled.forEach(JavaRDD::unpersist);
                // A checkpoint taken inside this epoch: its rounds are done (the epoch's minibatches are the same
                // files again, a function of seed and epoch), so continue at the next round.
                int firstRound = 0;
                double carriedSeconds = 0;
                if (epoch == firstEpoch && resumedState != null && resumedState.round() > 0) {
                    firstRound = resumedState.round();
                    loss.carry(resumedState.partialLoss(), resumedState.partialExamples());
                    carriedSeconds = resumedState.partialSeconds();
                }
                // One fit per averaging round of workers x averaging_frequency minibatches: given more, dl4j-spark
                // makes fewer, larger rounds in which each worker still fits only averaging_frequency minibatches
                // and silently skips the rest of its share (a third of the data in DistributedTrainerTest).
                int round = workers * cfg.averagingFrequency();
                int rounds = (paths.size() + round - 1) / round;
                for (int r = firstRound; r < rounds; r++) {
                    List<String> part = paths.subList(r * round, Math.min(paths.size(), (r + 1) * round));
                    // A training master per round, seeded by (seed, epoch, round): which worker fits which
                    // minibatch is then the same whether the epoch ran through or resumed at this round.
                    ParameterAveragingTrainingMaster master = trainingMaster(cfg, workers, epoch, r);
                    master.setListeners(List.of(loss, new NativeMemory.Listener()));
                    SparkComputationGraph sparkNet = new SparkComputationGraph(jsc, net, master);
                    sparkNet.fitPaths(jsc.parallelize(part, Math.min(workers, part.size())),
                            new MinibatchFiles.Loader());
                    if (cfg.checkpointEveryRounds() > 0 && (r + 1) % cfg.checkpointEveryRounds() == 0
                            && r + 1 < rounds) {
                        double partSeconds = carriedSeconds + (System.nanoTime() - t0) / 1e9;
                        checkpoints.write(net, new Checkpoints.State(epoch - 1, resumeKeys, tm.tableHash(),
                                history, trainingSeconds, Instant.now().toString(), r + 1, loss.weightedLossSum(),
                                loss.examples(), partSeconds));
                        LOG.info("epoch {}/{}: checkpoint after averaging round {}/{}", epoch, epochs, r + 1,
                                rounds);
                    }
                }
                deleteQuietly(hc, files);
                net.getConfiguration().setEpochCount(epoch);
                double seconds = carriedSeconds + (System.nanoTime() - t0) / 1e9;
                trainingSeconds += seconds;
                if (loss.examples() != perEpoch) {
                    LOG.warn("Epoch {} fitted {} examples, expected {}", epoch, loss.examples(), perEpoch);
                }
                OutputAccuracy.Result acc = validation == null ? null
                        : evaluate(validation, new GraphPredictor(spec, net, prior));
                EpochStats stats = new EpochStats(epoch, loss.meanLoss(), loss.examples(), seconds,
                        loss.examples() / seconds, acc == null ? null : acc.accuracy(),
                        acc == null ? null : acc.outputAccuracy());
                history.add(stats);
                boolean improved = acc != null && epoch > preliminary
                        && (bestStats(history, preliminary, epoch) == stats);
                if (cfg.keepBest() && improved) {
                    best.write(net, new Checkpoints.State(epoch, resumeKeys, tm.tableHash(), history, trainingSeconds,
                            Instant.now().toString()));
                }
                if (cfg.checkpointEveryEpochs() > 0
                        && (epoch % cfg.checkpointEveryEpochs() == 0 || epoch == epochs)) {
                    checkpoints.write(net, new Checkpoints.State(epoch, resumeKeys, tm.tableHash(), history,
                            trainingSeconds, Instant.now().toString()));
                }
                double elapsed = (System.nanoTime() - sessionStart) / 1e9;
                double secondsPerEpoch = elapsed / (epoch - firstEpoch + 1);
                LOG.info("epoch {}/{}: loss {} | {} examples in {} ({} examples/s) | elapsed {}, ~{} left{}",
                        epoch, epochs, String.format(Locale.ROOT, "%.4f", stats.loss()), stats.examples(),
                        Durations.format(seconds), String.format(Locale.ROOT, "%.1f", stats.examplesPerSecond()),
                        Durations.format(elapsed), Durations.format(secondsPerEpoch * (epochs - epoch)),
                        acc == null ? "" : " | validation accuracy " + format(acc.accuracy()) + " ("
                                + acc.outputAccuracy().entrySet().stream()
                                .map(e -> e.getKey() + " " + format(e.getValue()))
                                .collect(Collectors.joining(", ")) + ")");
                EpochStats top = bestStats(history, preliminary, epoch);
                if (cfg.earlyStoppingPatience() > 0 && top != null
                        && epoch - top.epoch() >= cfg.earlyStoppingPatience() && epoch < epochs) {
                    LOG.info("Early stopping after epoch {}: no better validation accuracy than epoch {} ({}) for {} "
                            + "epochs", epoch, top.epoch(), format(top.validationAccuracy()), epoch - top.epoch());
                    break;
                }
            }
            EpochStats kept = history.isEmpty() ? null : history.get(history.size() - 1);
            if (cfg.keepBest()) {
                EpochStats top = bestStats(history, preliminary, Integer.MAX_VALUE);
                Optional<Checkpoints.Checkpoint> stored = best.latest();
                if (top != null && stored.isPresent() && stored.get().state().epoch() == top.epoch()
                        && top.epoch() != kept.epoch()) {
                    net = best.restore(stored.get());
                    LOG.info("Keeping epoch {} (validation accuracy {}) rather than the last epoch {} ({})",
                            top.epoch(), format(top.validationAccuracy()), kept.epoch(),
                            format(kept.validationAccuracy()));
                    kept = top;
                }
            }

            long trained = history.stream().mapToLong(EpochStats::examples).sum();
            ModelMetadata meta = new ModelMetadata(ModelMetadata.FORMAT, ModelMetadata.FORMAT_VERSION, def.name(),
                    def.reference(), spec.task().name().toLowerCase(Locale.ROOT), spec.classes(),
                    Json.MAPPER.valueToTree(spec), cfg.describe(workers), opt, Provenance.current().asMap(),
                    tableRef(table, spec, cfg.features()),
                    new ModelMetadata.Training(startedAt, Instant.now().toString(), (System.nanoTime() - start) / 1e9,
                            trainingSeconds, history.isEmpty() ? 0 : history.get(history.size() - 1).epoch(),
                            resumedFrom, workers, examples, trainingSeconds > 0 ? trained / trainingSeconds : 0,
                            TrainedModels.parameterCount(net)),
                    history, kept == null || kept.validationAccuracy() == null ? null : kept, prior);
            TrainedModels.write(out.fileSystem(), out.tempPath(), net, meta);
            out.commit();
            LOG.info("Model {} written to {} in {}", def.name(), cfg.output(),
                    Durations.format((System.nanoTime() - start) / 1e9));
            return new Result(cfg.output(), meta, new TrainedModel(cfg.output(), meta, spec, net));
        } finally {
            if (train != null) {
                train.unpersist();
            }
            if (validation != null) {
                validation.unpersist();
            }
            deleteQuietly(hc, cfg.exportDir());
            jsc.clearJobGroup();
        }
    }

    /**
     * The epoch with the highest validation accuracy among epochs {@code after + 1 .. upTo} (the earliest on
     * ties), or null without validation. {@code after}: the preliminary epochs, which are never selected.
     */
    static EpochStats bestStats(List<EpochStats> history, int upTo) {
        return bestStats(history, 0, upTo);
    }

    /** As {@link #bestStats(List, int)} among epochs {@code after + 1 .. upTo}. */
    static EpochStats bestStats(List<EpochStats> history, int after, int upTo) {
        EpochStats top = null;
        for (EpochStats s : history) {
            if (s.epoch() > after && s.epoch() <= upTo && s.validationAccuracy() != null
                    && (top == null || s.validationAccuracy() > top.validationAccuracy())) {
                top = s;
            }
        }
        return top;
    }

    /** Rows of a split that have a label, with only the given columns. */
    static Dataset<Row> labelled(FeatureTable table, String split, List<String> columns) {
        return table.split(split).where(functions.col(BatchBuilder.LABEL_INDEX).geq(0))
                .select(columns.stream().map(functions::col).toArray(Column[]::new));
    }

    private static float[] classPrior(Dataset<Row> train, int classes) {
        float[] prior = new float[classes];
        long total = 0;
        for (Row r : train.groupBy(BatchBuilder.LABEL_INDEX).count().collectAsList()) {
            prior[r.getInt(0)] = r.getLong(1);
            total += r.getLong(1);
        }
        for (int k = 0; k < classes; k++) {
            prior[k] /= total;
        }
        return prior;
    }

    private OutputAccuracy.Result evaluate(Dataset<Row> rows, GraphPredictor predictor) {
        Broadcast<GraphPredictor> bc = jsc.broadcast(predictor);
        try {
            return OutputAccuracy.evaluate(rows.javaRDD(), bc);
        } finally {
            bc.destroy();
        }
    }

    private static ParameterAveragingTrainingMaster trainingMaster(TrainConfig cfg, int workers, int epoch,
                                                                   int round) {
        return new ParameterAveragingTrainingMaster.Builder(workers, cfg.batchSizePerWorker())
                .batchSizePerWorker(cfg.batchSizePerWorker())
                .averagingFrequency(cfg.averagingFrequency())
                .workerPrefetchNumBatches(cfg.prefetchBatches())
                // Adam's moments are averaged with the parameters; without this every round restarts them
                .saveUpdater(true)
                .repartionData(Repartition.Always)
                .repartitionStrategy(RepartitionStrategy.Balanced)
                .collectTrainingStats(false)
                // which exported minibatch goes to which worker and round: a function of (seed, epoch)
                .rngSeed(mix((cfg.seed() * 31 + epoch) * 1_000_003L + round))
                .build();
    }

    /**
     * The epoch's minibatches, every one of exactly {@code batchSize} rows: rows ordered by a hash of
     * (seed, epoch, id) within {@code partitions} partitions and cut into minibatches where they lie; the
     * partitions' remainders are pooled in one task and cut the same way; the last {@code n mod batchSize}
     * rows of the epoch are left out (a different few each epoch). A table smaller than one minibatch gives
     * one minibatch of all its rows.
     *
     * <p>Why exact sizes: DL4J's Spark workers re-cut what they read to {@code batch_size_per_worker} with
     * {@code MultiDataSet.merge}, and in 1.0.0-M2.1 merging minibatches scrambles their {@code [n, 1]} label
     * masks (rows get other rows' values; {@code MinibatchTest} shows it). Minibatches of exactly that size are
     * passed through untouched.
     *
     * @param shuffled receives the epoch's shuffled rows (cached); unpersist it after training the epoch
     */
    static JavaRDD<MultiDataSet> minibatches(Dataset<Row> rows, long count, BatchBuilder builder, int batchSize,
                                             long seed, int epoch, int partitions, List<JavaRDD<Row>> shuffled) {
        long epochSeed = mix(seed * 1_000_003L + epoch);
        JavaRDD<Row> ordered = rows.javaRDD()
                .mapToPair(r -> new Tuple2<>(shuffleKey(epochSeed, r.getString(r.fieldIndex(BatchBuilder.ID))), r))
                .repartitionAndSortWithinPartitions(new HashPartitioner(partitions))
                .values()
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        shuffled.add(ordered);
        boolean keepPartial = count < batchSize;
        JavaRDD<MultiDataSet> full = ordered.mapPartitions(it -> batches(it, builder, batchSize, false));
        JavaRDD<MultiDataSet> pooled = ordered.mapPartitions(it -> remainder(it, batchSize))
                .coalesce(1)
                .mapPartitions(it -> batches(it, builder, batchSize, keepPartial));
        return full.union(pooled);
    }

    /** Minibatches of {@code batchSize} rows; a smaller last one only if {@code keepPartial}. */
    static Iterator<MultiDataSet> batches(Iterator<Row> rows, BatchBuilder builder, int batchSize,
                                          boolean keepPartial) {
        return new Iterator<>() {
            private List<Row> next = fill();

            private List<Row> fill() {
                List<Row> batch = new ArrayList<>(batchSize);
                while (rows.hasNext() && batch.size() < batchSize) {
                    batch.add(rows.next());
                }
                return batch.size() == batchSize || (keepPartial && !batch.isEmpty()) ? batch : null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public MultiDataSet next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                List<Row> batch = next;
                next = fill();
                return builder.build(batch, null, true);
            }
        };
    }

    /** The rows after the last complete minibatch of a partition ({@code count mod batchSize} of them). */
    static Iterator<Row> remainder(Iterator<Row> rows, int batchSize) {
        List<Row> tail = new ArrayList<>(batchSize);
        while (rows.hasNext()) {
            tail.add(rows.next());
            if (tail.size() == batchSize) {
                tail.clear();
            }
        }
        return tail.iterator();
    }

    static long shuffleKey(long epochSeed, String id) {
        long h = epochSeed;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return h;
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Fails unless the checkpoint was written with the same settings (see {@link TrainConfig#resumeKeys}) on the
     * same feature table, listing every difference.
     */
    static void checkResumable(Checkpoints.Checkpoint c, Map<String, Object> resumeKeys, String tableHash,
                               String tablePath) {
        Map<String, Object> now = normalised(resumeKeys);
        Map<String, Object> then = normalised(c.state().resumeKeys());
        List<String> diffs = new ArrayList<>();
        for (String key : now.keySet()) {
            Object a = then.get(key);
            Object b = now.get(key);
            if (Objects.equals(a, b)) {
                continue;
            }
            if (key.equals("train.model")) {
                diffs.addAll(jsonDiff(key, Json.tree(String.valueOf(a)), Json.tree(String.valueOf(b))));
            } else {
                diffs.add(key + " is " + a + " in the checkpoint and " + b + " now");
            }
        }
        if (!Objects.equals(c.state().tableHash(), tableHash)) {
            diffs.add("the feature table " + tablePath + " has content hash " + tableHash
                    + ", the checkpoint was trained on one with hash " + c.state().tableHash());
        }
        if (!diffs.isEmpty()) {
            throw new MmsparkException(ExitCode.BAD_CONFIG, "cannot resume from checkpoint " + c.path()
                    + ": it was written with other settings: " + String.join("; ", diffs)
                    + ". Resume with the settings it was written with, or start over with --overwrite");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalised(Map<String, Object> m) {
        return Json.read(Json.write(m), LinkedHashMap.class);
    }

    /** Differences between two JSON trees as "path is a in the checkpoint and b now". */
    private static List<String> jsonDiff(String path, JsonNode a, JsonNode b) {
        List<String> out = new ArrayList<>();
        if (a != null && b != null && a.isObject() && b.isObject()) {
            java.util.Set<String> keys = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                out.addAll(jsonDiff(path + "." + k, a.get(k), b.get(k)));
            }
        } else if (!Objects.equals(a, b)) {
            out.add(path + " is " + a + " in the checkpoint and " + b + " now");
        }
        return out;
    }

    private static ModelMetadata.TableRef tableRef(FeatureTable table, ModelSpec spec, String path) {
        FeatureTableMetadata tm = table.metadata();
        List<FeatureTableMetadata.Modality> used = spec.modalities().stream().map(tm::modality).toList();
        Map<String, String> vocab = new LinkedHashMap<>();
        for (FeatureTableMetadata.Modality m : used) {
            if (m.kind() == ModalityKind.TOKENS && m.vocabPath() != null) {
                vocab.put(m.name(), TrainedModels.vocabularyFingerprint(table, m.name()));
            }
        }
        return new ModelMetadata.TableRef(path, tm.tableHash(), tm.rows(), used, vocab);
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static void deleteQuietly(Configuration hc, String dir) {
        try {
            Path p = new Path(dir);
            p.getFileSystem(hc).delete(p, true);
        } catch (IOException e) {
            LOG.warn("Could not delete {}: {}", dir, e.getMessage());
        }
    }
}
