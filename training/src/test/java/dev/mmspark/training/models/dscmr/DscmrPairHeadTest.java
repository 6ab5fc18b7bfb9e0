package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.training.fusion.FusionSpec;
import dev.mmspark.training.fusion.Fusions;
import dev.mmspark.training.layers.GradientChecks;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.Predictions;
import org.apache.spark.sql.Row;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DSCMR's optional pair head ({@code pair_fusion}, {@code pair_weight}): settings, the graph it adds (and that it
 * adds nothing when absent), its gradient, its loss against a hand computation, and a tiny fit.
 */
class DscmrPairHeadTest {

    private static final String MLB = DscmrFixtures.TINY + "pair_fusion { name = mlb, mm_dim = 4, output_dim = 2 }\n";

    private static DscmrParams params(String hocon) {
        return DscmrParams.parse(Conf.parse("m {\n" + hocon + "\n}").section("m"));
    }

    private static ComputationGraph network(DscmrSpec spec, Optimisation opt) {
        ComputationGraph net = new ComputationGraph(spec.graphConfiguration(opt));
        net.init();
        return net;
    }

    /** Four pairs, an image-only and a text-only row. */
    private static List<Row> rows() {
        return List.of(
                DscmrFixtures.row("a", 0, DscmrFixtures.vector(1, 6), DscmrFixtures.vector(2, 4)),
                DscmrFixtures.row("b", 1, DscmrFixtures.vector(3, 6), DscmrFixtures.vector(4, 4)),
                DscmrFixtures.row("c", 2, DscmrFixtures.vector(5, 6), DscmrFixtures.vector(6, 4)),
                DscmrFixtures.row("d", 1, DscmrFixtures.vector(7, 6), DscmrFixtures.vector(8, 4)),
                DscmrFixtures.row("e", 0, DscmrFixtures.vector(9, 6), null),
                DscmrFixtures.row("f", 2, null, DscmrFixtures.vector(10, 4)));
    }

    @Test
    void absentByDefault() {
        DscmrParams p = params("");
        assertNull(p.pair());
        DscmrSpec spec = DscmrFixtures.tinySpec();
        assertEquals(Optional.empty(), spec.pairClassifier());
        assertFalse(Json.write(spec).contains("\"pair\""), "a spec without a pair head is saved as before: "
                + Json.write(spec));
    }

    @Test
    void namedAndObjectForms() {
        DscmrParams named = params("pair_fusion = concat");
        assertEquals(new DscmrParams.PairHead(FusionSpec.of("concat"), 1.0), named.pair());
        DscmrParams object = params("pair_fusion { name = mlb, mm_dim = 600 }\npair_weight = 0.25");
        assertEquals(new DscmrParams.PairHead(new FusionSpec("mlb", Map.of("mm_dim", 600)), 0.25), object.pair());
        assertEquals(0.0, params("pair_fusion = gmu\npair_weight = 0").pair().weight());
    }

    @Test
    void badSettingsNameTheirKey() {
        ConfigException unknown = assertThrows(ConfigException.class, () -> params("pair_fusion = bilinear"));
        assertEquals("config key 'm.pair_fusion': unknown fusion 'bilinear'; known fusions: " + Fusions.knownNames(),
                unknown.getMessage());
        assertTrue(Fusions.knownNames().contains("concat, gmu"), Fusions.knownNames());
        ConfigException unknownObject = assertThrows(ConfigException.class,
                () -> params("pair_fusion { name = bilinear }"));
        assertEquals("config key 'm.pair_fusion.name': unknown fusion 'bilinear'; known fusions: "
                + Fusions.knownNames(), unknownObject.getMessage());
        ConfigException negative = assertThrows(ConfigException.class,
                () -> params("pair_fusion = concat\npair_weight = -0.5"));
        assertTrue(negative.getMessage().startsWith("config key 'm.pair_weight': expected a number in [0, 1e6], "
                + "found -0.5"), negative.getMessage());
        ConfigException orphan = assertThrows(ConfigException.class, () -> params("pair_weight = 2"));
        assertEquals("config key 'm.pair_weight' is set, but 'm.pair_fusion' is not: the weight belongs to the pair "
                + "head, which only exists with a pair fusion", orphan.getMessage());
        ConfigException setting = assertThrows(ConfigException.class,
                () -> params("pair_fusion { name = mlb, mm_dim = 0 }"));
        assertTrue(setting.getMessage().startsWith("config key 'm.pair_fusion.mm_dim'"), setting.getMessage());
    }

