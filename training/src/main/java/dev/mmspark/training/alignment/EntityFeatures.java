package dev.mmspark.training.alignment;

import dev.mmspark.features.kg.KgTensors;
import dev.mmspark.features.text.Vocabulary;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The per-entity inputs of the non-structure modality encoders, prepared once per worker from the broadcast
 * {@link AlignmentData}, and densified a minibatch at a time (the encoders are linear layers over these rows,
 * so only the entities of a batch ever become dense).
 *
 * <p>The inputs follow MCLEA's official code ({@code src/Load.py}, {@code src/run.py}):
 * <ul>
 *   <li>relation: counts of the {@code relationTop} most frequent relations (vocabulary ids are by descending
 *       frequency), raw counts as in {@code load_relation};</li>
 *   <li>attribute: 1 for each of the {@code attributeTop} most frequent attributes an entity has
 *       ({@code load_attr} is binary);</li>
 *   <li>char: bag of character n-grams, counts divided by their L2 norm ({@code load_word_char_features});</li>
 *   <li>name: the mean of the name tokens' word vectors, L2-normalised. MCLEA averages only tokens that GloVe
 *       covers and draws a random vector when none is; here every token has a vector (the table gives tokens
 *       outside the vector file a random vector seeded by the token, the same in both graphs), so all tokens
 *       are averaged and an entity without name tokens is marked absent instead of given noise;</li>
 *   <li>image: the image vector, L2-normalised ({@code F.normalize(img_features)}).</li>
 * </ul>
 * An entity lacking a modality (no name, no image, an empty bag after the top-k cut) is marked absent: the
 * losses and the fusion skip it for that modality instead of aligning meaningless zero rows.
 */
public final class EntityFeatures {
    private final int entities;
    private final Map<Modality, Sparse> sparse = new EnumMap<>(Modality.class);
    private final Map<Modality, Dense> dense = new EnumMap<>(Modality.class);

    /** A bag per entity: CSR with column ids (0-based input dimensions) and float values. */
    private record Sparse(int dim, int[] offsets, int[] cols, float[] values, boolean[] present) {
    }

    /** A dense vector per entity, row-major. */
    private record Dense(int dim, float[] values, boolean[] present) {
    }

    private EntityFeatures(int entities) {
        this.entities = entities;
    }

    /**
     * Prepares the inputs of {@code modalities} (structure is the graph encoder's and has none here).
     *
     * @param relationTop  relations kept (MCLEA: 1000)
     * @param attributeTop attributes kept (MCLEA: 1000)
     */
    public static EntityFeatures build(AlignmentData data, List<Modality> modalities, int relationTop,
                                       int attributeTop) {
        KgTensors t = data.tensors();
        EntityFeatures f = new EntityFeatures(t.entityCount());
        for (Modality m : modalities) {
            if (!data.has(m)) {
                throw new IllegalArgumentException("the KG table has no " + m.id() + " modality");
            }
            switch (m) {
                case STRUCTURE -> {
                }
                case RELATION -> f.sparse.put(m, topK(t.relations(), t.relationVocabSize(), relationTop, false));
                case ATTRIBUTE -> f.sparse.put(m, topK(t.attributes(), t.attributeVocabSize(), attributeTop, true));
                case CHAR -> f.sparse.put(m, normalisedBag(t.chars(), t.charVocabSize()));
                case NAME -> f.dense.put(m, names(t.names(), data.nameVectors(), t.entityCount()));
                case IMAGE -> f.dense.put(m, images(t));
            }
        }
        return f;
    }

    /** Input size of a modality's encoder. */
    public int dim(Modality m) {
        if (sparse.containsKey(m)) {
            return sparse.get(m).dim;
        }
        if (dense.containsKey(m)) {
            return dense.get(m).dim;
        }
        throw new IllegalArgumentException("no inputs prepared for " + m.id());
    }

    public int entities() {
        return entities;
    }

    /** Whether entity {@code e} has modality {@code m} (structure: always, through its self-loop). */
    public boolean present(Modality m, int e) {
        if (m == Modality.STRUCTURE) {
            return true;
        }
        Sparse s = sparse.get(m);
        return s != null ? s.present[e] : dense.get(m).present[e];
    }

