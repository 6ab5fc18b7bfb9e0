package dev.mmspark.training.alignment;

import dev.mmspark.common.config.Conf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The two model heads (encoders, fusion, objective) in double precision: whole-head gradient checks with
 * some modalities absent for some entities, and the fusion weights on hand-computable cases.
 */
class ModelHeadsTest {
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

    static AlignmentSpec spec(String hocon) {
        Conf c = Conf.parse(hocon);
        return AlignmentModels.get(c.string("name", null)).parse(c);
    }

    /**
     * Builds a training head, then turns its inputs into variables (random values) and its masks and dropout
     * masks into constants (given values), so that GradCheckUtil checks the parameters and the inputs.
     */
    static SameDiff trainingHead(AlignmentSpec spec, Map<Modality, Integer> dims, int batch, long seed,
                                 Map<String, double[]> masks) {
        SplittableRandom rng = new SplittableRandom(seed);
        ParamSet p = new ParamSet();
        spec.initHead(p, dims, rng);
        GraphAttentionTest.randomise(p, rng);
        HeadGraph head = spec.buildHead(p, dims, true, DataType.DOUBLE);
        SameDiff sd = head.sd();
        List<SDVariable> toVars = new ArrayList<>();
        List<SDVariable> toConsts = new ArrayList<>();
        for (SDVariable v : new ArrayList<>(sd.variables())) {
            String n = v.name();
            if (n.startsWith("in_") && v.getVariableType() == VariableType.VARIABLE) {
                // the structure embeddings: a variable the trainer sets each step
                v.setArray(Nd4j.rand(DataType.DOUBLE, batch, v.getShape()[1]).subi(0.5));
                continue;
            }
            if (v.getVariableType() != VariableType.PLACEHOLDER) {
                continue;
            }
            long[] shape = v.placeholderShape();
            shape[0] = batch;
            if (n.startsWith("in_")) {
                v.setArray(Nd4j.rand(DataType.DOUBLE, shape).subi(0.5));
                toVars.add(v);
            } else if (n.startsWith("mask_")) {
                double[] m = masks.getOrDefault(n, ones(batch));
                v.setArray(Nd4j.createFromArray(m));
                toConsts.add(v);
            } else {
                // dropout: a fixed draw (values 0 or 1/(1-p))
                INDArray keep = Nd4j.rand(DataType.DOUBLE, shape).gt(0.2).castTo(DataType.DOUBLE).divi(0.8);
                v.setArray(keep);
                toConsts.add(v);
            }
        }
        sd.convertToVariables(toVars);
        sd.convertToConstants(toConsts);
        return sd;
    }

    private static double[] ones(int n) {
        double[] v = new double[n];
        java.util.Arrays.fill(v, 1);
        return v;
    }

    /**
     * The whole MCLEA head with the alignment loss switched off (zoom 0): IAL treats the joint embedding as a
     * constant teacher, so its analytic gradient is by design not the derivative of the loss value, which
     * moves with the joint; IAL is checked on its own (LossesTest) with the teacher held fixed.
     */
    @Test
    void mcleaGradients() {
        AlignmentSpec spec = spec("name = mclea, modalities = [structure, image, name], dim = 3,"
                + " modality_dim = 2, tau = 0.5, tau2 = 2.0, zoom = 0");
        Map<Modality, Integer> dims = new EnumMap<>(Modality.class);
        dims.put(Modality.STRUCTURE, 3);
        dims.put(Modality.IMAGE, 2);
        dims.put(Modality.NAME, 3);
        Map<String, double[]> masks = new HashMap<>();
        masks.put(HeadGraph.mask(Modality.IMAGE, HeadGraph.Side.L), new double[]{1, 0, 1});
        masks.put(HeadGraph.mask(Modality.NAME, HeadGraph.Side.R), new double[]{1, 1, 0});
        SameDiff sd = trainingHead(spec, dims, 3, 11, masks);
        GradientChecks.assertGradientsMatch(sd, "MCLEA head", 3);
    }

    @Test
    void meaformerGradients() {
        AlignmentSpec spec = spec("name = meaformer, modalities = [structure, name], dim = 4, heads = 2,"
                + " intermediate = 3, dropout = 0.2, tau = 0.5");
        Map<Modality, Integer> dims = new EnumMap<>(Modality.class);
        dims.put(Modality.STRUCTURE, 4);
        dims.put(Modality.NAME, 2);
        Map<String, double[]> masks = new HashMap<>();
        masks.put(HeadGraph.mask(Modality.NAME, HeadGraph.Side.L), new double[]{1, 0, 1});
        SameDiff sd = trainingHead(spec, dims, 3, 12, masks);
        GradientChecks.assertGradientsMatch(sd, "MEAformer head", 1);
    }

    /**
     * Structure only (DBP15K's first modality set): one token in the Transformer, so the meta weight is 1 and
     * the joint embedding is the normalised structure embedding; the head must still build and train.
     */
    @Test
    void meaformerSingleModalityGradients() {
        AlignmentSpec spec = spec("name = meaformer, modalities = [structure], dim = 4, heads = 2,"
                + " intermediate = 3, dropout = 0.2, tau = 0.5");
        Map<Modality, Integer> dims = new EnumMap<>(Modality.class);
        dims.put(Modality.STRUCTURE, 4);
        SameDiff sd = trainingHead(spec, dims, 3, 13, new HashMap<>());
        GradientChecks.assertGradientsMatch(sd, "MEAformer head, structure only", 1);
    }

