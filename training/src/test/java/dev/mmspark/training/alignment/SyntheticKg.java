package dev.mmspark.training.alignment;

import dev.mmspark.data.kg.KnowledgeGraphPair;
import dev.mmspark.features.kg.KgTensors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A synthetic knowledge-graph pair for tests: a random graph of {@code n} entities and a second copy of it
 * with permuted ids, so that entity i of graph 1 is aligned with entity π(i) of graph 2. Both copies keep every
 * edge and relation type (relations get graph-specific ids, as in DBP15K); names share a random token per
 * pair plus a noise token; images (half the entities, with noise) and attributes optional.
 *
 * <p>Entity ids: graph 1 has 0 .. n−1, graph 2 has n .. 2n−1 (id n + π(i) is i's counterpart). The table's
 * dense indices follow the same order (graph 1 first, then graph 2 by id), so index = id.
 */
public final class SyntheticKg {
    public final int n;
    public final int[] permutation;
    public final List<int[]> edges = new ArrayList<>();
    public final List<Integer> edgeRelations = new ArrayList<>();
    public final List<List<String>> names = new ArrayList<>();
    public final List<double[]> images = new ArrayList<>();
    public final List<List<String>> attributes = new ArrayList<>();

    /**
     * @param n       entities per graph
     * @param degree  random edges drawn per entity (the graph is undirected, so the mean degree is about twice)
     * @param images  whether half of the entities get an image vector
     */
    public SyntheticKg(int n, int degree, boolean images, long seed) {
        this.n = n;
        SplittableRandom rng = new SplittableRandom(seed);
        this.permutation = new int[n];
        for (int i = 0; i < n; i++) {
            permutation[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = permutation[i];
            permutation[i] = permutation[j];
            permutation[j] = t;
        }
        TreeSet<Long> seen = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < degree; k++) {
                int j = rng.nextInt(n);
                if (j == i || !seen.add(Math.min(i, j) * (long) n + Math.max(i, j))) {
                    continue;
                }
                edges.add(new int[]{i, j});
                edgeRelations.add(rng.nextInt(6));
            }
        }
        String[] words = new String[Math.max(8, n / 2)];
        for (int w = 0; w < words.length; w++) {
            words[w] = "w" + w;
        }
        for (int i = 0; i < n; i++) {
            names.add(List.of(words[rng.nextInt(words.length)], words[rng.nextInt(words.length)]));
            double[] img = null;
            if (images && rng.nextBoolean()) {
                img = new double[4];
                for (int d = 0; d < 4; d++) {
                    img[d] = rng.nextDouble() - 0.5;
                }
            }
            this.images.add(img);
            List<String> attrs = new ArrayList<>();
            for (int a = 0; a < 3; a++) {
                if (rng.nextBoolean()) {
                    attrs.add("attr" + a);
                }
            }
            attributes.add(attrs);
        }
    }

    /** Graph-2 id of graph-1 entity i. */
    public int counterpart(int i) {
        return n + permutation[i];
    }

    /** The pair as input rows for the KG extraction. */
    public KnowledgeGraphPair rows(org.apache.spark.sql.SparkSession spark, String name) {
        List<Row> entities = new ArrayList<>();
        SplittableRandom noise = new SplittableRandom(99);
        for (int i = 0; i < n; i++) {
            entities.add(RowFactory.create(1, i, "http://g1/" + i, names.get(i), attributes.get(i), list(images.get(i))));
        }
        for (int j = 0; j < n; j++) {
            // the graph-2 entity n + j is the counterpart of i with permutation[i] = j
            int i = inverse(j);
            double[] img = images.get(i);
            double[] noisy = null;
            if (img != null) {
                noisy = img.clone();
                for (int d = 0; d < noisy.length; d++) {
                    noisy[d] += 0.05 * (noise.nextDouble() - 0.5);
                }
            }
            entities.add(RowFactory.create(2, n + j, "http://g2/" + j, List.of(names.get(i).get(0), "x" + j),
                    attributes.get(i), list(noisy)));
        }
        List<Row> triples = new ArrayList<>();
        for (int e = 0; e < edges.size(); e++) {
            int[] ed = edges.get(e);
            int r = edgeRelations.get(e);
            triples.add(RowFactory.create(1, ed[0], r, ed[1]));
            triples.add(RowFactory.create(2, counterpart(ed[0]), 100 + r, counterpart(ed[1])));
        }
        List<Row> pairs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pairs.add(RowFactory.create(i, counterpart(i)));
        }
        return new KnowledgeGraphPair(name, spark.createDataFrame(entities, KnowledgeGraphPair.ENTITY_SCHEMA),
                spark.createDataFrame(triples, KnowledgeGraphPair.TRIPLE_SCHEMA),
                spark.createDataFrame(pairs, KnowledgeGraphPair.PAIR_SCHEMA));
    }

    private int inverse(int j) {
        for (int i = 0; i < n; i++) {
            if (permutation[i] == j) {
                return i;
            }
        }
        throw new IllegalStateException();
    }

    private static List<Double> list(double[] v) {
        return v == null ? null : Arrays.stream(v).boxed().toList();
    }

    /**
     * The graph tensors directly (no Spark): structure and relation bags, names with random 8-d vectors, and
     * the first {@code train} pairs for training, the rest for testing.
     */
    public AlignmentData tensors(int train) {
        int total = 2 * n;
        List<TreeSet<Integer>> adj = new ArrayList<>();
        List<java.util.TreeMap<Integer, Integer>> rel = new ArrayList<>();
        for (int e = 0; e < total; e++) {
            adj.add(new TreeSet<>());
            rel.add(new java.util.TreeMap<>());
        }
        for (int e = 0; e < edges.size(); e++) {
            int[] ed = edges.get(e);
            int r = edgeRelations.get(e);
            link(adj, rel, ed[0], ed[1], 2 + r);
            link(adj, rel, counterpart(ed[0]), counterpart(ed[1]), 2 + 6 + r);
        }
        KgTensors.Csr adjacency = csr(adj.stream().map(s -> s.stream().mapToInt(Integer::intValue).toArray()).toList(),
                null);
        KgTensors.Csr relations = csr(rel.stream().map(m -> m.keySet().stream().mapToInt(Integer::intValue).toArray())
                .toList(), rel.stream().map(m -> m.values().stream().mapToInt(Integer::intValue).toArray()).toList());
        // names: token ids 2 + word index; graph 2 adds a noise token per entity
        java.util.Map<String, Integer> vocab = new java.util.LinkedHashMap<>();
        List<int[]> nameIds = new ArrayList<>();
        for (int e = 0; e < total; e++) {
            List<String> tokens;
            if (e < n) {
                tokens = names.get(e);
            } else {
                tokens = List.of(names.get(inverse(e - n)).get(0), "x" + (e - n));
            }
            nameIds.add(tokens.stream().mapToInt(t -> vocab.computeIfAbsent(t, k -> 2 + vocab.size())).toArray());
        }
        float[][] vectors = new float[2 + vocab.size()][8];
        SplittableRandom rng = new SplittableRandom(5);
        for (int v = 2; v < vectors.length; v++) {
            for (int d = 0; d < 8; d++) {
                vectors[v][d] = (float) (rng.nextDouble() - 0.5);
            }
        }
        int[] ids = new int[total];
        for (int e = 0; e < total; e++) {
            ids[e] = e;
        }
        int[] l = new int[n];
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = i;
            r[i] = counterpart(i);
        }
        KgTensors.Pairs trainPairs = new KgTensors.Pairs(Arrays.copyOf(l, train), Arrays.copyOf(r, train));
        KgTensors.Pairs testPairs = new KgTensors.Pairs(Arrays.copyOfRange(l, train, n), Arrays.copyOfRange(r, train, n));
        KgTensors t = new KgTensors(total, n, ids, adjacency, relations, 2 + 12, csr(nameIds, null), vectors.length,
                null, 0, null, 0, null, null, 0, trainPairs, testPairs);
        return new AlignmentData(t, vectors);
    }

    private static void link(List<TreeSet<Integer>> adj, List<java.util.TreeMap<Integer, Integer>> rel, int a, int b,
                             int r) {
        adj.get(a).add(b);
        adj.get(b).add(a);
        rel.get(a).merge(r, 1, Integer::sum);
        rel.get(b).merge(r, 1, Integer::sum);
    }

    private static KgTensors.Csr csr(List<int[]> rows, List<int[]> values) {
        int[] offsets = new int[rows.size() + 1];
        for (int i = 0; i < rows.size(); i++) {
            offsets[i + 1] = offsets[i] + rows.get(i).length;
        }
        int[] idx = new int[offsets[rows.size()]];
        int[] val = values == null ? null : new int[idx.length];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, idx, offsets[i], rows.get(i).length);
            if (val != null) {
                System.arraycopy(values.get(i), 0, val, offsets[i], values.get(i).length);
            }
        }
        return new KgTensors.Csr(offsets, idx, val);
    }
}
