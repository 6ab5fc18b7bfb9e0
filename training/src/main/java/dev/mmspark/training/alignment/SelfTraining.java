package dev.mmspark.training.alignment;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The iterative (self-training) phase of MCLEA and MEAformer ({@code --il}; bootstrapping as in BootEA, Sun et
 * al. IJCAI 2018): every few epochs, the entities of graph 1 and graph 2 that are not in any training pair are
 * matched by cosine similarity of their joint embeddings; a pair of mutual nearest neighbours becomes a
 * candidate, and a candidate that stays a mutual pair for {@code confirm} consecutive searches becomes a new
 * training pair (both entities leave the unaligned pools). The references keep candidates that persist through
 * one window of 10 searches and add them at the window's end; counting consecutive confirmations per pair is
 * the same rule without the window boundary.
 *
 * <p>The search runs on the driver, blockwise (a block of left entities against all right entities), so it
 * never holds the similarity matrix: O(block × pool) memory. The pools hold the entities without a training
 * pair (≈15k per graph on DBP15K); the distributed evaluator is the tool for larger cases.
 */
public final class SelfTraining implements Serializable {
    private static final int BLOCK = 2048;

    private final int confirm;
    private final Map<Long, Integer> streak = new HashMap<>();

    public SelfTraining(int confirm) {
        this.confirm = confirm;
    }

    /** A search's outcome: mutual pairs found, and those confirmed now (to add to the training pairs). */
    public record Outcome(int candidates, int[] addedLeft, int[] addedRight) {
    }

    /**
     * One search. {@code left}/{@code right} are the unaligned entities (dense indices) and their joint
     * embeddings {@code leftEmb}/{@code rightEmb} (rows, {@code dim} each).
     */
    public Outcome search(int[] left, float[] leftEmb, int[] right, float[] rightEmb, int dim) {
        int[][] mutual = mutualNearest(leftEmb, left.length, rightEmb, right.length, dim);
        Map<Long, Integer> next = new HashMap<>();
        List<int[]> added = new ArrayList<>();
        for (int[] p : mutual) {
            long key = ((long) left[p[0]] << 32) | (right[p[1]] & 0xffffffffL);
            int n = streak.getOrDefault(key, 0) + 1;
            if (n >= confirm) {
                added.add(new int[]{left[p[0]], right[p[1]]});
            } else {
                next.put(key, n);
            }
        }
        streak.clear();
        streak.putAll(next);
        int[] al = added.stream().mapToInt(a -> a[0]).toArray();
        int[] ar = added.stream().mapToInt(a -> a[1]).toArray();
        return new Outcome(mutual.length, al, ar);
    }

    /** Candidates with their consecutive confirmations (for checkpoints). */
    public Map<Long, Integer> streaks() {
        return Map.copyOf(streak);
    }

    public void restore(Map<Long, Integer> streaks) {
        streak.clear();
        streak.putAll(streaks);
    }

    /**
     * Pairs (i, j) of rows such that j is i's most similar right row and i is j's most similar left row (cosine;
     * ties go to the lower index).
     */
    static int[][] mutualNearest(float[] l, int nl, float[] r, int nr, int dim) {
        if (nl == 0 || nr == 0) {
            return new int[0][];
        }
        INDArray right = Nd4j.createFromArray(RankingMetrics.normalised(r, nr, dim)).reshape(nr, dim);
        float[] ln = RankingMetrics.normalised(l, nl, dim);
        int[] bestOfLeft = new int[nl];
        int[] bestOfRight = new int[nr];
        float[] bestRightScore = new float[nr];
        Arrays.fill(bestRightScore, Float.NEGATIVE_INFINITY);
        for (int from = 0; from < nl; from += BLOCK) {
            int to = Math.min(nl, from + BLOCK);
            INDArray block = Nd4j.createFromArray(Arrays.copyOfRange(ln, from * dim, to * dim)).reshape(to - from, dim);
            float[] s = block.mmul(right.transpose()).castTo(DataType.FLOAT).dup('c').data().asFloat();
            for (int i = 0; i < to - from; i++) {
                float best = Float.NEGATIVE_INFINITY;
                int arg = -1;
                for (int j = 0; j < nr; j++) {
                    float v = s[i * nr + j];
                    if (v > best) {
                        best = v;
                        arg = j;
                    }
                    if (v > bestRightScore[j]) {
                        bestRightScore[j] = v;
                        bestOfRight[j] = from + i;
                    }
                }
                bestOfLeft[from + i] = arg;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < nl; i++) {
            int j = bestOfLeft[i];
            if (j >= 0 && bestOfRight[j] == i) {
                out.add(new int[]{i, j});
            }
        }
        return out.toArray(new int[0][]);
    }
}
