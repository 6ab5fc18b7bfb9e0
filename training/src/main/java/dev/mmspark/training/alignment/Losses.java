package dev.mmspark.training.alignment;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;

import java.util.List;

/**
 * The contrastive objectives of MCLEA (Lin et al., COLING 2022, §3.3–3.4) and MEAformer (Chen et al., ACM MM
 * 2023, §3.3) as SameDiff functions of a minibatch of aligned pairs: row i of the left inputs is aligned with
 * row i of the right inputs. They follow the official code ({@code lzxlin/MCLEA src/loss.py}) where the papers
 * leave details open.
 *
 * <p>Every function takes optional presence masks ({@code [B]}, 1 or 0): an entity that lacks a modality is
 * neither a query nor a candidate for that modality, so a dataset where some entities have no image or no
 * name trains without aligning meaningless rows. With all masks 1 (or null) the functions equal the
 * reference ones.
 */
public final class Losses {
    /** The reference's LARGE_NUM: logits of excluded candidates are lowered by it. */
    public static final double LARGE = 1e9;
    /** ε of the L2 normalisation: x / max(‖x‖, 1e-12), as torch's F.normalize. */
    public static final double NORM_EPS = 1e-12;

    private Losses() {
    }

    /**
     * Row-wise L2 normalisation {@code x / max(‖x‖₂, 1e-12)}. Computed once per variable and graph (the heads
     * normalise each modality embedding for the fusion, ICL and IAL alike; SameDiff's cost is per op).
     */
    public static SDVariable l2Normalize(SameDiff sd, SDVariable x) {
        return memo(sd, "l2norm_" + x.name(), () -> {
            SDVariable sq = x.mul(x).sum(true, 1);
            return x.div(sd.math.sqrt(sd.scalarMax(sq, NORM_EPS * NORM_EPS)));
        });
    }

    /** The variable named {@code name} if the graph has it, else the one {@code make} builds, so named. */
    private static SDVariable memo(SameDiff sd, String name, java.util.function.Supplier<SDVariable> make) {
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        return make.get().rename(name);
    }

    /**
     * Intra-modal contrastive loss (ICL), an NT-Xent (SimCLR) over aligned pairs with in-batch negatives in
     * both directions. With z = normalised embeddings, τ the temperature and α the direction weight (0.5):
     * <pre>
     *   L_a→b = −(1/B) Σ_i log [ exp(z_iᵃ·z_iᵇ/τ) / (Σ_j exp(z_iᵃ·z_jᵇ/τ) + Σ_{j≠i} exp(z_iᵃ·z_jᵃ/τ)) ]
     *   L_b→a = the same with a and b swapped
     *   ICL   = α·L_a→b + (1 − α)·L_b→a
     * </pre>
     * i.e. each entity's counterpart must beat every other entity of the batch from both graphs (the reference
     * concatenates the logits [ab, aa − LARGE·I]). Masks: a pair lacking the modality on either side is not a
     * query; an entity lacking it is not a candidate; B becomes the number of valid queries.
     *
     * @param a  left embeddings [B, d]
     * @param b  right embeddings [B, d]
     * @param pa presence of the left entities [B] or null (all present)
     * @param pb presence of the right entities [B] or null
     */
    public static SDVariable icl(SameDiff sd, SDVariable a, SDVariable b, SDVariable pa, SDVariable pb, double tau,
                                 double alpha) {
        SDVariable za = l2Normalize(sd, a);
        SDVariable zb = l2Normalize(sd, b);
        SDVariable[] logits = logits(sd, za, zb, pa, pb, tau);
        SDVariable positive = memo(sd, "positive_" + za.name() + "_" + zb.name(), () -> za.mul(zb).sum(1)).div(tau);
        SDVariable lossA = logSumExp(sd, logits[0]).sub(positive);
        SDVariable lossB = logSumExp(sd, logits[1]).sub(positive);
        SDVariable rowWeight = pa == null ? null : pa.mul(pb);
        return mean(sd, lossA, rowWeight).mul(alpha).add(mean(sd, lossB, rowWeight).mul(1 - alpha));
    }

    /**
     * Inter-modal alignment loss (IAL): the KL divergence from a modality's in-batch similarity distribution
     * to the joint embedding's, which is the teacher (no gradient flows into it). With p from the modality's
     * normalised embeddings and q from the joint's, both at temperature τ₂ over the same 2B candidates as
     * {@link #icl}:
     * <pre>
     *   p_i = softmax([s_iᵃ·s_jᵇ/τ₂]_j , [s_iᵃ·s_jᵃ/τ₂ − LARGE·δ_ij]_j)      q_i likewise from the joint
     *   L_a = mean_{i, j} q_ij (log q_ij − log p_ij)       (torch kl_div, reduction mean over B × 2B)
     *   IAL = α·L_a + (1 − α)·L_b
     * </pre>
     * The zoom factor of the reference is applied by the caller ({@code MCLEALoss}).
     */
    public static SDVariable ial(SameDiff sd, SDVariable srcA, SDVariable srcB, SDVariable tarA, SDVariable tarB,
                                 SDVariable pa, SDVariable pb, double tau2, double alpha) {
        SDVariable sa = l2Normalize(sd, srcA);
        SDVariable sb = l2Normalize(sd, srcB);
        SDVariable ta = l2Normalize(sd, stopGradient(sd, tarA));
        SDVariable tb = l2Normalize(sd, stopGradient(sd, tarB));
        SDVariable[] p = logits(sd, sa, sb, pa, pb, tau2);
        SDVariable[] q = logits(sd, ta, tb, pa, pb, tau2);
        SDVariable rowWeight = pa == null ? null : pa.mul(pb);
        SDVariable klA = kl(sd, q[0], p[0], rowWeight);
        SDVariable klB = kl(sd, q[1], p[1], rowWeight);
        return klA.mul(alpha).add(klB.mul(1 - alpha));
    }

