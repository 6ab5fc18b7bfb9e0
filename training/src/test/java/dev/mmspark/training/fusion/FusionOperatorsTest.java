package dev.mmspark.training.fusion;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;
import dev.mmspark.training.TrainedModels;
import dev.mmspark.training.layers.GradientChecks;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class FusionOperatorsTest {

    /**
     * Every registered operator at tiny sizes (mcb 6 = 2 x 3 exercises the four-step DFT). The ReLU operators get
     * an mm_dim large enough that no sample's pooled vector is exactly 0, where the output ReLU would sit on its
     * kink (a finite difference there is 1/2, not a derivative).
     */
    public static final List<String> TINY = List.of(
            "{ name = concat }",
            "{ name = sum, dim = 3 }",
            "{ name = attention, dim = 3 }",
            "{ name = gmu, dim = 3 }",
            "{ name = tfn, dim = 2 }",
            "{ name = lmf, rank = 2, output_dim = 3 }",
            "{ name = mcb, mm_dim = 6, output_dim = 3, seed = 7 }",
            "{ name = mlb, mm_dim = 8, output_dim = 3, normalize = true }",
            "{ name = mfb, mm_dim = 6, factor = 2, output_dim = 3 }",
            "{ name = mfh, mm_dim = 3, factor = 2, output_dim = 3 }",
            "{ name = mutan, mm_dim = 3, rank = 2, output_dim = 3, normalize = true }",
            "{ name = block, mm_dim = 5, chunks = 2, rank = 2, output_dim = 3 }");

    static Stream<Object[]> tinyCases() {
        return TINY.stream().flatMap(s -> Stream.of(new Object[]{s, new int[]{3, 2}}, new Object[]{s, new int[]{2, 3, 2}}));
    }

    static FusionSpec spec(String hocon) {
        return Fusions.parse(Conf.parse("fusion = " + hocon), "fusion", "concat");
    }

    private static GraphBuilder inputs(int[] sizes) {
        GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(11).updater(new NoOp())
                .graphBuilder();
        InputType[] types = new InputType[sizes.length];
        for (int m = 0; m < sizes.length; m++) {
            g.addInputs("x" + m);
            types[m] = InputType.feedForward(sizes[m]);
        }
        return g.setInputTypes(types);
    }

    private static List<FusionOperator.Branch> branches(int[] sizes) {
        List<FusionOperator.Branch> b = new ArrayList<>();
        for (int m = 0; m < sizes.length; m++) {
            b.add(new FusionOperator.Branch("x" + m, sizes[m]));
        }
        return b;
    }

    private static INDArray[] randomInputs(int batch, int[] sizes) {
        INDArray[] xs = new INDArray[sizes.length];
        for (int m = 0; m < sizes.length; m++) {
            xs[m] = Nd4j.rand(DataType.DOUBLE, batch, sizes[m]).subi(0.5).muli(2);
        }
        return xs;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tinyCases")
    void gradientCheck(String hocon, int[] sizes) {
        Nd4j.getRandom().setSeed(5);
        GraphBuilder g = inputs(sizes);
        FusionOperator.Fused f = Fusions.operator(spec(hocon)).fuse(g, "fuse", branches(sizes));
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        // biases away from 0 (they start at 0): with ReLU on the projections, a sample whose product is 0
        // everywhere would put the output ReLU exactly on its kink
        if (net.getVertex("fuse").numParams() > 0) {
            for (Map.Entry<String, INDArray> p : net.getVertex("fuse").paramTable(false).entrySet()) {
                if (p.getKey().startsWith("b")) {
                    p.getValue().assign(Nd4j.rand(DataType.DOUBLE, p.getValue().shape()).muli(0.4).addi(0.2));
                }
            }
        }
        INDArray labels = Nd4j.create(new double[][]{{1, 0}, {0, 1}, {1, 0}});
        // every parameter array and input is checked, at most 8 entries of each (all of most of them)
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).subset(true).maxPerParam(8)
                .inputs(randomInputs(3, sizes)).labels(new INDArray[]{labels})), hocon);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tinyCases")
    void configurationSurvivesJsonRoundTrip(String hocon, int[] sizes) {
        GraphBuilder g = inputs(sizes);
        FusionOperator.Fused f = Fusions.operator(spec(hocon)).fuse(g, "fuse", branches(sizes));
        ComputationGraphConfiguration conf = g.setOutputs(f.vertex()).build();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf.getVertices().get("fuse"), back.getVertices().get("fuse"));
        assertEquals(conf.toJson(), back.toJson());
        ComputationGraph a = new ComputationGraph(conf);
        a.init();
        ComputationGraph b = new ComputationGraph(back);
        if (TrainedModels.parameterCount(a) > 0) {
            b.init(a.params().dup(), true);
        } else {
            b.init();
        }
        INDArray[] xs = randomInputs(2, sizes);
        INDArray ya = a.outputSingle(xs);
        assertEquals(f.size(), ya.size(1));
        assertArrayEquals(ya.ravel().toDoubleVector(), b.outputSingle(xs).ravel().toDoubleVector(), 0.0);
        // the spec (what a saved model records) also survives its own JSON round trip
        FusionSpec s = spec(hocon);
        FusionSpec sBack = Json.read(Json.write(s), FusionSpec.class);
        assertEquals(Fusions.operator(s).fuse(inputs(sizes), "fuse", branches(sizes)),
                Fusions.operator(sBack).fuse(inputs(sizes), "fuse", branches(sizes)));
    }

    // ------------------------------------------------------------------ presence masks

    /** Inputs x0..x{N-1}, then presence masks p0..p{N-1} ([batch, 1]). */
    private static GraphBuilder inputsWithPresence(int[] sizes) {
        GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(11).updater(new NoOp())
                .graphBuilder();
        InputType[] types = new InputType[2 * sizes.length];
        for (int m = 0; m < sizes.length; m++) {
            g.addInputs("x" + m);
            types[m] = InputType.feedForward(sizes[m]);
        }
        for (int m = 0; m < sizes.length; m++) {
            g.addInputs("p" + m);
            types[sizes.length + m] = InputType.feedForward(1);
        }
        return g.setInputTypes(types);
    }

    private static List<FusionOperator.Branch> branchesWithPresence(int[] sizes) {
        List<FusionOperator.Branch> b = new ArrayList<>();
        for (int m = 0; m < sizes.length; m++) {
            b.add(new FusionOperator.Branch("x" + m, sizes[m], "p" + m));
        }
        return b;
    }

    /** Presence of 3 samples: modality m is missing from sample m (so each sample lacks one, none lacks all). */
    private static INDArray[] presence(int n) {
        INDArray[] ps = new INDArray[n];
        for (int m = 0; m < n; m++) {
            ps[m] = Nd4j.ones(DataType.DOUBLE, 3, 1);
            ps[m].putScalar(m, 0, 0.0);
        }
        return ps;
    }

    private static INDArray[] concat(INDArray[] a, INDArray[] b) {
        INDArray[] all = new INDArray[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static ComputationGraph withPresence(String hocon, int[] sizes, boolean output) {
        GraphBuilder g = inputsWithPresence(sizes);
        FusionOperator.Fused f = Fusions.operator(spec(hocon)).fuse(g, "fuse", branchesWithPresence(sizes));
        if (output) {
            g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                    .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
        } else {
            g.setOutputs(f.vertex());
        }
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** Three modalities only: the masking code does not depend on N, and the checks dominate the suite's time. */
    static Stream<Object[]> tinyTrimodalCases() {
        return TINY.stream().map(s -> new Object[]{s, new int[]{2, 3, 2}});
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tinyTrimodalCases")
    void gradientCheckWithPresenceMasks(String hocon, int[] sizes) {
        Nd4j.getRandom().setSeed(6);
        ComputationGraph net = withPresence(hocon, sizes, true);
        if (net.getVertex("fuse").numParams() > 0) {
            for (Map.Entry<String, INDArray> p : net.getVertex("fuse").paramTable(false).entrySet()) {
                if (p.getKey().startsWith("b")) {
                    p.getValue().assign(Nd4j.rand(DataType.DOUBLE, p.getValue().shape()).muli(0.4).addi(0.2));
                }
            }
        }
        INDArray labels = Nd4j.create(new double[][]{{1, 0}, {0, 1}, {1, 0}});
        assertTrue(GradientChecks.check(new GradientCheckUtil.GraphConfig().net(net).subset(true).maxPerParam(8)
                .inputs(concat(randomInputs(3, sizes), presence(sizes.length))).labels(new INDArray[]{labels})),
                hocon);
    }

    /**
     * With presence masks, an absent modality's input values do not matter; every operator but attention and sum
     * computes what it computes on that modality's zero vector (the README's "missing modality" column).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tinyCases")
    void presenceMasksZeroTheAbsentModality(String hocon, int[] sizes) {
        Nd4j.getRandom().setSeed(7);
        ComputationGraph masked = withPresence(hocon, sizes, false);
        INDArray[] xs = randomInputs(3, sizes);
        INDArray[] ps = presence(sizes.length);
        INDArray[] zeroed = new INDArray[sizes.length];
        INDArray[] scrambled = new INDArray[sizes.length];
        for (int m = 0; m < sizes.length; m++) {
            zeroed[m] = xs[m].mul(ps[m]);
            scrambled[m] = xs[m].add(ps[m].rsub(1.0).mul(7.0));             // absent rows changed, present kept
        }
        INDArray y = masked.outputSingle(concat(xs, ps));
        assertArrayEquals(y.ravel().toDoubleVector(), masked.outputSingle(concat(scrambled, ps)).ravel().toDoubleVector(), 1e-12,
                hocon + ": an absent modality's values reach the output");
        String name = spec(hocon).name();
        if (!name.equals("attention") && !name.equals("sum")) {
            GraphBuilder g = inputs(sizes);
            FusionOperator.Fused f = Fusions.operator(spec(hocon)).fuse(g, "fuse", branches(sizes));
            ComputationGraph plain = new ComputationGraph(g.setOutputs(f.vertex()).build());
            if (TrainedModels.parameterCount(masked) > 0) {
                plain.init(masked.params().dup(), true);
            } else {
                plain.init();
            }
            assertArrayEquals(plain.outputSingle(zeroed).ravel().toDoubleVector(), y.ravel().toDoubleVector(), 1e-12,
                    hocon);
        }
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(masked.getConfiguration().toJson());
        assertEquals(masked.getConfiguration().getVertices().get("fuse"), back.getVertices().get("fuse"));
        assertEquals(masked.getConfiguration().toJson(), back.toJson());
    }

    /**
     * Attention by hand: with modality 1 absent the weights are (1, 0), so y = tanh(x_0 W_0 + b_0); with both absent
     * y = 0. The weighted sum by hand: y = a_0 (x_0 W_0 + b_0), modality 1's bias left out.
     */
    @Test
    void attentionAndSumLeaveAnAbsentModalityOut() {
        int[] sizes = {2, 3};
        INDArray x0 = Nd4j.create(new double[][]{{0.3, -0.7}, {0.5, 0.1}});
        INDArray x1 = Nd4j.create(new double[][]{{0.2, 0.4, -0.1}, {-0.3, 0.6, 0.9}});
        INDArray p0 = Nd4j.create(new double[][]{{1}, {0}});
        INDArray p1 = Nd4j.create(new double[][]{{0}, {0}});
        for (String hocon : List.of("{ name = attention, dim = 2 }", "{ name = sum, dim = 2 }")) {
            ComputationGraph net = withPresence(hocon, sizes, false);
            Map<String, INDArray> t = net.getVertex("fuse").paramTable(false);
            t.get("b0").assign(Nd4j.create(new double[][]{{0.25, -0.5}}));
            t.get("b1").assign(Nd4j.create(new double[][]{{0.75, 1.5}}));
            INDArray y = net.outputSingle(x0, x1, p0, p1);
            INDArray projected0 = x0.getRow(0, true).mmul(t.get("W0")).add(t.get("b0"));
            INDArray expected0 = hocon.contains("attention") ? Transforms.tanh(projected0)
                    : projected0.mul(t.get("a0"));
            assertArrayEquals(expected0.toDoubleVector(), y.getRow(0).toDoubleVector(), 1e-12, hocon);
            assertArrayEquals(new double[]{0, 0}, y.getRow(1).toDoubleVector(), 1e-12, hocon + ": nothing present");
        }
    }

    /** DL4J's numParams() counts layers only; a model's reported size must include its fusion vertices. */
    @Test
    void parameterCountIncludesTheFusionVertex() {
        GraphBuilder g = inputs(new int[]{3, 2});
        FusionOperator.Fused f = Fusions.operator(spec("{ name = sum, dim = 4 }")).fuse(g, "fuse", branches(new int[]{3, 2}));
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        long sum = (3 * 4 + 4 + 1) + (2 * 4 + 4 + 1);                         // W_m, b_m, a_m per modality
        assertEquals(sum, net.getVertex("fuse").numParams());
        assertEquals(sum + 4 * 2 + 2, TrainedModels.parameterCount(net));
        assertEquals(4 * 2 + 2, net.numParams(), "DL4J's own count leaves the vertex out (why parameterCount exists)");
    }

    @Test
    void presenceMasksForSomeBranchesOnlyAreAnError() {
        GraphBuilder g = inputsWithPresence(new int[]{2, 2});
        List<FusionOperator.Branch> mixed = List.of(new FusionOperator.Branch("x0", 2, "p0"),
                new FusionOperator.Branch("x1", 2));
        for (String name : List.of("concat", "mlb")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fusions.operator(spec(name)).fuse(g, "fuse_" + name, mixed));
            assertTrue(e.getMessage().contains("presence masks must be given for all inputs or none"), e.getMessage());
        }
    }

    /** The parameter values reference.py uses: 0.5 sin(0.61 j + 0.1 seed(name)), j the C-order index. */
    static INDArray referenceParam(String name, long[] shape) {
        long seed = 0;
        for (int i = 0; i < name.length(); i++) {
            seed += (long) (i + 1) * name.charAt(i);
        }
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] v = new double[(int) n];
        for (int j = 0; j < n; j++) {
            v[j] = 0.5 * Math.sin(0.61 * j + 0.1 * seed);
        }
        return Nd4j.create(v, shape, 'c');
    }

    @Test
    void outputsMatchTheNumpyReference() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/fusion/reference.json")) {
            cases = Json.tree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        int checked = 0;
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            int[] sizes = new int[c.get("sizes").size()];
            for (int m = 0; m < sizes.length; m++) {
                sizes[m] = c.get("sizes").get(m).asInt();
            }
            FusionVertex v;
            JsonNode s = c.get("settings");
            if (name.equals("mcb")) {
                v = new McbVertex(sizes, s.get("mm_dim").asInt(), s.get("output_dim").asInt(),
                        Json.read(s.get("bins").toString(), int[][].class), Json.read(s.get("signs").toString(), int[][].class));
            } else {
                StringBuilder hocon = new StringBuilder("{ name = " + name);
                for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    hocon.append(", ").append(e.getKey()).append(" = ").append(e.getValue().toString());
                }
                v = ((VertexFusion) Fusions.operator(spec(hocon + " }"))).vertex(sizes);
            }
            GraphBuilder g = inputs(sizes);
            String[] in = new String[sizes.length];
            INDArray[] xs = new INDArray[sizes.length];
            for (int m = 0; m < sizes.length; m++) {
                in[m] = "x" + m;
                double[][] x = new double[2][sizes[m]];
                for (int b = 0; b < 2; b++) {
                    for (int i = 0; i < sizes[m]; i++) {
                        x[b][i] = Math.cos(0.5 * b + 0.3 * i + m);
                    }
                }
                xs[m] = Nd4j.create(x);
            }
            ComputationGraph net = new ComputationGraph(g.addVertex("fuse", v, in).setOutputs("fuse").build());
            net.init();
            for (Map.Entry<String, INDArray> p : net.getVertex("fuse").paramTable(false).entrySet()) {
                p.getValue().assign(referenceParam(p.getKey(), p.getValue().shape()));
            }
            INDArray y = net.outputSingle(xs);
            JsonNode expected = c.get("output");
            String what = name + " " + s + " " + java.util.Arrays.toString(sizes);
            assertEquals(expected.get(0).size(), y.size(1), what);
            for (int b = 0; b < 2; b++) {
                for (int k = 0; k < y.size(1); k++) {
                    double e = expected.get(b).get(k).asDouble();
                    assertEquals(e, y.getDouble(b, k), 1e-9 * Math.max(1, Math.abs(e)), what + " at [" + b + "," + k + "]");
                }
            }
            checked++;
        }
        assertEquals(28, checked);
    }

    /** TFN by hand: [1; x] (x) [1; y] for x = (2), y = (3, -1), no projection. */
    /**
     * At their default sizes, in float, mfb (and block, mcb, mfh, mutan: too slow for a unit test) crashed or
     * failed with nonsense shapes under DL4J
     * workspaces (FusionOperator#workspacesSafe); a network built as the models build it -- workspaces off for
     * such an operator -- trains. Three inputs of 300 (the multitask representation size), batch 64.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mfb"})
    void parametricOperatorsTrainAtDefaultSizesInFloat(String name) {
        FusionOperator op = Fusions.operator(spec(name));
        assertEquals(false, op.workspacesSafe(), name + " is a SameDiff vertex");
        assertTrue(Fusions.operator(spec("concat")).workspacesSafe());
        NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).seed(3)
                .updater(new org.nd4j.linalg.learning.config.Adam(1e-3));
        if (!op.workspacesSafe()) {
            base.trainingWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE)
                    .inferenceWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE);
        }
        GraphBuilder g = base.graphBuilder();
        int[] sizes = {300, 300, 300};
        for (int m = 0; m < sizes.length; m++) {
            g.addInputs("x" + m);
        }
        g.setInputTypes(InputType.feedForward(300), InputType.feedForward(300), InputType.feedForward(300));
        FusionOperator.Fused f = op.fuse(g, "fuse", branches(sizes));
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        INDArray[] xs = new INDArray[3];
        for (int m = 0; m < 3; m++) {
            xs[m] = Nd4j.rand(DataType.FLOAT, 64, 300);
        }
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 64, 3);
        for (int b = 0; b < 64; b++) {
            labels.putScalar(b, b % 3, 1f);
        }
        org.nd4j.linalg.dataset.MultiDataSet batch = new org.nd4j.linalg.dataset.MultiDataSet(xs,
                new INDArray[]{labels});
        double first = Double.NaN;
        for (int step = 0; step < 4; step++) {
            net.fit(batch);
            first = step == 0 ? net.score() : first;
        }
        assertTrue(Double.isFinite(net.score()), name + " score " + net.score());
        assertTrue(net.score() < first, name + ": the loss on the fitted batch went down (" + first + " -> "
                + net.score() + ")");
        assertEquals(64, net.outputSingle(xs).size(0));
    }

    @Test
    void tensorFusionByHand() {
        GraphBuilder g = inputs(new int[]{1, 2});
        g.addVertex("fuse", new TfnVertex(new int[]{1, 2}, 0), "x0", "x1").setOutputs("fuse");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        INDArray y = net.outputSingle(Nd4j.create(new double[][]{{2}}), Nd4j.create(new double[][]{{3, -1}}));
        assertArrayEquals(new double[]{1, 3, -1, 2, 6, -2}, y.toDoubleVector(), 1e-12);
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Fusions.parse(Conf.parse("model { fusion = blok }"), "model.fusion", "concat"));
        assertTrue(e.getMessage().contains("'model.fusion'"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown fusion 'blok'"), e.getMessage());
        assertTrue(e.getMessage().contains("attention, block, concat, gmu, lmf, mcb, mfb, mfh, mlb, mutan, sum, tfn"),
                e.getMessage());
    }

    @Test
    void badSettingsNameTheKey() {
        Conf c = Conf.parse("fusion { name = block, mm_dim = 0 }");
        ConfigException e = assertThrows(ConfigException.class, () -> Fusions.parse(c, "fusion", "concat"));
        assertTrue(e.getMessage().contains("fusion.mm_dim"), e.getMessage());
        Conf misspelt = Conf.parse("fusion { name = mutan, rnak = 3 }");
        Fusions.parse(misspelt, "fusion", "concat");
        ConfigException u = assertThrows(ConfigException.class, misspelt::rejectUnknownKeys);
        assertTrue(u.getMessage().contains("fusion.rnak"), u.getMessage());
        FusionSpec saved = new FusionSpec("mutan", Map.of("rnak", 3));
        assertThrows(ConfigException.class, () -> Fusions.operator(saved));
    }

    @Test
    void mcbHashesAreSavedWithTheModel() {
        McbVertex v = (McbVertex) ((VertexFusion) Fusions.operator(spec("{ name = mcb, mm_dim = 16, seed = 3 }")))
                .vertex(new int[]{5, 4});
        ComputationGraphConfiguration conf = inputs(new int[]{5, 4}).addVertex("fuse", v, "x0", "x1")
                .setOutputs("fuse").build();
        McbVertex back = (McbVertex) ComputationGraphConfiguration.fromJson(conf.toJson()).getVertices().get("fuse");
        assertArrayEquals(v.bins(), back.bins());
        assertArrayEquals(v.signs(), back.signs());
        assertEquals(5, v.bins()[0].length);
    }

    @Test
    void mcbSplitsItsDftIntoTwoFactors() {
        assertEquals(125, McbVertex.splitFactor(16000));
        assertEquals(1, McbVertex.splitFactor(7));
        assertArrayEquals(new int[]{80, 80, 80}, BlockVertex.chunkSizes(240, 3));
        assertArrayEquals(new int[]{3, 2}, BlockVertex.chunkSizes(5, 2));
    }
}
