package dev.mmspark.training.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExternalErrorsFixTest {

    /** y = w * sum_t x_t, a SameDiff layer with one parameter, with or without the correction. */
    public static class ScaledSum extends SameDiffLayer {
        private boolean corrected;

        protected ScaledSum() {
        }

        ScaledSum(boolean corrected) {
            this.corrected = corrected;
        }

        @Override
        public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
            SDVariable y = input.sum(2).mul(params.get("w"));
            return corrected ? ExternalErrorsFix.output(sd, y) : y;
        }

        @Override
        public void defineParameters(SDLayerParams params) {
            params.addWeightParam("w", 1, 1);
        }

        @Override
        public void initializeParameters(Map<String, INDArray> params) {
            params.get("w").assign(3.0);
        }

        @Override
        public InputType getOutputType(int layerIndex, InputType inputType) {
            return InputType.feedForward(((InputType.InputTypeRecurrent) inputType).getSize());
        }

        @Override
        public void setNIn(InputType inputType, boolean override) {
        }
    }

    private static Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backprop(boolean corrected, INDArray x,
                                                                                  INDArray error) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("x").setInputTypes(InputType.recurrent(2, RNNFormat.NCW))
                .addLayer("sum", new ScaledSum(corrected), "x").setOutputs("sum").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        net.initGradientsView();
        org.deeplearning4j.nn.api.Layer layer = net.getLayer("sum");
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(x, mgr);
        layer.activate(true, mgr);
        return layer.backpropGradient(error, mgr);
    }

    /** dL/dx_t = w e and dL/dw = e . sum_t x_t, by hand. */
    @Test
    void correctedLayerHasExactGradients() {
        INDArray x = Nd4j.create(new double[][][]{{{1, 2, 3}, {0.5, 0.5, -1}}});
        INDArray error = Nd4j.create(new double[][]{{1, 10}});
        Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> g = backprop(true, x, error);
        assertArrayEquals(new double[]{3, 3, 3, 30, 30, 30}, g.getSecond().ravel().toDoubleVector(), 1e-12);
        assertEquals(1 * 6 + 10 * 0.0, g.getFirst().getGradientFor("w").getDouble(0), 1e-12);
        // what ND4J gives without the correction: the factor this JVM measured (2 on 1.0.0-M2.1)
        Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> raw = backprop(false, x, error);
        assertEquals(3 * ExternalErrorsFix.factor(), raw.getSecond().getDouble(0, 0, 0), 1e-12);
    }

    @Test
    void correctionPassesGradientCheckBelowTheLayer() {
        Nd4j.getRandom().setSeed(3);
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(3).updater(new NoOp()).graphBuilder().addInputs("x")
                .setInputTypes(InputType.recurrent(3, RNNFormat.NCW))
                .addLayer("conv", new Convolution1DLayer.Builder().kernelSize(2).nOut(2)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build(), "x")
                .addLayer("sum", new ScaledSum(true), "conv")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "sum")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        INDArray labels = Nd4j.create(new double[][]{{1, 0}, {0, 1}});
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{Nd4j.rand(DataType.DOUBLE, 2, 3, 4)}).labels(new INDArray[]{labels})));
    }
}