    /**
     * Learned uncertainty weighting (Kendall, Gal &amp; Cipolla, CVPR 2018), as the reference's
     * {@code CustomMultiLossLayer}: {@code Σ_k exp(−s_k)·L_k + s_k} with s the log-variances [K] (initialised
     * to 0).
     */
    public static SDVariable uncertaintyWeighted(SameDiff sd, SDVariable logVars, List<SDVariable> losses) {
        SDVariable stacked = sd.stack(0, losses.toArray(new SDVariable[0]));
        return sd.math.exp(logVars.neg()).mul(stacked).add(logVars).sum();
    }

    /**
     * The identity matrix of x's batch size. (ND4J 1.0.0-M2.1's {@code eye} op refuses a size computed in the
     * graph, so it is the diagonal matrix of a vector of ones; no gradient flows through it.)
     */
    static SDVariable eye(SameDiff sd, SDVariable x) {
        return memo(sd, "eye_" + x.name(), () -> sd.math.diag(sd.onesLike(stopGradient(sd, x).sum(1))));
    }

    /**
     * Row-wise log Σ exp, stabilised by the row maximum. (The gradient of M2.1's {@code reduce_logsumexp}
     * reshapes to the wrong shape for a reduction over one dimension, so it is written out; the maximum is a
     * constant for the gradient, which does not depend on it.)
     */
    public static SDVariable logSumExp(SameDiff sd, SDVariable x) {
        SDVariable max = stopGradient(sd, x.max(true, 1));
        return sd.math.log(sd.math.exp(x.sub(max)).sum(1)).add(max.reshape(-1));
    }

    /** LARGE for absent entities, as a row [1, B] to subtract from candidate logits. */
    private static SDVariable excluded(SDVariable present) {
        return memo(present.getSameDiff(), "excluded_" + present.name(),
                () -> present.rsub(1.0).mul(LARGE).reshape(1, -1));
    }

    /** Mean of per-row losses, over the rows with weight 1 when weights are given (0 when there are none). */
    private static SDVariable mean(SameDiff sd, SDVariable perRow, SDVariable rowWeight) {
        if (rowWeight == null) {
            return perRow.mean();
        }
        return perRow.mul(rowWeight).sum().div(sd.scalarMax(rowWeight.sum(), 1.0));
    }

    /**
     * The [B, 2B] logits of both directions: {[ab, aa − LARGE·I], [ba, bb − LARGE·I]} / τ, masked. The Gram
     * matrices are shared by every loss on the same normalised embeddings.
     */
    private static SDVariable[] logits(SameDiff sd, SDVariable za, SDVariable zb, SDVariable pa, SDVariable pb,
                                       double tau) {
        SDVariable self = memo(sd, "self_" + za.name(), () -> eye(sd, za).mul(LARGE));
        SDVariable ab = gram(sd, za, zb).div(tau);
        SDVariable ba = memo(sd, "gramT_" + za.name() + "_" + zb.name(), () -> gram(sd, za, zb).permute(1, 0))
                .div(tau);
        SDVariable aa = gram(sd, za, za).div(tau).sub(self);
        SDVariable bb = gram(sd, zb, zb).div(tau).sub(self);
        if (pa != null) {
            SDVariable offA = excluded(pa);
            SDVariable offB = excluded(pb);
            ab = ab.sub(offB);
            bb = bb.sub(offB);
            ba = ba.sub(offA);
            aa = aa.sub(offA);
        }
        return new SDVariable[]{sd.concat(1, ab, aa), sd.concat(1, ba, bb)};
    }

    /** x·yᵀ, once per pair of variables. */
    private static SDVariable gram(SameDiff sd, SDVariable x, SDVariable y) {
        return memo(sd, "gram_" + x.name() + "_" + y.name(), () -> sd.mmul(x, y, false, true, false));
    }

    /** mean over rows (weighted) and columns of q·(log q − log p), from logits. */
    private static SDVariable kl(SameDiff sd, SDVariable qLogits, SDVariable pLogits, SDVariable rowWeight) {
        SDVariable logQ = logSoftmax(sd, qLogits);
        SDVariable logP = logSoftmax(sd, pLogits);
        SDVariable perRow = sd.math.exp(logQ).mul(logQ.sub(logP)).sum(1);
        SDVariable columns = sd.sizeAt(qLogits, 1).castTo(qLogits.dataType());
        return mean(sd, perRow, rowWeight).div(columns);
    }

    /**
     * Row-wise log-softmax as x − logΣexp(x). (M2.1's {@code log_softmax} gives −∞ for the excluded candidates,
     * whose zero probability then multiplies −∞ − (−∞) = NaN in the KL divergence; this stays finite.)
     */
    public static SDVariable logSoftmax(SameDiff sd, SDVariable x) {
        return x.sub(logSumExp(sd, x).reshape(-1, 1));
    }

    /** The value of x with no gradient flowing back into it (torch's {@code .detach()}). */
    public static SDVariable stopGradient(SameDiff sd, SDVariable x) {
        return new StopGradient(sd, x).outputVariable();
    }
}
