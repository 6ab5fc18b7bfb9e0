package dev.mmspark.training.alignment;

import dev.mmspark.features.kg.KgTensors;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The structure encoder of MCLEA and MEAformer: a graph attention network (Veličković et al., ICLR 2018) in
 * the form of MCLEA's official code ({@code src/layers.py MultiHeadGraphAttention} with {@code diag=True},
 * {@code src/models.py GAT}), over learned entity embeddings.
 *
 * <p>Layer l, head k, with a diagonal weight w (a vector, initialised to ones) and an attention vector
 * a = [a₁; a₂] (uniform ±1/√(2D)), over the adjacency with a self-loop on every entity:
 * <pre>
 *   h_i   = x_i ⊙ w
 *   e_ij  = exp(−LeakyReLU₀.₂(a₁·h_i + a₂·h_j))          for j ∈ N(i) ∪ {i}
 *   α_ij  = e_ij / Σ_j' e_ij'
 *   out_i = (1/K) Σ_k Σ_j α_ij h_j                       (heads averaged, diag mode)
 * </pre>
 * with ELU between layers and none after the last; input x = entity embeddings N(0, 1/N). MCLEA uses 2 layers
 * of 300 units and 2 heads ({@code --hidden_units "300,300,300"}, default {@code --heads "2,2"}); dropout is 0
 * there, so none is implemented. The softmax subtracts each row's maximum before exponentiating: the same
 * function, without the overflow the reference risks for large scores.
 *
 * <p>Why this is plain Java and not SameDiff: a step needs row gathers and segment sums over ~300k edges × 300
 * dims. In ND4J 1.0.0-M2.1 the gradient of {@code gather} builds a while-loop of {@code put} calls (and fails
 * for a second gather in one graph: "Unable to replace samediff namespace"), and {@code segment_sum} took 0.75 s
 * for 30k×300 rows on this machine, against milliseconds for the loops below. So the encoder's forward and
 * backward pass are written out here (double precision, so that they can be checked against finite
 * differences), and the rest of each model (encoders, fusion, losses) is a SameDiff graph that receives the
 * structure embeddings of a minibatch and returns their gradient.
 *
 * <p>A training step needs the outputs of the minibatch's entities only, so {@link #blocks} restricts each
 * layer to the rows that feed those outputs (the targets, their neighbours, and theirs: the "blocks" of
 * sampled-subgraph training, here with no sampling, so the outputs equal those of a full-graph pass).
 */
public final class GraphAttention {
    /** Negative slope of the attention's LeakyReLU (MCLEA: 0.2). */
    static final double SLOPE = 0.2;

    /** Parameter names: entity embeddings, and per layer and head the weight and the attention vector. */
    public static final String ENTITY = "structure.entity";

    /**
     * @param dim    embedding size (MCLEA: 300), the same in every layer
     * @param layers GAT layers (MCLEA: 2)
     * @param heads  attention heads per layer, averaged (MCLEA: 2)
     */
    public record Spec(int dim, int layers, int heads) implements java.io.Serializable {
        public Spec {
            if (dim < 1 || layers < 1 || heads < 1) {
                throw new IllegalArgumentException("GAT dims, layers and heads must be positive: " + dim + ", "
                        + layers + ", " + heads);
            }
        }
    }

    private final Spec spec;
    private final int n;
    /** Adjacency with the self-loop first in every row: row i = [i, neighbours of i...]. */
    private final int[] offsets;
    private final int[] cols;
    /** Scratch for building blocks: entity → position in the level being built, -1 when absent. */
    private final int[] position;

    public GraphAttention(KgTensors.Csr adjacency, Spec spec) {
        this.spec = spec;
        this.n = adjacency.rows();
        this.offsets = new int[n + 1];
        this.cols = new int[adjacency.nnz() + n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            cols[k++] = i;
            for (int j = adjacency.offsets()[i]; j < adjacency.offsets()[i + 1]; j++) {
                int c = adjacency.indices()[j];
                if (c != i) {
                    cols[k++] = c;
                }
            }
            offsets[i + 1] = k;
        }
        this.position = new int[n];
        Arrays.fill(position, -1);
    }

    public Spec spec() {
        return spec;
    }

    public int entities() {
        return n;
    }

    public static String weight(int layer, int head) {
        return "structure.gat" + layer + ".head" + head + ".w";
    }

    public static String attention(int layer, int head) {
        return "structure.gat" + layer + ".head" + head + ".a";
    }

