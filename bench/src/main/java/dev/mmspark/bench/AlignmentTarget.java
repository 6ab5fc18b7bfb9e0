package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.kg.KgTensors;
import dev.mmspark.training.alignment.AdamW;
import dev.mmspark.training.alignment.AlignmentData;
import dev.mmspark.training.alignment.AlignmentModels;
import dev.mmspark.training.alignment.AlignmentNetwork;
import dev.mmspark.training.alignment.AlignmentSpec;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An entity-alignment model (MCLEA, MEAformer) on an {@link AlignmentCases} case. A training step is what
 * {@code AlignmentTrainer.Worker.run} does per minibatch: {@link AlignmentNetwork#step} on the case's pairs,
 * global-norm clipping when the model clips ({@code OptimizerSpec.gradClip}), {@link AdamW#step} over every
 * parameter, {@link AlignmentNetwork#clearGradients}; inference is {@link AlignmentNetwork#embed} of every entity.
 * The learning rate is the case's, constant (the schedule's value does not change the work).
 */
final class AlignmentTarget implements Target {
    private final AlignmentNetwork net;
    private final AdamW.State state;
    private final int[] left;
    private final int[] right;
    private final int[] all;
    private final double learningRate;
    private final double weightDecay;
    private final double gradClip;
    private final long seed;
    private long steps;

    private AlignmentTarget(AlignmentNetwork net, AdamW.State state, int[] left, int[] right, int entities,
                            double learningRate, double weightDecay, double gradClip, long seed) {
        this.net = net;
        this.state = state;
        this.left = left;
        this.right = right;
        this.all = new int[entities];
        for (int i = 0; i < entities; i++) {
            all[i] = i;
        }
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
        this.gradClip = gradClip;
        this.seed = seed;
    }

    static AlignmentTarget build(File dir, JsonNode c) throws Exception {
        JsonNode s = c.get("spec");
        String model = c.get("model").asText();
        // the spec's record type from the registry, its values from the case
        Class<? extends AlignmentSpec> type = AlignmentModels.get(model).parse(Conf.parse("name = " + model))
                .getClass();
        AlignmentSpec spec = Json.MAPPER.treeToValue(s, type);
        AlignmentData data = data(dir, s.get("kg"), c.get("inputs"));
        long seed = c.path("seed").asLong(1);
        AlignmentNetwork net = new AlignmentNetwork(data, spec, DataType.FLOAT);
        AdamW.State state = AdamW.State.fresh(net.init(seed));
        JsonNode opt = c.get("optimisation");
        return new AlignmentTarget(net, state, data.tensors().train().left(), data.tensors().train().right(),
                data.entityCount(), opt.get("learningRate").asDouble(), opt.get("weightDecay").asDouble(),
                s.path("gradClip").asDouble(0), seed);
    }

    /** The KG tensors from the case's arrays (the step's pairs as the training pairs). */
    static AlignmentData data(File dir, JsonNode kg, JsonNode inputs) {
        int n = kg.get("entities").asInt();
        int n1 = kg.get("entitiesPerSide").asInt();
        int relVocab = kg.get("relationVocab").asInt();
        int charVocab = kg.get("charVocab").asInt();
        int nameDim = kg.get("nameDim").asInt();
        // adjacency: both directions, sorted, no duplicates or self-loops (GraphAttention adds the self-loop)
        float[] e = AlignmentCases.readF32(dir, inputs.get("edges"));
        List<int[]> neighbours = new ArrayList<>();
        int[] deg = new int[n];
        for (int k = 0; k < e.length; k += 2) {
            deg[(int) e[k]]++;
            deg[(int) e[k + 1]]++;
        }
        int[][] adj = new int[n][];
        for (int i = 0; i < n; i++) {
            adj[i] = new int[deg[i]];
        }
        int[] fill = new int[n];
        for (int k = 0; k < e.length; k += 2) {
            int a = (int) e[k];
            int b = (int) e[k + 1];
            adj[a][fill[a]++] = b;
            adj[b][fill[b]++] = a;
        }
        for (int i = 0; i < n; i++) {
            int ii = i;
            neighbours.add(Arrays.stream(adj[i]).filter(j -> j != ii).sorted().distinct().toArray());
        }
        KgTensors.Csr adjacency = csr(neighbours, null);
        KgTensors.Csr relations = bag(AlignmentCases.readF32(dir, inputs.get("relation")), n);
        KgTensors.Csr chars = bag(AlignmentCases.readF32(dir, inputs.get("char")), n);
        // names: one token per entity that has a vector (id 2 + entity), its vector the entity's mean vector
        float[] nv = AlignmentCases.readF32(dir, inputs.get("name"));
        float[][] vectors = new float[2 + n][nameDim];
        List<int[]> tokens = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean any = false;
            for (int d = 0; d < nameDim; d++) {
                vectors[2 + i][d] = nv[i * nameDim + d];
                any |= nv[i * nameDim + d] != 0;
            }
            tokens.add(any ? new int[]{2 + i} : new int[0]);
        }
        float[] p = AlignmentCases.readF32(dir, inputs.get("pairs"));
        int b = p.length / 2;
        int[] l = new int[b];
        int[] r = new int[b];
        for (int k = 0; k < b; k++) {
            l[k] = (int) p[2 * k];
            r[k] = (int) p[2 * k + 1];
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        KgTensors t = new KgTensors(n, n1, ids, adjacency, relations, relVocab + 2, csr(tokens, null), 2 + n, chars,
                charVocab + 2, null, 0, null, null, 0, new KgTensors.Pairs(l, r),
                new KgTensors.Pairs(new int[0], new int[0]));
        return new AlignmentData(t, vectors);
    }

    /** (entity, column, count) triplets (sorted by entity) → a bag CSR with vocabulary ids column + 2. */
    private static KgTensors.Csr bag(float[] triplets, int n) {
        int nnz = triplets.length / 3;
        int[] offsets = new int[n + 1];
        int[] idx = new int[nnz];
        int[] val = new int[nnz];
        for (int k = 0; k < nnz; k++) {
            int ent = (int) triplets[3 * k];
            if (k > 0 && ent < (int) triplets[3 * (k - 1)]) {
                throw new IllegalStateException("bag triplets must be sorted by entity");
            }
            offsets[ent + 1]++;
            idx[k] = (int) triplets[3 * k + 1] + 2;
            val[k] = (int) triplets[3 * k + 2];
        }
        for (int i = 0; i < n; i++) {
            offsets[i + 1] += offsets[i];
        }
        return new KgTensors.Csr(offsets, idx, val);
    }

    private static KgTensors.Csr csr(List<int[]> rows, int[] values) {
        int[] offsets = new int[rows.size() + 1];
        for (int i = 0; i < rows.size(); i++) {
            offsets[i + 1] = offsets[i] + rows.get(i).length;
        }
        int[] idx = new int[offsets[rows.size()]];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, idx, offsets[i], rows.get(i).length);
        }
        return new KgTensors.Csr(offsets, idx, values);
    }

    @Override
    public void trainStep() {
        // as AlignmentTrainer.Worker.run: a seeded generator per step draws the head's dropout masks
        SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + steps++);
        AlignmentNetwork.Step s = net.step(state.params, left, right, rng);
        if (gradClip > 0) {
            AdamW.clip(s.gradients(), gradClip);
        }
        AdamW.step(state, s.gradients(), learningRate, weightDecay);
        net.clearGradients();
    }

    @Override
    public void inferStep() {
        net.embed(state.params, all);
    }

    @Override
    public long parameters() {
        return state.params.size();
    }
}