    /** Entities that have the modality. */
    public int presentCount(Modality m) {
        int n = 0;
        for (int e = 0; e < entities; e++) {
            if (present(m, e)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Writes the inputs of {@code rows} into {@code out} ({@code rows.length × dim(m)}, row-major, overwritten)
     * and their presence (1 or 0) into {@code mask}.
     */
    public void fill(Modality m, int[] rows, float[] out, float[] mask) {
        int d = dim(m);
        java.util.Arrays.fill(out, 0, rows.length * d, 0f);
        Sparse s = sparse.get(m);
        if (s != null) {
            for (int r = 0; r < rows.length; r++) {
                int e = rows[r];
                for (int k = s.offsets[e]; k < s.offsets[e + 1]; k++) {
                    out[r * d + s.cols[k]] += s.values[k];
                }
                mask[r] = s.present[e] ? 1f : 0f;
            }
            return;
        }
        Dense x = dense.get(m);
        for (int r = 0; r < rows.length; r++) {
            int e = rows[r];
            System.arraycopy(x.values, e * d, out, r * d, d);
            mask[r] = x.present[e] ? 1f : 0f;
        }
    }

    /** Vocabulary ids 2 .. 2+top-1 (the most frequent; 0 pad, 1 unknown dropped) become columns 0 .. top-1. */
    private static Sparse topK(KgTensors.Csr bag, int vocabSize, int top, boolean binary) {
        int dim = Math.max(1, Math.min(top, vocabSize - 2));
        int n = bag.rows();
        int[] offsets = new int[n + 1];
        int[] cols = new int[bag.nnz()];
        float[] values = new float[bag.nnz()];
        boolean[] present = new boolean[n];
        int k = 0;
        for (int e = 0; e < n; e++) {
            for (int j = bag.offsets()[e]; j < bag.offsets()[e + 1]; j++) {
                int c = bag.indices()[j] - 2;
                if (c >= 0 && c < dim) {
                    cols[k] = c;
                    values[k] = binary ? 1f : bag.values()[j];
                    k++;
                }
            }
            offsets[e + 1] = k;
            present[e] = offsets[e + 1] > offsets[e];
        }
        return new Sparse(dim, offsets, java.util.Arrays.copyOf(cols, k), java.util.Arrays.copyOf(values, k), present);
    }

    private static Sparse normalisedBag(KgTensors.Csr bag, int vocabSize) {
        Sparse s = topK(bag, vocabSize, Integer.MAX_VALUE, false);
        for (int e = 0; e < bag.rows(); e++) {
            double sq = 0;
            for (int k = s.offsets[e]; k < s.offsets[e + 1]; k++) {
                sq += (double) s.values[k] * s.values[k];
            }
            if (sq > 0) {
                float inv = (float) (1 / Math.sqrt(sq));
                for (int k = s.offsets[e]; k < s.offsets[e + 1]; k++) {
                    s.values[k] *= inv;
                }
            }
        }
        return s;
    }

    private static Dense names(KgTensors.Csr names, float[][] vectors, int n) {
        int dim = vectors[0].length;
        float[] out = new float[n * dim];
        boolean[] present = new boolean[n];
        double[] acc = new double[dim];
        for (int e = 0; e < n; e++) {
            java.util.Arrays.fill(acc, 0);
            int tokens = 0;
            for (int k = names.offsets()[e]; k < names.offsets()[e + 1]; k++) {
                int id = names.indices()[k];
                if (id == Vocabulary.PAD || id == Vocabulary.UNK) {
                    continue;
                }
                for (int j = 0; j < dim; j++) {
                    acc[j] += vectors[id][j];
                }
                tokens++;
            }
            if (tokens == 0) {
                continue;
            }
            present[e] = normaliseInto(acc, out, e * dim);
        }
        return new Dense(dim, out, present);
    }

    private static Dense images(KgTensors t) {
        int dim = t.imageDim();
        int n = t.entityCount();
        float[] out = new float[n * dim];
        boolean[] present = new boolean[n];
        double[] acc = new double[dim];
        for (int e = 0; e < n; e++) {
            if (!t.imagePresent()[e]) {
                continue;
            }
            for (int j = 0; j < dim; j++) {
                acc[j] = t.images()[e * dim + j];
            }
            present[e] = normaliseInto(acc, out, e * dim);
        }
        return new Dense(dim, out, present);
    }

    /** Writes acc / ||acc|| at {@code out[offset..]}; false (nothing written) for a zero vector. */
    private static boolean normaliseInto(double[] acc, float[] out, int offset) {
        double sq = 0;
        for (double v : acc) {
            sq += v * v;
        }
        if (sq == 0) {
            return false;
        }
        double inv = 1 / Math.sqrt(sq);
        for (int j = 0; j < acc.length; j++) {
            out[offset + j] = (float) (acc[j] * inv);
        }
        return true;
    }
}
