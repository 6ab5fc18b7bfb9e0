package dev.mmspark.training.models.dscmr;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Objects;

/**
 * The three DSCMR losses and the shared linear classifier of Zhen et al., "Deep Supervised Cross-Modal
 * Retrieval" (CVPR 2019), as one SameDiff output layer: all three terms couple the two modalities (and the
 * second couples the samples of the minibatch), so they are computed together where both are visible.
 *
 * <p>Input {@code [B, 2d + 1]}: per row the image common-space representation u (d values), the text one v
 * (d values) and a pair flag m (1 when the sample has both modalities, 0 otherwise). Parameters: the linear
 * classifier P {@code [d, C]} and its bias c {@code [1, C]}, applied to both modalities (the paper's shared
 * label-space projection). Labels Y: one-hot {@code [B, C]}.
 *
 * <p>With n = sum_i m_i (the paired rows) and ||.|| the Euclidean norm of one row, following the reference
 * code ({@code penghu-cs/DSCMR}, {@code train_model.calc_loss}) term by term:
 * <pre>
 *   J1 (label space)          = (1/n) sum_i m_i ( ||P'u_i + c - y_i|| + ||P'v_i + c - y_i|| )
 *   J2 (common space)         = sum over (a, b) in {(u, u), (u, v), (v, v)} of
 *                               (1/n^2) sum_ij m_i m_j [ log(1 + exp(t_ij)) - S_ij t_ij ],
 *                               t_ij = cos(a_i, b_j) / 2,  S_ij = y_i . y_j  (1 for the same class, else 0)
 *   J3 (modality invariance)  = (1/n) sum_i m_i ||u_i - v_i||
 *   L = w J1 + alpha J2 + beta J3
 * </pre>
 * J2 is the negative log-likelihood of "same class" under p_ij = sigmoid(t_ij), written as softplus(t) - S t;
 * the mean runs over all n^2 pairs, the diagonal included, as in the reference. The paper writes J1 and J3
 * with Frobenius norms; its code (whose numbers the paper reports) averages the per-sample norms, as here.
 * The reference's weights are w = 1, alpha = 1e-3, beta = 0.1. Unpaired rows (m = 0) take no part in any term:
 * training needs both modalities of a sample.
 *
 * <p>Two numerical guards: every row norm is sqrt(sum of squares + 1e-12), so that an all-zero row (an absent
 * modality's representation may be exactly zero) has a finite gradient that its zero mask then cancels --
 * sqrt has an infinite derivative at 0 and 0 * inf is NaN; and the product of the two norms in the cosine is
 * clamped at 1e-6, as in the reference. Both change nothing for rows with norms above 1e-3.
 *
 * <p>DL4J divides an output layer's score and (in the updater) its gradients by the minibatch size B, so the
 * layer's SameDiff output is B x L: the network's score is then L itself and the parameters move along -dL,
 * whatever share of the minibatch is paired. The layer's activations ({@link #SCORES}) are the classifier's
 * outputs averaged over the two modalities, {@code (P'u + c + P'v + c) / 2}: a label-space prediction for
 * samples that have both.
 */
public class DscmrLoss extends SameDiffOutputLayer {
    /** Name of the activations: mean of the two modalities' classifier outputs, {@code [B, C]}. */
    public static final String SCORES = "class_scores";
    public static final String WEIGHT = "W";
    public static final String BIAS = "b";
    static final double NORM_EPSILON = 1e-12;
    static final double COSINE_FLOOR = 1e-6;

    private int commonDim;
    private int classes;
    private double labelWeight;
    private double alpha;
    private double beta;

    /** For JSON deserialisation. */
    protected DscmrLoss() {
    }

