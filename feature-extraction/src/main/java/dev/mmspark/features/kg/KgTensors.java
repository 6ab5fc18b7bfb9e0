package dev.mmspark.features.kg;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The graph tensors of a KG feature table, on the driver: what a GAT-based entity-alignment trainer
 * (MCLEA, MEAformer) broadcasts. Row {@code i} of every matrix is the entity with dense index {@code i};
 * graph 1's entities come first ({@code 0 .. entities1-1}), then graph 2's. DBP15K (~39k entities, ~165k
 * triples) takes a few MB.
 *
 * @param entityCount       entities of both graphs
 * @param entities1         entities of graph 1 (indices below it)
 * @param entityIds         the input id of each index
 * @param adjacency         neighbours (CSR, no values): undirected, so each edge is stored in both rows
 * @param relations         bag of relations (CSR: relation vocabulary ids, values = counts)
 * @param relationVocabSize relation vocabulary size (incl. padding 0 and unknown 1)
 * @param names             name-token ids in order (CSR, no values; an empty row: no name); null without names
 * @param nameVocabSize     name vocabulary size (0 without names)
 * @param chars             bag of character n-grams (CSR with counts); null without the char modality
 * @param charVocabSize     n-gram vocabulary size (0 without)
 * @param attributes        bag of attributes (CSR with counts); null without attributes
 * @param attributeVocabSize attribute vocabulary size (0 without)
 * @param images            image vectors, row-major [entityCount x imageDim] (zeros where absent); null without
 * @param imagePresent      which entities have an image; null without
 * @param imageDim          image vector size (0 without)
 * @param train             training pairs (dense indices)
 * @param test              test pairs (dense indices)
 */
public record KgTensors(int entityCount, int entities1, int[] entityIds, Csr adjacency, Csr relations,
                        int relationVocabSize, Csr names, int nameVocabSize, Csr chars, int charVocabSize,
                        Csr attributes, int attributeVocabSize, float[] images, boolean[] imagePresent,
                        int imageDim, Pairs train, Pairs test) implements Serializable {

    /**
     * A sparse matrix in compressed sparse row form: row {@code i} holds {@code indices[offsets[i] ..
     * offsets[i+1])} and, when {@code values} is not null, their values.
     */
    public record Csr(int[] offsets, int[] indices, int[] values) implements Serializable {
        public int rows() {
            return offsets.length - 1;
        }

        /** Stored entries. */
        public int nnz() {
            return indices.length;
        }

        public int length(int row) {
            return offsets[row + 1] - offsets[row];
        }

        /** The column indices (ids) of a row, as a copy. */
        public int[] row(int row) {
            return Arrays.copyOfRange(indices, offsets[row], offsets[row + 1]);
        }

        /** The values of a row, as a copy. */
        public int[] values(int row) {
            if (values == null) {
                throw new IllegalStateException("this matrix has no values");
            }
            return Arrays.copyOfRange(values, offsets[row], offsets[row + 1]);
        }
    }

    /** Aligned pairs as dense indices: {@code left[k]} (graph 1) is {@code right[k]} (graph 2). */
    public record Pairs(int[] left, int[] right) implements Serializable {
        public Pairs {
            if (left.length != right.length) {
                throw new IllegalArgumentException("pairs need as many left as right indices");
            }
        }

        public int size() {
            return left.length;
        }
    }

    /** The graph of an index (1 or 2). */
    public int graph(int index) {
        if (index < 0 || index >= entityCount) {
            throw new IndexOutOfBoundsException("entity index " + index + " of " + entityCount);
        }
        return index < entities1 ? 1 : 2;
    }

    /**
     * The directed edge list of the adjacency: {@code {sources, targets}}, each undirected edge in both
     * directions, ordered by source then target.
     */
    public int[][] edgeList() {
        int[] src = new int[adjacency.nnz()];
        for (int i = 0; i < adjacency.rows(); i++) {
            Arrays.fill(src, adjacency.offsets()[i], adjacency.offsets()[i + 1], i);
        }
        return new int[][]{src, adjacency.indices().clone()};
    }

    /** An entity's image vector (a copy), or null when it has none. */
    public float[] image(int index) {
        if (images == null || !imagePresent[index]) {
            return null;
        }
        return Arrays.copyOfRange(images, index * imageDim, (index + 1) * imageDim);
    }
}
