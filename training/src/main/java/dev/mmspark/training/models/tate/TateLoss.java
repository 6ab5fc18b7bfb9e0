package dev.mmspark.training.models.tate;

import dev.mmspark.training.layers.SdMath;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The TATE objective (Zeng et al., SIGIR 2022; term by term as {@code JaydenZeng/TATE}, {@code network.py}) as one
 * SameDiff output layer. Per sample i, with softmax over the P channels of every token:
 * <pre>
 *   L_i   = CE_i + lambda_kl s_i KL_i + lambda_rec REC_i + lambda_tag TAG_i          L = (1/B) sum_i L_i
 *   CE_i  = -log softmax(z_i)[y_i]
 *   KL_i  = sum_t q'_it [KL(p(e_it) || p(e'_it)) + KL(p(e'_it) || p(e_it))] / max(1, sum_t q'_it)
 *   REC_i = sum_t q_it  [KL(p(r_it) || p(u_it)) + KL(p(u_it) || p(r_it))]  / max(1, sum_t q_it)
 *   TAG_i = (1/(M+1)) sum_k |tag_ik - sigmoid(l_ik)|
 *   KL(a || b) = sum_c a_c (log a_c - log b_c)
 * </pre>
 * e the encoder output, e' the frozen teacher's on the complete sample, q' the teacher's real positions; r the
 * decoder output, u the tagged input it reconstructs, q the slots; l the tag logits, tag the input's missing tag;
 * s_i the KL switch (1 in the student phase). Official weights lambda = 0.1 each. Neither e' (frozen parameters)
 * nor u (as in the official code) is detached. The L2 term of the official loss is DL4J's L2 on the classifier's
 * output layer ({@link TateNetwork}).
 *
 * <p>Input {@code [B, O + (M+1) + 4 N P + 2 N + (M+1) + 1]}: the head's logits z (O classes), then what
 * {@link TateCore} writes after its pooled vector. Activations: softmax(z).
 *
 * <p>Deviations: the official loss sums CE, KL and REC over the batch but averages TAG (so TAG weighs 1/32 of
 * the others per sample at batch size 32); here every term is a per-sample mean, so the weights mean the same at
 * every batch size. KL and REC average over the real positions / slots (official: over all padded positions).
 * Keras' KLDivergence clips probabilities to [1e-7, 1]; log-softmax needs no clipping, and the two differ only
 * where a probability is below 1e-7. {@code defineLayer} returns B x L because DL4J divides an output layer's
 * score by the minibatch size (as {@code MisaLoss}).
 */
public class TateLoss extends SameDiffOutputLayer {
    public static final String ACTIVATIONS = "tate_out";

    private int outputs;
    private int[] steps;
    private int dim;
    private double ceWeight;
    private double klWeight;
    private double reconWeight;
    private double tagWeight;

    /** For JSON deserialisation. */
    protected TateLoss() {
    }

    /**
     * @param steps    T_m per modality (M = its length)
     * @param dim      d; the tokens are P = d + M + 1 wide
     * @param ceWeight 1 in TATE (other values isolate terms in tests)
     */
    public TateLoss(int outputs, int[] steps, int dim, double ceWeight, double klWeight, double reconWeight,
                    double tagWeight) {
        if (outputs < 2 || steps.length < 2 || dim < 1 || Arrays.stream(steps).anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("TATE loss needs >= 2 classes, >= 2 modalities with lengths >= 1 and "
                    + "dim >= 1; found outputs=" + outputs + " steps=" + Arrays.toString(steps) + " dim=" + dim);
        }
        if (!(ceWeight >= 0 && klWeight >= 0 && reconWeight >= 0 && tagWeight >= 0)) {
            throw new IllegalArgumentException("TATE loss weights must be >= 0");
        }
        this.outputs = outputs;
        this.steps = steps.clone();
        this.dim = dim;
        this.ceWeight = ceWeight;
        this.klWeight = klWeight;
        this.reconWeight = reconWeight;
        this.tagWeight = tagWeight;
    }

    long inputSize() {
        return outputs + TateCore.outputSize(steps, dim) - TateCore.width(dim, steps.length);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> params) {
        int mods = steps.length;
        int p = TateCore.width(dim, mods);
        long n = TateCore.tokens(steps);
        long np = n * p;
        long at = 0;
        SDVariable z = slice(input, at, outputs);
        at += outputs;
        SDVariable tagLogits = slice(input, at, mods + 1);
        at += mods + 1;
        SDVariable enc = slice(input, at, np).reshape(-1, n, p);
        SDVariable teacher = slice(input, at + np, np).reshape(-1, n, p);
        SDVariable dec = slice(input, at + 2 * np, np).reshape(-1, n, p);
        SDVariable tagged = slice(input, at + 3 * np, np).reshape(-1, n, p);
        at += 4 * np;
        SDVariable qTeacher = slice(input, at, n);
        SDVariable qSlots = slice(input, at + n, n);
        at += 2 * n;
        SDVariable tag = slice(input, at, mods + 1);
        SDVariable klSwitch = slice(input, at + mods + 1, 1);

        SDVariable logp = SdMath.logSoftmax(sd, z, 1);
        sd.math.exp(ACTIVATIONS, logp);
        SDVariable per = logp.mul(labels).sum(true, 1).neg().mul(ceWeight);                     // [B, 1]
        if (klWeight > 0) {
            per = per.add(maskedMean(sd, symmetricKl(sd, enc, teacher), qTeacher).mul(klSwitch).mul(klWeight));
        }
        if (reconWeight > 0) {
            per = per.add(maskedMean(sd, symmetricKl(sd, dec, tagged), qSlots).mul(reconWeight));
        }
        if (tagWeight > 0) {
            per = per.add(tagError(sd, tag, tagLogits).mul(tagWeight));
        }
        SDVariable total = per.sum("loss");
        total.markAsLoss();
        return total;
    }

    private static SDVariable slice(SDVariable x, long from, long size) {
        return x.get(SDIndex.all(), SDIndex.interval(from, from + size));
    }

    /** KL(softmax(a) || softmax(b)) along the last axis of {@code [B, N, P]} logits: {@code [B, N]}. */
    static SDVariable kl(SameDiff sd, SDVariable a, SDVariable b) {
        SDVariable la = SdMath.logSoftmax(sd, a, 2);
        SDVariable lb = SdMath.logSoftmax(sd, b, 2);
        return sd.math.exp(la).mul(la.sub(lb)).sum(2);
    }

    /** KL in both directions, summed. */
    static SDVariable symmetricKl(SameDiff sd, SDVariable a, SDVariable b) {
        return kl(sd, a, b).add(kl(sd, b, a));
    }

    /** sum_t q_t v_t / max(1, sum_t q_t) per row of {@code [B, N]}: {@code [B, 1]}. */
    static SDVariable maskedMean(SameDiff sd, SDVariable v, SDVariable q) {
        SDVariable count = q.sum(true, 1);
        return v.mul(q).sum(true, 1).div(sd.math.max(count, sd.onesLike(count)));
    }

    /** Mean absolute error between the tag and sigmoid of its logits: {@code [B, 1]}. */
    static SDVariable tagError(SameDiff sd, SDVariable tag, SDVariable logits) {
        return sd.math.abs(tag.sub(sd.nn.sigmoid(logits))).mean(true, 1);
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
            throw new IllegalStateException("TATE loss (layer " + getLayerName() + ") needs a feed-forward input of "
                    + expected + " values per row (" + outputs + " logits, then the core's auxiliary outputs), got "
                    + inputType);
        }
        return InputType.feedForward(outputs);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        getOutputType(-1, inputType);
    }

    public int getOutputs() {
        return outputs;
    }

    public int[] getSteps() {
        return steps.clone();
    }

    public int getDim() {
        return dim;
    }

    public double getCeWeight() {
        return ceWeight;
    }

    public double getKlWeight() {
        return klWeight;
    }

    public double getReconWeight() {
        return reconWeight;
    }

    public double getTagWeight() {
        return tagWeight;
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass() || !super.equals(o)) {
            return false;
        }
        TateLoss l = (TateLoss) o;
        return outputs == l.outputs && Arrays.equals(steps, l.steps) && dim == l.dim && ceWeight == l.ceWeight
                && klWeight == l.klWeight && reconWeight == l.reconWeight && tagWeight == l.tagWeight;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Objects.hash(outputs, Arrays.hashCode(steps), dim, ceWeight, klWeight,
                reconWeight, tagWeight);
    }

    @Override
    public String toString() {
        return "TateLoss(" + getLayerName() + ", outputs=" + outputs + ", T=" + Arrays.toString(steps) + ", dim=" + dim
                + ", ce=" + ceWeight + ", kl=" + klWeight + ", recon=" + reconWeight + ", tag=" + tagWeight + ")";
    }
}
