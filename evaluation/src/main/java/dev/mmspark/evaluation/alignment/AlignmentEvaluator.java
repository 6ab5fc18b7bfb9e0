package dev.mmspark.evaluation.alignment;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Hits@k / MRR of entity alignment computed on the executors, blockwise, so that neither the n × n similarity
 * matrix nor either embedding set has to fit one machine.
 *
 * <p>Design. The n test pairs are numbered 0..n−1 (pair p = (left p, right p)); both sides are cut into row
 * blocks of {@code blockSize} pairs (normalised float32 rows). Every Spark task of a pass takes one (left
 * block, right block) of the cartesian product of the two block RDDs and computes its similarity tile: memory
 * per task is two blocks and one blockSize² tile, whatever n is. Three passes:
 * <ol>
 *   <li>the true pairs' cosines (left block b joined with right block b): n doubles to the driver;</li>
 *   <li>for CSLS, each tile's k largest similarities per row and per column, merged per block with
 *       reduceByKey, give r_L and r_R (n doubles each);</li>
 *   <li>with those three vectors broadcast (O(n), not O(n·d) or O(n²)), each tile counts, per row and per column,
 *       the candidates scoring strictly higher than the true counterpart, cosine and CSLS at once;
 *       reduceByKey sums the counts per block: rank = 1 + count.</li>
 * </ol>
 * Tiles are BLAS products; comparisons within {@link ExactSimilarity#margin} of a threshold, and the top-k
 * candidates, are settled with the exact kernel, so the ranks (ties included) equal those of
 * {@link ReferenceAlignmentMetrics} exactly.
 */
public final class AlignmentEvaluator {
    private static final Logger LOG = LoggerFactory.getLogger(AlignmentEvaluator.class);

    /**
     * @param blockSize pairs per block (a task's tile is blockSize²)
     * @param cslsK     neighbours of CSLS (MCLEA, MEAformer: 3)
     */
    public record Settings(int blockSize, int cslsK) implements Serializable {
        public Settings {
            if (blockSize < 1 || cslsK < 1) {
                throw new IllegalArgumentException("block size and CSLS k must be positive: " + blockSize + ", " + cslsK);
            }
        }
    }

    /** Rows [start, start + size) of one side, L2-normalised, row-major. */
    record Block(int id, int start, int size, int dim, float[] rows) implements Serializable {
        static Block of(int id, Iterable<Tuple2<Integer, float[]>> members, int blockSize, int dim, int n) {
            int start = id * blockSize;
            int size = Math.min(blockSize, n - start);
            float[] raw = new float[size * dim];
            boolean[] seen = new boolean[size];
            for (Tuple2<Integer, float[]> m : members) {
                int r = m._1() - start;
                if (seen[r]) {
                    throw new IllegalArgumentException("pair " + m._1() + " has two embeddings on one side");
                }
                if (m._2().length != dim) {
                    throw new IllegalArgumentException("pair " + m._1() + ": embedding of " + m._2().length
                            + " values, expected " + dim);
                }
                seen[r] = true;
                System.arraycopy(m._2(), 0, raw, r * dim, dim);
            }
            for (int r = 0; r < size; r++) {
                if (!seen[r]) {
                    throw new IllegalArgumentException("pair " + (start + r) + " has no embedding on one side");
                }
            }
            return new Block(id, start, size, dim, ExactSimilarity.normalise(raw, size, dim));
        }
    }

    private AlignmentEvaluator() {
    }

    /**
     * @param left  (pair number, left embedding) for every pair 0..n−1
     * @param right (pair number, right embedding)
     * @return {cosine, csls} metrics
     */
    public static AlignmentMetrics[] evaluate(JavaSparkContext jsc, JavaPairRDD<Integer, float[]> left,
                                              JavaPairRDD<Integer, float[]> right, int n, int dim, Settings s) {
        if (n < 1) {
            throw new IllegalArgumentException("no pairs to evaluate");
        }
        long t0 = System.nanoTime();
        int blocks = (n + s.blockSize() - 1) / s.blockSize();
        JavaPairRDD<Integer, Block> lb = blocks(left, s.blockSize(), dim, n, blocks);
        JavaPairRDD<Integer, Block> rb = blocks(right, s.blockSize(), dim, n, blocks);
        try {
            double[] truth = trueCosines(lb, rb, n);
            double[][] means = neighbourhoodMeans(lb, rb, n, blocks, s.blockSize(), Math.min(s.cslsK(), n));
            int[][] counts = counts(jsc, lb, rb, n, blocks, s.blockSize(), truth, means[0], means[1]);
            int[] cosL = new int[n];
            int[] cosR = new int[n];
            int[] cslsL = new int[n];
            int[] cslsR = new int[n];
            for (int p = 0; p < n; p++) {
                cosL[p] = 1 + counts[0][2 * p];
                cslsL[p] = 1 + counts[0][2 * p + 1];
                cosR[p] = 1 + counts[1][2 * p];
                cslsR[p] = 1 + counts[1][2 * p + 1];
            }
            LOG.info("Evaluated {} pairs ({} blocks of {}, {} tiles per pass) in {} s", n, blocks, s.blockSize(),
                    (long) blocks * blocks, String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
            return new AlignmentMetrics[]{AlignmentMetrics.of("cosine", cosL, cosR),
                    AlignmentMetrics.of("csls", cslsL, cslsR)};
        } finally {
            lb.unpersist(false);
            rb.unpersist(false);
        }
    }

    private static JavaPairRDD<Integer, Block> blocks(JavaPairRDD<Integer, float[]> rows, int blockSize, int dim, int n,
                                                      int blocks) {
        return rows.mapToPair(t -> {
                    if (t._1() < 0 || t._1() >= n) {
                        throw new IllegalArgumentException("pair number " + t._1() + " outside 0.." + (n - 1));
                    }
                    return new Tuple2<>(t._1() / blockSize, t);
                })
                .groupByKey(blocks)
                .mapToPair(g -> new Tuple2<>(g._1(), Block.of(g._1(), g._2(), blockSize, dim, n)))
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
    }

    /** Pass 1: cos(left p, right p) for every pair, from the matching blocks. */
    private static double[] trueCosines(JavaPairRDD<Integer, Block> lb, JavaPairRDD<Integer, Block> rb, int n) {
        List<Tuple2<Integer, double[]>> parts = lb.join(rb).mapToPair(t -> {
            Block l = t._2()._1();
            Block r = t._2()._2();
            double[] c = new double[l.size()];
            for (int i = 0; i < l.size(); i++) {
                c[i] = ExactSimilarity.dot(l.rows(), i, r.rows(), i, l.dim());
            }
            return new Tuple2<>(l.start(), c);
        }).collect();
        double[] truth = new double[n];
        int covered = 0;
        for (Tuple2<Integer, double[]> p : parts) {
            System.arraycopy(p._2(), 0, truth, p._1(), p._2().length);
            covered += p._2().length;
        }
        if (covered != n) {
            throw new IllegalArgumentException("the left and right blocks cover " + covered + " of " + n + " pairs");
        }
        return truth;
    }

    /**
     * Pass 2: r_L and r_R, the mean of each entity's k largest cosines with the other side. Keys: left block b
     * is b, right block b is blocks + b; values: per row, its top k (descending).
     */
    private static double[][] neighbourhoodMeans(JavaPairRDD<Integer, Block> lb, JavaPairRDD<Integer, Block> rb, int n,
                                                 int blocks, int blockSize, int k) {
        List<Tuple2<Integer, double[][]>> tops = lb.cartesian(rb).flatMapToPair(t -> {
            Block l = t._1()._2();
            Block r = t._2()._2();
            double[][][] tk = Tiles.topK(l, r, k);
            return List.of(new Tuple2<>(l.id(), tk[0]), new Tuple2<>(blocks + r.id(), tk[1])).iterator();
        }).reduceByKey((a, b) -> {
            double[][] m = new double[a.length][];
            for (int i = 0; i < a.length; i++) {
                m[i] = Tiles.mergeTop(a[i], b[i], k);
            }
            return m;
        }).collect();
        double[] rl = new double[n];
        double[] rr = new double[n];
        for (Tuple2<Integer, double[][]> t : tops) {
            boolean isLeft = t._1() < blocks;
            int start = (isLeft ? t._1() : t._1() - blocks) * blockSize;
            double[][] rows = t._2();
            for (int i = 0; i < rows.length; i++) {
                double sum = 0;
                for (double v : rows[i]) {
                    sum += v;
                }
                (isLeft ? rl : rr)[start + i] = sum / rows[i].length;
            }
        }
        return new double[][]{rl, rr};
    }

    /**
     * Pass 3: per left row and right column, the candidates that beat the true counterpart under cosine
     * and CSLS: {left counts [2p] cosine, [2p+1] csls; right counts likewise}.
     */
    private static int[][] counts(JavaSparkContext jsc, JavaPairRDD<Integer, Block> lb, JavaPairRDD<Integer, Block> rb,
                                  int n, int blocks, int blockSize, double[] truth, double[] rl, double[] rr) {
        Broadcast<double[][]> vectors = jsc.broadcast(new double[][]{truth, rl, rr});
        try {
            Map<Integer, int[]> perBlock = lb.cartesian(rb).flatMapToPair(t -> {
                Block l = t._1()._2();
                Block r = t._2()._2();
                int[][] c = Tiles.count(l, r, vectors.value()[0], vectors.value()[1], vectors.value()[2]);
                return List.of(new Tuple2<>(l.id(), c[0]), new Tuple2<>(blocks + r.id(), c[1])).iterator();
            }).reduceByKey((a, b) -> {
                int[] s = a.clone();
                for (int i = 0; i < s.length; i++) {
                    s[i] += b[i];
                }
                return s;
            }).collectAsMap();
            int[] left = new int[2 * n];
            int[] right = new int[2 * n];
            for (Map.Entry<Integer, int[]> e : perBlock.entrySet()) {
                boolean isLeft = e.getKey() < blocks;
                int start = (isLeft ? e.getKey() : e.getKey() - blocks) * blockSize;
                System.arraycopy(e.getValue(), 0, isLeft ? left : right, 2 * start, e.getValue().length);
            }
            return new int[][]{left, right};
        } finally {
            vectors.destroy();
        }
    }

    /** The work of one tile. */
    static final class Tiles {
        private Tiles() {
        }

        /** {per row of l: its top k exact cosines among r's rows; per row of r: among l's rows}, descending. */
        static double[][][] topK(Block l, Block r, int k) {
            int dim = l.dim();
            float[] s = ExactSimilarity.tile(l.rows(), l.size(), r.rows(), r.size(), dim);
            double eps = ExactSimilarity.margin(dim);
            double[][] rows = new double[l.size()][];
            double[][] cols = new double[r.size()][];
            double[] buf = new double[Math.max(l.size(), r.size())];
            for (int i = 0; i < l.size(); i++) {
                for (int j = 0; j < r.size(); j++) {
                    buf[j] = s[i * r.size() + j];
                }
                double kth = kthLargest(buf, r.size(), k);
                List<Double> exact = new ArrayList<>();
                for (int j = 0; j < r.size(); j++) {
                    if (s[i * r.size() + j] >= kth - 2 * eps) {
                        exact.add(ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim));
                    }
                }
                rows[i] = top(exact, k);
            }
            for (int j = 0; j < r.size(); j++) {
                for (int i = 0; i < l.size(); i++) {
                    buf[i] = s[i * r.size() + j];
                }
                double kth = kthLargest(buf, l.size(), k);
                List<Double> exact = new ArrayList<>();
                for (int i = 0; i < l.size(); i++) {
                    if (s[i * r.size() + j] >= kth - 2 * eps) {
                        exact.add(ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim));
                    }
                }
                cols[j] = top(exact, k);
            }
            return new double[][][]{rows, cols};
        }

        /** The k-th largest of v[0..len) (the smallest when len < k). */
        static double kthLargest(double[] v, int len, int k) {
            double[] c = Arrays.copyOf(v, len);
            Arrays.sort(c);
            return c[Math.max(0, len - k)];
        }

        private static double[] top(List<Double> values, int k) {
            double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int m = Math.min(k, v.length);
            double[] out = new double[m];
            for (int t = 0; t < m; t++) {
                out[t] = v[v.length - 1 - t];
            }
            return out;
        }

        /** The k largest of two descending lists, descending. */
        static double[] mergeTop(double[] a, double[] b, int k) {
            double[] out = new double[Math.min(k, a.length + b.length)];
            int i = 0;
            int j = 0;
            for (int t = 0; t < out.length; t++) {
                out[t] = j >= b.length || (i < a.length && a[i] >= b[j]) ? a[i++] : b[j++];
            }
            return out;
        }

        /** Strictly-better candidate counts {left rows: [cos, csls] × rows, right rows: [cos, csls] × rows}. */
        static int[][] count(Block l, Block r, double[] truth, double[] rl, double[] rr) {
            int dim = l.dim();
            float[] s = ExactSimilarity.tile(l.rows(), l.size(), r.rows(), r.size(), dim);
            double eps = ExactSimilarity.margin(dim);
            int[] cl = new int[2 * l.size()];
            int[] cr = new int[2 * r.size()];
            for (int i = 0; i < l.size(); i++) {
                int p = l.start() + i;
                double t = truth[p];
                double c = Csls.score(t, rl[p], rr[p]);
                for (int j = 0; j < r.size(); j++) {
                    int q = r.start() + j;
                    double approx = s[i * r.size() + j];
                    double exact = Double.NaN;
                    // cosine, left p against right q
                    if (approx > t + eps) {
                        cl[2 * i]++;
                    } else if (approx >= t - eps) {
                        exact = ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim);
                        if (exact > t) {
                            cl[2 * i]++;
                        }
                    }
                    double approxCsls = Csls.score(approx, rl[p], rr[q]);
                    if (approxCsls > c + 2 * eps) {
                        cl[2 * i + 1]++;
                    } else if (approxCsls >= c - 2 * eps) {
                        if (Double.isNaN(exact)) {
                            exact = ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim);
                        }
                        if (Csls.score(exact, rl[p], rr[q]) > c) {
                            cl[2 * i + 1]++;
                        }
                    }
                    // the same entry seen from right q: candidate p against q's counterpart
                    double tq = truth[q];
                    double cq = Csls.score(tq, rl[q], rr[q]);
                    if (approx > tq + eps) {
                        cr[2 * j]++;
                    } else if (approx >= tq - eps) {
                        if (Double.isNaN(exact)) {
                            exact = ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim);
                        }
                        if (exact > tq) {
                            cr[2 * j]++;
                        }
                    }
                    if (approxCsls > cq + 2 * eps) {
                        cr[2 * j + 1]++;
                    } else if (approxCsls >= cq - 2 * eps) {
                        if (Double.isNaN(exact)) {
                            exact = ExactSimilarity.dot(l.rows(), i, r.rows(), j, dim);
                        }
                        if (Csls.score(exact, rl[p], rr[q]) > cq) {
                            cr[2 * j + 1]++;
                        }
                    }
                }
            }
            return new int[][]{cl, cr};
        }
    }
}