    /** Adds the encoder's parameters with MCLEA's initialisation. */
    public static void init(ParamSet p, int entities, Spec spec, SplittableRandom rng) {
        p.put(ENTITY, new long[]{entities, spec.dim()}, ParamSet.normal(entities * spec.dim(),
                1 / Math.sqrt(entities), rng));
        for (int l = 0; l < spec.layers(); l++) {
            for (int h = 0; h < spec.heads(); h++) {
                p.put(weight(l, h), new long[]{spec.dim()}, ParamSet.filled(spec.dim(), 1f));
                p.put(attention(l, h), new long[]{2L * spec.dim()},
                        ParamSet.uniform(2 * spec.dim(), 1 / Math.sqrt(2.0 * spec.dim()), rng));
            }
        }
    }

    // ------------------------------------------------------------------ blocks

    /**
     * The rows each layer computes for the outputs of {@code targets}: level L (the last) holds the distinct
     * targets, level l−1 holds level l followed by the neighbours of its rows (so every level is a prefix of the
     * one below and a row's self-loop is its own position), level 0 the entity embeddings read.
     */
    public static final class Blocks {
        /** levels[l] = entity ids of level l, l = 0 .. layers. */
        final int[][] levels;
        /** For layer l (1-based, index l−1): CSR over the rows of levels[l], columns = positions in levels[l−1]. */
        final int[][] rowOffsets;
        final int[][] rowCols;
        /** Position in levels[layers] of each requested target. */
        final int[] targetRows;

        Blocks(int[][] levels, int[][] rowOffsets, int[][] rowCols, int[] targetRows) {
            this.levels = levels;
            this.rowOffsets = rowOffsets;
            this.rowCols = rowCols;
            this.targetRows = targetRows;
        }

        /** Entities whose embeddings are read (level 0). */
        public int[] inputs() {
            return levels[0];
        }

        public int edges(int layer) {
            return rowCols[layer].length;
        }
    }

    /** Blocks for the given targets (duplicates allowed: they share a row). */
    public Blocks blocks(int[] targets) {
        int layers = spec.layers();
        int[][] levels = new int[layers + 1][];
        int[][] ro = new int[layers][];
        int[][] rc = new int[layers][];
        // level L: distinct targets in first-occurrence order
        int[] buf = new int[Math.max(targets.length, 16)];
        int size = 0;
        int[] targetRows = new int[targets.length];
        try {
            for (int t = 0; t < targets.length; t++) {
                int e = targets[t];
                if (position[e] < 0) {
                    position[e] = size;
                    buf[size++] = e;
                }
                targetRows[t] = position[e];
            }
            int[] current = Arrays.copyOf(buf, size);
            levels[layers] = current;
            for (int l = layers; l >= 1; l--) {
                // the next level down: current rows first (positions already assigned), then new neighbours
                int[] next = new int[Math.max(16, current.length * 2)];
                System.arraycopy(current, 0, next, 0, current.length);
                int nextSize = current.length;
                int[] offs = new int[current.length + 1];
                int edgeCount = 0;
                for (int e : current) {
                    edgeCount += offsets[e + 1] - offsets[e];
                }
                int[] cs = new int[edgeCount];
                int k = 0;
                for (int r = 0; r < current.length; r++) {
                    int e = current[r];
                    for (int j = offsets[e]; j < offsets[e + 1]; j++) {
                        int c = cols[j];
                        if (position[c] < 0) {
                            if (nextSize == next.length) {
                                next = Arrays.copyOf(next, next.length * 2);
                            }
                            position[c] = nextSize;
                            next[nextSize++] = c;
                        }
                        cs[k++] = position[c];
                    }
                    offs[r + 1] = k;
                }
                ro[l - 1] = offs;
                rc[l - 1] = cs;
                levels[l - 1] = Arrays.copyOf(next, nextSize);
                current = levels[l - 1];
            }
        } finally {
            // positions are those of the last level built, which contains every level: reset them all
            for (int[] level : levels) {
                if (level != null) {
                    for (int e : level) {
                        position[e] = -1;
                    }
                }
            }
            for (int i = 0; i < size; i++) {
                position[buf[i]] = -1;
            }
        }
        return new Blocks(levels, ro, rc, targetRows);
    }

    /** Blocks covering the whole graph, every entity a target in index order (for embedding everything). */
    public Blocks fullGraph() {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        int layers = spec.layers();
        int[][] levels = new int[layers + 1][];
        int[][] ro = new int[layers][];
        int[][] rc = new int[layers][];
        for (int l = 0; l <= layers; l++) {
            levels[l] = all;
        }
        for (int l = 0; l < layers; l++) {
            ro[l] = offsets;
            rc[l] = cols;
        }
        return new Blocks(levels, ro, rc, all);
    }

    // ------------------------------------------------------------------ forward

    /** What the backward pass needs of a forward pass, and its output. */
    public static final class Forward {
        final Blocks blocks;
        /** Input of layer l (index l): level l's rows × dim; index 0 = the entity embeddings read. */
        final double[][] inputs;
        /** Per layer and head: attention α and pre-activation score z per edge, aggregated input per row. */
        final double[][][] alpha;
        final double[][][] score;
        final double[][][] aggregated;
        /** Output of the last layer for the rows of levels[layers]. */
        final double[] output;

