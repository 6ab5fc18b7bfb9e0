package dev.mmspark.training.fusion;

import dev.mmspark.training.layers.ExternalErrorsFix;
import dev.mmspark.training.layers.SerialCopy;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The DL4J graph vertex of a parametric fusion operator: N modality vectors {@code x_m} ([batch, d_m]) in, one
 * fused vector ([batch, outputSize]) out, written in SameDiff so that DL4J differentiates it and the
 * configuration travels as JSON (Jackson serialises the fields of the concrete class; every subclass has a
 * no-argument constructor for that).
 *
 * <p>Parameters are named {@code W...} (weights: L1/L2 apply) or {@code b...} (biases). Weights start at
 * N(0, 2/(fan_in + fan_out)) (Glorot), biases at 0, unless a subclass says otherwise. The output goes through
 * {@link ExternalErrorsFix} (ND4J M2.1 doubles a SameDiff vertex's gradients otherwise).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public abstract class FusionVertex extends SameDiffVertex {

    /** d_m, the size of each input, in the model's modality order. */
    protected int[] inputSizes;

    /**
     * Whether the vertex takes, after the N modality vectors, N presence masks p_m ([batch, 1], 1 = present):
     * then it fuses x_m p_m and passes the masks to {@link #fuse(SameDiff, List, List, Map)}. False in models
     * saved before masks existed (the field is absent from their JSON).
     */
    protected boolean presenceInputs;

    protected FusionVertex() {
    }

    protected FusionVertex(int[] inputSizes) {
        this.inputSizes = inputSizes.clone();
    }

    public int[] getInputSizes() {
        return inputSizes.clone();
    }

    /** This vertex, taking presence masks after the modality vectors or not. */
    public FusionVertex withPresenceInputs(boolean presence) {
        this.presenceInputs = presence;
        return this;
    }

    public boolean hasPresenceInputs() {
        return presenceInputs;
    }

    /** The size of the fused vector. */
    public abstract int outputSize();

    /** Declares the parameters (the inputs are declared by the base class). */
    protected abstract void defineParameters(SDVertexParams params);

    /** The fused vector of {@code xs} (one [batch, d_m] variable per modality). */
    protected abstract SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> params);

    /**
     * The fused vector with presence masks {@code ps} ([batch, 1] each); {@code xs} are already multiplied by them.
     * By default the operator's own computation on those zeroed vectors; operators that can leave a missing
     * modality out override it.
     */
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, List<SDVariable> ps, Map<String, SDVariable> params) {
        return fuse(sd, xs, params);
    }

    /** Name of the i-th input of the vertex. */
    protected static String inputName(int i) {
        return "x" + i;
    }

    /** Name of the i-th presence mask input. */
    protected static String presenceName(int i) {
        return "p" + i;
    }

    @Override
    public final void defineParametersAndInputs(SDVertexParams params) {
        int n = inputSizes.length;
        String[] names = new String[presenceInputs ? 2 * n : n];
        for (int i = 0; i < n; i++) {
            names[i] = inputName(i);
            if (presenceInputs) {
                names[n + i] = presenceName(i);
            }
        }
        params.defineInputs(names);
        defineParameters(params);
    }

    @Override
    public final SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> layerInput,
                                         Map<String, SDVariable> paramTable, Map<String, SDVariable> maskVars) {
        List<SDVariable> xs = new ArrayList<>();
        for (int i = 0; i < inputSizes.length; i++) {
            xs.add(layerInput.get(inputName(i)));
        }
        if (!presenceInputs) {
            return ExternalErrorsFix.output(sd, fuse(sd, xs, paramTable));
        }
        List<SDVariable> ps = new ArrayList<>();
        List<SDVariable> masked = new ArrayList<>();
        for (int i = 0; i < inputSizes.length; i++) {
            SDVariable p = layerInput.get(presenceName(i));
            ps.add(p);
            masked.add(xs.get(i).mul(p));
        }
        return ExternalErrorsFix.output(sd, fuse(sd, masked, ps, paramTable));
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            if (e.getKey().startsWith("b")) {
                p.assign(0.0);
            } else {
                long fanIn = p.rank() >= 2 ? p.size(0) : 1;
                long fanOut = p.length() / fanIn;
                double std = Math.sqrt(2.0 / (fanIn + fanOut));
                p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(std));
            }
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        int n = inputSizes.length;
        if (vertexInputs.length != (presenceInputs ? 2 * n : n)) {
            throw new IllegalStateException(getClass().getSimpleName() + " expects " + n + " inputs"
                    + (presenceInputs ? " and " + n + " presence masks" : "") + ", got " + vertexInputs.length);
        }
        for (int i = n; i < vertexInputs.length; i++) {
            if (vertexInputs[i].getType() != InputType.Type.FF || vertexInputs[i].arrayElementsPerExample() != 1) {
                throw new IllegalStateException(getClass().getSimpleName() + " presence mask " + (i - n)
                        + ": expected a feed-forward vector of size 1, got " + vertexInputs[i]);
            }
        }
        for (int i = 0; i < n; i++) {
            long size = vertexInputs[i].arrayElementsPerExample();
            if (vertexInputs[i].getType() != InputType.Type.FF || size != inputSizes[i]) {
                throw new IllegalStateException(getClass().getSimpleName() + " input " + i + ": expected a "
                        + "feed-forward vector of size " + inputSizes[i] + ", got " + vertexInputs[i]);
            }
        }
        return InputType.feedForward(outputSize());
    }

    /**
     * A fused vector is one per sample: no mask goes further down. (SameDiffVertex's own version throws "Not yet
     * supported" as soon as the network has any mask, e.g. the multitask model's text and label masks.)
     */
    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                          int minibatchSize) {
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public int minVertexInputs() {
        return presenceInputs ? 2 * inputSizes.length : inputSizes.length;
    }

    @Override
    public int maxVertexInputs() {
        return minVertexInputs();
    }

    // ------------------------------------------------------------------ shared building blocks

    /** x W + b. */
    protected static SDVariable linear(SDVariable x, SDVariable w, SDVariable b) {
        SDVariable y = x.mmul(w);
        return b == null ? y : y.add(b);
    }

    protected static SDVariable relu(SameDiff sd, SDVariable x) {
        return sd.nn.relu(x, 0.0);
    }

    /**
     * The power normalisation and L2 normalisation of the bilinear-pooling papers (Fukui et al. 2016; Ben-younes
     * et al. 2019, "pos_norm"): z -> sign(z) sqrt|z|, then z / ||z||. The signed square root is computed as
     * z / sqrt(|z| + 1e-12), which differs from sign(z) sqrt|z| by a relative 1e-12/(2|z|) and, unlike it, has a
     * finite derivative at 0 (a ReLU'd product is often exactly 0); the norm is floored at 1e-12 as in
     * {@code F.normalize}.
     */
    protected static SDVariable powerL2Normalise(SameDiff sd, SDVariable z) {
        SDVariable root = z.div(sd.math.sqrt(sd.math.abs(z).add(1e-12)));
        SDVariable norm = sd.math.sqrt(root.mul(root).sum(true, 1).add(1e-24));
        return root.div(norm);
    }

    /** The element-wise product of all {@code vs}. */
    protected static SDVariable product(List<SDVariable> vs) {
        SDVariable p = vs.get(0);
        for (int i = 1; i < vs.size(); i++) {
            p = p.mul(vs.get(i));
        }
        return p;
    }

    // ------------------------------------------------------------------ GraphVertex boilerplate

    @Override
    public GraphVertex clone() {
        return SerialCopy.of(this);
    }

    /** The configuration fields of the concrete class (those Jackson writes). */
    private List<Object> settings() {
        List<Object> values = new ArrayList<>();
        for (Class<?> c = getClass(); c != SameDiffVertex.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || Modifier.isTransient(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    values.add(f.get(this));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        return Arrays.deepEquals(settings().toArray(), ((FusionVertex) o).settings().toArray());
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass().getName(), Arrays.deepHashCode(settings().toArray()));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + Arrays.deepToString(settings().toArray());
    }
}
