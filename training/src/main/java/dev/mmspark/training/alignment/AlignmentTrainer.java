package dev.mmspark.training.alignment;

import dev.mmspark.training.NativeMemory;

import dev.mmspark.common.spark.Durations;
import dev.mmspark.features.kg.KgTensors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Parameter averaging for entity alignment on Spark. The graph tensors are broadcast once; each epoch the
 * training pairs are shuffled and cut into one contiguous share per worker; in every round each worker starts
 * from the broadcast parameters and AdamW moments, trains {@code averaging_frequency} minibatches of its share
 * against the full graph, and the resulting parameters and moments are averaged with {@code treeAggregate}
 * (DL4J's ParameterAveragingTrainingMaster does the same with its updater state). After each epoch the driver
 * logs progress, optionally validates on held-out training pairs and runs a self-training search, and writes a
 * checkpoint.
 */
public final class AlignmentTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(AlignmentTrainer.class);

    private final JavaSparkContext jsc;
    private final Broadcast<AlignmentData> data;
    private final AlignmentData local;
    private final AlignmentSpec spec;
    private final AlignmentTrainConfig cfg;
    private final int workers;
    private final KgTensors.Pairs validation;
    private AlignmentNetwork driverNet;

    /**
     * @param validation held-out training pairs to validate on (empty for none)
     */
    public AlignmentTrainer(JavaSparkContext jsc, AlignmentData data, AlignmentSpec spec, AlignmentTrainConfig cfg,
                            int workers, KgTensors.Pairs validation) {
        this.jsc = jsc;
        this.local = data;
        this.data = jsc.broadcast(data);
        this.spec = spec;
        this.cfg = cfg;
        this.workers = workers;
        this.validation = validation;
    }

    /** The model on the driver (validation, self-training, final embeddings). */
    public AlignmentNetwork driverNetwork() {
        if (driverNet == null) {
            driverNet = new AlignmentNetwork(local, spec, DataType.FLOAT);
        }
        return driverNet;
    }

    /** Releases the broadcast graph tensors. */
    public void close() {
        data.destroy();
    }

    /** Trains the epochs after {@code progress.epochs()}, checkpointing each into {@code dir}. */
    public ModelDirectory.Checkpoint train(AdamW.State state, TrainingProgress progress, ModelDirectory dir) {
        SelfTraining selfTraining = new SelfTraining(cfg.selfTraining().confirm());
        selfTraining.restore(decode(progress.streaks()));
        long runStart = System.nanoTime();
        int firstEpoch = progress.epochs() + 1;
        for (int epoch = firstEpoch; epoch <= cfg.epochs(); epoch++) {
            long t0 = System.nanoTime();
            int[] left = progress.trainLeft();
            int[] right = progress.trainRight();
            int[][][] plan = plan(left.length, epoch);
            int maxBatches = 0;
            for (int[][] share : plan) {
                maxBatches = Math.max(maxBatches, share.length);
            }
            long totalSteps = (long) cfg.epochs() * maxBatches;
            boolean selfTrainingOn = cfg.selfTraining().enabled() && epoch >= cfg.selfTraining().start(cfg.epochs());
            double lrFactor = selfTrainingOn ? cfg.selfTraining().lrFactor() : 1.0;
            int rounds = (maxBatches + cfg.averagingFrequency() - 1) / cfg.averagingFrequency();
            double lossSum = 0;
            long lossSteps = 0;
            long pairs = 0;
            for (int round = 0; round < rounds; round++) {
                List<WorkerTask> tasks = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    int from = round * cfg.averagingFrequency();
                    int to = Math.min(plan[w].length, from + cfg.averagingFrequency());
                    List<int[]> bl = new ArrayList<>();
                    List<int[]> br = new ArrayList<>();
                    for (int b = from; b < to; b++) {
                        bl.add(select(left, plan[w][b]));
                        br.add(select(right, plan[w][b]));
                    }
                    tasks.add(new WorkerTask(w, epoch, round, bl.toArray(new int[0][]), br.toArray(new int[0][]),
                            state.step, totalSteps, lrFactor));
                }
                RoundResult r = round(state, tasks);
                lossSum += r.lossSum;
                lossSteps += r.steps;
                pairs += r.pairs;
                state = r.average(state);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double lossMean = lossSum / Math.max(1, lossSteps);
            double lr = cfg.optimizer().learningRate(Math.max(0, state.step - 1), totalSteps) * lrFactor;

            Map<String, Double> val = null;
            if (validation.size() > 1 && (epoch % cfg.validateEvery() == 0 || epoch == cfg.epochs())) {
                val = validate(state.params);
            }
            Map<String, Integer> stStats = null;
            int added = progress.addedPairs();
            if (selfTrainingOn && (epoch - cfg.selfTraining().start(cfg.epochs())) % cfg.selfTraining().every() == 0) {
                SelfTraining.Outcome o = selfTrain(selfTraining, state.params, left, right);
                if (o.addedLeft().length > 0) {
                    left = concat(left, o.addedLeft());
                    right = concat(right, o.addedRight());
                    added += o.addedLeft().length;
                }
                stStats = Map.of("candidates", o.candidates(), "added", o.addedLeft().length, "total_added", added);
            }
            TrainingProgress.EpochStats stats = new TrainingProgress.EpochStats(epoch, lossMean,
                    maxBatches, rounds, pairs, seconds, pairs / seconds, lr, val, stStats);
            progress = progress.next(stats, left, right, added, encode(selfTraining.streaks()), seconds);
            if (!state.params.finite()) {
                throw new IllegalStateException("training diverged at epoch " + epoch + ": a parameter is not finite"
                        + " (mean loss " + lossMean + "); lower train.learning_rate");
            }
            dir.checkpoint(state, progress, cfg.checkpointKeep());
            logEpoch(stats, epoch, firstEpoch, runStart);
        }
        return new ModelDirectory.Checkpoint(progress.epochs(), state, progress);
    }

    private void logEpoch(TrainingProgress.EpochStats s, int epoch, int firstEpoch, long runStart) {
        double elapsed = (System.nanoTime() - runStart) / 1e9;
        double eta = elapsed / (epoch - firstEpoch + 1) * (cfg.epochs() - epoch);
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "epoch %d/%d: loss %.4f | %d pairs in %s (%.0f pairs/s, %d steps, %d rounds) | elapsed %s, ETA %s | lr %.2e",
                epoch, cfg.epochs(), s.loss(), s.pairs(), Durations.format(s.seconds()), s.pairsPerSecond(), s.steps(),
                s.rounds(), Durations.format(elapsed), Durations.format(eta), s.learningRate()));
        if (s.validation() != null) {
            b.append(String.format(Locale.ROOT, " | validation H@1 %.4f H@10 %.4f MRR %.4f (cosine, l2r; CSLS H@1 %.4f)",
                    s.validation().get("cos_hits_at_1_l2r"), s.validation().get("cos_hits_at_10_l2r"),
                    s.validation().get("cos_mrr_l2r"), s.validation().get("csls_hits_at_1_l2r")));
        }
        if (s.selfTraining() != null) {
            b.append(" | self-training: ").append(s.selfTraining());
        }
        LOG.info("{}", b);
    }

    /** For each worker, its minibatches as positions into the training pairs (a seeded shuffle per epoch). */
    int[][][] plan(int pairs, int epoch) {
        int[] perm = new int[pairs];
        for (int i = 0; i < pairs; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(mix(cfg.seed(), 0x5eedL, epoch));
        for (int i = pairs - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int batch = cfg.optimizer().batchSize();
        int[][][] out = new int[workers][][];
        for (int w = 0; w < workers; w++) {
            int from = (int) ((long) pairs * w / workers);
            int to = (int) ((long) pairs * (w + 1) / workers);
            int n = to - from;
            int count = Math.max(n == 0 ? 0 : 1, (n + batch - 1) / batch);
            // a last batch of one pair has no negatives: fold it into the previous one
            if (count > 1 && n - (count - 1) * batch < 2) {
                count--;
            }
            out[w] = new int[count][];
            for (int b = 0; b < count; b++) {
                int s = from + b * batch;
                int e = b == count - 1 ? to : s + batch;
                out[w][b] = Arrays.copyOfRange(perm, s, e);
            }
            if (count == 1 && n < 2) {
                out[w] = new int[0][];
            }
        }
        return out;
    }

    private static int[] select(int[] values, int[] positions) {
        int[] out = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            out[i] = values[positions[i]];
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static long mix(long seed, long a, long b) {
        long h = seed * 0x9E3779B97F4A7C15L + a;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + b;
        return h ^ (h >>> 29);
    }

    // ------------------------------------------------------------------ one averaging round

    /** One worker's part of a round: its minibatches (entity indices) and where they sit in the schedule. */
    record WorkerTask(int worker, int epoch, int round, int[][] left, int[][] right, long firstStep, long totalSteps,
                      double lrFactor) implements Serializable {
    }

    /** Summed worker states and statistics; {@link #EMPTY} is the treeAggregate zero. */
    static final class RoundResult implements Serializable {
        static final RoundResult EMPTY = new RoundResult(null, 0, 0, 0, 0, 0);
        AdamW.State sum;
        double lossSum;
        long steps;
        long maxSteps;
        long pairs;
        int contributors;

        RoundResult(AdamW.State sum, double lossSum, long steps, long maxSteps, long pairs, int contributors) {
            this.sum = sum;
            this.lossSum = lossSum;
            this.steps = steps;
            this.maxSteps = maxSteps;
            this.pairs = pairs;
            this.contributors = contributors;
        }

        static RoundResult add(RoundResult a, RoundResult b) {
            if (a.contributors == 0) {
                return b;
            }
            if (b.contributors == 0) {
                return a;
            }
            a.sum.params.addInPlace(b.sum.params);
            a.sum.m.addInPlace(b.sum.m);
            a.sum.v.addInPlace(b.sum.v);
            a.lossSum += b.lossSum;
            a.steps += b.steps;
            a.maxSteps = Math.max(a.maxSteps, b.maxSteps);
            a.pairs += b.pairs;
            a.contributors += b.contributors;
            return a;
        }

        /** The averaged state; the step count advances by the longest worker's steps. */
        AdamW.State average(AdamW.State before) {
            if (contributors == 0) {
                return before;
            }
            double f = 1.0 / contributors;
            sum.params.scaleInPlace(f);
            sum.m.scaleInPlace(f);
            sum.v.scaleInPlace(f);
            return new AdamW.State(sum.params, sum.m, sum.v, before.step + maxSteps);
        }
    }

    private RoundResult round(AdamW.State state, List<WorkerTask> tasks) {
        Broadcast<AdamW.State> bc = jsc.broadcast(state);
        Broadcast<AlignmentData> d = data;
        AlignmentSpec s = spec;
        OptimizerSpec opt = cfg.optimizer();
        long seed = cfg.seed();
        try {
            return jsc.parallelize(tasks, tasks.size())
                    .map(t -> Worker.run(t, d, bc, s, opt, seed))
                    .treeAggregate(RoundResult.EMPTY, RoundResult::add, RoundResult::add);
        } finally {
            bc.destroy();
        }
    }

    /** What runs in a Spark task: local AdamW steps from the broadcast state. */
    static final class Worker {
        private static final Object LOCK = new Object();
        private static Object cacheKey;
        private static final ArrayDeque<AlignmentNetwork> POOL = new ArrayDeque<>();

        private Worker() {
        }

        static RoundResult run(WorkerTask t, Broadcast<AlignmentData> data, Broadcast<AdamW.State> round,
                               AlignmentSpec spec, OptimizerSpec opt, long seed) {
            if (t.left().length == 0) {
                return new RoundResult(null, 0, 0, 0, 0, 0);
            }
            AlignmentNetwork net = borrow(data, spec);
            try {
                // the broadcast value may be shared with the driver and other tasks of this JVM: copy it
                AdamW.State st = round.value().copy();
                double loss = 0;
                long pairs = 0;
                for (int i = 0; i < t.left().length; i++) {
                    SplittableRandom rng = new SplittableRandom(mix(seed, t.epoch() * 1_000_003L + t.worker(),
                            t.round() * 100_003L + i));
                    AlignmentNetwork.Step s = net.step(st.params, t.left()[i], t.right()[i], rng);
                    if (opt.gradClip() > 0) {
                        AdamW.clip(s.gradients(), opt.gradClip());
                    }
                    double lr = opt.learningRate(t.firstStep() + i, t.totalSteps()) * t.lrFactor();
                    AdamW.step(st, s.gradients(), lr, opt.weightDecay());
                    net.clearGradients();
                    loss += s.loss();
                    pairs += t.left()[i].length;
                    releaseNativeMemory();
                }
                return new RoundResult(st, loss, t.left().length, t.left().length, pairs, 1);
            } finally {
                release(net);
            }
        }

        /**
         * A MEAformer step over a DBP15K-sized graph allocates gigabytes off-heap (≈6-8 GB resident per worker
         * without this); a step takes a second or more, a GC of the small heap milliseconds: see {@link NativeMemory}.
         */
        private static void releaseNativeMemory() {
            NativeMemory.release();
        }

        /** A network for this broadcast and spec: one per concurrent task, kept for the next rounds. */
        private static AlignmentNetwork borrow(Broadcast<AlignmentData> data, AlignmentSpec spec) {
            Object key = List.of(data.id(), spec);
            synchronized (LOCK) {
                if (!key.equals(cacheKey)) {
                    POOL.clear();
                    cacheKey = key;
                }
                AlignmentNetwork n = POOL.poll();
                if (n != null) {
                    return n;
                }
            }
            return new AlignmentNetwork(data.value(), spec, DataType.FLOAT);
        }

        private static void release(AlignmentNetwork n) {
            synchronized (LOCK) {
                if (POOL.size() < 8) {
                    POOL.push(n);
                }
            }
        }
    }

    // ------------------------------------------------------------------ validation and self-training

    private Map<String, Double> validate(ParamSet params) {
        int n = validation.size();
        int[] entities = concat(validation.left(), validation.right());
        float[] emb = driverNetwork().embed(params, entities);
        int dim = emb.length / entities.length;
        float[] l = Arrays.copyOfRange(emb, 0, n * dim);
        float[] r = Arrays.copyOfRange(emb, n * dim, 2 * n * dim);
        return RankingMetrics.compute(l, r, n, dim, 3);
    }

    private SelfTraining.Outcome selfTrain(SelfTraining st, ParamSet params, int[] trainLeft, int[] trainRight) {
        KgTensors t = local.tensors();
        Set<Integer> used = new HashSet<>();
        for (int e : trainLeft) {
            used.add(e);
        }
        for (int e : trainRight) {
            used.add(e);
        }
        // validation entities stay out of the pools, so that self-training cannot learn the validation pairs
        for (int e : validation.left()) {
            used.add(e);
        }
        for (int e : validation.right()) {
            used.add(e);
        }
        int[] left = java.util.stream.IntStream.range(0, t.entities1()).filter(e -> !used.contains(e)).toArray();
        int[] right = java.util.stream.IntStream.range(t.entities1(), t.entityCount()).filter(e -> !used.contains(e))
                .toArray();
        float[] emb = driverNetwork().embed(params, concat(left, right));
        int dim = emb.length / Math.max(1, left.length + right.length);
        return st.search(left, Arrays.copyOfRange(emb, 0, left.length * dim), right,
                Arrays.copyOfRange(emb, left.length * dim, emb.length), dim);
    }

    private static Map<String, Integer> encode(Map<Long, Integer> streaks) {
        Map<String, Integer> out = new LinkedHashMap<>();
        streaks.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.put((e.getKey() >>> 32) + ":" + (int) (long) e.getKey(), e.getValue()));
        return out;
    }

    private static Map<Long, Integer> decode(Map<String, Integer> streaks) {
        Map<Long, Integer> out = new HashMap<>();
        if (streaks != null) {
            streaks.forEach((k, v) -> {
                String[] p = k.split(":");
                out.put((Long.parseLong(p[0]) << 32) | (Integer.parseInt(p[1]) & 0xffffffffL), v);
            });
        }
        return out;
    }
}