    /**
     * @param commonDim   d, the size of the common space
     * @param classes     C
     * @param labelWeight w, the weight of the label-space loss J1 (1 in DSCMR; other values isolate terms in tests)
     * @param alpha       weight of the common-space discrimination loss J2
     * @param beta        weight of the modality-invariance loss J3
     */
    public DscmrLoss(int commonDim, int classes, double labelWeight, double alpha, double beta) {
        if (commonDim < 1 || classes < 2) {
            throw new IllegalArgumentException("DSCMR loss needs a common dimension >= 1 and >= 2 classes, found "
                    + commonDim + " and " + classes);
        }
        if (!(labelWeight >= 0 && alpha >= 0 && beta >= 0)) {
            throw new IllegalArgumentException("DSCMR loss weights must be >= 0, found w=" + labelWeight + " alpha="
                    + alpha + " beta=" + beta);
        }
        this.commonDim = commonDim;
        this.classes = classes;
        this.labelWeight = labelWeight;
        this.alpha = alpha;
        this.beta = beta;
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> params) {
        long d = commonDim;
        SDVariable u = input.get(SDIndex.all(), SDIndex.interval(0L, d));
        SDVariable v = input.get(SDIndex.all(), SDIndex.interval(d, 2 * d));
        SDVariable m = input.get(SDIndex.all(), SDIndex.interval(2 * d, 2 * d + 1));       // [B, 1]
        SDVariable w = params.get(WEIGHT);
        SDVariable c = params.get(BIAS);
        SDVariable pu = u.mmul(w).add(c);                                                    // [B, C]
        SDVariable pv = v.mmul(w).add(c);
        pu.add(pv).mul(SCORES, 0.5);

        SDVariable batch = sd.onesLike(m).sum();                                             // B, as a scalar
        SDVariable paired = m.sum();
        SDVariable n = sd.math().max(paired, sd.onesLike(paired));                           // max(n, 1)
        SDVariable pairs = sd.mmul(m, m, false, true, false);                               // m m', [B, B]

        SDVariable j1 = rowNorm(sd, pu.sub(labels)).add(rowNorm(sd, pv.sub(labels))).mul(m).sum().div(n);
        SDVariable same = sd.mmul(labels, labels, false, true, false);                      // S = Y Y'
        SDVariable nn = n.mul(n);
        SDVariable j2 = pairLoss(sd, u, u, same, pairs).div(nn)
                .add(pairLoss(sd, u, v, same, pairs).div(nn))
                .add(pairLoss(sd, v, v, same, pairs).div(nn));
        SDVariable j3 = rowNorm(sd, u.sub(v)).mul(m).sum().div(n);
        SDVariable loss = j1.mul(labelWeight).add(j2.mul(alpha)).add(j3.mul(beta));
        SDVariable out = loss.mul("loss", batch);
        out.markAsLoss();
        return out;
    }

    /** sqrt(sum_k x_ik^2 + eps) per row, {@code [B, 1]}. */
    private static SDVariable rowNorm(SameDiff sd, SDVariable x) {
        return sd.math().sqrt(sd.math().square(x).sum(true, 1).add(NORM_EPSILON));
    }

    /** sum_ij m_i m_j [softplus(t_ij) - S_ij t_ij] with t = cos(a_i, b_j) / 2. */
    private static SDVariable pairLoss(SameDiff sd, SDVariable a, SDVariable b, SDVariable same, SDVariable pairs) {
        SDVariable norms = sd.mmul(rowNorm(sd, a), rowNorm(sd, b), false, true, false);    // [B, B]
        SDVariable floor = sd.onesLike(norms).mul(COSINE_FLOOR);
        SDVariable theta = sd.mmul(a, b, false, true, false).div(sd.math().max(norms, floor)).mul(0.5);
        return sd.nn().softplus(theta).sub(same.mul(theta)).mul(pairs).sum();
    }

    @Override
    public String activationsVertexName() {
        return SCORES;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(WEIGHT, commonDim, classes);
        params.addBiasParam(BIAS, 1, classes);
    }

    /**
     * U(-1/sqrt(d), 1/sqrt(d)) for weights and bias: PyTorch's default for the reference's {@code nn.Linear}.
     */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        double a = 1.0 / Math.sqrt(commonDim);
        for (INDArray p : params.values()) {
            p.assign(Nd4j.rand(p.dataType(), p.shape()).muli(2 * a).subi(a));
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeFeedForward ff) || ff.getSize() != 2L * commonDim + 1) {
            throw new IllegalStateException("DSCMR loss (layer " + getLayerName() + ") needs a feed-forward input of "
                    + (2L * commonDim + 1) + " values per row (image and text representations of " + commonDim
                    + " and the pair flag), got " + inputType);
        }
        return InputType.feedForward(classes);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        getOutputType(-1, inputType);
    }

    public int getCommonDim() {
        return commonDim;
    }

    public int getClasses() {
        return classes;
    }

    public double getLabelWeight() {
        return labelWeight;
    }

    public double getAlpha() {
        return alpha;
    }

    public double getBeta() {
        return beta;
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass() || !super.equals(o)) {
            return false;
        }
        DscmrLoss l = (DscmrLoss) o;
        return commonDim == l.commonDim && classes == l.classes && labelWeight == l.labelWeight && alpha == l.alpha
                && beta == l.beta;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Objects.hash(commonDim, classes, labelWeight, alpha, beta);
    }

    @Override
    public String toString() {
        return "DscmrLoss(" + getLayerName() + ", d=" + commonDim + ", classes=" + classes + ", w=" + labelWeight
                + ", alpha=" + alpha + ", beta=" + beta + ")";
    }
}