    /** Without pair_fusion the graph is DSCMR's alone: the same vertices, parameters and workspace modes. */
    @Test
    void absentGivesExactlyTheDscmrGraph() {
        ComputationGraph net = network(DscmrFixtures.tinySpec(), DscmrFixtures.optimisation(DataType.FLOAT));
        ComputationGraphConfiguration conf = net.getConfiguration();
        assertEquals(List.of("image", "text", "pair_flag"), conf.getNetworkInputs());
        assertEquals(new TreeSet<>(List.of("image_fc1", "text_fc1", "text_fc2", "stack", "common", "common_image",
                "common_text", "pair", "dscmr")), new TreeSet<>(conf.getVertices().keySet()));
        assertEquals(List.of("dscmr"), conf.getNetworkOutputs());
        // image 6 -> 5, text 4 -> 4 -> 5, common 5 -> 3, classifier 3 -> 3
        assertEquals((6 * 5 + 5) + (4 * 4 + 4) + (4 * 5 + 5) + (5 * 3 + 3) + (3 * 3 + 3), net.numParams());
        assertEquals(WorkspaceMode.ENABLED, conf.getTrainingWorkspaceMode());

        // with a pair head the DSCMR part is untouched and the head comes on top
        DscmrSpec concat = DscmrFixtures.spec(DscmrFixtures.vectors(), DscmrFixtures.TINY + "pair_fusion = concat");
        ComputationGraph withHead = network(concat, DscmrFixtures.optimisation(DataType.FLOAT));
        ComputationGraphConfiguration hc = withHead.getConfiguration();
        for (Map.Entry<String, ?> v : conf.getVertices().entrySet()) {
            assertEquals(v.getValue(), hc.getVertices().get(v.getKey()), v.getKey());
        }
        assertEquals(conf.getVertices().size() + 2, hc.getVertices().size());
        assertEquals(List.of("dscmr", "pair_classifier"), hc.getNetworkOutputs());
        assertEquals(net.numParams() + (3 + 3) * 3 + 3, withHead.numParams(), "concat [u; v] (6) -> softmax (3)");
        assertEquals(WorkspaceMode.ENABLED, hc.getTrainingWorkspaceMode(), "concat is a merge vertex");
        assertEquals(List.of(new ModelOutput("dscmr", "it", List.of("image", "text")),
                new ModelOutput("pair_classifier", "it_pair", List.of("image", "text"))), concat.outputs());

        ComputationGraphConfiguration mlb = DscmrFixtures.spec(DscmrFixtures.vectors(), MLB)
                .graphConfiguration(DscmrFixtures.optimisation(DataType.FLOAT));
        assertEquals(WorkspaceMode.NONE, mlb.getTrainingWorkspaceMode(), "SameDiff fusion vertices need them off");
        assertEquals(WorkspaceMode.NONE, mlb.getInferenceWorkspaceMode());
    }

