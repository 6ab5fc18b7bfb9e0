package dev.mmspark.training.models.tfrnet;

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
 * TFR-Net's loss layer against {@code src/test/resources/tfrnet/tfrnet_reference.py} (NumPy, the official
 * RECLoss), hand values, DL4J double-precision gradient checks of the loss terms and of the whole objective through
 * the core, and JSON round trips.
 */
class TfrNetLayersTest {
    private static final int B = 4;
    private static final int C = 3;
    private static final int[] DIMS = {3, 2};
    private static final int[] STEPS = {3, 2};
    private static final double[][] LABELS = {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}};
    private static final double[][] TARGETS = {{0.5}, {-1.0}, {2.0}, {0.1}};

    private static double[] csv(String name) throws IOException {
        try (InputStream in = TfrNetLayersTest.class.getResourceAsStream("/tfrnet/" + name)) {
            String[] f = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split(",");
            double[] out = new double[f.length];
            for (int j = 0; j < f.length; j++) {
                out[j] = Double.parseDouble(f[j]);
            }
            return out;
        }
    }

    /** The script's input: 2 sin(1.3 k + 0.4) row-major, mask entries q[i, m, t] = (i + 2t + m) % 3 != 0. */
    private static INDArray referenceInput() {
        int width = C;
        for (int m = 0; m < DIMS.length; m++) {
            width += 2 * STEPS[m] * DIMS[m] + STEPS[m];
        }
        double[][] v = new double[B][width];
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < width; j++) {
                v[i][j] = 2 * Math.sin(1.3 * (i * width + j) + 0.4);
            }
        }
        int pos = C;
        for (int m = 0; m < DIMS.length; m++) {
            int qs = pos + 2 * STEPS[m] * DIMS[m];
            for (int i = 0; i < B; i++) {
                for (int t = 0; t < STEPS[m]; t++) {
                    v[i][qs + t] = (i + 2 * t + m) % 3 != 0 ? 1 : 0;
                }
            }
            pos = qs + STEPS[m];
        }
        return Nd4j.create(v);
    }

    private static ComputationGraph lossOnly(boolean regression, double task, double[] recon, double cmd) {
        TfrNetLoss loss = new TfrNetLoss(DIMS, STEPS, regression ? 1 : C, regression, task, recon, cmd);
        long width = loss.inputSize();
        // regression reads only the first column as z; the rest of the row is laid out as for classification
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in");
        if (regression) {
            g.setInputTypes(InputType.feedForward(width + C - 1))
                    .addVertex("z", new SubsetVertex(0, 0), "in")
                    .addVertex("rest", new SubsetVertex(C, (int) (width + C - 2)), "in")
                    .addVertex("row", new MergeVertex(), "z", "rest")
                    .addLayer("loss", loss, "row");
        } else {
            g.setInputTypes(InputType.feedForward(width)).addLayer("loss", loss, "in");
        }
        ComputationGraph net = new ComputationGraph(g.setOutputs("loss").build());
        net.init();
        return net;
    }

    @Test
    void lossTermsMatchTheNumpyReference() throws IOException {
        double[] ref = csv("loss_terms.csv");        // ce, l1, smoothl1_0, cmd_0, smoothl1_1, cmd_1
        INDArray in = referenceInput();
        MultiDataSet data = new MultiDataSet(in, Nd4j.create(LABELS));
        assertEquals(ref[0], lossOnly(false, 1, new double[]{0, 0}, 0).score(data, false), 1e-10, "cross-entropy");
        assertEquals(ref[2], lossOnly(false, 0, new double[]{1, 0}, 0).score(data, false), 1e-10, "SmoothL1, modality 0");
        assertEquals(ref[4], lossOnly(false, 0, new double[]{0, 1}, 0).score(data, false), 1e-10, "SmoothL1, modality 1");
        assertEquals(ref[2] + ref[3], lossOnly(false, 0, new double[]{1, 0}, 1).score(data, false), 1e-10,
                "SmoothL1 + CMD, modality 0");
        assertEquals(ref[4] + ref[5], lossOnly(false, 0, new double[]{0, 1}, 1).score(data, false), 1e-10,
                "SmoothL1 + CMD, modality 1");
        // weighted as the official MOSI objective (text 5, audio 2) with a CMD weight of 0.5
        assertEquals(ref[0] + 5 * (ref[2] + 0.5 * ref[3]) + 2 * (ref[4] + 0.5 * ref[5]),
                lossOnly(false, 1, new double[]{5, 2}, 0.5).score(data, false), 1e-10, "the whole objective");
        MultiDataSet reg = new MultiDataSet(in, Nd4j.create(TARGETS));
        assertEquals(ref[1], lossOnly(true, 1, new double[]{0, 0}, 0).score(reg, false), 1e-10, "L1 regression");
    }

    /** PyTorch's SmoothL1 at hand-picked errors: e^2/2 below 1, |e| - 1/2 above. */
    @Test
    void smoothL1ByHand() {
        SameDiff sd = SameDiff.create();
        INDArray e = Nd4j.create(new double[]{-2, -0.5, 0, 0.5, 1, 3});
        INDArray v = TfrNetLoss.smoothL1(sd, sd.constant(e)).eval();
        assertArrayEquals(new double[]{1.5, 0.125, 0, 0.125, 0.5, 2.5}, v.toDoubleVector(), 1e-12);
    }

    /**
     * By hand: one sample, one modality of 2 positions x 1 value, r = (5, 3), x = (1, 1), only position 1 dropped.
     * Position 0's error of 4 must not count: loss = SmoothL1(2) / (1 + 1e-4) = 1.5 / 1.0001.
     */
    @Test
    void onlyDroppedPositionsAreReconstructed() {
        TfrNetLoss loss = new TfrNetLoss(new int[]{1}, new int[]{2}, 2, false, 0, new double[]{1}, 0);
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(loss.inputSize()))
                .addLayer("loss", loss, "in").setOutputs("loss").build());
        net.init();
        INDArray row = Nd4j.create(new double[][]{{0.3, -0.2, 5, 3, 1, 1, 0, 1}});
        assertEquals(1.5 / 1.0001, net.score(new MultiDataSet(row, Nd4j.create(new double[][]{{1, 0}})), false), 1e-12);
        // nothing dropped: no reconstruction loss at all
        row.putScalar(0, 7, 0);
        assertEquals(0, net.score(new MultiDataSet(row, Nd4j.create(new double[][]{{1, 0}})), false), 1e-12);
    }

    @Test
    void activationsAreTheSoftmaxOfTheHeadOutput() {
        INDArray in = referenceInput();
        INDArray out = lossOnly(false, 1, new double[]{1, 1}, 0).outputSingle(in);
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

    /**
     * The loss alone: dense layers (whose parameters the check perturbs) write z, r and x; the dropped masks are
     * fixed 0/1 inputs, merged in the layer's order [z, r0 x0, q0, r1 x1, q1].
     */
    private static boolean lossGradientCheck(boolean regression, double task, double[] recon, double cmd) {
        int out = regression ? 1 : C;
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(5).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("x", "q0", "q1")
                .setInputTypes(InputType.feedForward(3), InputType.feedForward(STEPS[0]), InputType.feedForward(STEPS[1]))
                .addLayer("z", new DenseLayer.Builder().nOut(out).activation(Activation.IDENTITY).build(), "x")
                // scaled tanh outputs reach both parts of SmoothL1
                .addLayer("rx0", new DenseLayer.Builder().nOut(2 * STEPS[0] * DIMS[0]).activation(Activation.IDENTITY)
                        .build(), "x")
                .addLayer("rx1", new DenseLayer.Builder().nOut(2 * STEPS[1] * DIMS[1]).activation(Activation.IDENTITY)
                        .build(), "x")
                .addVertex("row", new MergeVertex(), "z", "rx0", "q0", "rx1", "q1")
                .addLayer("loss", new TfrNetLoss(DIMS, STEPS, out, regression, task, recon, cmd), "row")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, B, 3).subi(0.5).muli(6);
        INDArray q0 = Nd4j.create(new double[][]{{1, 0, 1}, {0, 1, 1}, {0, 0, 0}, {1, 1, 0}});
        INDArray q1 = Nd4j.create(new double[][]{{0, 1}, {1, 1}, {1, 0}, {0, 0}});
        INDArray labels = regression ? Nd4j.create(TARGETS) : Nd4j.create(LABELS);
        // a subset of every parameter array: each perturbation is a full SameDiff pass, and they add up
        return GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).inputs(new INDArray[]{x, q0, q1})
                .labels(new INDArray[]{labels}).subset(true).maxPerParam(8));
    }

    @Test
    void gradientsOfEachLossTerm() {
        assertTrue(lossGradientCheck(false, 1, new double[]{0, 0}, 0), "cross-entropy");
        assertTrue(lossGradientCheck(true, 1, new double[]{0, 0}, 0), "L1 regression");
        assertTrue(lossGradientCheck(false, 0, new double[]{1, 1}, 0), "SmoothL1 reconstruction, both modalities");
        assertTrue(lossGradientCheck(false, 1, new double[]{5, 2}, 0.5), "the whole objective, with CMD");
    }

    /** sequences -> core -> (gated -> Dense logits) merged with the aux part -> loss. */
    private static ComputationGraph tinyNetwork() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(7).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("x0", "k0", "x1", "k1")
                .setInputTypes(InputType.recurrent(DIMS[0], 2 * STEPS[0], RNNFormat.NCW),
                        InputType.recurrent(2, STEPS[0], RNNFormat.NCW),
                        InputType.recurrent(DIMS[1], 2 * STEPS[1], RNNFormat.NCW),
                        InputType.recurrent(2, STEPS[1], RNNFormat.NCW));
        int hidden = 3;
        long all = TfrNetCore.outputSize(DIMS, STEPS, hidden);
        g.addVertex("core", new TfrNetCore(DIMS, STEPS, 4, 2, 1, hidden), "x0", "k0", "x1", "k1")
                .addVertex("gated", new SubsetVertex(0, 2 * hidden - 1), "core")
                .addVertex("aux", new SubsetVertex(2 * hidden, (int) all - 1), "core")
                .addLayer("logits", new DenseLayer.Builder().nOut(C).activation(Activation.IDENTITY).build(), "gated")
                .addVertex("loss_in", new MergeVertex(), "logits", "aux")
                .addLayer("loss", new TfrNetLoss(DIMS, STEPS, C, false, 1, new double[]{5, 2}, 0.5), "loss_in")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        // zero biases and unit LayerNorm gains (MulT's initialisation) are special points; move them off
        Nd4j.getRandom().setSeed(17);
        for (INDArray p : net.getVertex("core").paramTable(false).values()) {
            p.addi(Nd4j.rand(DataType.DOUBLE, p.shape()).subi(0.5).muli(0.2));
        }
        return net;
    }

    /** Complete | damaged copies and masks: sample 1 has one padded position of modality 0, sample 2 lacks modality 1. */
    private static INDArray[] tinyInputs() {
        Nd4j.getRandom().setSeed(11);
        INDArray x0 = Nd4j.rand(DataType.DOUBLE, B, DIMS[0], 2 * STEPS[0]).subi(0.5).muli(2);
        INDArray x1 = Nd4j.rand(DataType.DOUBLE, B, DIMS[1], 2 * STEPS[1]).subi(0.5).muli(2);
        INDArray k0 = Nd4j.zeros(DataType.DOUBLE, B, 2, STEPS[0]);
        INDArray k1 = Nd4j.zeros(DataType.DOUBLE, B, 2, STEPS[1]);
        double[][] real0 = {{1, 1, 1}, {1, 1, 0}, {1, 1, 1}, {1, 1, 1}};
        double[][] drop0 = {{0, 1, 0}, {1, 0, 0}, {0, 1, 1}, {0, 0, 0}};
        double[][] real1 = {{1, 1}, {1, 1}, {0, 0}, {1, 1}};
        double[][] drop1 = {{1, 0}, {0, 1}, {0, 0}, {1, 1}};
        for (int i = 0; i < B; i++) {
            for (int t = 0; t < STEPS[0]; t++) {
                k0.putScalar(new long[]{i, 0, t}, real0[i][t]);
                k0.putScalar(new long[]{i, 1, t}, drop0[i][t]);
                for (int c = 0; c < DIMS[0]; c++) {
                    if (real0[i][t] == 0) {
                        x0.putScalar(new long[]{i, c, t}, 0);
                        x0.putScalar(new long[]{i, c, STEPS[0] + t}, 0);
                    } else if (drop0[i][t] == 1) {
                        x0.putScalar(new long[]{i, c, STEPS[0] + t}, 0);
                    }
                }
            }
            for (int t = 0; t < STEPS[1]; t++) {
                k1.putScalar(new long[]{i, 0, t}, real1[i][t]);
                k1.putScalar(new long[]{i, 1, t}, drop1[i][t]);
                for (int c = 0; c < DIMS[1]; c++) {
                    if (real1[i][t] == 0) {
                        x1.putScalar(new long[]{i, c, t}, 0);
                        x1.putScalar(new long[]{i, c, STEPS[1] + t}, 0);
                    } else if (drop1[i][t] == 1) {
                        x1.putScalar(new long[]{i, c, STEPS[1] + t}, 0);
                    }
                }
            }
        }
        return new INDArray[]{x0, k0, x1, k1};
    }

    @Test
    void coreOutputLayout() {
        ComputationGraph net = tinyNetwork();
        INDArray[] in = tinyInputs();
        INDArray core = net.feedForward(in, false).get("core");
        int hidden = 3;
        assertEquals(TfrNetCore.outputSize(DIMS, STEPS, hidden), core.size(1));
        // the target of modality 0 is its complete sequence, position-major; its mask is channel 1 of k0
        int pos = 2 * hidden + STEPS[0] * DIMS[0];
        for (int i = 0; i < B; i++) {
            for (int t = 0; t < STEPS[0]; t++) {
                for (int c = 0; c < DIMS[0]; c++) {
                    assertEquals(in[0].getDouble(i, c, t), core.getDouble(i, pos + t * DIMS[0] + c), 1e-12);
                }
                assertEquals(in[1].getDouble(i, 1, t), core.getDouble(i, pos + STEPS[0] * DIMS[0] + t), 0);
            }
        }
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < core.size(1); j++) {
                assertTrue(Double.isFinite(core.getDouble(i, j)), "row " + i + " column " + j + ": " + core.getRow(i));
            }
        }
        // sample 2 has no real position of modality 1: its gated vector is zero
        for (int j = hidden; j < 2 * hidden; j++) {
            assertEquals(0, core.getDouble(2, j), 0);
        }
        // tanh-bounded gated vectors
        for (int j = 0; j < 2 * hidden; j++) {
            assertTrue(Math.abs(core.getDouble(0, j)) < 1);
        }
    }

    /** The damaged copy's dropped positions change the output; the complete copy only changes the target. */
    @Test
    void predictionReadsOnlyTheDamagedCopy() {
        ComputationGraph net = tinyNetwork();
        INDArray[] in = tinyInputs();
        INDArray before = net.feedForward(in, false).get("gated").dup();
        in[0].putScalar(new long[]{0, 0, 0}, 9.0);              // complete copy, position 0
        assertArrayEquals(before.ravel().toDoubleVector(), net.feedForward(in, false).get("gated").ravel()
                .toDoubleVector(), 1e-12);
        in[0].putScalar(new long[]{0, 0, STEPS[0]}, 9.0);       // damaged copy, position 0
        assertTrue(Math.abs(before.getDouble(0, 0) - net.feedForward(in, false).get("gated").getDouble(0, 0)) > 1e-9
                || Math.abs(before.getDouble(0, 1) - net.feedForward(in, false).get("gated").getDouble(0, 1)) > 1e-9);
    }

    /**
     * Core parameters the whole-objective check perturbs: every kind of parameter of every kind of block once (the
     * intra, cross and channel Transformers of modality 0 and 1, projections, generator, gate), one value each.
     * Checking all ~120 arrays took over 5 minutes on a loaded 2-core machine: every perturbation is a full pass
     * through a SameDiff graph of a few thousand ops; the blocks not listed are the same code with other sizes.
     * The cross stream's key projection is checked in the intra stream (same code): in the cross stream its
     * gradient here is ~6e-5 against a score of 7, where a central difference carries a relative error of ~2e-5
     * from double rounding alone, above the 1e-5 the check allows.
     */
    private static final List<String> CHECKED = List.of("m0Wp", "i0l0ln0g", "i0l0ln0b", "i0l0Wq", "i0l0bq", "i0l0Wk",
            "i0l0Wv", "i0l0Wo", "i0l0bo", "i0l0ln1g", "i0l0W1", "i0l0b1", "i0l0W2", "i0lnfg", "i0lnfb", "c0x1l0Wq",
            "c0x1l0Wv", "c1x0l0Wq", "f0l0Wq", "f0l0W1", "f0lnfg", "m0Wr", "m0br", "m0Wgate", "m0bgate", "m0Wf", "m0bf",
            "m1Wp", "f1l0Wv", "m1Wr", "m1Wgate", "m1Wf");

    /** The whole objective (task + weighted SmoothL1 + CMD) through the core. */
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
                .labels(new INDArray[]{Nd4j.create(LABELS)}).excludeParams(excluded).subset(true).maxPerParam(1)),
                "TFR-Net objective");
    }

    @Test
    void positionsAreFairseqSinusoids() {
        double[][] p = TfrNetCore.positions(2, 4);
        // half = 2, w = (1, exp(-ln 10000)) = (1, 1e-4)
        assertArrayEquals(new double[]{Math.sin(1), Math.sin(1e-4), Math.cos(1), Math.cos(1e-4)}, p[0], 1e-12);
        assertArrayEquals(new double[]{Math.sin(2), Math.sin(2e-4), Math.cos(2), Math.cos(2e-4)}, p[1], 1e-12);
        assertEquals(25, TfrNetCore.finalHeads(50));
        assertEquals(4, TfrNetCore.finalHeads(4));
        assertEquals(1, TfrNetCore.finalHeads(1));
        assertEquals(1, TfrNetCore.finalHeads(29));
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        ComputationGraphConfiguration conf = tinyNetwork().getConfiguration();
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
    }
}
