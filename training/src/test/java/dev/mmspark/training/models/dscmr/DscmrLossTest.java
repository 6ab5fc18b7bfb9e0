package dev.mmspark.training.models.dscmr;

import dev.mmspark.training.layers.GradientChecks;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DSCMR losses against values computed by hand and by the reference code's formulas, and DL4J gradient
 * checks of each term through the whole network (subnetworks, the shared layer, the stack/unstack plumbing).
 */
class DscmrLossTest {

    /*
     * The 3-sample case (d = 2, C = 2): u image and v text common-space rows, classes 0, 0, 1, classifier
     * P = 0.5 I, c = (0.1, -0.1). Reference values from src/test/resources/dscmr/dscmr_loss_reference.py, the
     * reference code's calc_loss transcribed to NumPy. Two terms by hand:
     *   J3 = (||u1-v1|| + ||u2-v2|| + ||u3-v3||) / 3 = (||(-1,0)|| + ||(-1,1)|| + ||(-1,2)||) / 3
     *      = (1 + sqrt 2 + sqrt 5) / 3 = 1.550093846624295
     *   J1: P'u + c - y = (-0.4,-0.1), (-0.9,0.9), (-0.4,-0.6);  P'v + c - y = (0.1,-0.1), (-0.4,0.4), (0.1,-1.6)
     *      = (sqrt .17 + sqrt 1.62 + sqrt .52) / 3 + (sqrt .02 + sqrt .32 + sqrt 2.57) / 3 = 1.572147253055012
     */
    private static final double[][] PAIRS = {
            {1, 0, 2, 0, 1},
            {0, 2, 1, 1, 1},
            {-1, 1, 0, -1, 1}};
    private static final double[][] LABELS = {{1, 0}, {1, 0}, {0, 1}};
    private static final double J1 = 1.572147253055012;
    private static final double J2 = 1.787587070154730;
    private static final double J3 = 1.550093846624295;