    @Test
    void configurationAndSpecSurviveJsonRoundTrip() {
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.vectors(), MLB + "pair_weight = 0.5");
        assertEquals(spec, Json.read(Json.write(spec), DscmrSpec.class));
        ComputationGraphConfiguration conf = spec.graphConfiguration(DscmrFixtures.optimisation(DataType.FLOAT));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
        // the loss weight takes part in the comparison, so the round trip above covers it
        assertNotEquals(conf, DscmrFixtures.spec(DscmrFixtures.vectors(), MLB)
                .graphConfiguration(DscmrFixtures.optimisation(DataType.FLOAT)));
        DscmrSpec old = DscmrFixtures.tinySpec();
        assertEquals(old, Json.read(Json.write(old), DscmrSpec.class));
    }

    /** The batch builder gives the pair head one-hot labels and the pair flag as its label mask. */
    @Test
    void pairHeadLabelMaskIsThePairFlag() {
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.vectors(), MLB);
        MultiDataSet mds = spec.batchBuilder().build(rows(), null, true);
        assertEquals(2, mds.getLabels().length);
        assertEquals(mds.getLabels(0), mds.getLabels(1));
        assertArrayEquals(new float[]{1, 1, 1, 1, 0, 0}, mds.getLabelsMaskArray(1).toFloatVector());
        assertArrayEquals(mds.getFeatures(2).toFloatVector(), mds.getLabelsMaskArray(1).toFloatVector());
    }

    /**
     * The head's share of the score, against a hand computation from its own softmax outputs:
     * w (1/B) sum over the pairs of -log p_i[y_i], B = 6 rows of which 4 are pairs; unpaired rows' labels do not
     * count. The share is the score minus that of the same parameters with w = 0 (the DSCMR terms alone).
     */
    @Test
    void pairLossIsTheWeightedCrossEntropyOfThePairs() {
        Optimisation opt = DscmrFixtures.optimisation(DataType.DOUBLE);
        String conf = DscmrFixtures.TINY + "pair_fusion = concat\n";
        ComputationGraph zero = network(DscmrFixtures.spec(DscmrFixtures.vectors(), conf + "pair_weight = 0"), opt);
        MultiDataSet mds = DscmrFixtures.tinySpec().batchBuilder().build(rows(), null, true);
        MultiDataSet batch = DscmrFixtures.spec(DscmrFixtures.vectors(), conf).batchBuilder().build(rows(), null, true);
        INDArray[] features = cast(batch.getFeatures());
        INDArray[] labels = cast(batch.getLabels());
        INDArray[] masks = cast(batch.getLabelsMaskArrays());
        org.nd4j.linalg.dataset.MultiDataSet d = new org.nd4j.linalg.dataset.MultiDataSet(features, labels, null, masks);
        zero.setInputs(features);
        double dscmrOnly = zero.score(d, false);
        assertEquals(1, mds.getLabels().length, "without a head: one label array");

        INDArray probs = zero.feedForward(features, false).get("pair_classifier");
        double hand = 0;
        int[] y = {0, 1, 2, 1};
        for (int i = 0; i < 4; i++) {
            hand -= Math.log(probs.getDouble(i, y[i]));
        }
        hand /= 6;
        for (double w : new double[]{1.0, 0.5, 3.0}) {
            ComputationGraph net = network(DscmrFixtures.spec(DscmrFixtures.vectors(), conf + "pair_weight = " + w),
                    opt);
            net.setParams(zero.params());
            assertEquals(w * hand, net.score(d, false) - dscmrOnly, 1e-10, "pair_weight " + w);
        }
        // an unpaired row's label changes nothing
        INDArray[] other = new INDArray[]{labels[0], labels[1].dup()};
        other[1].getRow(4).assign(Nd4j.create(new double[]{0, 0, 1}));
        ComputationGraph one = network(DscmrFixtures.spec(DscmrFixtures.vectors(), conf), opt);
        one.setParams(zero.params());
        assertEquals(one.score(d, false), one.score(new org.nd4j.linalg.dataset.MultiDataSet(features, other, null,
                masks), false), 1e-12);
    }

    /**
     * The whole network with a parametric pair fusion (MLB: two projections, a Hadamard product, an output
     * projection) and a pair weight other than 1, double precision, every parameter: the pair head's gradient
     * reaches the shared common layer and both subnetworks. Image [5, 6], text [5, 4]: three pairs, a text-only
     * and an image-only sample.
     */
    @Test
    void wholeNetworkWithAParametricPairFusionPassesGradientCheck() {
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.vectors(), """
                common_dim = 2
                image { hidden = [3] }
                text { hidden = [2, 3] }
                pair_fusion { name = mlb, mm_dim = 3, output_dim = 2 }
                pair_weight = 0.7
                """);
        ComputationGraph net = new ComputationGraph(DscmrNetwork.build(spec, DscmrFixtures.gradientCheck()));
        net.init();
        // DL4J starts biases at 0: off the ReLU kinks, as in DscmrLossTest and FusionOperatorsTest (a pair whose
        // MLB product is 0 everywhere would put the fusion's output ReLU exactly on its kink)
        for (String layer : List.of("image_fc1", "text_fc1", "text_fc2", "common")) {
            net.getLayer(layer).getParam("b").assign(0.1);
        }
        for (Map.Entry<String, INDArray> p : net.getVertex(DscmrNetwork.PAIR_FUSION).paramTable(false).entrySet()) {
            if (p.getKey().startsWith("b")) {
                p.getValue().assign(0.1);
            }
        }
        Nd4j.getRandom().setSeed(12);
        INDArray image = Nd4j.rand(DataType.DOUBLE, 5, DscmrFixtures.IMAGE_DIM).subi(0.5);
        INDArray text = Nd4j.rand(DataType.DOUBLE, 5, DscmrFixtures.TEXT_DIM).subi(0.5);
        image.getRow(3).assign(0);
        text.getRow(4).assign(0);
        INDArray flag = Nd4j.create(new double[][]{{1}, {1}, {1}, {0}, {0}});
        INDArray labels = Nd4j.create(new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 1, 0}, {1, 0, 0}, {0, 0, 1}});
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{image, text, flag}).labels(new INDArray[]{labels, labels.dup()})
                .labelMask(new INDArray[]{flag, flag.dup()})));
    }

    /** A few Adam steps on one tiny minibatch: the pair head's loss falls and its predictions are distributions. */
    @Test
    void theHeadLearnsATinyBatch() {
        DscmrSpec spec = DscmrFixtures.spec(DscmrFixtures.vectors(), DscmrFixtures.TINY + "pair_fusion = concat");
        ComputationGraph net = network(spec, new Optimisation(Optimisation.Optimizer.ADAM, 0.05, 0, 42,
                DataType.FLOAT));
        MultiDataSet batch = spec.batchBuilder().build(rows(), null, true);
        double first = pairLoss(net, batch);
        for (int i = 0; i < 25; i++) {
            net.fit(batch);
        }
        double last = pairLoss(net, batch);
        assertTrue(Double.isFinite(first) && last < 0.5 * first, "pair head loss " + first + " -> " + last);

        GraphPredictor p = new GraphPredictor(spec, net, new float[]{1 / 3f, 1 / 3f, 1 / 3f});
        GraphPredictor.Scores s = p.scores(rows(), null);
        int pair = spec.outputs().indexOf(spec.pairClassifier().orElseThrow());
        assertEquals(1, pair);
        int[] y = {0, 1, 2, 1};
        for (int i = 0; i < 4; i++) {
            float[] dist = s.values()[pair][i];
            assertEquals(1.0, dist[0] + dist[1] + dist[2], 1e-5);
            assertEquals(y[i], Predictions.argmax(dist), "a memorised pair: row " + i);
        }
        // the generic predictor still answers from DSCMR's own output (the first of the tie)
        assertEquals("it", p.predictions(rows().subList(0, 1), List.of(Set.of("image", "text"))).outputs()[0]);
    }

    /** Mean cross-entropy of the pair head over the pairs of {@code batch}, from its softmax outputs. */
    private static double pairLoss(ComputationGraph net, MultiDataSet batch) {
        INDArray probs = net.feedForward(batch.getFeatures(), false).get("pair_classifier");
        INDArray mask = batch.getLabelsMaskArray(1);
        INDArray y = batch.getLabels(1);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < probs.rows(); i++) {
            if (mask.getDouble(i, 0) > 0) {
                sum -= Math.log(probs.getRow(i).mul(y.getRow(i)).sumNumber().doubleValue());
                n++;
            }
        }
        return sum / n;
    }

    private static INDArray[] cast(INDArray[] a) {
        INDArray[] out = new INDArray[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] == null ? null : a[i].castTo(DataType.DOUBLE);
        }
        return out;
    }
}
