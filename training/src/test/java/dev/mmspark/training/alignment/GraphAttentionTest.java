package dev.mmspark.training.alignment;

import dev.mmspark.features.kg.KgTensors;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GraphAttentionTest {
    /** The path 0 – 1 – 2 (each edge stored in both rows). */
    private static KgTensors.Csr path3() {
        return new KgTensors.Csr(new int[]{0, 1, 3, 4}, new int[]{1, 0, 2, 1}, null);
    }

    /** 0–1, 1–2, 2–3, 3–0, 1–3 and an isolated entity 4. */
    private static KgTensors.Csr graph5() {
        return new KgTensors.Csr(new int[]{0, 2, 5, 7, 10, 10}, new int[]{1, 3, 0, 2, 3, 1, 3, 0, 1, 2}, null);
    }

    /**
     * One layer, one head, dim 2 on the path 0–1–2 with self-loops; x = (1,0), (0,1), (1,1), w = (1,2), a₁ =
     * (0.5, 0), a₂ = (0, −1). Then h = x⊙w = (1,0), (0,2), (1,2); s₁ = a₁·h = (0.5, 0, 0.5); s₂ = a₂·h = (0, −2, −2);
     * g_ij = −LeakyReLU(s₁_i + s₂_j):
     * <pre>
     *   row 0: j = 0, 1: z = 0.5, −1.5 → g = −0.5, 0.3 → α = (0.310026, 0.689974) → (0.310026, 1.379949)
     *   row 1: j = 1, 0, 2: z = −2, 0, −2 → g = 0.4, 0, 0.4 → α = (0.374487, 0.251026, 0.374487) → (0.625513, 1.497948)
     *   row 2: j = 2, 1: z = −1.5, −1.5 → α = (½, ½) → (0.5, 2)
     * </pre>
     */
    @Test
    void oneLayerByHand() {
        GraphAttention gat = new GraphAttention(path3(), new GraphAttention.Spec(2, 1, 1));
        ParamSet p = new ParamSet();
        p.put(GraphAttention.ENTITY, new long[]{3, 2}, new float[]{1, 0, 0, 1, 1, 1});
        p.put(GraphAttention.weight(0, 0), new long[]{2}, new float[]{1, 2});
        p.put(GraphAttention.attention(0, 0), new long[]{4}, new float[]{0.5f, 0, 0, -1});
        double[] out = gat.forward(p, gat.fullGraph(), false).output;
        assertArrayEquals(new double[]{0.31002552, 1.37994896, 0.62551305, 1.49794779, 0.5, 2.0}, out, 1e-7);
    }

    /** Two heads are averaged; an ELU sits between layers. */
    @Test
    void headsAreAveragedAndLayersComposeWithElu() {
        GraphAttention one = new GraphAttention(path3(), new GraphAttention.Spec(2, 1, 1));
        ParamSet single = new ParamSet();
        single.put(GraphAttention.ENTITY, new long[]{3, 2}, new float[]{1, -2, 0, 1, 1, 1});
        single.put(GraphAttention.weight(0, 0), new long[]{2}, new float[]{1, 2});
        single.put(GraphAttention.attention(0, 0), new long[]{4}, new float[]{0.5f, 0, 0, -1});
        double[] h1 = one.forward(single, one.fullGraph(), false).output;
        ParamSet other = single.copy();
        other.put(GraphAttention.weight(0, 0), new long[]{2}, new float[]{-1, 0.5f});
        other.put(GraphAttention.attention(0, 0), new long[]{4}, new float[]{0, 1, 1, 0});
        double[] h2 = one.forward(other, one.fullGraph(), false).output;

        GraphAttention two = new GraphAttention(path3(), new GraphAttention.Spec(2, 1, 2));
        ParamSet both = single.copy();
        both.put(GraphAttention.weight(0, 1), new long[]{2}, other.get(GraphAttention.weight(0, 0)));
        both.put(GraphAttention.attention(0, 1), new long[]{4}, other.get(GraphAttention.attention(0, 0)));
        double[] avg = two.forward(both, two.fullGraph(), false).output;
        for (int i = 0; i < avg.length; i++) {
            assertEquals((h1[i] + h2[i]) / 2, avg[i], 1e-12);
        }

        // a second layer with a = 0 and w = 1 averages the ELU of the first layer's output over each row
        GraphAttention deep = new GraphAttention(path3(), new GraphAttention.Spec(2, 2, 1));
        ParamSet p2 = single.copy();
        p2.put(GraphAttention.weight(1, 0), new long[]{2}, new float[]{1, 1});
        p2.put(GraphAttention.attention(1, 0), new long[]{4}, new float[4]);
        double[] out = deep.forward(p2, deep.fullGraph(), false).output;
        double[] elu = new double[h1.length];
        for (int i = 0; i < elu.length; i++) {
            elu[i] = h1[i] > 0 ? h1[i] : Math.expm1(h1[i]);
        }
        int[][] rows = {{0, 1}, {1, 0, 2}, {2, 1}};
        for (int r = 0; r < 3; r++) {
            for (int d = 0; d < 2; d++) {
                double s = 0;
                for (int j : rows[r]) {
                    s += elu[j * 2 + d];
                }
                assertEquals(s / rows[r].length, out[r * 2 + d], 1e-12);
            }
        }
    }

    /** A training step computes only the rows its targets need, with exactly the full-graph result. */
    @Test
    void blocksGiveTheFullGraphOutputs() {
        GraphAttention gat = new GraphAttention(graph5(), new GraphAttention.Spec(3, 2, 2));
        ParamSet p = new ParamSet();
        GraphAttention.init(p, 5, gat.spec(), new SplittableRandom(3));
        randomise(p, new SplittableRandom(4));
        double[] full = gat.forward(p, gat.fullGraph(), false).output;
        int[] targets = {2, 4, 2};
        GraphAttention.Forward f = gat.forward(p, gat.blocks(targets), true);
        float[] row = new float[3];
        for (int t = 0; t < targets.length; t++) {
            f.target(t, 3, row, 0);
            for (int d = 0; d < 3; d++) {
                assertEquals((float) full[targets[t] * 3 + d], row[d], 0f);
            }
        }
        // entity 2's two hops reach 1, 3 and then 0; the isolated 4 only itself
        assertEquals(5, gat.blocks(new int[]{2, 4}).inputs().length);
        assertArrayEquals(new int[]{4}, gat.blocks(new int[]{4}).inputs());
    }

    /**
     * The hand-written backward pass against central differences of a linear function of the outputs (a
     * duplicated target included), for every parameter: entity embeddings, weights and attention vectors of
     * both layers and heads. Parameters are float32, the arithmetic double.
     */
    @Test
    void gradientsMatchFiniteDifferences() {
        GraphAttention gat = new GraphAttention(graph5(), new GraphAttention.Spec(3, 2, 2));
        ParamSet p = new ParamSet();
        GraphAttention.init(p, 5, gat.spec(), new SplittableRandom(7));
        randomise(p, new SplittableRandom(8));
        int[] targets = {1, 3, 1, 4};
        float[] c = ParamSet.uniform(targets.length * 3, 1, new SplittableRandom(9));
        GradientChecks.Objective f = q -> {
            GraphAttention.Forward fw = gat.forward(q, gat.blocks(targets), false);
            double s = 0;
            float[] row = new float[3];
            for (int t = 0; t < targets.length; t++) {
                int r = fw.blocks.targetRows[t];
                for (int d = 0; d < 3; d++) {
                    s += c[t * 3 + d] * fw.output[r * 3 + d];
                }
            }
            return s;
        };
        ParamSet grads = p.zerosLike();
        GraphAttention.Forward fw = gat.forward(p, gat.blocks(targets), true);
        gat.backward(p, fw, c, grads);
        GradientChecks.assertGradientsMatch(f, p, grads, "GAT", 1e-3, 1e-4, 1e-6);
    }

    /** Moves the initial values (w = 1, tiny embeddings) to a generic point where every path matters. */
    static void randomise(ParamSet p, SplittableRandom rng) {
        for (String name : p.names()) {
            float[] v = p.get(name);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rng.nextDouble() * 2 - 1);
            }
        }
    }
}
