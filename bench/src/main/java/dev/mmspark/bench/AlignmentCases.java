package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.training.alignment.AlignmentModels;
import dev.mmspark.training.alignment.AlignmentSpec;
import dev.mmspark.training.alignment.OptimizerSpec;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Writes the entity-alignment cases (MCLEA, MEAformer): a synthetic KG pair shaped like DBP15K zh_en (README
 * "Entity alignment": 19.4k entities per graph, mean degree 6.65, a relation bag cut to the 1000 most frequent of
 * 3,024 relations, 100-d mean name vectors, a 1,811-bigram character bag), scaled to {@link #ENTITIES_PER_SIDE}
 * entities per graph, and one minibatch of {@link #BATCH} aligned pairs.
 *
 * <p>What is timed ({@link AlignmentTarget}) is one optimiser step of
 * {@code AlignmentTrainer.Worker.run}: {@code AlignmentNetwork.step} (the graph attention network over the
 * 2-hop blocks of the 2×{@link #BATCH} batch entities, which on this graph is nearly the whole graph, then the
 * SameDiff head: encoders, fusion, every loss term, backward), gradient clipping where the model has it, AdamW
 * over every parameter, clearing the gradients; and, for inference, {@code AlignmentNetwork.embed} of every
 * entity (one full-graph pass of the graph encoder, the head in batches of 4,096), which is what
 * {@code AlignmentTraining} writes as the embeddings that evaluation ranks.
 *
 * <p>Case layout (bench/README.md, "Case format", kind {@code alignment}): {@code spec} is the model's
 * {@link AlignmentSpec} as Jackson writes it plus {@code kg}, {@code inputDims}, {@code optimizerDefaults},
 * {@code gradClip}, {@code embedBatch}; {@code features}/{@code labels} are empty and the arrays are named under
 * {@code inputs}: {@code edges} [E, 2] (undirected, each once), {@code relation} and {@code char} [nnz, 3]
 * (entity, column, count; the relation columns by descending frequency, both sides keep those below
 * {@code relationTop}), {@code name} [N, 100] (each entity's mean name-token vector, a zero row for none),
 * {@code pairs} [B, 2] (the step's aligned pairs, left = graph 1, right = graph 2). Both sides derive the modality
 * inputs from these exactly as {@code EntityFeatures} does.
 */
final class AlignmentCases {

    /** A model case: registry name, its model section (DBP15K's modalities), the PyTorch module. */
    record AlignmentCase(String model, String modelSection, String pytorchModule) {
    }

    /**
     * Both models with their defaults, the modalities being the default (all six) narrowed to what the DBP15K KG
     * table has (structure, relation, name, char; README "Entity alignment").
     */
    static final List<AlignmentCase> MODELS = List.of(
            new AlignmentCase("mclea", "name = mclea\nmodalities = [structure, relation, name, char]", "mclea"),
            new AlignmentCase("meaformer", "name = meaformer\nmodalities = [structure, relation, name, char]",
                    "meaformer"));

    /** Entities per graph (DBP15K: 19,388 / 19,572). */
    static final int ENTITIES_PER_SIDE = 5000;
    /** Mean undirected degree (DBP15K zh_en: 2 × 129,568 edges / 38,960 entities). */
    static final double MEAN_DEGREE = 6.65;
    /** Relation vocabulary of both graphs (DBP15K zh_en: 1,701 + 1,323). */
    static final int RELATION_VOCAB = 3024;
    /** Character-bigram vocabulary (DBP15K zh_en: 1,811). */
    static final int CHAR_VOCAB = 1811;
    /** Name vector size (GloVe 6B 100-d). */
    static final int NAME_DIM = 100;
    /** Share of entities without a name vector (DBP15K zh_en: 1 − 36,683 / 38,960). */
    static final double NAME_ABSENT = 0.058;
    /**
     * Aligned pairs per step: MCLEA's default, and MEAformer's in the README's DBP15K runs
     * ({@code train.batch_size=512}; its paper's 3,500 makes one step ~50× the head's work).
     */
    static final int BATCH = 512;
    static final long KG_SEED = 15;

    private AlignmentCases() {
    }

    /** Writes {@code root/mclea} and {@code root/meaformer}; returns the case directories. */
    static List<File> write(File root, int threads, SampleCases.Timing timing) {
        Kg kg = Kg.generate(ENTITIES_PER_SIDE, KG_SEED);
        List<File> out = new ArrayList<>();
        for (AlignmentCase ac : MODELS) {
            out.add(write(root, ac, kg, threads, timing));
        }
        return out;
    }

    static File write(File root, AlignmentCase ac, Kg kg, int threads, SampleCases.Timing timing) {
        AlignmentSpec spec = AlignmentModels.get(ac.model()).parse(Conf.parse(ac.modelSection()));
        OptimizerSpec opt = spec.optimizer();
        File dir = new File(root, ac.model());
        dir.mkdirs();
        ObjectNode c = SampleCases.header(ac.model(), "alignment", ac.model(), ac.pytorchModule(), BATCH, threads,
                timing);
        ObjectNode o = (ObjectNode) c.get("optimisation");
        // the model's AdamW (decoupled decay scaled by the learning rate, as torch.optim.AdamW); the schedule is
        // left out (a constant rate on both sides: timing does not depend on it)
        o.put("learningRate", opt.learningRate());
        o.put("weightDecay", opt.weightDecay());
        ObjectNode s = (ObjectNode) Json.MAPPER.valueToTree(spec);
        s.put("model", spec.model());
        s.set("optimizerDefaults", Json.MAPPER.valueToTree(opt));
        s.put("gradClip", opt.gradClip());
        s.put("embedBatch", 4096);
        ObjectNode dims = s.putObject("inputDims");
        dims.put("relation", Math.min(spec.relationTop(), RELATION_VOCAB));
        dims.put("name", NAME_DIM);
        dims.put("char", CHAR_VOCAB);
        ObjectNode k = s.putObject("kg");
        k.put("synthetic", "DBP15K zh_en-like pair (AlignmentCases): graph 2 is a permuted copy of graph 1, "
                + "heavy-tailed degrees, Zipf relation and bigram frequencies");
        k.put("entitiesPerSide", kg.n);
        k.put("entities", 2 * kg.n);
        k.put("undirectedEdges", kg.edges.length / 2);
        k.put("meanDegree", 2.0 * (kg.edges.length / 2) / (2.0 * kg.n));
        k.put("relationVocab", RELATION_VOCAB);
        k.put("charVocab", CHAR_VOCAB);
        k.put("nameDim", NAME_DIM);
        k.put("seed", KG_SEED);
        s.put("step", "one AlignmentTrainer worker step: GAT over the 2-hop blocks of the batch's 2B entities, head "
                + "(encoders, fusion, every loss term) forward+backward, grad clip (if any), AdamW on all parameters");
        s.put("inference", "AlignmentNetwork.embed of every entity: one full-graph GAT pass, head in batches of "
                + "embedBatch");
        c.set("spec", s);
        c.putArray("features");
        c.putArray("featureMasks");
        c.putArray("labels");
        c.putArray("labelMasks");
        ObjectNode in = c.putObject("inputs");
        in.set("edges", f32(dir, "edges.f32", kg.edges, kg.edges.length / 2, 2));
        in.set("relation", f32(dir, "relation.f32", kg.relation, kg.relation.length / 3, 3));
        in.set("char", f32(dir, "char.f32", kg.chars, kg.chars.length / 3, 3));
        in.set("name", f32(dir, "name.f32", kg.names, 2L * kg.n, NAME_DIM));
        in.set("pairs", f32(dir, "pairs.f32", kg.pairs(BATCH), BATCH, 2));
        CaseFiles.writeJson(new File(dir, "case.json"), c);
        return dir;
    }

    /** Writes a little-endian float32 file; returns its {@code {file, shape}} entry. */
    static ObjectNode f32(File dir, String name, float[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        try {
            Files.write(new File(dir, name).toPath(), buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("file", name);
        com.fasterxml.jackson.databind.node.ArrayNode sh = e.putArray("shape");
        for (long d : shape) {
            sh.add(d);
        }
        return e;
    }

    /** Reads an {@code inputs} entry written by {@link #f32}. */
    static float[] readF32(File dir, JsonNode entry) {
        long n = 1;
        for (JsonNode d : entry.get("shape")) {
            n *= d.asLong();
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(new File(dir, entry.get("file").asText()).toPath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bytes.length != n * 4) {
            throw new IllegalStateException(dir + "/" + entry.get("file").asText() + " has " + bytes.length
                    + " bytes, expected " + n * 4);
        }
        float[] v = new float[(int) n];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    /**
     * The synthetic pair: graph 1 = entities 0 .. n−1, graph 2 = n .. 2n−1, a permuted copy (entity i is aligned
     * with n + π(i)). Edges: each undirected edge joins a uniform entity to one drawn half the time uniformly and
     * half the time from a hub-biased law (index n·u³), giving heavy-tailed degrees; relations and bigrams follow
     * Zipf laws over their vocabularies.
     */
    static final class Kg {
        final int n;
        final int[] permutation;
        /** Undirected edges as (a, b) pairs, both graphs. */
        final float[] edges;
        /** (entity, relation column, count) triplets. */
        final float[] relation;
        /** (entity, bigram column, count) triplets. */
        final float[] chars;
        /** [2n, NAME_DIM] mean name vectors, zero rows for none. */
        final float[] names;

        private Kg(int n, int[] permutation, float[] edges, float[] relation, float[] chars, float[] names) {
            this.n = n;
            this.permutation = permutation;
            this.edges = edges;
            this.relation = relation;
            this.chars = chars;
            this.names = names;
        }

        static Kg generate(int n, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            // graph 1's edges and their relation types; graph 2 = the same under the permutation
            int target = (int) Math.round(MEAN_DEGREE * n / 2);
            Set<Long> seen = new HashSet<>();
            int[] ea = new int[target];
            int[] eb = new int[target];
            int[] er = new int[target];
            double[] relCdf = zipf(RELATION_VOCAB);
            int m = 0;
            while (m < target) {
                int a = rng.nextInt(n);
                int b = rng.nextBoolean() ? rng.nextInt(n) : (int) (n * Math.pow(rng.nextDouble(), 3));
                if (a == b || !seen.add(Math.min(a, b) * (long) n + Math.max(a, b))) {
                    continue;
                }
                ea[m] = a;
                eb[m] = b;
                er[m] = draw(relCdf, rng);
                m++;
            }
            float[] edges = new float[4 * m];
            // relation bags: counts per (entity, relation) over incident edges; graph 2 draws its own types
            List<int[]> rel = new ArrayList<>();
            for (int e = 0; e < m; e++) {
                edges[2 * e] = ea[e];
                edges[2 * e + 1] = eb[e];
                int a2 = n + perm[ea[e]];
                int b2 = n + perm[eb[e]];
                edges[2 * (m + e)] = a2;
                edges[2 * (m + e) + 1] = b2;
                int r2 = draw(relCdf, rng);
                rel.add(new int[]{ea[e], er[e]});
                rel.add(new int[]{eb[e], er[e]});
                rel.add(new int[]{a2, r2});
                rel.add(new int[]{b2, r2});
            }
            float[] relation = counts(rel, 2 * n, RELATION_VOCAB);
            // names: a shared 100-d vector per aligned pair plus noise, absent for NAME_ABSENT of the entities
            float[] names = new float[2 * n * NAME_DIM];
            double[] charCdf = zipf(CHAR_VOCAB);
            List<int[]> ch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                double[] base = new double[NAME_DIM];
                for (int d = 0; d < NAME_DIM; d++) {
                    base[d] = 0.4 * gaussian(rng);
                }
                int[] bigrams = new int[6 + rng.nextInt(15)];
                for (int b = 0; b < bigrams.length; b++) {
                    bigrams[b] = draw(charCdf, rng);
                }
                for (int e : new int[]{i, n + perm[i]}) {
                    if (rng.nextDouble() >= NAME_ABSENT) {
                        for (int d = 0; d < NAME_DIM; d++) {
                            names[e * NAME_DIM + d] = (float) (base[d] + 0.1 * gaussian(rng));
                        }
                    }
                    for (int b : bigrams) {
                        ch.add(new int[]{e, rng.nextDouble() < 0.1 ? draw(charCdf, rng) : b});
                    }
                }
            }
            return new Kg(n, perm, edges, relation, counts(ch, 2 * n, CHAR_VOCAB), names);
        }

        /** The first {@code b} aligned pairs of a seeded shuffle, as (left, right) rows. */
        float[] pairs(int b) {
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            SplittableRandom rng = new SplittableRandom(KG_SEED + 1);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            float[] out = new float[2 * b];
            for (int k = 0; k < b; k++) {
                out[2 * k] = order[k];
                out[2 * k + 1] = n + permutation[order[k]];
            }
            return out;
        }

        /** (entity, column, count) triplets of the (entity, column) occurrences, by entity then column. */
        private static float[] counts(List<int[]> occurrences, int entities, int columns) {
            long[] keys = new long[occurrences.size()];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = occurrences.get(i)[0] * (long) columns + occurrences.get(i)[1];
            }
            Arrays.sort(keys);
            float[] out = new float[3 * keys.length];
            int k = 0;
            for (int i = 0; i < keys.length; ) {
                int j = i;
                while (j < keys.length && keys[j] == keys[i]) {
                    j++;
                }
                out[3 * k] = (float) (keys[i] / columns);
                out[3 * k + 1] = (float) (keys[i] % columns);
                out[3 * k + 2] = j - i;
                k++;
                i = j;
            }
            if (entities > 1 << 24) {
                throw new IllegalStateException("entity ids must be exact in float32");
            }
            return Arrays.copyOf(out, 3 * k);
        }

        private static double[] zipf(int size) {
            double[] cdf = new double[size];
            double sum = 0;
            for (int r = 0; r < size; r++) {
                sum += 1.0 / (r + 1);
                cdf[r] = sum;
            }
            for (int r = 0; r < size; r++) {
                cdf[r] /= sum;
            }
            return cdf;
        }

        private static int draw(double[] cdf, SplittableRandom rng) {
            int i = Arrays.binarySearch(cdf, rng.nextDouble());
            return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
        }

        private static double gaussian(SplittableRandom rng) {
            return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
        }
    }
}