    /** input [B, 5] -> loss layer, with the classifier set to P = 0.5 I, c = (0.1, -0.1). */
    private static ComputationGraph lossOnly(double w, double alpha, double beta) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("pair").setInputTypes(InputType.feedForward(5))
                .addLayer("dscmr", new DscmrLoss(2, 2, w, alpha, beta), "pair").setOutputs("dscmr").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        // assigned through the parameter views: DL4J M2.1's SameDiffOutputLayer.setParam checks the shape only
        net.getLayer("dscmr").getParam(DscmrLoss.WEIGHT).assign(Nd4j.create(new double[][]{{0.5, 0}, {0, 0.5}}));
        net.getLayer("dscmr").getParam(DscmrLoss.BIAS).assign(Nd4j.create(new double[][]{{0.1, -0.1}}));
        return net;
    }

    private static double score(ComputationGraph net, double[][] input, double[][] labels) {
        return net.score(new MultiDataSet(Nd4j.create(input), Nd4j.create(labels)), false);
    }

    @Test
    void eachTermMatchesTheReferenceCode() {
        assertEquals(J1, score(lossOnly(1, 0, 0), PAIRS, LABELS), 1e-9);
        assertEquals(J2, score(lossOnly(0, 1, 0), PAIRS, LABELS), 1e-9);
        assertEquals(J3, score(lossOnly(0, 0, 1), PAIRS, LABELS), 1e-9);
        // the reference weights: J1 + 1e-3 J2 + 0.1 J3
        assertEquals(1.728944224787596, score(lossOnly(1, 1e-3, 0.1), PAIRS, LABELS), 1e-9);
    }

    @Test
    void activationsAreTheClassifierOutputsAveragedOverTheModalities() {
        INDArray out = lossOnly(1, 1e-3, 0.1).outputSingle(Nd4j.create(PAIRS));
        assertArrayEquals(new double[]{0.85, -0.1}, out.getRow(0).toDoubleVector(), 1e-12);
        assertArrayEquals(new double[]{0.35, 0.65}, out.getRow(1).toDoubleVector(), 1e-12);
        assertArrayEquals(new double[]{-0.15, -0.1}, out.getRow(2).toDoubleVector(), 1e-12);
    }

    /**
     * Rows without the pair flag take no part: two extra rows, one of them all zeros (what an absent
     * modality's representation can be), leave the loss of the three pairs unchanged -- DL4J divides by the
     * minibatch of 5, the layer multiplies by it -- and the gradient finite.
     */
    @Test
    void unpairedRowsChangeNothing() {
        double[][] withUnpaired = {PAIRS[0], PAIRS[1], {5, -3, 0.2, 7, 0}, PAIRS[2], {0, 0, 0, 0, 0}};
        double[][] labels = {LABELS[0], LABELS[1], {0, 1}, LABELS[2], {1, 0}};
        for (double[] w : new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}) {
            ComputationGraph net = lossOnly(w[0], w[1], w[2]);
            assertEquals(score(net, PAIRS, LABELS), score(net, withUnpaired, labels), 1e-12);
        }
        ComputationGraph net = lossOnly(1, 1e-3, 0.1);
        net.setInputs(Nd4j.create(withUnpaired));
        net.setLabels(Nd4j.create(labels));
        net.computeGradientAndScore();
        for (double g : net.gradient().gradient().toDoubleVector()) {
            assertTrue(Double.isFinite(g), "finite gradient");
        }
    }

    @Test
    void noPairAtAllGivesZeroLoss() {
        assertEquals(0.0, score(lossOnly(1, 1e-3, 0.1), new double[][]{{1, 2, 3, 4, 0}}, new double[][]{{1, 0}}),
                1e-15);
    }

    /**
     * Each term alone on the smallest graph that gives u and v parameters: x [5, 3] -> linear [5, 4] = (u, v),
     * merged with the pair flags -> loss. Three pairs, an unpaired row and an unpaired all-zero row.
     */
    private static boolean termGradientCheck(double w, double alpha, double beta) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(5)
                .updater(new org.nd4j.linalg.learning.config.NoOp()).graphBuilder().addInputs("x", "flag")
                .setInputTypes(InputType.feedForward(3), InputType.feedForward(1))
                .addLayer("uv", new DenseLayer.Builder().nOut(4).activation(Activation.IDENTITY).build(), "x")
                .addVertex("pair", new MergeVertex(), "uv", "flag")
                .addLayer("dscmr", new DscmrLoss(2, 3, w, alpha, beta), "pair").setOutputs("dscmr").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        Nd4j.getRandom().setSeed(12);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 3).subi(0.5);
        x.getRow(4).assign(0);
        net.getLayer("uv").getParam("b").assign(0); // so that the all-zero row gives u = v = 0 exactly
        INDArray flag = Nd4j.create(new double[][]{{1}, {1}, {0}, {1}, {0}});
        return GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).inputs(new INDArray[]{x, flag})
                .labels(new INDArray[]{LABELS_3}));
    }

    private static final INDArray LABELS_3 = Nd4j.create(new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 1, 0}, {1, 0, 0},
            {0, 0, 1}});

    /**
     * The whole DSCMR network with the reference weights: subnetworks, the shared layer (whose gradient sums
     * both modalities' through the stack/unstack vertices) and the loss. Image [5, 6], text [5, 4]: three pairs,
     * a text-only and an image-only sample (absent modality all zeros, as the batch builder gives it).
     */
    @Test
    void wholeNetworkWithTheReferenceWeightsPassesGradientCheck() {
        // 57 parameters: every one is perturbed, and each score is a SameDiff forward pass (~10 ms)
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.vectors(), """
                common_dim = 2
                image { hidden = [3] }
                text { hidden = [2, 3] }
                """);
        ComputationGraph net = new ComputationGraph(DscmrNetwork.build(spec, DscmrFixtures.gradientCheck()));
        net.init();
        // DL4J starts biases at 0: a row whose ReLU inputs are all dead then sits exactly on the next ReLU's
        // kink, where central differences and backprop legitimately disagree
        for (String layer : List.of("image_fc1", "text_fc1", "text_fc2", "common")) {
            net.getLayer(layer).getParam("b").assign(0.1);
        }
        Nd4j.getRandom().setSeed(12);
        INDArray image = Nd4j.rand(DataType.DOUBLE, 5, DscmrFixtures.IMAGE_DIM).subi(0.5);
        INDArray text = Nd4j.rand(DataType.DOUBLE, 5, DscmrFixtures.TEXT_DIM).subi(0.5);
        image.getRow(3).assign(0);
        text.getRow(4).assign(0);
        INDArray flag = Nd4j.create(new double[][]{{1}, {1}, {1}, {0}, {0}});
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{image, text, flag}).labels(new INDArray[]{LABELS_3})));
    }

    @Test
    void labelSpaceLossPassesGradientCheck() {
        assertTrue(termGradientCheck(1, 0, 0));
    }

    @Test
    void commonSpaceDiscriminationLossPassesGradientCheck() {
        assertTrue(termGradientCheck(0, 1, 0));
    }

    @Test
    void modalityInvarianceLossPassesGradientCheck() {
        assertTrue(termGradientCheck(0, 0, 1));
    }
}
