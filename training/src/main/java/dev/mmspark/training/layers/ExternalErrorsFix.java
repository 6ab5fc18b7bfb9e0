package dev.mmspark.training.layers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.util.SameDiffUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.api.ops.impl.layers.ExternalErrorsFunction;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Corrects the gradient that DL4J's SameDiff layers and vertices receive from the rest of the network.
 *
 * <p>DL4J runs a {@code SameDiffLayer} or {@code SameDiffVertex} inside the network by attaching an
 * {@code ExternalErrorsFunction} to the layer's output and feeding the incoming error dL/dy as a
 * placeholder. In ND4J 1.0.0-M2.1 the gradient function built for that graph adds the placeholder to
 * itself ({@code add = AddOp(y-grad, y-grad)} in {@code sd.getFunction("grad").summary()}), so every
 * gradient computed inside such a layer -- its parameters' and dL/dx handed to the layers below -- is
 * exactly twice the true value. {@code MaskedGlobalPoolingTest} shows it: without this correction DL4J's
 * gradient check fails with analytic = 2 x numerical on every parameter below the layer.
 *
 * <p>The factor is measured once per JVM (driver and executors alike) on a one-op graph built exactly the
 * way DL4J builds it, so an ND4J release that fixes the bug measures 1 and the correction disappears
 * instead of halving correct gradients. Every SameDiff layer/vertex of this project returns
 * {@link #output(SameDiff, SDVariable)} of its result: forward it is the identity
 * ({@code y/2 + stop_gradient(y)/2 = y} exactly), backward it scales the incoming error by 1/factor.
 * {@code SameDiffOutputLayer} computes its loss inside SameDiff and does not use external errors; it does
 * not need the correction.
 */
public final class ExternalErrorsFix {
    private static final Logger LOG = LoggerFactory.getLogger(ExternalErrorsFix.class);

    private static final double FACTOR = measure();

    private ExternalErrorsFix() {
    }

    /** How much ND4J scales external errors on this JVM (2 on 1.0.0-M2.1, 1 when correct). */
    public static double factor() {
        return FACTOR;
    }

    /** The layer output to return from {@code defineLayer}/{@code defineVertex}. */
    public static SDVariable output(SameDiff sd, SDVariable y) {
        if (FACTOR == 1.0) {
            return y;
        }
        SDVariable frozen = new StopGradient(sd, y).outputVariable();
        double keep = 1.0 / FACTOR;
        return y.mul(keep).add(frozen.mul(1.0 - keep));
    }

    /** dL/dx of {@code y = sum_t x_t} for a given dL/dy, computed the way DL4J's SameDiffLayer does. */
    private static double measure() {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("input", DataType.DOUBLE, -1, 2);
        SDVariable out = in.sum(1);
        ExternalErrorsFunction fn = SameDiffUtils.externalErrors(sd, null, out);
        fn.outputVariable();
        sd.createGradFunction("input");
        INDArray x = Nd4j.create(new double[][]{{0.5, -1.5}});
        INDArray error = Nd4j.create(new double[]{3.0});
        Map<String, INDArray> grads = sd.calculateGradients(
                Map.of("input", x, fn.getGradPlaceholderName(), error), List.of("input"));
        double factor = grads.get("input").getDouble(0, 0) / 3.0;
        if (Math.abs(factor - 1.0) > 1e-9 && Math.abs(factor - 2.0) > 1e-9) {
            throw new IllegalStateException("ND4J scales the external errors of SameDiff layers by " + factor
                    + "; expected 1 (correct) or 2 (the known 1.0.0-M2.1 bug). SameDiff layers would train wrongly");
        }
        if (factor != 1.0) {
            LOG.debug("ND4J doubles the external errors of SameDiff layers; correcting by 1/{}", factor);
        }
        return Math.rint(factor);
    }
}
