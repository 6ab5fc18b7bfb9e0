package dev.mmspark.evaluation.retrieval;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Exact cross-modal retrieval metrics on Spark for candidate sets larger than one machine holds.
 *
 * <p>Every {@link QueryResult} metric is a function of the ranks r_k of the query's relevant candidates in the
 * whole ranking. With the tie rule of {@link RetrievalItem#rankOrder} (score, then candidate id) the ranking is
 * a total order, and r_k = k + i_k, where k is the position of the relevant candidate among the relevant ones
 * and i_k the number of irrelevant candidates ranked before it. i_k is a sum over any partition of the
 * candidates, which is what makes the computation blockwise:
 *
 * <ol>
 *   <li>queries and candidates are cut into blocks of at most {@code blockSize} items (Spark partitions);</li>
 *   <li>pass 1, one task per (query block, candidate block): the scores and ids of each query's relevant
 *       candidates in the block; merged per query block and sorted in ranking order, they give k;</li>
 *   <li>pass 2, again per (query block, candidate block): for each query and each irrelevant candidate of the
 *       block, a binary search in the query's sorted relevant list finds the first relevant item it ranks
 *       before; a difference array and a prefix sum turn those positions into the block's share of i_k;
 *       shares are summed over candidate blocks;</li>
 *   <li>per query: r_k = k + i_k, then AP, AP@R and hits@K, summed over queries into the means.</li>
 * </ol>
 *
 * A task holds one query block, one candidate block and the query block's relevant lists (at most
 * {@code blockSize} x the largest class among the candidates); the candidate set as a whole never sits in one
 * place. Every (query, candidate) pair is scored twice, once per pass, with {@link RetrievalItem#similarity}.
 * The result equals {@link ReferenceRetrieval}'s query by query, to the last bit: the same scores, the same
 * ranks, the same sums in the same order.
 */
public final class BlockwiseRetrieval {
    private BlockwiseRetrieval() {
    }

    /** A block of items: one Spark partition. */
    record Block(int index, List<RetrievalItem> items) implements Serializable {
    }

    /** Per query of a query block, its relevant candidates' scores and ids (in ranking order once sorted). */
    record Relevant(double[][] scores, String[][] ids) implements Serializable {

        static Relevant of(Block queries, Block candidates) {
            int n = queries.items().size();
            double[][] scores = new double[n][];
            String[][] ids = new String[n][];
            for (int j = 0; j < n; j++) {
                RetrievalItem q = queries.items().get(j);
                List<RetrievalItem> rel = candidates.items().stream().filter(c -> c.label() == q.label()).toList();
                scores[j] = new double[rel.size()];
                ids[j] = new String[rel.size()];
                for (int i = 0; i < rel.size(); i++) {
                    scores[j][i] = RetrievalItem.similarity(q, rel.get(i));
                    ids[j][i] = rel.get(i).id();
                }
            }
            return new Relevant(scores, ids);
        }

        Relevant merge(Relevant o) {
            double[][] s = new double[scores.length][];
            String[][] d = new String[ids.length][];
            for (int j = 0; j < s.length; j++) {
                s[j] = Arrays.copyOf(scores[j], scores[j].length + o.scores[j].length);
                System.arraycopy(o.scores[j], 0, s[j], scores[j].length, o.scores[j].length);
                d[j] = Arrays.copyOf(ids[j], ids[j].length + o.ids[j].length);
                System.arraycopy(o.ids[j], 0, d[j], ids[j].length, o.ids[j].length);
            }
            return new Relevant(s, d);
        }

        Relevant sorted() {
            double[][] s = new double[scores.length][];
            String[][] d = new String[ids.length][];
            for (int j = 0; j < s.length; j++) {
                double[] sc = scores[j];
                String[] id = ids[j];
                Integer[] order = new Integer[sc.length];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, (a, b) -> RetrievalItem.rankOrder(sc[a], id[a], sc[b], id[b]));
                s[j] = new double[sc.length];
                d[j] = new String[sc.length];
                for (int i = 0; i < order.length; i++) {
                    s[j][i] = sc[order[i]];
                    d[j][i] = id[order[i]];
                }
            }
            return new Relevant(s, d);
        }
    }

    /** Metrics of all queries against all candidates (at least one). */
    public static DirectionMetrics evaluate(JavaRDD<RetrievalItem> queries, JavaRDD<RetrievalItem> candidates,
                                            List<Integer> ks, int blockSize) {
        try (Run run = new Run(queries, candidates, ks, blockSize)) {
            DirectionMetrics.Sums zero = DirectionMetrics.Sums.zero(ks.size());
            return run.results.treeAggregate(zero, (s, q) -> s.add(q, ks), DirectionMetrics.Sums::plus)
                    .metrics(run.candidates, ks);
        }
    }

    /** Every query's result, collected to the driver (for tests and small sets). */
    public static List<QueryResult> perQuery(JavaRDD<RetrievalItem> queries, JavaRDD<RetrievalItem> candidates,
                                             List<Integer> ks, int blockSize) {
        try (Run run = new Run(queries, candidates, ks, blockSize)) {
            return run.results.collect();
        }
    }

    /** The two passes over cached blocks; closing it releases the cached blocks. */
    private static final class Run implements AutoCloseable {
        final JavaRDD<QueryResult> results;
        final long candidates;
        private final List<JavaRDD<?>> cached = new ArrayList<>();

        Run(JavaRDD<RetrievalItem> queries, JavaRDD<RetrievalItem> candidateItems, List<Integer> ks, int blockSize) {
            if (blockSize < 1) {
                throw new IllegalArgumentException("block size must be >= 1, found " + blockSize);
            }
            JavaRDD<Block> qBlocks = cache(blocks(queries, blockSize));
            JavaRDD<Block> cBlocks = cache(blocks(candidateItems, blockSize));
            candidates = cBlocks.map(b -> (long) b.items().size()).fold(0L, Long::sum);
            if (candidates == 0) {
                close();
                throw new IllegalArgumentException("no candidates to rank");
            }

            // pass 1: each query's relevant candidates, in ranking order, with its query block
            JavaPairRDD<Integer, Tuple2<Block, Relevant>> withRelevant = qBlocks.cartesian(cBlocks)
                    .mapToPair(p -> new Tuple2<>(p._1().index(), Relevant.of(p._1(), p._2())))
                    .reduceByKey(Relevant::merge)
                    .mapValues(Relevant::sorted)
                    .join(qBlocks.mapToPair(b -> new Tuple2<>(b.index(), b)))
                    .mapValues(t -> new Tuple2<>(t._2(), t._1()));
            withRelevant.persist(StorageLevel.MEMORY_AND_DISK());
            cached.add(withRelevant.rdd().toJavaRDD());

            // pass 2: per relevant item, the irrelevant candidates ranked before it, summed over candidate blocks
            JavaPairRDD<Integer, long[][]> before = withRelevant.values().cartesian(cBlocks)
                    .mapToPair(p -> new Tuple2<>(p._1()._1().index(),
                            irrelevantBefore(p._1()._1(), p._1()._2(), p._2())))
                    .reduceByKey(BlockwiseRetrieval::sum);

            results = withRelevant.join(before).values().flatMap(t -> results(t._1()._1(), t._1()._2(), t._2(), ks));
        }

        private <T> JavaRDD<T> cache(JavaRDD<T> rdd) {
            rdd.persist(StorageLevel.MEMORY_AND_DISK());
            cached.add(rdd);
            return rdd;
        }

        @Override
        public void close() {
            cached.forEach(JavaRDD::unpersist);
        }
    }

    static JavaRDD<Block> blocks(JavaRDD<RetrievalItem> items, int blockSize) {
        long n = items.count();
        int parts = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (n + blockSize - 1) / blockSize));
        return items.repartition(parts).mapPartitionsWithIndex((i, it) -> {
            List<RetrievalItem> list = new ArrayList<>();
            it.forEachRemaining(list::add);
            return List.of(new Block(i, list)).iterator();
        }, true);
    }

    /**
     * For each query j and each of its relevant items k (in ranking order), how many irrelevant candidates of
     * {@code candidates} rank before item k.
     */
    static long[][] irrelevantBefore(Block queries, Relevant relevant, Block candidates) {
        int n = queries.items().size();
        long[][] out = new long[n][];
        for (int j = 0; j < n; j++) {
            RetrievalItem q = queries.items().get(j);
            double[] rs = relevant.scores()[j];
            String[] rid = relevant.ids()[j];
            long[] diff = new long[rs.length + 1];
            for (RetrievalItem c : candidates.items()) {
                if (c.label() == q.label()) {
                    continue;
                }
                double s = RetrievalItem.similarity(q, c);
                // first relevant item that c ranks before: c counts for that one and every later one
                int lo = 0;
                int hi = rs.length;
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (RetrievalItem.rankOrder(rs[mid], rid[mid], s, c.id()) < 0) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                diff[lo]++;
            }
            out[j] = new long[rs.length];
            long running = 0;
            for (int k = 0; k < rs.length; k++) {
                running += diff[k];
                out[j][k] = running;
            }
        }
        return out;
    }

    static long[][] sum(long[][] a, long[][] b) {
        long[][] out = new long[a.length][];
        for (int j = 0; j < a.length; j++) {
            out[j] = a[j].clone();
            for (int k = 0; k < out[j].length; k++) {
                out[j][k] += b[j][k];
            }
        }
        return out;
    }

    private static Iterator<QueryResult> results(Block queries, Relevant relevant, long[][] before, List<Integer> ks) {
        List<QueryResult> out = new ArrayList<>(queries.items().size());
        for (int j = 0; j < queries.items().size(); j++) {
            long[] ranks = new long[before[j].length];
            for (int k = 0; k < ranks.length; k++) {
                ranks[k] = k + 1 + before[j][k];
            }
            out.add(QueryResult.fromRanks(queries.items().get(j).id(), ranks, ks));
        }
        return out.iterator();
    }
}
