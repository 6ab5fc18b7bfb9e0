package dev.mmspark.training.layers;

import dev.mmspark.training.layers.MaskedGlobalPooling.Statistic;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MaskedGlobalPoolingTest {

    private static ComputationGraph poolingOnly(int channels) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE)
                .graphBuilder()
                .addInputs("x")
                .setInputTypes(InputType.recurrent(channels, RNNFormat.NCW))
                .addLayer("pool", new MaskedGlobalPooling(List.of(Statistic.MAX, Statistic.AVG, Statistic.MIN)), "x")
                .setOutputs("pool")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** Hand values: sample 0 has 3 valid steps of 4, sample 1 none (an absent modality). */
    @Test
    void poolsOnlyValidStepsAndGivesZerosForEmptySamples() {
        ComputationGraph net = poolingOnly(2);
        INDArray x = Nd4j.create(new double[][][]{
                {{1, 5, -2, 9}, {0, -3, 4, 7}},
                {{3, 3, 3, 3}, {-1, -1, -1, -1}}});
        INDArray mask = Nd4j.create(new double[][]{{1, 1, 1, 0}, {0, 0, 0, 0}});
        INDArray out = net.output(false, new INDArray[]{x}, new INDArray[]{mask})[0];
        // max of (1,5,-2) and (0,-3,4); mean; min -- the padded 9 and 7 must not appear
        assertArrayEquals(new double[]{5, 4, 4.0 / 3, 1.0 / 3, -2, -3}, out.getRow(0).toDoubleVector(), 1e-12);
        assertArrayEquals(new double[6], out.getRow(1).toDoubleVector(), 0.0);
    }

    @Test
    void resultDoesNotDependOnPaddedLength() {
        ComputationGraph net = poolingOnly(3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 1, 3, 4);
        INDArray longer = Nd4j.concat(2, x, Nd4j.rand(DataType.DOUBLE, 1, 3, 5).muli(100));
        INDArray mask = Nd4j.ones(DataType.DOUBLE, 1, 4);
        INDArray longerMask = Nd4j.concat(1, mask, Nd4j.zeros(DataType.DOUBLE, 1, 5));
        INDArray a = net.output(false, new INDArray[]{x}, new INDArray[]{mask})[0];
        INDArray b = net.output(false, new INDArray[]{longer}, new INDArray[]{longerMask})[0];
        assertEquals(a, b);
    }

    @Test
    void withoutMaskEveryStepIsValid() {
        ComputationGraph net = poolingOnly(1);
        INDArray x = Nd4j.create(new double[][][]{{{2, -4, 8}}});
        INDArray out = net.output(x)[0];
        assertArrayEquals(new double[]{8, 2, -4}, out.toDoubleVector(), 1e-12);
    }

    @Test
    void gradientsAreCorrectUnderMasks() {
        Nd4j.getRandom().setSeed(12345);
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE)
                .seed(12345)
                .updater(new NoOp())
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("x")
                .setInputTypes(InputType.recurrent(3, RNNFormat.NCW))
                .addLayer("conv", new Convolution1DLayer.Builder().kernelSize(2).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build(), "x")
                .addLayer("pool", new MaskedGlobalPooling(List.of(Statistic.MAX, Statistic.AVG, Statistic.MIN)),
                        "conv")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        int mb = 4;
        INDArray x = Nd4j.rand(DataType.DOUBLE, mb, 3, 5);
        INDArray mask = Nd4j.create(new double[][]{{1, 1, 1, 1, 1}, {1, 1, 0, 0, 0}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}});
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, mb, 3);
        for (int i = 0; i < mb; i++) {
            labels.putScalar(i, i % 3, 1.0);
        }
        boolean ok = GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{x}).labels(new INDArray[]{labels}).inputMask(new INDArray[]{mask}));
        assertTrue(ok, "gradient check of masked max/avg/min pooling");
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        ComputationGraphConfiguration conf = poolingOnly(5).getConfiguration();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        assertEquals(new MaskedGlobalPooling(List.of(Statistic.MAX)).getStatistics(), List.of(Statistic.MAX));
    }
}
