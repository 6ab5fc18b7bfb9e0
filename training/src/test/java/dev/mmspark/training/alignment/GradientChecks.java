package dev.mmspark.training.alignment;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.validation.GradCheckUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient checks in double precision with central differences, as DL4J's own GradientCheckUtil: relative error
 * |a − n| / (|a| + |n|) below {@link #MAX_REL_ERROR}, or absolute error below {@link #MIN_ABS_ERROR}.
 */
final class GradientChecks {
    static final double EPS = 1e-6;
    static final double MAX_REL_ERROR = 1e-5;
    static final double MIN_ABS_ERROR = 1e-8;

    private GradientChecks() {
    }

    /** Checks every value of every variable of {@code sd} against the scalar variable named "loss". */
    static void assertGradientsMatch(SameDiff sd, String what) {
        assertGradientsMatch(sd, what, 0);
    }

    /**
     * Checks every variable of {@code sd} against the scalar variable named "loss", at most {@code perVariable}
     * randomly chosen values of each (0: all). Whole model heads have thousands of values and every numerical
     * derivative costs two forward passes, so they are checked on a sample of every parameter.
     */
    static void assertGradientsMatch(SameDiff sd, String what, int perVariable) {
        assertEquals(DataType.DOUBLE, Nd4j.dataType(), "gradient checks need double precision");
        sd.setLossVariables("loss");
        if (perVariable <= 0) {
            boolean ok = GradCheckUtil.checkGradients(sd, Map.of(), EPS, MAX_REL_ERROR, MIN_ABS_ERROR, false, false,
                    false, false, null, null, -1, null);
            assertTrue(ok, what + ": analytic and numerical gradients differ (set org.nd4j.autodiff to INFO to see"
                    + " which)");
            return;
        }
        // A sample of every variable, with the graph's output cache left on (GradCheckUtil turns it off, which
        // makes each of the many forward passes of a whole model head several times slower).
        java.util.List<String> vars = new java.util.ArrayList<>();
        for (org.nd4j.autodiff.samediff.SDVariable v : sd.variables()) {
            if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE && v.dataType().isFPType()) {
                vars.add(v.name());
            }
        }
        Map<String, org.nd4j.linalg.api.ndarray.INDArray> grads = sd.calculateGradients(Map.of(), vars);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(vars.size());
        for (String name : vars) {
            org.nd4j.linalg.api.ndarray.INDArray arr = sd.getVariable(name).getArr();
            org.nd4j.linalg.api.ndarray.INDArray flat = arr.reshape(arr.length());
            org.nd4j.linalg.api.ndarray.INDArray g = grads.get(name).dup().reshape(arr.length());
            for (int t = 0; t < Math.min(perVariable, arr.length()); t++) {
                long i = rng.nextLong(arr.length());
                double orig = flat.getDouble(i);
                flat.putScalar(i, orig + EPS);
                double plus = sd.output(Map.of(), "loss").get("loss").getDouble(0);
                flat.putScalar(i, orig - EPS);
                double minus = sd.output(Map.of(), "loss").get("loss").getDouble(0);
                flat.putScalar(i, orig);
                double numeric = (plus - minus) / (2 * EPS);
                double analytic = g.getDouble(i);
                double abs = Math.abs(numeric - analytic);
                double rel = abs / (Math.abs(numeric) + Math.abs(analytic));
                assertTrue(abs < MIN_ABS_ERROR || rel < MAX_REL_ERROR, what + ": " + name + "[" + i + "] analytic "
                        + analytic + ", numeric " + numeric + " (relative error " + rel + ")");
            }
        }
    }

    /** A scalar function of a parameter set (for the plain-Java GAT). */
    interface Objective {
        double value(ParamSet p);
    }

    /**
     * Central differences for every value of the named parameters of {@code p} (float32 storage, so the
     * step is larger and the tolerance looser than for the double SameDiff checks).
     */
    static void assertGradientsMatch(Objective f, ParamSet p, ParamSet analytic, String what, double step,
                                     double maxRel, double minAbs) {
        for (String name : p.names()) {
            float[] v = p.get(name);
            float[] g = analytic.get(name);
            for (int i = 0; i < v.length; i++) {
                float orig = v[i];
                v[i] = (float) (orig + step);
                double plus = f.value(p);
                v[i] = (float) (orig - step);
                double minus = f.value(p);
                double h = ((double) (float) (orig + step) - (double) (float) (orig - step));
                v[i] = orig;
                double numeric = (plus - minus) / h;
                double abs = Math.abs(numeric - g[i]);
                double rel = abs / (Math.abs(numeric) + Math.abs(g[i]));
                assertTrue(abs < minAbs || rel < maxRel, what + ": " + name + "[" + i + "] analytic " + g[i]
                        + " numeric " + numeric + " (rel " + rel + ")");
            }
        }
    }
}
