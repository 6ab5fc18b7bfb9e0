package dev.mmspark.training.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs DL4J's {@link GradientCheckUtil} the way DL4J's own tests do: double precision, central differences
 * with epsilon 1e-6, relative error at most 1e-5 unless both gradients are below 1e-9 in absolute value.
 * GradientCheckUtil insists on double as the global default data type; it is restored afterwards because
 * all tests of the module share one JVM.
 */
public final class GradientChecks {
    private GradientChecks() {
    }

    public static boolean check(GradientCheckUtil.GraphConfig config) {
        DataType floats = Nd4j.defaultFloatingPointType();
        DataType data = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            return GradientCheckUtil.checkGradients(config.epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                    .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        } finally {
            Nd4j.setDefaultDataTypes(data, floats);
        }
    }
}