        Forward(Blocks blocks, double[][] inputs, double[][][] alpha, double[][][] score, double[][][] aggregated,
                double[] output) {
            this.blocks = blocks;
            this.inputs = inputs;
            this.alpha = alpha;
            this.score = score;
            this.aggregated = aggregated;
            this.output = output;
        }

        /** The output row of requested target t (its structure embedding). */
        public void target(int t, int dim, float[] out, int offset) {
            int r = blocks.targetRows[t];
            for (int d = 0; d < dim; d++) {
                out[offset + d] = (float) output[r * dim + d];
            }
        }
    }

    /**
     * Runs the layers over {@code blocks}. With {@code keep} false the per-edge caches are dropped (an
     * inference pass over the whole graph).
     */
    public Forward forward(ParamSet p, Blocks blocks, boolean keep) {
        int dim = spec.dim();
        int layers = spec.layers();
        int heads = spec.heads();
        float[] emb = p.get(ENTITY);
        int[] in0 = blocks.levels[0];
        double[] x = new double[in0.length * dim];
        for (int r = 0; r < in0.length; r++) {
            int base = in0[r] * dim;
            for (int d = 0; d < dim; d++) {
                x[r * dim + d] = emb[base + d];
            }
        }
        double[][] inputs = new double[layers + 1][];
        double[][][] alpha = new double[layers][heads][];
        double[][][] score = new double[layers][heads][];
        double[][][] agg = new double[layers][heads][];
        inputs[0] = x;
        for (int l = 0; l < layers; l++) {
            int nOut = blocks.levels[l + 1].length;
            int[] ro = blocks.rowOffsets[l];
            int[] rc = blocks.rowCols[l];
            double[] xin = inputs[l];
            double[] y = new double[nOut * dim];
            for (int h = 0; h < heads; h++) {
                double[] w = toDouble(p.get(weight(l, h)));
                double[] a = toDouble(p.get(attention(l, h)));
                double[] u1 = new double[dim];
                double[] u2 = new double[dim];
                for (int d = 0; d < dim; d++) {
                    u1[d] = w[d] * a[d];
                    u2[d] = w[d] * a[dim + d];
                }
                int nIn = xin.length / dim;
                double[] s2 = new double[nIn];
                for (int k = 0; k < nIn; k++) {
                    s2[k] = dot(xin, k * dim, u2, dim);
                }
                double[] al = new double[rc.length];
                double[] z = new double[rc.length];
                double[] ag = new double[nOut * dim];
                double invHeads = 1.0 / heads;
                for (int r = 0; r < nOut; r++) {
                    double s1 = dot(xin, r * dim, u1, dim);
                    double max = Double.NEGATIVE_INFINITY;
                    for (int e = ro[r]; e < ro[r + 1]; e++) {
                        double ze = s1 + s2[rc[e]];
                        z[e] = ze;
                        double g = -(ze > 0 ? ze : SLOPE * ze);
                        al[e] = g;
                        max = Math.max(max, g);
                    }
                    double sum = 0;
                    for (int e = ro[r]; e < ro[r + 1]; e++) {
                        al[e] = Math.exp(al[e] - max);
                        sum += al[e];
                    }
                    int yo = r * dim;
                    for (int e = ro[r]; e < ro[r + 1]; e++) {
                        double ae = al[e] / sum;
                        al[e] = ae;
                        int xo = rc[e] * dim;
                        for (int d = 0; d < dim; d++) {
                            ag[yo + d] += ae * xin[xo + d];
                        }
                    }
                    for (int d = 0; d < dim; d++) {
                        y[yo + d] += ag[yo + d] * w[d] * invHeads;
                    }
                }
                if (keep) {
                    alpha[l][h] = al;
                    score[l][h] = z;
                    agg[l][h] = ag;
                }
            }
            if (l + 1 < layers) {
                for (int i = 0; i < y.length; i++) {
                    if (y[i] <= 0) {
                        y[i] = Math.expm1(y[i]);
                    }
                }
            }
            inputs[l + 1] = y;
        }
        return new Forward(blocks, keep ? inputs : null, alpha, score, agg, inputs[layers]);
    }

    // ------------------------------------------------------------------ backward

