package dev.mmspark.evaluation.sweep;

import dev.mmspark.common.Provenance;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.common.spark.Durations;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.ResultRow;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.evaluation.samples.SampleEvaluation;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.TrainConfig;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a {@link SweepSpec}: expands it into runs with stable ids, skips the runs whose rows are already
 * committed to the leaderboard, trains and evaluates the rest (small runs side by side, one training
 * worker each, so each model is one Spark task at a time; large runs one after another with parameter
 * averaging over all workers), and appends each run's rows in one commit. A failed run is recorded in the
 * table ({@code metric_set = 'failed'}, the error in {@code details}) and does not stop the sweep; a rerun
 * retries it.
 */
public final class Sweep {
    private static final Logger LOG = LoggerFactory.getLogger(Sweep.class);

    /** The {@code metric_set} of the row that records a failed run. */
    public static final String FAILED = "failed";

    private Sweep() {
    }

    /** One expanded run. */
    public record PlannedRun(int index, String runId, SweepSpec.Combination combination, String features,
                             String tableHash, long trainRows, SweepSpec.Execution mode, int workers,
                             TrainConfig train, EvaluateConfig evaluate) {
        public String label() {
            return combination.label() + " on " + features;
        }
    }

    /** What happened to one run in this invocation. */
    public record Outcome(PlannedRun run, Status status, int rows, double seconds, String error) {
    }

    public enum Status { DONE, SKIPPED, FAILED, NOT_STARTED }

    /** Everything a sweep invocation did. */
    public record Result(List<PlannedRun> plan, List<Outcome> outcomes, double seconds) {
        public long count(Status s) {
            return outcomes.stream().filter(o -> o.status() == s).count();
        }

        public long rowsAppended() {
            return outcomes.stream().mapToLong(Outcome::rows).sum();
        }
    }

    /**
     * The runs of a sweep, in a stable order, each with its id: a hash of its resolved training settings,
     * the feature table's content hash, the code version and the seed (the same id as the rows the
     * evaluation writes, {@link SampleEvaluation#runId}).
     */
    public static List<PlannedRun> plan(SparkSession spark, SweepSpec spec) {
        int defaultWorkers = spark.sparkContext().defaultParallelism();
        String code = Provenance.current().codeVersion();
        List<PlannedRun> out = new ArrayList<>();
        for (String features : spec.features()) {
            FeatureTableMetadata meta = FeatureTable.readMetadata(spark, features);
            long trainRows = meta.rows() == null ? 0 : meta.rows().getOrDefault("train", 0L);
            SweepSpec.Execution mode = spec.execution() != SweepSpec.Execution.AUTO ? spec.execution()
                    : trainRows <= spec.smallRunMaxRows() ? SweepSpec.Execution.PARALLEL
                    : SweepSpec.Execution.DISTRIBUTED;
            for (SweepSpec.Combination combo : spec.combinations()) {
                int workers = 1;
                if (mode == SweepSpec.Execution.DISTRIBUTED) {
                    int base = spec.trainBase().hasPath("workers") ? spec.trainBase().getInt("workers") : 0;
                    workers = base > 0 ? base : defaultWorkers;
                }
                SweepSpec.Resolved probe = spec.resolve(combo, features, spec.output() + "/pending", workers);
                String id = SampleEvaluation.runId(probe.train().describe(workers), meta.tableHash(), code);
                SweepSpec.Resolved r = spec.resolve(combo, features, spec.output() + "/" + id, workers);
                out.add(new PlannedRun(out.size(), id, combo, features, meta.tableHash(), trainRows, mode, workers,
                        r.train(), r.evaluate()));
            }
        }
        return out;
    }

    /** Run ids with committed result rows (a failed-run record does not count: a rerun retries it). */
    public static Set<String> committedRuns(Leaderboard lb) {
        lb.ensureTable();
        Set<String> ids = new HashSet<>();
        for (Row r : lb.spark().sql("SELECT DISTINCT run_id FROM " + lb.tableName() + " WHERE metric_set <> '"
                + FAILED + "'").collectAsList()) {
            ids.add(r.getString(0));
        }
        return ids;
    }

