package dev.mmspark.training.models.tate;

import dev.mmspark.training.layers.GradientChecks;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TATE's loss layer against {@code src/test/resources/tate/tate_reference.py} (NumPy, the official formulas), hand
 * values, DL4J double-precision gradient checks of every loss term and of the whole objective through the core, and
 * JSON round trips.
 */
class TateLayersTest {
    private static final int B = 4;
    private static final int C = 3;
    /** The reference layout: M = 2 modalities of lengths 2 and 1 (N = 3), d = 2, so P = 5. */
    private static final int[] STEPS = {2, 1};
    private static final int D = 2;
    private static final int M = 2;
    private static final int N = 3;
    private static final int P = D + M + 1;
    private static final double[][] LABELS = {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}};

    private static double[] csv(String name) throws IOException {
        try (InputStream in = TateLayersTest.class.getResourceAsStream("/tate/" + name)) {
            String[] f = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split(",");
            double[] out = new double[f.length];
            for (int j = 0; j < f.length; j++) {
                out[j] = Double.parseDouble(f[j]);
            }
            return out;
        }
    }

    /** The script's input (see its docstring). */
    private static INDArray referenceInput() {
        int qt = C + (M + 1) + 4 * N * P;
        int qs = qt + N;
        int tag = qs + N;
        int s = tag + M + 1;
        int width = s + 1;
        double[][] v = new double[B][width];
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < width; j++) {
                v[i][j] = 2 * Math.sin(1.3 * (i * width + j) + 0.4);
            }
            for (int t = 0; t < N; t++) {
                v[i][qt + t] = (i + t) % 3 != 0 ? 1 : 0;
                v[i][qs + t] = (i + 2 * t + 1) % 3 != 0 ? 1 : 0;
            }
            for (int k = 0; k < M + 1; k++) {
                v[i][tag + k] = (i + k) % 2;
            }
            v[i][s] = i % 2;
        }
        return Nd4j.create(v);
    }

    private static ComputationGraph lossOnly(double ce, double kl, double recon, double tag) {
        TateLoss loss = new TateLoss(C, STEPS, D, ce, kl, recon, tag);
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(loss.inputSize()))
                .addLayer("loss", loss, "in").setOutputs("loss").build());
        net.init();
        return net;
    }

    @Test
    void lossTermsMatchTheNumpyReference() throws IOException {
        // ce, kl_fwd, kl_bwd, kl_switched, rec_fwd, rec_bwd, tag_mae, total
        double[] ref = csv("loss_terms.csv");
        MultiDataSet data = new MultiDataSet(referenceInput(), Nd4j.create(LABELS));
        assertEquals(ref[0], lossOnly(1, 0, 0, 0).score(data, false), 1e-10, "cross-entropy");
        assertEquals(ref[3], lossOnly(0, 1, 0, 0).score(data, false), 1e-10, "KL to the teacher, both directions, "
                + "switched per sample");
        assertEquals(ref[4] + ref[5], lossOnly(0, 0, 1, 0).score(data, false), 1e-10, "reconstruction KL, both ways");
        assertEquals(ref[6], lossOnly(0, 0, 0, 1).score(data, false), 1e-10, "tag MAE");
        assertEquals(ref[7], lossOnly(1, 0.1, 0.1, 0.1).score(data, false), 1e-10, "the official objective");
    }

    /** Each KL direction on its own, through {@link TateLoss#kl} and the masked mean. */
    @Test
    void eachKlDirectionMatchesTheNumpyReference() throws IOException {
        double[] ref = csv("loss_terms.csv");
        INDArray in = referenceInput();
        long e = C + M + 1;
        long np = (long) N * P;
        long qt = e + 4 * np;
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.constant(in);
        SDVariable enc = x.get(SDIndex.all(), SDIndex.interval(e, e + np)).reshape(-1, N, P);
        SDVariable teacher = x.get(SDIndex.all(), SDIndex.interval(e + np, e + 2 * np)).reshape(-1, N, P);
        SDVariable q = x.get(SDIndex.all(), SDIndex.interval(qt, qt + N));
        double forward = TateLoss.maskedMean(sd, TateLoss.kl(sd, enc, teacher), q).mean().eval().getDouble(0);
        double backward = TateLoss.maskedMean(sd, TateLoss.kl(sd, teacher, enc), q).mean().eval().getDouble(0);
        assertEquals(ref[1], forward, 1e-10, "KL(student || teacher)");
        assertEquals(ref[2], backward, 1e-10, "KL(teacher || student)");
    }

    /**
     * By hand: logits (0, 0) and (ln 3, 0) are the distributions (1/2, 1/2) and (3/4, 1/4): KL one way
     * 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3), the other 3/4 ln(3/2) + 1/4 ln(1/2); the tag (1, 0, 0) against the
     * sigmoids of (0, 0, ln 3) = (1/2, 1/2, 3/4) has the MAE (1/2 + 1/2 + 3/4) / 3.
     */
    @Test
    void klAndTagErrorByHand() {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.constant(Nd4j.create(new double[]{0, 0}, 1, 1, 2));
        SDVariable b = sd.constant(Nd4j.create(new double[]{Math.log(3), 0}, 1, 1, 2));
        assertEquals(0.5 * Math.log(4.0 / 3), TateLoss.kl(sd, a, b).eval().getDouble(0), 1e-12);
        assertEquals(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), TateLoss.kl(sd, b, a).eval().getDouble(0), 1e-12);
        assertEquals(0.5 * Math.log(4.0 / 3) + 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5),
                TateLoss.symmetricKl(sd, a, b).eval().getDouble(0), 1e-12);
        SDVariable tag = sd.constant(Nd4j.create(new double[][]{{1, 0, 0}}));
        SDVariable logits = sd.constant(Nd4j.create(new double[][]{{0, 0, Math.log(3)}}));
        assertEquals(1.75 / 3, TateLoss.tagError(sd, tag, logits).eval().getDouble(0), 1e-12);
        // masked mean: positions 0 and 2 of (1, 5, 3) -> 2; no position at all -> 0, not NaN
        SDVariable v = sd.constant(Nd4j.create(new double[][]{{1, 5, 3}, {1, 5, 3}}));
        SDVariable q = sd.constant(Nd4j.create(new double[][]{{1, 0, 1}, {0, 0, 0}}));
        assertArrayEquals(new double[]{2, 0}, TateLoss.maskedMean(sd, v, q).eval().toDoubleVector(), 1e-12);
    }

    @Test
    void activationsAreTheSoftmaxOfTheLogits() {
        INDArray in = referenceInput();
        INDArray out = lossOnly(1, 0.1, 0.1, 0.1).outputSingle(in);
        for (int i = 0; i < B; i++) {
            double sum = 0;
            for (int k = 0; k < C; k++) {
                sum += Math.exp(in.getDouble(i, k));
            }
            for (int k = 0; k < C; k++) {
                assertEquals(Math.exp(in.getDouble(i, k)) / sum, out.getDouble(i, k), 1e-12);
            }
        }
    }

    /** The loss alone: dense layers write z, l, e, e', r, u; masks, tag and switch are fixed inputs. */
    private static boolean lossGradientCheck(double ce, double kl, double recon, double tag) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(5).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("x", "qt", "qs", "tag", "s")
                .setInputTypes(InputType.feedForward(3), InputType.feedForward(N), InputType.feedForward(N),
                        InputType.feedForward(M + 1), InputType.feedForward(1))
                .addLayer("z", new DenseLayer.Builder().nOut(C).activation(Activation.IDENTITY).build(), "x")
                .addLayer("l", new DenseLayer.Builder().nOut(M + 1).activation(Activation.IDENTITY).build(), "x")
                .addLayer("etru", new DenseLayer.Builder().nOut(4 * N * P).activation(Activation.IDENTITY).build(), "x")
                .addVertex("row", new MergeVertex(), "z", "l", "etru", "qt", "qs", "tag", "s")
                .addLayer("loss", new TateLoss(C, STEPS, D, ce, kl, recon, tag), "row")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, B, 3).subi(0.5).muli(6);
        INDArray qt = Nd4j.create(new double[][]{{1, 0, 1}, {0, 1, 1}, {0, 0, 0}, {1, 1, 0}});
        INDArray qs = Nd4j.create(new double[][]{{0, 1, 1}, {1, 1, 1}, {1, 0, 0}, {0, 0, 1}});
        INDArray tags = Nd4j.create(new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 1}});
        INDArray s = Nd4j.create(new double[][]{{1}, {0}, {1}, {1}});
        return GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{x, qt, qs, tags, s}).labels(new INDArray[]{Nd4j.create(LABELS)}));
    }

    @Test
    void gradientsOfEachLossTerm() {
        assertTrue(lossGradientCheck(1, 0, 0, 0), "cross-entropy");
        assertTrue(lossGradientCheck(0, 1, 0, 0), "KL to the teacher");
        assertTrue(lossGradientCheck(0, 0, 1, 0), "reconstruction KL");
        assertTrue(lossGradientCheck(0, 0, 0, 1), "tag MAE");
        assertTrue(lossGradientCheck(1, 0.1, 0.1, 0.1), "the whole objective");
    }

    /**
     * Tiny core: modality 0 (D 3, T 2), modality 1 (D 2, T 2); d 4, 2 heads (so P = 7
     * with 1 head). d = 2 would be degenerate: a LayerNorm over two channels outputs only (-1, 1) or (1, -1).
     */
    static final int[] CORE_DIMS = {3, 2};
    static final int[] CORE_STEPS = {2, 2};
    static final int CORE_DIM = 4;

    /** inputs -> core -> (pooled -> Dense logits) merged with the aux part -> loss. */
    static ComputationGraph tinyNetwork() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(7).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("x0", "c0", "k0", "x1", "c1", "k1", "g")
                .setInputTypes(InputType.recurrent(3, 2, RNNFormat.NCW), InputType.recurrent(3, 2, RNNFormat.NCW),
                        InputType.recurrent(2, 2, RNNFormat.NCW), InputType.recurrent(2, 2, RNNFormat.NCW),
                        InputType.recurrent(2, 2, RNNFormat.NCW), InputType.recurrent(2, 2, RNNFormat.NCW),
                        InputType.feedForward(TateBatchBuilder.tagWidth(2)));
        int width = TateCore.width(CORE_DIM, 2);
        long all = TateCore.outputSize(CORE_STEPS, CORE_DIM);
        g.addVertex("core", new TateCore(CORE_DIMS, CORE_STEPS, CORE_DIM, 2),
                        "x0", "c0", "k0", "x1", "c1", "k1", "g")
                .addVertex("pooled", new SubsetVertex(0, width - 1), "core")
                .addVertex("aux", new SubsetVertex(width, (int) all - 1), "core")
                .addLayer("logits", new DenseLayer.Builder().nOut(C).activation(Activation.IDENTITY).build(), "pooled")
                .addVertex("loss_in", new MergeVertex(), "logits", "aux")
                .addLayer("loss", new TateLoss(C, CORE_STEPS, CORE_DIM, 1, 0.5, 0.5, 0.5), "loss_in")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        // zero biases and unit LayerNorm gains are special points; move them off (teacher and student differ)
        Nd4j.getRandom().setSeed(17);
        for (INDArray p : net.getVertex("core").paramTable(false).values()) {
            p.addi(Nd4j.rand(DataType.DOUBLE, p.shape()).subi(0.5).muli(0.4));
        }
        return net;
    }

    /**
     * Sample 0 complete; sample 1 misses modality 0 (teacher sees it); sample 2 lacks modality 1 altogether; sample 3
     * has one padded position of modality 1 and misses it in its input.
     */
    static INDArray[] tinyInputs() {
        Nd4j.getRandom().setSeed(11);
        INDArray c0 = Nd4j.rand(DataType.DOUBLE, B, 3, 2).subi(0.5).muli(2);
        INDArray c1 = Nd4j.rand(DataType.DOUBLE, B, 2, 2).subi(0.5).muli(2);
        INDArray x1 = c1.dup();
        double[][] realT0 = {{1, 1}, {1, 1}, {1, 1}, {1, 1}};
        double[][] realS0 = {{1, 1}, {0, 0}, {1, 1}, {1, 1}};
        double[][] realT1 = {{1, 1}, {1, 1}, {0, 0}, {1, 0}};
        double[][] realS1 = {{1, 1}, {1, 1}, {0, 0}, {0, 0}};
        INDArray x0 = c0.dup();
        INDArray k0 = Nd4j.zeros(DataType.DOUBLE, B, 2, 2);
        INDArray k1 = Nd4j.zeros(DataType.DOUBLE, B, 2, 2);
        for (int i = 0; i < B; i++) {
            for (int t = 0; t < 2; t++) {
                k0.putScalar(new long[]{i, 0, t}, realS0[i][t]);
                k0.putScalar(new long[]{i, 1, t}, realT0[i][t]);
                k1.putScalar(new long[]{i, 0, t}, realS1[i][t]);
                k1.putScalar(new long[]{i, 1, t}, realT1[i][t]);
                for (int c = 0; c < 3; c++) {
                    x0.putScalar(new long[]{i, c, t}, realS0[i][t] * x0.getDouble(i, c, t));
                }
                for (int c = 0; c < 2; c++) {
                    c1.putScalar(new long[]{i, c, t}, realT1[i][t] * c1.getDouble(i, c, t));
                    x1.putScalar(new long[]{i, c, t}, realS1[i][t] * x1.getDouble(i, c, t));
                }
            }
        }
        // tags: input's (complete, missing 0, missing 1), teacher's, switch
        INDArray g = Nd4j.create(new double[][]{
                {1, 0, 0, 1, 0, 0, 1},
                {0, 1, 0, 1, 0, 0, 1},
                {0, 0, 1, 0, 0, 1, 1},
                {0, 0, 1, 1, 0, 0, 0}});
        return new INDArray[]{x0, c0, k0, x1, c1, k1, g};
    }

    @Test
    void coreOutputLayout() {
        ComputationGraph net = tinyNetwork();
        INDArray[] in = tinyInputs();
        INDArray core = net.feedForward(in, false).get("core");
        int width = TateCore.width(CORE_DIM, 2);
        int n = 4;
        assertEquals(TateCore.outputSize(CORE_STEPS, CORE_DIM), core.size(1));
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < core.size(1); j++) {
                assertTrue(Double.isFinite(core.getDouble(i, j)), "row " + i + " column " + j);
            }
            // the tag logits repeat the last M + 1 pooled channels
            for (int k = 0; k < 3; k++) {
                assertEquals(core.getDouble(i, CORE_DIM + k), core.getDouble(i, width + k), 0);
            }
            int u = width + 3 + 3 * n * width;
            // the tagged input: every token ends with the input's tag
            for (int t = 0; t < n; t++) {
                for (int k = 0; k < 3; k++) {
                    assertEquals(in[6].getDouble(i, k), core.getDouble(i, u + t * width + CORE_DIM + k), 0);
                }
            }
            int qt = u + n * width;
            int end = (int) core.size(1);
            // slots: real positions plus every position of a missing modality; tag and switch at the end
            double[][] slots = {{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}};
            for (int t = 0; t < n; t++) {
                assertEquals(slots[i][t], core.getDouble(i, qt + n + t), 0);
            }
            assertEquals(in[6].getDouble(i, 6), core.getDouble(i, end - 1), 0);
        }
        // the zeroed missing modality 0 of sample 1: its common-space channels are 0
        int u = width + 3 + 3 * n * width;
        for (int t = 0; t < 2; t++) {
            for (int c = 0; c < CORE_DIM; c++) {
                assertEquals(0, core.getDouble(1, u + t * width + c), 0);
            }
        }
    }

    /** The complete copy feeds only the teacher: the prediction reads the input alone. */
    @Test
    void predictionReadsOnlyTheInputNotTheCompleteCopy() {
        ComputationGraph net = tinyNetwork();
        INDArray[] in = tinyInputs();
        INDArray before = net.feedForward(in, false).get("pooled").dup();
        in[1].putScalar(new long[]{1, 0, 0}, 9.0);            // complete copy of sample 1, modality 0
        in[4].putScalar(new long[]{0, 0, 1}, 3);              // complete copy of sample 0, modality 1
        assertArrayEquals(before.ravel().toDoubleVector(), net.feedForward(in, false).get("pooled").ravel()
                .toDoubleVector(), 1e-12);
        in[0].putScalar(new long[]{0, 0, 0}, 9.0);            // the input of sample 0
        INDArray after = net.feedForward(in, false).get("pooled");
        assertTrue(after.getRow(0).sub(before.getRow(0)).norm2Number().doubleValue() > 1e-9);
    }

    /**
     * Core parameters the whole-objective check perturbs (every value of each): every kind of parameter of every
     * kind of block (per-modality encoders of both modalities, pair matrix, encoder, decoder, pooling). The other
     * arrays of the same blocks are the same code; checking all of them took over 6 minutes on the loaded 2-core
     * machine. The teacher's ({@code t...}) are left out: their updater (learning rate 0) zeroes their gradient --
     * DL4J's gradient check applies the updater -- which is what keeps them frozen.
     */
    private static final List<String> CHECKED = List.of("m0Wp", "m0Wq", "m0Wk", "m0lnag", "m0lnab", "m0b1", "m0b2",
            "m0lnfg", "m0lnfb", "m1Wp", "m1Wv", "p0x1W", "elnag", "eb1", "elnfg", "elnfb", "dlnab", "db2", "dlnfg",
            "aWr");

    /** The whole objective (CE + KL to the teacher + reconstruction + tag) through the core. */
    @Test
    void gradientsThroughTheCore() {
        ComputationGraph net = tinyNetwork();
        Set<String> excluded = new HashSet<>();
        for (String key : net.paramTable().keySet()) {
            if (key.startsWith("core_") && !CHECKED.contains(key.substring("core_".length()))) {
                excluded.add(key);
            }
        }
        assertEquals(CHECKED.size(), net.getVertex("core").paramTable(false).size() - excluded.size(),
                "every listed parameter exists");
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).inputs(tinyInputs())
                .labels(new INDArray[]{Nd4j.create(LABELS)}).excludeParams(excluded)), "TATE objective");
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        ComputationGraphConfiguration conf = tinyNetwork().getConfiguration();
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        ComputationGraphConfiguration loss = lossOnly(1, 0.1, 0.2, 0.3).getConfiguration();
        assertEquals(loss, ComputationGraphConfiguration.fromJson(loss.toJson()));
    }
}
