package dev.mmspark.training.models.misa;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.nd4j.autodiff.samediff.SDIndex;
import dev.mmspark.training.layers.CentralMomentDiscrepancy;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The MISA objective (Hazarika et al., ACM MM 2020, eq. 12; term by term as in {@code declare-lab/MISA},
 * {@code solver.py} and {@code utils/functions.py}) as one SameDiff output layer, because every auxiliary
 * term couples the modalities and the samples of the minibatch:
 * <pre>
 *   L = w_task L_task + alpha L_sim + beta L_diff + gamma L_recon
 *   L_task  = -(1/B) sum_i log softmax(z_i)[y_i]   (classification)  or  (1/B) sum_i (z_i - y_i)^2  (regression)
 *   L_sim   = (1/P) sum_{m &lt; n} CMD_K(hc_m, hc_n),  P = M(M-1)/2 pairs
 *   CMD_K(a, b) = ||E(a) - E(b)|| + sum_{k=2..K} ||E((a - E a)^k) - E((b - E b)^k)||    (E: mean over the batch)
 *   L_diff  = sum_m D(hp_m, hc_m) + sum_{m &lt; n} D(hp_m, hp_n)
 *   D(a, b) = mean_{jk} ((A' B)_jk)^2,  A = rows of (a - E a) divided by (their norm + 1e-6), B likewise
 *   L_recon = (1/M) sum_m (1/(B h)) sum_ij (r_m - u_m)_ij^2
 * </pre>
 * The official weights are alpha = 1.0 (sim), beta = 0.3 (diff), gamma = 1.0 (recon), K = 5.
 *
 * <p>Input {@code [B, O + 4Mh]}: the head's output z (O = classes, or 1 for regression), then u, hc, hp, r as
 * written by {@link MisaCore}. Labels: one-hot {@code [B, C]} or targets {@code [B, 1]}. Activations: softmax(z)
 * (classification) or z (regression).
 *
 * <p>Two deviations, both for well-defined gradients: (1) every Euclidean norm is sqrt(sum of squares + 1e-12),
 * since sqrt has an infinite derivative at 0 and a minibatch of one sample makes every centred moment exactly
 * equal (0); it changes a norm above 1e-3 by less than 1e-6 relative. (2) The official difference loss detaches
 * the row norms (no gradient through them); here the gradient of D as written is used, so that the layer is
 * exactly the function above (pinned by a gradient check).
 *
 * <p>{@code defineLayer} returns the loss (DL4J's contract for SameDiff output layers); the activations are the
 * variable named {@link #ACTIVATIONS}. DL4J divides an output layer's score and its gradients by the minibatch size B, so the SameDiff loss
 * variable is B x L: the network's score is then L itself.
 */
public class MisaLoss extends SameDiffOutputLayer {
    public static final String ACTIVATIONS = "misa_out";
    static final double NORM_EPSILON = 1e-12;
    static final double DIFF_EPSILON = 1e-6;

    private int modalities;
    private int hidden;
    /** O: classes (classification) or 1 (regression). */
    private int outputs;
    private boolean regression;
    private int moments;
    private double taskWeight;
    private double simWeight;
    private double diffWeight;
    private double reconWeight;

    /** For JSON deserialisation. */
    protected MisaLoss() {
    }

    /**
     * @param outputs    classes (classification, at least 2) or 1 (regression)
     * @param moments    K, the highest central moment CMD matches (official 5)
     * @param taskWeight weight of the task loss: 1 in MISA (other values isolate terms in tests)
     */
    public MisaLoss(int modalities, int hidden, int outputs, boolean regression, int moments, double taskWeight,
                    double simWeight, double diffWeight, double reconWeight) {
        if (modalities < 2 || hidden < 1 || moments < 1 || (regression ? outputs != 1 : outputs < 2)) {
            throw new IllegalArgumentException("MISA loss needs >= 2 modalities, hidden >= 1, moments >= 1 and "
                    + (regression ? "1 output" : ">= 2 classes") + ", found modalities=" + modalities + " hidden="
                    + hidden + " moments=" + moments + " outputs=" + outputs);
        }
        if (!(taskWeight >= 0 && simWeight >= 0 && diffWeight >= 0 && reconWeight >= 0)) {
            throw new IllegalArgumentException("MISA loss weights must be >= 0, found task=" + taskWeight + " sim="
                    + simWeight + " diff=" + diffWeight + " recon=" + reconWeight);
        }
        this.modalities = modalities;
        this.hidden = hidden;
        this.outputs = outputs;
        this.regression = regression;
        this.moments = moments;
        this.taskWeight = taskWeight;
        this.simWeight = simWeight;
        this.diffWeight = diffWeight;
        this.reconWeight = reconWeight;
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> params) {
        SDVariable z = input.get(SDIndex.all(), SDIndex.interval(0L, (long) outputs));
        List<SDVariable> u = block(input, 0);
        List<SDVariable> hc = block(input, 1);
        List<SDVariable> hp = block(input, 2);
        List<SDVariable> r = block(input, 3);
        SDVariable batch = sd.onesLike(z.get(SDIndex.all(), SDIndex.point(0))).sum();        // B as a scalar

        SDVariable task;
        if (regression) {
            z.add(ACTIVATIONS, 0.0);
            task = z.sub(labels).mul(z.sub(labels)).sum().div(batch);
        } else {
            // log-softmax written out: ND4J M2.1's LogSoftMax op fails to deserialise its dimension argument when
            // the gradient function is built; the max is subtracted for stability (its gradient cancels)
            SDVariable shifted = z.sub(z.max(true, 1));
            SDVariable logp = shifted.sub(sd.math.log(sd.math.exp(shifted).sum(true, 1)));
            sd.math.exp(ACTIVATIONS, logp);
            task = logp.mul(labels).sum().neg().div(batch);
        }
        SDVariable sim = null;
        SDVariable diff = null;
        for (int m = 0; m < modalities; m++) {
            diff = plus(diff, difference(sd, hp.get(m), hc.get(m)));
            for (int n = m + 1; n < modalities; n++) {
                sim = plus(sim, cmd(sd, hc.get(m), hc.get(n), moments));
                diff = plus(diff, difference(sd, hp.get(m), hp.get(n)));
            }
        }
        int pairs = modalities * (modalities - 1) / 2;
        sim = sim.div(pairs);
        SDVariable recon = null;
        for (int m = 0; m < modalities; m++) {
            SDVariable e = r.get(m).sub(u.get(m));
            recon = plus(recon, e.mul(e).mean());
        }
        recon = recon.div(modalities);
        SDVariable loss = task.mul(taskWeight).add(sim.mul(simWeight)).add(diff.mul(diffWeight))
                .add(recon.mul(reconWeight));
        SDVariable scaled = loss.mul("loss", batch);
        scaled.markAsLoss();
        return scaled;
    }

    /** The modality vectors of block k (0 u, 1 hc, 2 hp, 3 r), each {@code [B, h]}. */
    private List<SDVariable> block(SDVariable input, int k) {
        List<SDVariable> out = new ArrayList<>();
        for (int m = 0; m < modalities; m++) {
            long from = outputs + ((long) k * modalities + m) * hidden;
            out.add(input.get(SDIndex.all(), SDIndex.interval(from, from + hidden)));
        }
        return out;
    }

    private static SDVariable plus(SDVariable a, SDVariable b) {
        return a == null ? b : a.add(b);
    }

    /** Central moment discrepancy (Zellinger et al., ICLR 2017) of order K, unnormalised as in MISA's CMD. */
    static SDVariable cmd(SameDiff sd, SDVariable a, SDVariable b, int moments) {
        return CentralMomentDiscrepancy.of(sd, a, b, moments);
    }

    /** MISA's soft orthogonality constraint between two [B, h] representations. */
    static SDVariable difference(SameDiff sd, SDVariable a, SDVariable b) {
        SDVariable na = rowNormalise(sd, a.sub(a.mean(true, 0)));
        SDVariable nb = rowNormalise(sd, b.sub(b.mean(true, 0)));
        SDVariable c = sd.mmul(na, nb, true, false, false);                                   // [h, h]
        return c.mul(c).mean();
    }

    private static SDVariable rowNormalise(SameDiff sd, SDVariable x) {
        SDVariable n = sd.math.sqrt(x.mul(x).sum(true, 1).add(NORM_EPSILON));
        return x.div(n.add(DIFF_EPSILON));
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
        long expected = outputs + 4L * modalities * hidden;
        if (!(inputType instanceof InputType.InputTypeFeedForward ff) || ff.getSize() != expected) {
            throw new IllegalStateException("MISA loss (layer " + getLayerName() + ") needs a feed-forward input of "
                    + expected + " values per row (" + outputs + " head outputs, then u, hc, hp, r of " + modalities
                    + " modalities x " + hidden + "), got " + inputType);
        }
        return InputType.feedForward(outputs);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        getOutputType(-1, inputType);
    }

    public int getModalities() {
        return modalities;
    }

    public int getHidden() {
        return hidden;
    }

    public int getOutputs() {
        return outputs;
    }

    public boolean isRegression() {
        return regression;
    }

    public int getMoments() {
        return moments;
    }

    public double getTaskWeight() {
        return taskWeight;
    }

    public double getSimWeight() {
        return simWeight;
    }

    public double getDiffWeight() {
        return diffWeight;
    }

    public double getReconWeight() {
        return reconWeight;
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass() || !super.equals(o)) {
            return false;
        }
        MisaLoss l = (MisaLoss) o;
        return modalities == l.modalities && hidden == l.hidden && outputs == l.outputs && regression == l.regression
                && moments == l.moments && taskWeight == l.taskWeight && simWeight == l.simWeight
                && diffWeight == l.diffWeight && reconWeight == l.reconWeight;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Objects.hash(modalities, hidden, outputs, regression, moments, taskWeight,
                simWeight, diffWeight, reconWeight);
    }

    @Override
    public String toString() {
        return "MisaLoss(" + getLayerName() + ", M=" + modalities + ", h=" + hidden + ", outputs=" + outputs
                + (regression ? ", regression" : "") + ", K=" + moments + ", weights task=" + taskWeight + " sim="
                + simWeight + " diff=" + diffWeight + " recon=" + reconWeight + ")";
    }
}