    /**
     * Runs what is missing of a sweep.
     *
     * @param maxRuns at most this many runs are started in this invocation (the rest stay for the next);
     *                0 means no limit
     */
    public static Result run(SparkSession spark, SweepSpec spec, Leaderboard lb, int maxRuns) {
        long t0 = System.nanoTime();
        List<PlannedRun> plan = plan(spark, spec);
        Set<String> done = committedRuns(lb);
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        List<PlannedRun> parallel = new ArrayList<>();
        List<PlannedRun> distributed = new ArrayList<>();
        int started = 0;
        for (PlannedRun r : plan) {
            if (done.contains(r.runId())) {
                outcomes.add(new Outcome(r, Status.SKIPPED, 0, 0, null));
            } else if (maxRuns > 0 && started >= maxRuns) {
                outcomes.add(new Outcome(r, Status.NOT_STARTED, 0, 0, null));
            } else {
                started++;
                (r.mode() == SweepSpec.Execution.DISTRIBUTED ? distributed : parallel).add(r);
            }
        }
        Progress progress = new Progress(spec.name(), plan.size(), started, outcomes.size(),
                distributed.isEmpty() ? spec.parallelRuns() : 1);
        long committed = outcomes.stream().filter(o -> o.status() == Status.SKIPPED).count();
        LOG.info("Sweep {}: {} runs, {} already committed, {} to run now ({} small, up to {} at a time; {} "
                        + "distributed){}", spec.name(), plan.size(), committed, started, parallel.size(),
                spec.parallelRuns(), distributed.size(),
                outcomes.size() > committed ? "; " + (outcomes.size() - committed) + " left for later (--max-runs "
                        + maxRuns + ")" : "");
        if (!parallel.isEmpty()) {
            ExecutorService pool = Executors.newFixedThreadPool(Math.min(spec.parallelRuns(), parallel.size()), r -> {
                Thread t = new Thread(r, "sweep-" + spec.name());
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<Outcome>> futures = new ArrayList<>();
                for (PlannedRun r : parallel) {
                    futures.add(pool.submit(() -> execute(spark, spec, lb, r, progress)));
                }
                for (Future<Outcome> f : futures) {
                    outcomes.add(f.get());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("sweep " + spec.name() + " interrupted", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("sweep " + spec.name() + ": a run escaped its error handling",
                        e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
        for (PlannedRun r : distributed) {
            outcomes.add(execute(spark, spec, lb, r, progress));
        }
        List<Outcome> ordered = new ArrayList<>(outcomes);
        ordered.sort(java.util.Comparator.comparingInt(o -> o.run().index()));
        return new Result(plan, ordered, (System.nanoTime() - t0) / 1e9);
    }

    private static Outcome execute(SparkSession spark, SweepSpec spec, Leaderboard lb, PlannedRun r,
                                   Progress progress) {
        long t0 = System.nanoTime();
        Outcome outcome;
        try {
            LOG.info("Sweep {}: run {} {} ({}, {} worker(s))", spec.name(), r.runId(), r.label(),
                    r.mode().name().toLowerCase(), r.workers());
            if (!modelExists(spark, r.train().output())) {
                // resume: a run killed half-way continues from its last checkpoint (same id, same settings)
                new DistributedTrainer(spark).train(r.train(), true, false);
            } else {
                LOG.info("Sweep {}: run {} was trained before it was interrupted; evaluating the saved model",
                        spec.name(), r.runId());
            }
            SampleEvaluation.Result ev = SampleEvaluation.evaluate(spark, r.evaluate());
            if (!ev.runId().equals(r.runId())) {
                throw new IllegalStateException("run id " + ev.runId() + " of the trained model differs from the "
                        + "planned " + r.runId() + "; the sweep could not recognise this run on a rerun");
            }
            lb.append(ev.rows());
            outcome = new Outcome(r, Status.DONE, ev.rows().size(), (System.nanoTime() - t0) / 1e9, null);
        } catch (RuntimeException | Error e) {
            LOG.error("Sweep " + spec.name() + ": run " + r.runId() + " (" + r.label() + ") failed", e);
            String error = e.getClass().getSimpleName() + ": " + e.getMessage();
            int rows = 0;
            try {
                lb.append(List.of(failureRow(spark, spec, r, error)));
                rows = 1;
            } catch (RuntimeException e2) {
                LOG.error("Sweep {}: could not record the failure of run {}: {}", spec.name(), r.runId(), e2.toString());
            }
            outcome = new Outcome(r, Status.FAILED, rows, (System.nanoTime() - t0) / 1e9, error);
        }
        progress.finished(outcome);
        return outcome;
    }

    private static boolean modelExists(SparkSession spark, String dir) {
        try {
            Path p = new Path(dir, "metadata.json");
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            return fs.exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ResultRow failureRow(SparkSession spark, SweepSpec spec, PlannedRun r, String error) {
        Provenance p = Provenance.current();
        String config = dev.mmspark.common.RunIds.canonicalJson(r.train().describe(r.workers()));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("error", error);
        details.put("label", r.label());
        String dataset = r.evaluate().dataset();
        if (dataset == null) {
            dataset = SampleEvaluation.datasetName(FeatureTable.readMetadata(spark, r.features()));
        }
        return new ResultRow(r.runId(), spec.name(), r.combination().model(), r.combination().fusion(), dataset,
                r.features(), r.tableHash(), r.evaluate().split(), r.combination().seed(),
                ContentHash.ofString(config).substring(0, 16), config, "natural", "none", 0, null, FAILED, 0,
                Map.of(), Json.write(details), r.train().output(), 0, 0, 0, p.codeVersion(), p.sparkVersion(),
                p.dl4jVersion() + " (" + p.nd4jBackend() + ")", null, Timestamp.from(Instant.now()));
    }

    /** Runs done / failed / left and the estimated time left, logged after every run. */
    private static final class Progress {
        private final String sweep;
        private final int total;
        private final int toRun;
        private final long skipped;
        private final long start = System.nanoTime();
        private final int parallelism;
        private int done;
        private int failed;
        private double runSeconds;

        Progress(String sweep, int total, int toRun, long alreadyDecided, int parallelism) {
            this.parallelism = parallelism;
            this.sweep = sweep;
            this.total = total;
            this.toRun = toRun;
            this.skipped = alreadyDecided;
        }

        synchronized void finished(Outcome o) {
            if (o.status() == Status.DONE) {
                done++;
            } else {
                failed++;
            }
            int finished = done + failed;
            int left = toRun - finished;
            double elapsed = (System.nanoTime() - start) / 1e9;
            runSeconds += o.seconds();
            // runs go `parallelism` at a time: the time left is the mean run time x the runs left / parallelism
            double eta = finished == 0 ? 0 : runSeconds / finished * left / Math.max(1, Math.min(parallelism, left));
            LOG.info("Sweep {}: {} done, {} failed, {} left of {} to run ({} of {} runs were already committed or "
                            + "deferred) | elapsed {}, ~{} left | last: {} {} in {}", sweep, done, failed, left, toRun,
                    skipped, total, Durations.format(elapsed), Durations.format(eta), o.run().runId(),
                    o.status().name().toLowerCase(), Durations.format(o.seconds()));
        }
    }
}
