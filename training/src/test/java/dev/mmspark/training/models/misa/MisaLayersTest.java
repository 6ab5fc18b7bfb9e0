package dev.mmspark.training.models.misa;

import dev.mmspark.training.layers.GradientChecks;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MISA's core vertex and loss layer against {@code src/test/resources/misa/misa_reference.py} (NumPy, the
 * official code's formulas), DL4J double-precision gradient checks of each loss term through the core, and
 * JSON round trips.
 */
class MisaLayersTest {
    private static final int B = 3;
    private static final int M = 3;
    private static final int H = 4;
    private static final int HEADS = 2;
    private static final int FF = 5;
    private static final int C = 3;

    /** value(k) = 0.5 sin(1.3 k + offset), k running over the elements of all arrays in C order (as the script). */
    private static List<INDArray> fill(List<long[]> shapes, double offset) {
        List<INDArray> out = new ArrayList<>();
        long k = 0;
        for (long[] s : shapes) {
            INDArray a = Nd4j.create(DataType.DOUBLE, s);
            double[] v = new double[(int) a.length()];
            for (int i = 0; i < v.length; i++) {
                v[i] = 0.5 * Math.sin(1.3 * (k + i) + offset);
            }
            k += v.length;
            out.add(Nd4j.create(v, s, DataType.DOUBLE));
        }
        return out;
    }

    /** The core's parameters in the script's order. */
    private static List<String> coreParamNames() {
        List<String> names = new ArrayList<>();
        for (int m = 0; m < M; m++) {
            names.addAll(List.of("lng" + m, "lnb" + m, "Wp" + m, "bp" + m, "Wr" + m, "br" + m));
        }
        names.addAll(List.of("Wc", "bc"));
        for (String p : List.of("q", "k", "v", "o")) {
            names.addAll(List.of("W" + p, "b" + p));
        }
        names.addAll(List.of("ln1g", "ln1b", "W1", "b1", "W2", "b2", "ln2g", "ln2b"));
        return names;
    }