    /**
     * Back-propagates {@code dTargets} (the loss gradient of each requested target's output, targets × dim,
     * row-major; duplicate targets add up) and adds the parameter gradients into {@code grads} (which must
     * hold this encoder's parameters).
     */
    public void backward(ParamSet p, Forward f, float[] dTargets, ParamSet grads) {
        if (f.inputs == null) {
            throw new IllegalStateException("the forward pass kept no caches");
        }
        int dim = spec.dim();
        int layers = spec.layers();
        int heads = spec.heads();
        Blocks b = f.blocks;
        double[] dy = new double[b.levels[layers].length * dim];
        for (int t = 0; t < b.targetRows.length; t++) {
            int r = b.targetRows[t];
            for (int d = 0; d < dim; d++) {
                dy[r * dim + d] += dTargets[t * dim + d];
            }
        }
        for (int l = layers - 1; l >= 0; l--) {
            double[] xin = f.inputs[l];
            int nIn = xin.length / dim;
            int nOut = b.levels[l + 1].length;
            int[] ro = b.rowOffsets[l];
            int[] rc = b.rowCols[l];
            double[] dx = new double[nIn * dim];
            double invHeads = 1.0 / heads;
            for (int h = 0; h < heads; h++) {
                double[] w = toDouble(p.get(weight(l, h)));
                double[] a = toDouble(p.get(attention(l, h)));
                double[] al = f.alpha[l][h];
                double[] z = f.score[l][h];
                double[] ag = f.aggregated[l][h];
                double[] dw = new double[dim];
                double[] dAgg = new double[dim];
                double[] ds2 = new double[nIn];
                double[] ds1 = new double[nOut];
                for (int r = 0; r < nOut; r++) {
                    int yo = r * dim;
                    for (int d = 0; d < dim; d++) {
                        dAgg[d] = dy[yo + d] * w[d] * invHeads;
                        dw[d] += dy[yo + d] * ag[yo + d] * invHeads;
                    }
                    // through the weighted sum: dα_e = dAgg · x_c, dx_c += α_e dAgg
                    double weighted = 0;
                    int from = ro[r];
                    int to = ro[r + 1];
                    double[] dAlpha = new double[to - from];
                    for (int e = from; e < to; e++) {
                        int xo = rc[e] * dim;
                        double da = 0;
                        double ae = al[e];
                        for (int d = 0; d < dim; d++) {
                            da += dAgg[d] * xin[xo + d];
                            dx[xo + d] += ae * dAgg[d];
                        }
                        dAlpha[e - from] = da;
                        weighted += ae * da;
                    }
                    // through the row softmax and the negated LeakyReLU
                    double s1 = 0;
                    for (int e = from; e < to; e++) {
                        double dg = al[e] * (dAlpha[e - from] - weighted);
                        double dz = -dg * (z[e] > 0 ? 1 : SLOPE);
                        s1 += dz;
                        ds2[rc[e]] += dz;
                    }
                    ds1[r] = s1;
                }
                // scores: s1_r = x_r·(w⊙a₁) for output rows, s2_k = x_k·(w⊙a₂) for input rows
                double[] du1 = new double[dim];
                double[] du2 = new double[dim];
                for (int r = 0; r < nOut; r++) {
                    double g = ds1[r];
                    if (g == 0) {
                        continue;
                    }
                    int xo = r * dim;
                    for (int d = 0; d < dim; d++) {
                        du1[d] += g * xin[xo + d];
                        dx[xo + d] += g * w[d] * a[d];
                    }
                }
                for (int k = 0; k < nIn; k++) {
                    double g = ds2[k];
                    if (g == 0) {
                        continue;
                    }
                    int xo = k * dim;
                    for (int d = 0; d < dim; d++) {
                        du2[d] += g * xin[xo + d];
                        dx[xo + d] += g * w[d] * a[dim + d];
                    }
                }
                float[] gw = grads.get(weight(l, h));
                float[] ga = grads.get(attention(l, h));
                for (int d = 0; d < dim; d++) {
                    gw[d] += (float) (dw[d] + du1[d] * a[d] + du2[d] * a[dim + d]);
                    ga[d] += (float) (du1[d] * w[d]);
                    ga[dim + d] += (float) (du2[d] * w[d]);
                }
            }
            if (l > 0) {
                // ELU between layers: xin = elu(pre); d pre = d xin · (xin > 0 ? 1 : xin + 1)
                for (int i = 0; i < dx.length; i++) {
                    if (xin[i] <= 0) {
                        dx[i] *= xin[i] + 1;
                    }
                }
            }
            dy = dx;
        }
        float[] ge = grads.get(ENTITY);
        int[] in0 = b.levels[0];
        for (int r = 0; r < in0.length; r++) {
            int base = in0[r] * dim;
            for (int d = 0; d < dim; d++) {
                ge[base + d] += (float) dy[r * dim + d];
            }
        }
    }

    private static double dot(double[] x, int offset, double[] u, int dim) {
        double s = 0;
        for (int d = 0; d < dim; d++) {
            s += x[offset + d] * u[d];
        }
        return s;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
