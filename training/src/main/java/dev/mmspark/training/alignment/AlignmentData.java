package dev.mmspark.training.alignment;

import dev.mmspark.features.kg.KgTensors;

import java.io.Serializable;

/**
 * What every worker needs of a KG feature table, broadcast once per training run: the graph tensors
 * (adjacency, bags, names, images, pairs) and the name word vectors. A few MB for DBP15K (≈39k entities,
 * ≈130k undirected edges, 23k name tokens × 100 dims).
 *
 * @param tensors     the table's graph tensors
 * @param nameVectors the name vocabulary's word vectors ({@code [vocab][dim]}), or null without names
 */
public record AlignmentData(KgTensors tensors, float[][] nameVectors) implements Serializable {
    public AlignmentData {
        if (tensors.names() != null && nameVectors == null) {
            throw new IllegalArgumentException("the table has names but no name vectors");
        }
    }

    public int entityCount() {
        return tensors.entityCount();
    }

    /** Whether the table has a modality at all (structure and relation always). */
    public boolean has(Modality m) {
        return switch (m) {
            case STRUCTURE, RELATION -> true;
            case ATTRIBUTE -> tensors.attributes() != null;
            case IMAGE -> tensors.images() != null && tensors.imageDim() > 0;
            case NAME -> tensors.names() != null && nameVectors != null && nameVectors.length > 0;
            case CHAR -> tensors.chars() != null;
        };
    }
}
