package dev.mmspark.training.models.tfrnet;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.nd4j.autodiff.samediff.SDIndex;
import dev.mmspark.training.layers.CentralMomentDiscrepancy;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The TFR-Net objective (Yuan et al., ACM MM 2021; term by term as in {@code thuiar/TFR-Net},
 * {@code models/missingTask/TFR_NET/model.py} {@code RECLoss} and {@code trains/missingTask/TFR_NET.py}) as one
 * SameDiff output layer:
 * <pre>
 *   L       = L_task + sum_m w_m L_rec,m
 *   L_task  = -(1/B) sum_i log softmax(z_i)[y_i]   (classification)  or  (1/B) sum_i |z_i - y_i|  (regression:
 *             the official nn.L1Loss)
 *   L_rec,m = [ sum_{i,t,c} SmoothL1(q_itc (r_itc - x_itc)) + lambda CMD_3(q r, q x) ] / (D_m sum_{i,t} q_it + 1e-4)
 *   SmoothL1(e) = e^2 / 2 if |e| &lt; 1 else |e| - 1/2       (PyTorch's, beta 1, reduction sum)
 *   CMD_3(a, b) = ||E a - E b|| + sum_{k=2,3} ||E (a - E a)^k - E (b - E b)^k||   over the B T_m rows of D_m values
 * </pre>
 * q_it = 1 where position t of sample i is real and was dropped from the damaged copy (the official
 * {@code mask - missing_mask}), r the generator's reconstruction, x the complete sequence; so only dropped positions
 * are reconstructed, and the loss is the mean SmoothL1 per dropped value. lambda is {@code loss.cmd} (official
 * {@code weight_sim_loss}; unset for MOSI, i.e. 0), w_m {@code loss.recon} (official MOSI (5, 2, 20)). Norms are
 * sqrt(sum of squares + 1e-12), as the official {@code matchnorm}.
 *
 * <p>Input {@code [B, O + sum_m (2 T_m D_m + T_m)]}: the head's output z (O = classes, or 1), then per modality r,
 * x (flattened position-major) and q, as written by {@link TfrNetCore}. Activations: softmax(z) or z.
 *
 * <p>Deviation: the official trainer adds the reconstruction loss only from the second epoch on; this layer has
 * no notion of epochs and always adds it. {@code defineLayer} returns B x L, because DL4J divides an output
 * layer's score by the minibatch size (as {@code MisaLoss}).
 */
public class TfrNetLoss extends SameDiffOutputLayer {
    public static final String ACTIVATIONS = "tfrnet_out";
    static final double COUNT_EPSILON = 1e-4;
    static final int CMD_MOMENTS = 3;

    private int[] dims;
    private int[] steps;
    private int outputs;
    private boolean regression;
    private double taskWeight;
    private double[] reconWeights;
    private double cmdWeight;

    /** For JSON deserialisation. */
    protected TfrNetLoss() {
    }

    /**
     * @param taskWeight   weight of the task loss: 1 in TFR-Net (other values isolate terms in tests)
     * @param reconWeights w_m per modality
     * @param cmdWeight    lambda, the CMD term's weight inside each reconstruction loss
     */
    public TfrNetLoss(int[] dims, int[] steps, int outputs, boolean regression, double taskWeight,
                      double[] reconWeights, double cmdWeight) {
        if (dims.length < 1 || dims.length != steps.length || dims.length != reconWeights.length
                || (regression ? outputs != 1 : outputs < 2)) {
            throw new IllegalArgumentException("TFR-Net loss needs one size, length and weight per modality and "
                    + (regression ? "1 output" : ">= 2 classes") + "; found dims=" + Arrays.toString(dims) + " steps="
                    + Arrays.toString(steps) + " weights=" + Arrays.toString(reconWeights) + " outputs=" + outputs);
        }
        if (!(taskWeight >= 0 && cmdWeight >= 0 && Arrays.stream(reconWeights).allMatch(w -> w >= 0))) {
            throw new IllegalArgumentException("TFR-Net loss weights must be >= 0");
        }
        this.dims = dims.clone();
        this.steps = steps.clone();
        this.outputs = outputs;
        this.regression = regression;
        this.taskWeight = taskWeight;
        this.reconWeights = reconWeights.clone();
        this.cmdWeight = cmdWeight;
    }

    long inputSize() {
        long n = outputs;
        for (int m = 0; m < dims.length; m++) {
            n += 2L * steps[m] * dims[m] + steps[m];
        }
        return n;
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> params) {
        SDVariable z = input.get(SDIndex.all(), SDIndex.interval(0L, (long) outputs));
        SDVariable batch = sd.onesLike(z.get(SDIndex.all(), SDIndex.point(0))).sum();        // B as a scalar
        SDVariable task;
        if (regression) {
            z.add(ACTIVATIONS, 0.0);
            task = sd.math.abs(z.sub(labels)).sum().div(batch);
        } else {
            // log-softmax written out, as MisaLoss (ND4J M2.1's LogSoftMax op fails to deserialise its dimension)
            SDVariable shifted = z.sub(z.max(true, 1));
            SDVariable logp = shifted.sub(sd.math.log(sd.math.exp(shifted).sum(true, 1)));
            sd.math.exp(ACTIVATIONS, logp);
            task = logp.mul(labels).sum().neg().div(batch);
        }
        SDVariable loss = task.mul(taskWeight);
        long from = outputs;
        for (int m = 0; m < dims.length; m++) {
            long n = (long) steps[m] * dims[m];
            SDVariable r = input.get(SDIndex.all(), SDIndex.interval(from, from + n)).reshape(-1, steps[m], dims[m]);
            SDVariable x = input.get(SDIndex.all(), SDIndex.interval(from + n, from + 2 * n)).reshape(-1, steps[m], dims[m]);
            SDVariable q = input.get(SDIndex.all(), SDIndex.interval(from + 2 * n, from + 2 * n + steps[m]))
                    .reshape(-1, steps[m], 1);
            from += 2 * n + steps[m];
            if (reconWeights[m] == 0) {
                continue;
            }
            loss = loss.add(reconstruction(sd, r, x, q, dims[m], cmdWeight).mul(reconWeights[m]));
        }
        SDVariable scaled = loss.mul("loss", batch);
        scaled.markAsLoss();
        return scaled;
    }

    /** L_rec for {@code r, x [B, T, D]} and the dropped-position mask {@code q [B, T, 1]}. */
    static SDVariable reconstruction(SameDiff sd, SDVariable r, SDVariable x, SDVariable q, int d, double cmdWeight) {
        SDVariable qr = r.mul(q);
        SDVariable qx = x.mul(q);
        SDVariable count = q.sum().mul(d).add(COUNT_EPSILON);
        SDVariable total = smoothL1(sd, qr.sub(qx)).sum();
        if (cmdWeight > 0) {
            total = total.add(cmd(sd, qr.reshape(-1, d), qx.reshape(-1, d), CMD_MOMENTS).mul(cmdWeight));
        }
        return total.div(count);
    }

    /** PyTorch's SmoothL1 (beta 1) elementwise: with a = |e| and c = min(a, 1) = a - relu(a - 1), c^2/2 + (a - c). */
    static SDVariable smoothL1(SameDiff sd, SDVariable e) {
        SDVariable a = sd.math.abs(e);
        SDVariable c = a.sub(sd.nn.relu(a.sub(1.0), 0.0));
        return c.mul(c).mul(0.5).add(a.sub(c));
    }

    /** The official CMD (Zellinger et al. 2017, as in TFR-Net's model.py) over the rows of two [N, D] variables. */
    static SDVariable cmd(SameDiff sd, SDVariable a, SDVariable b, int moments) {
        return CentralMomentDiscrepancy.of(sd, a, b, moments);
    }

    @Override
    public String activationsVertexName() {
        return ACTIVATIONS;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        long expected = inputSize();
        if (!(inputType instanceof InputType.InputTypeFeedForward ff) || ff.getSize() != expected) {
            throw new IllegalStateException("TFR-Net loss (layer " + getLayerName() + ") needs a feed-forward input of "
                    + expected + " values per row (" + outputs + " head outputs, then reconstruction, target and "
                    + "dropped mask of each modality), got " + inputType);
        }
        return InputType.feedForward(outputs);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        getOutputType(-1, inputType);
    }

    public int[] getDims() {
        return dims.clone();
    }

    public int[] getSteps() {
        return steps.clone();
    }

    public int getOutputs() {
        return outputs;
    }

    public boolean isRegression() {
        return regression;
    }

    public double getTaskWeight() {
        return taskWeight;
    }

    public double[] getReconWeights() {
        return reconWeights.clone();
    }

    public double getCmdWeight() {
        return cmdWeight;
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass() || !super.equals(o)) {
            return false;
        }
        TfrNetLoss l = (TfrNetLoss) o;
        return Arrays.equals(dims, l.dims) && Arrays.equals(steps, l.steps) && outputs == l.outputs
                && regression == l.regression && taskWeight == l.taskWeight
                && Arrays.equals(reconWeights, l.reconWeights) && cmdWeight == l.cmdWeight;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Objects.hash(Arrays.hashCode(dims), Arrays.hashCode(steps), outputs, regression,
                taskWeight, Arrays.hashCode(reconWeights), cmdWeight);
    }

    @Override
    public String toString() {
        return "TfrNetLoss(" + getLayerName() + ", D=" + Arrays.toString(dims) + ", T=" + Arrays.toString(steps)
                + ", outputs=" + outputs + (regression ? ", regression" : "") + ", task=" + taskWeight + ", recon="
                + Arrays.toString(reconWeights) + ", cmd=" + cmdWeight + ")";
    }
}