    /**
     * MCLEA's fusion: with ω = (0, ln 3) the weights are softmax(ω) = (¼, ¾), so the joint embedding's blocks are
     * the normalised modality embeddings scaled by ¼ and ¾; an absent modality's block is zero.
     */
    @Test
    void mcleaFusionWeights() {
        AlignmentSpec spec = spec("name = mclea, modalities = [structure, name], dim = 2, modality_dim = 2");
        Map<Modality, Integer> dims = Map.of(Modality.STRUCTURE, 2, Modality.NAME, 2);
        ParamSet p = new ParamSet();
        spec.initHead(p, dims, new SplittableRandom(1));
        p.put("fusion.w", new long[]{2}, new float[]{0, (float) Math.log(3)});
        HeadGraph head = spec.buildHead(p, dims, false, DataType.DOUBLE);
        Map<String, INDArray> feed = new HashMap<>();
        head.sd().getVariable(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L)).setArray(
                Nd4j.createFromArray(new double[][]{{3, 4}, {1, 0}}));
        feed.put(HeadGraph.input(Modality.NAME, HeadGraph.Side.L), Nd4j.createFromArray(new double[][]{{1, 2},
                {3, 4}}));
        feed.put(HeadGraph.mask(Modality.STRUCTURE, HeadGraph.Side.L), Nd4j.createFromArray(1.0, 1.0));
        feed.put(HeadGraph.mask(Modality.NAME, HeadGraph.Side.L), Nd4j.createFromArray(1.0, 0.0));
        INDArray joint = head.sd().output(feed, head.joint()).get(head.joint());
        assertEquals(0.25 * 0.6, joint.getDouble(0, 0), 1e-6);
        assertEquals(0.25 * 0.8, joint.getDouble(0, 1), 1e-6);
        assertEquals(0.75, Math.hypot(joint.getDouble(0, 2), joint.getDouble(0, 3)), 1e-6);
        assertEquals(0.25, joint.getDouble(1, 0), 1e-6);
        assertEquals(0.0, joint.getDouble(1, 2), 0.0);
        assertEquals(0.0, joint.getDouble(1, 3), 0.0);
    }

    /**
     * MEAformer's meta weights on a hand case: one head, d = 2, two modality tokens x₁ (structure) and x₂ (name,
     * through an identity encoder). Queries are constant (W_q = 0, b_q = e₁) and keys the tokens (W_k = I), so
     * every query scores key m with x_m[0]/√2: with x₁[0] = √2·ln 3 and x₂[0] = 0 the attention is (¾, ¼) for
     * both queries. Each modality receives Σ_j β_jm = (1.5, 0.5), divided by √(|M|·N_h) = √2, so
     * w = softmax(1.5/√2, 0.5/√2) = (1/(1 + e^(−1/√2)), …) = (0.669761, 0.330239). With the name absent it is
     * masked as a key and gets weight 0: w = (1, 0). The joint embedding's blocks have norms w.
     */
    @Test
    void meaformerMetaWeightsByHand() {
        AlignmentSpec spec = spec("name = meaformer, modalities = [structure, name], dim = 2, heads = 1,"
                + " intermediate = 2, dropout = 0");
        Map<Modality, Integer> dims = Map.of(Modality.STRUCTURE, 2, Modality.NAME, 2);
        ParamSet p = new ParamSet();
        spec.initHead(p, dims, new SplittableRandom(1));
        p.put("name.W", new long[]{2, 2}, new float[]{1, 0, 0, 1});
        p.put("name.b", new long[]{2}, new float[]{0, 0});
        p.put("fusion.layer0.query.W", new long[]{2, 2}, new float[4]);
        p.put("fusion.layer0.query.b", new long[]{2}, new float[]{1, 0});
        p.put("fusion.layer0.key.W", new long[]{2, 2}, new float[]{1, 0, 0, 1});
        p.put("fusion.layer0.key.b", new long[]{2}, new float[2]);
        HeadGraph head = spec.buildHead(p, dims, false, DataType.DOUBLE);
        double x1 = Math.sqrt(2) * Math.log(3);
        Map<String, INDArray> feed = new HashMap<>();
        head.sd().getVariable(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L)).setArray(
                Nd4j.createFromArray(new double[][]{{x1, 0.3}, {x1, 0.3}}));
        feed.put(HeadGraph.input(Modality.NAME, HeadGraph.Side.L), Nd4j.createFromArray(new double[][]{{0, 0.7},
                {0, 0.7}}));
        feed.put(HeadGraph.mask(Modality.STRUCTURE, HeadGraph.Side.L), Nd4j.createFromArray(1.0, 1.0));
        feed.put(HeadGraph.mask(Modality.NAME, HeadGraph.Side.L), Nd4j.createFromArray(1.0, 0.0));
        INDArray joint = head.sd().output(feed, head.joint()).get(head.joint());
        double w1 = 1 / (1 + Math.exp(-1 / Math.sqrt(2)));
        assertEquals(0.669761, w1, 1e-6);
        assertEquals(w1, Math.hypot(joint.getDouble(0, 0), joint.getDouble(0, 1)), 1e-9);
        assertEquals(1 - w1, Math.hypot(joint.getDouble(0, 2), joint.getDouble(0, 3)), 1e-9);
        assertEquals(1.0, Math.hypot(joint.getDouble(1, 0), joint.getDouble(1, 1)), 1e-9);
        assertEquals(0.0, Math.hypot(joint.getDouble(1, 2), joint.getDouble(1, 3)), 1e-12);
    }
}
