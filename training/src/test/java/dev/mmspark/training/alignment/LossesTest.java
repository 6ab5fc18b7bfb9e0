package dev.mmspark.training.alignment;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;

import static dev.mmspark.training.alignment.GradientChecks.assertGradientsMatch;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The contrastive, alignment and weighting losses: values against hand computations and the reference
 * implementation, gradients against central differences in double precision (ND4J's GradCheckUtil).
 *
 * <p>Reference values come from {@code icl_ref.py} below: a numpy transcription of lzxlin/MCLEA
 * {@code src/loss.py} (icl_loss, ial_loss), run with numpy 2.4:
 * <pre>
 * def norm(x): return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
 * def log_softmax(x): m = x.max(1, keepdims=True); return x - m - np.log(np.exp(x - m).sum(1, keepdims=True))
 * def icl(a, b, tau, alpha=0.5):
 *     za, zb = norm(a), norm(b); B = len(a); I = np.eye(B)
 *     la = np.concatenate([za @ zb.T / tau, za @ za.T / tau - I * 1e9], 1)
 *     lb = np.concatenate([zb @ za.T / tau, zb @ zb.T / tau - I * 1e9], 1)
 *     return alpha * -np.mean(np.diag(log_softmax(la))) + (1 - alpha) * -np.mean(np.diag(log_softmax(lb)))
 * def ial(sa, sb, ta, tb, tau, alpha=0.5):
 *     def lg(za, zb):
 *         I = np.eye(len(za))
 *         return (np.concatenate([za @ zb.T / tau, za @ za.T / tau - I * 1e9], 1),
 *                 np.concatenate([zb @ za.T / tau, zb @ zb.T / tau - I * 1e9], 1))
 *     p = lg(norm(sa), norm(sb)); q = lg(norm(ta), norm(tb))
 *     kl = lambda q, p: np.mean(np.exp(log_softmax(q)) * (log_softmax(q) - log_softmax(p)))
 *     return alpha * kl(q[0], p[0]) + (1 - alpha) * kl(q[1], p[1])
 * </pre>
 */
class LossesTest {
    private static DataType previous;

    @BeforeAll
    static void doublePrecision() {
        previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(previous, previous);
    }

    private static INDArray m(double[][] v) {
        return Nd4j.createFromArray(v);
    }

    private static double value(SameDiff sd, SDVariable loss) {
        return sd.output(Map.of(), loss.name()).get(loss.name()).getDouble(0);
    }

    /**
     * a = [(1,0), (0,1)], b = [(2,0), (0.6,0.8)] (normalised: (1,0), (0.6,0.8)), τ = 0.5, so logits are 2·cos:
     * <pre>
     *   a1: [ab 2, 1.2 | aa −∞, 0]     −log(e²/(e² + e^1.2 + 1))        = 0.460370
     *   a2: [ab 0, 1.6 | aa 0, −∞]     −log(e^1.6/(1 + e^1.6 + 1))      = 0.339166
     *   b1: [ba 2, 0   | bb −∞, 1.2]   −log(e²/(e² + 1 + e^1.2))        = 0.460370
     *   b2: [ba 1.2, 1.6 | bb 1.2, −∞] −log(e^1.6/(e^1.2 + e^1.6 + e^1.2)) = 0.850411
     *   ICL = ½·(0.460370 + 0.339166)/2 + ½·(0.460370 + 0.850411)/2 = 0.527587
     * </pre>
     */
    @Test
    void iclByHand() {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.constant("a", m(new double[][]{{1, 0}, {0, 1}}));
        SDVariable b = sd.constant("b", m(new double[][]{{2, 0}, {0.6, 0.8}}));
        SDVariable l05 = Losses.icl(sd, a, b, null, null, 0.5, 0.5);
        SDVariable l01 = Losses.icl(sd, a, b, null, null, 0.1, 0.5);
        assertEquals(0.5275868567979629, value(sd, l05), 1e-12);
        assertEquals(0.06915112176753731, value(sd, l01), 1e-12);
    }

    /** All-ones masks change nothing; a pair whose right entity lacks the modality is neither query nor candidate. */
    @Test
    void iclMasks() {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.constant("a", m(new double[][]{{1, 0}, {0, 1}, {0.6, -0.8}}));
        SDVariable b = sd.constant("b", m(new double[][]{{2, 0}, {0.6, 0.8}, {-1, 1}}));
        SDVariable ones = sd.constant("ones", Nd4j.createFromArray(1.0, 1.0, 1.0));
        SDVariable rightAbsent = sd.constant("pb", Nd4j.createFromArray(1.0, 1.0, 0.0));
        SDVariable unmasked = Losses.icl(sd, a, b, null, null, 0.5, 0.5);
        SDVariable allOnes = Losses.icl(sd, a, b, ones, ones, 0.5, 0.5);
        SDVariable masked = Losses.icl(sd, a, b, ones, rightAbsent, 0.5, 0.5);
        assertEquals(value(sd, unmasked), value(sd, allOnes), 1e-12);
        // reference: rows of the two valid queries only; the third right entity removed from every candidate set
        assertEquals(0.6715808120265974, value(sd, masked), 1e-12);
    }

    @Test
    void ialAgainstTheReference() {
        SameDiff sd = SameDiff.create();
        SDVariable sa = sd.constant("sa", m(new double[][]{{1, 0}, {0, 1}}));
        SDVariable sb = sd.constant("sb", m(new double[][]{{1, 1}, {0, 1}}));
        SDVariable ta = sd.constant("ta", m(new double[][]{{1, 0}, {0, 1}}));
        SDVariable tb = sd.constant("tb", m(new double[][]{{1, 0}, {0, 1}}));
        assertEquals(0.000918164820933349, value(sd, Losses.ial(sd, sa, sb, ta, tb, null, null, 4.0, 0.5)), 1e-14);
        assertEquals(0.046028045605205015, value(sd, Losses.ial(sd, sa, sb, ta, tb, null, null, 0.5, 0.5)), 1e-13);
        // identical distributions: KL 0
        assertEquals(0.0, value(sd, Losses.ial(sd, ta, tb, ta, tb, null, null, 4.0, 0.5)), 1e-15);
    }

    /** exp(−s)·L + s summed: s = (0, ln 2), L = (3, 4) gives 3 + 0 + 2 + ln 2. */
    @Test
    void uncertaintyWeightingByHand() {
        SameDiff sd = SameDiff.create();
        SDVariable s = sd.constant("s", Nd4j.createFromArray(0.0, Math.log(2)));
        SDVariable l1 = sd.constant("l1", Nd4j.scalar(3.0));
        SDVariable l2 = sd.constant("l2", Nd4j.scalar(4.0));
        assertEquals(5 + Math.log(2), value(sd, Losses.uncertaintyWeighted(sd, s, List.of(l1, l2))), 1e-12);
    }

    @Test
    void iclGradients() {
        for (boolean masked : new boolean[]{false, true}) {
            SameDiff sd = SameDiff.create();
            SDVariable a = sd.var("a", Nd4j.rand(DataType.DOUBLE, 4, 2).subi(0.5));
            SDVariable b = sd.var("b", Nd4j.rand(DataType.DOUBLE, 4, 2).subi(0.5));
            SDVariable pa = masked ? sd.constant("pa", Nd4j.createFromArray(1.0, 0.0, 1.0, 1.0)) : null;
            SDVariable pb = masked ? sd.constant("pb", Nd4j.createFromArray(1.0, 1.0, 1.0, 0.0)) : null;
            Losses.icl(sd, a, b, pa, pb, 0.1, 0.5).rename("loss");
            assertGradientsMatch(sd, "icl, masked " + masked);
        }
    }

    @Test
    void ialGradientsFlowIntoTheModalityOnly() {
        SameDiff sd = SameDiff.create();
        SDVariable sa = sd.var("sa", Nd4j.rand(DataType.DOUBLE, 3, 2).subi(0.5));
        SDVariable sb = sd.var("sb", Nd4j.rand(DataType.DOUBLE, 3, 2).subi(0.5));
        // the joint embeddings are the teacher: constants for the numerical check
        SDVariable ta = sd.constant("ta", Nd4j.rand(DataType.DOUBLE, 3, 3).subi(0.5));
        SDVariable tb = sd.constant("tb", Nd4j.rand(DataType.DOUBLE, 3, 3).subi(0.5));
        SDVariable pa = sd.constant("pa", Nd4j.createFromArray(1.0, 1.0, 0.0));
        SDVariable pb = sd.constant("pb", Nd4j.createFromArray(1.0, 1.0, 1.0));
        Losses.ial(sd, sa, sb, ta, tb, pa, pb, 0.5, 0.5).mul(10).rename("loss");
        assertGradientsMatch(sd, "ial");

        // as variables, the joint gets no gradient at all (the reference detaches it)
        SameDiff sd2 = SameDiff.create();
        SDVariable s2a = sd2.var("sa", Nd4j.rand(DataType.DOUBLE, 3, 4));
        SDVariable s2b = sd2.var("sb", Nd4j.rand(DataType.DOUBLE, 3, 4));
        SDVariable t2a = sd2.var("ta", Nd4j.rand(DataType.DOUBLE, 3, 5));
        SDVariable t2b = sd2.var("tb", Nd4j.rand(DataType.DOUBLE, 3, 5));
        Losses.ial(sd2, s2a, s2b, t2a, t2b, null, null, 4.0, 0.5).rename("loss");
        sd2.setLossVariables("loss");
        Map<String, INDArray> g = sd2.calculateGradients(Map.of(), "sa", "ta", "tb");
        assertEquals(0.0, g.get("ta").norm2Number().doubleValue(), 0.0);
        assertEquals(0.0, g.get("tb").norm2Number().doubleValue(), 0.0);
        assertEquals(true, g.get("sa").norm2Number().doubleValue() > 0);
    }

    @Test
    void uncertaintyWeightingGradients() {
        SameDiff sd = SameDiff.create();
        SDVariable s = sd.var("s", Nd4j.createFromArray(0.3, -0.2, 0.0));
        SDVariable x = sd.var("x", Nd4j.rand(DataType.DOUBLE, 2, 2));
        SDVariable y = sd.var("y", Nd4j.rand(DataType.DOUBLE, 3));
        List<SDVariable> losses = List.of(x.mul(x).sum(), y.mul(y).sum(), x.sum().mul(y.sum()));
        Losses.uncertaintyWeighted(sd, s, losses).rename("loss");
        assertGradientsMatch(sd, "uncertainty weighting");
    }
}