    private static double[][] csv(String name) throws IOException {
        try (InputStream in = MisaLayersTest.class.getResourceAsStream("/misa/" + name)) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\n");
            double[][] out = new double[lines.length][];
            for (int i = 0; i < lines.length; i++) {
                String[] f = lines[i].split(",");
                out[i] = new double[f.length];
                for (int j = 0; j < f.length; j++) {
                    out[i][j] = Double.parseDouble(f[j]);
                }
            }
            return out;
        }
    }

    private static ComputationGraph coreOnly() {
        NeuralNetConfiguration.Builder nb = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE);
        ComputationGraphConfiguration.GraphBuilder g = nb.graphBuilder();
        String[] ins = {"x0", "x1", "x2"};
        g.addInputs(ins).setInputTypes(InputType.feedForward(H), InputType.feedForward(H), InputType.feedForward(H))
                .addVertex("core", new MisaCore(M, H, HEADS, FF), ins).setOutputs("core");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        List<String> names = coreParamNames();
        List<long[]> shapes = new ArrayList<>();
        for (String n : names) {
            shapes.add(net.getVertex("core").paramTable(false).get(n).shape());
        }
        List<INDArray> values = fill(shapes, 0.2);
        for (int i = 0; i < names.size(); i++) {
            net.getVertex("core").paramTable(false).get(names.get(i)).assign(values.get(i));
        }
        return net;
    }

    @Test
    void coreMatchesTheNumpyReference() throws IOException {
        ComputationGraph net = coreOnly();
        List<INDArray> xs = fill(List.of(new long[]{B, H}, new long[]{B, H}, new long[]{B, H}), 0.9);
        INDArray out = net.output(xs.toArray(new INDArray[0]))[0];
        double[][] expected = csv("core_output.csv");
        assertEquals(MisaCore.outputSize(M, H), out.size(1));
        for (int i = 0; i < B; i++) {
            assertArrayEquals(expected[i], out.getRow(i).toDoubleVector(), 1e-10, "row " + i);
        }
    }

    private static ComputationGraph lossOnly(double task, double sim, double diff, double recon) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(C + 4 * M * H))
                .addLayer("loss", new MisaLoss(M, H, C, false, 5, task, sim, diff, recon), "in")
                .setOutputs("loss").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    private static final double[][] LABELS = {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}};

    @Test
    void eachLossTermMatchesTheNumpyReference() throws IOException {
        double[] terms = csv("loss_terms.csv")[0];
        INDArray in = fill(List.of(new long[]{B, C + 4 * M * H}), 0.4).get(0);
        MultiDataSet data = new MultiDataSet(in, Nd4j.create(LABELS));
        assertEquals(terms[0], lossOnly(1, 0, 0, 0).score(data, false), 1e-10, "task (cross-entropy)");
        assertEquals(terms[1], lossOnly(0, 1, 0, 0).score(data, false), 1e-10, "sim (CMD, 5 moments)");
        assertEquals(terms[2], lossOnly(0, 0, 1, 0).score(data, false), 1e-10, "diff");
        assertEquals(terms[3], lossOnly(0, 0, 0, 1).score(data, false), 1e-10, "recon");
        // the official weights: task + 1.0 sim + 0.3 diff + 1.0 recon
        assertEquals(terms[0] + terms[1] + 0.3 * terms[2] + terms[3], lossOnly(1, 1, 0.3, 1).score(data, false), 1e-10);
    }

    /** Hand values: CMD of two 2-sample batches of one feature, a = (0, 2), b = (1, 1). */
    @Test
    void cmdByHand() {
        // means 1 and 1: 0; centred a = (-1, 1), b = (0, 0): k=2 |1 - 0| = 1, k=3 |0 - 0| = 0, k=4 |1 - 0| = 1
        // (norms carry a 1e-12 floor inside the square root: sqrt(1e-12) = 1e-6 for each zero difference)
        org.nd4j.autodiff.samediff.SameDiff sd = org.nd4j.autodiff.samediff.SameDiff.create();
        var a = sd.constant(Nd4j.create(new double[][]{{0}, {2}}));
        var b = sd.constant(Nd4j.create(new double[][]{{1}, {1}}));
        double v = MisaLoss.cmd(sd, a, b, 4).eval().getDouble(0);
        assertEquals(2.0 + 2e-6, v, 1e-9);
    }

    @Test
    void activationsAreTheSoftmaxOfTheHeadOutput() {
        INDArray in = fill(List.of(new long[]{B, C + 4 * M * H}), 0.4).get(0);
        INDArray out = lossOnly(1, 1, 0.3, 1).outputSingle(in);
        for (int i = 0; i < B; i++) {
            double[] e = new double[C];
            double sum = 0;
            for (int k = 0; k < C; k++) {
                e[k] = Math.exp(in.getDouble(i, k));
                sum += e[k];
            }
            for (int k = 0; k < C; k++) {
                assertEquals(e[k] / sum, out.getDouble(i, k), 1e-12);
            }
        }
    }

    /** x0..x2 -> Dense(tanh) each -> core -> (fused -> Dense logits) merged with the aux part -> loss. */
    private static ComputationGraph tinyNetwork(double task, double sim, double diff, double recon) {
        return tinyNetwork(task, sim, diff, recon, null);
    }

    /** With {@code fusion}, the logits read that operator over the per-modality [private; shared] vectors. */
    private static ComputationGraph tinyNetwork(double task, double sim, double diff, double recon,
                                                dev.mmspark.training.fusion.FusionOperator fusion) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(7).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder();
        String[] proj = new String[M];
        InputType[] types = new InputType[M];
        for (int m = 0; m < M; m++) {
            g.addInputs("x" + m);
            types[m] = InputType.feedForward(2 + m);
            proj[m] = "p" + m;
            g.addLayer(proj[m], new DenseLayer.Builder().nOut(H).activation(Activation.TANH).build(), "x" + m);
        }
        g.setInputTypes(types);
        long fused = MisaCore.fusedSize(M, H);
        long all = MisaCore.outputSize(M, H);
        g.addVertex("core", new MisaCore(M, H, HEADS, FF), proj)
                .addVertex("fused", new SubsetVertex(0, (int) fused - 1), "core")
                .addVertex("aux", new SubsetVertex((int) fused, (int) all - 1), "core");
        String headIn = fusion == null ? "fused"
                : MisaNetwork.fuseModalities(g, fusion, List.of("a", "b", "c").subList(0, M), null, H, "fused");
        g.addLayer("logits", new DenseLayer.Builder().nOut(C).activation(Activation.IDENTITY).build(), headIn)
                .addVertex("loss_in", new MergeVertex(), "logits", "aux")
                .addLayer("loss", new MisaLoss(M, H, C, false, 5, task, sim, diff, recon), "loss_in")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    private static final INDArray GRAD_LABELS = Nd4j.create(new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 0}});

    /**
     * One loss term alone: a dense layer (whose parameters the check perturbs) writes the loss layer's whole
     * input, so every column of z, u, hc, hp and r is exercised without the cost of the core.
     */
    private static boolean termGradientCheck(double task, double sim, double diff, double recon) {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(5).updater(new NoOp()).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("x").setInputTypes(InputType.feedForward(3))
                .addLayer("in", new DenseLayer.Builder().nOut(C + 4 * M * H).activation(Activation.SIGMOID).build(), "x")
                .addLayer("loss", new MisaLoss(M, H, C, false, 5, task, sim, diff, recon), "in")
                .setOutputs("loss").build());
        net.init();
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 3).subi(0.5).muli(4);
        return GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).inputs(new INDArray[]{x})
                .labels(new INDArray[]{GRAD_LABELS}).subset(true).maxPerParam(40));
    }

    @Test
    void gradientsOfEachLossTerm() {
        assertTrue(termGradientCheck(1, 0, 0, 0), "task loss");
        assertTrue(termGradientCheck(0, 1, 0, 0), "CMD similarity loss");
        assertTrue(termGradientCheck(0, 0, 1, 0), "difference loss");
        assertTrue(termGradientCheck(0, 0, 0, 1), "reconstruction loss");
    }

    /** The whole objective through the core: every core parameter array is perturbed (a subset of each). */
    @Test
    void gradientsThroughTheCore() {
        Nd4j.getRandom().setSeed(11);
        INDArray[] x = new INDArray[M];
        for (int m = 0; m < M; m++) {
            x[m] = Nd4j.rand(DataType.DOUBLE, 4, 2 + m).subi(0.5);
        }
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(tinyNetwork(1, 1, 0.3, 1)).inputs(x)
                .labels(new INDArray[]{GRAD_LABELS}).subset(true).maxPerParam(2)), "MISA objective, official weights");
    }

    /**
     * MISA's objective through a parametric final fusion (model.fusion = mlb, tiny sizes): the per-modality
     * grouping of the Transformer outputs and the operator pass every gradient back into the core.
     */
    @Test
    void gradientsThroughAFinalFusionOperator() {
        Nd4j.getRandom().setSeed(13);
        INDArray[] x = new INDArray[M];
        for (int m = 0; m < M; m++) {
            x[m] = Nd4j.rand(DataType.DOUBLE, 4, 2 + m).subi(0.5);
        }
        dev.mmspark.training.fusion.FusionOperator mlb = dev.mmspark.training.fusion.Fusions.operator(
                new dev.mmspark.training.fusion.FusionSpec("mlb", java.util.Map.of("mm_dim", 6, "output_dim", 4)));
        ComputationGraph net = tinyNetwork(1, 1, 0.3, 1, mlb);
        // MLB ends in a ReLU (Cadene's default activ_output); biases initialised at exactly 0 would put outputs on
        // its kink, where a finite difference is meaningless: move every fusion parameter off zero
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : net.getVertices()) {
            if (v.getVertexName().startsWith("misa_fusion") && v.numParams() > 0) {
                for (INDArray p : v.paramTable(false).values()) {
                    p.addi(Nd4j.rand(DataType.DOUBLE, p.shape()).subi(0.5).muli(0.4));
                }
            }
        }
        assertEquals(List.of("misa_private_b", "misa_shared_b"), net.getConfiguration().getVertexInputs()
                .get("misa_modality_b"));
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).inputs(x)
                .labels(new INDArray[]{GRAD_LABELS}).subset(true).maxPerParam(1)), "MISA objective with an MLB fusion");
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        ComputationGraphConfiguration conf = tinyNetwork(1, 1, 0.3, 1).getConfiguration();
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
    }
}
