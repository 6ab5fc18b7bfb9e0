package dev.mmspark.evaluation.alignment;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AlignmentEvaluatorTest {
    static final SparkSession SPARK = SparkTestSession.get();
    static final JavaSparkContext JSC = JavaSparkContext.fromSparkContext(SPARK.sparkContext());

    static JavaPairRDD<Integer, float[]> rdd(float[] rows, int n, int dim, int partitions) {
        List<Tuple2<Integer, float[]>> list = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            list.add(new Tuple2<>(p, java.util.Arrays.copyOfRange(rows, p * dim, (p + 1) * dim)));
        }
        java.util.Collections.shuffle(list, new java.util.Random(n));
        return JSC.parallelizePairs(list, partitions);
    }

    static AlignmentMetrics[] distributed(float[] l, float[] r, int n, int dim, int block, int k) {
        return AlignmentEvaluator.evaluate(JSC, rdd(l, n, dim, 3), rdd(r, n, dim, 2), n, dim,
                new AlignmentEvaluator.Settings(block, k));
    }

    /**
     * left (1,0), (0,1), (1,1); right (1,0), (1,1), (0,1). Cosines: row 0 (1, .707, 0), row 1 (0, .707, 1), row 2
     * (.707, 1, .707). Left 0's counterpart is first: rank 1; left 1's (.707) is beaten by right 2 (1): rank 2; left
     * 2's (.707) is beaten by right 1 (1) and tied with right 0, which does not count: rank 2. Columns: right 0 rank
     * 1; right 1 (.707) beaten by left 2 (1), tied with left 0: rank 2; right 2 (.707) beaten by left 1: rank 2.
     * So H@1 = 1/3, H@10 = 1, MRR = (1 + ½ + ½)/3 = 2/3 and mean rank 5/3 in both directions.
     */
    @Test
    void cosineRanksByHandWithATie() {
        float[] l = {1, 0, 0, 1, 1, 1};
        float[] r = {1, 0, 1, 1, 0, 1};
        for (AlignmentMetrics m : new AlignmentMetrics[]{distributed(l, r, 3, 2, 2, 3)[0],
                ReferenceAlignmentMetrics.compute(l, r, 3, 2, 3)[0]}) {
            assertEquals(new AlignmentMetrics("cosine", 3, 1.0 / 3, 1, 2.0 / 3, 5.0 / 3, 1.0 / 3, 1, 2.0 / 3, 5.0 / 3), m);
        }
    }

    /**
     * A random case full of exact ties (half the coordinates quantised to {−1, 0, 1}, duplicated rows, a row
     * equal to a scaled copy of another, a zero row) over uneven blocks: the distributed metrics equal the
     * single-machine ones exactly, for cosine and CSLS, whatever the block size.
     */
    @Test
    void distributedEqualsSingleMachine() {
        int n = 53;
        int dim = 6;
        SplittableRandom rng = new SplittableRandom(17);
        float[] l = new float[n * dim];
        float[] r = new float[n * dim];
        for (int p = 0; p < n; p++) {
            boolean coarse = p % 2 == 0;
            for (int d = 0; d < dim; d++) {
                float base = coarse ? rng.nextInt(3) - 1 : (float) rng.nextGaussian();
                l[p * dim + d] = base;
                r[p * dim + d] = coarse ? (rng.nextInt(4) == 0 ? rng.nextInt(3) - 1 : base)
                        : base + 0.3f * (float) rng.nextGaussian();
            }
        }
        System.arraycopy(r, 5 * dim, r, 6 * dim, dim);          // two identical right rows
        System.arraycopy(l, 11 * dim, l, 12 * dim, dim);        // two identical left rows
        for (int d = 0; d < dim; d++) {
            r[20 * dim + d] = 3 * l[20 * dim + d];              // a counterpart that is a scaled copy
            l[30 * dim + d] = 0;                                // an entity with a zero embedding
        }
        AlignmentMetrics[] ref = ReferenceAlignmentMetrics.compute(l, r, n, dim, 3);
        for (int block : new int[]{7, 16, 64}) {
            AlignmentMetrics[] dist = distributed(l, r, n, dim, block, 3);
            assertEquals(ref[0], dist[0], "cosine, block " + block);
            assertEquals(ref[1], dist[1], "csls, block " + block);
        }
        // not a vacuous comparison: the set is neither trivial nor hopeless
        double h1 = ref[0].hits1L2r();
        assertEquals(true, h1 > 0.2 && h1 < 1, "H@1 " + h1);
    }
}
