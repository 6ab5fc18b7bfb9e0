package dev.mmspark.training.alignment;

import dev.mmspark.features.kg.KgTableMetadata;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The entity modalities of multi-modal entity alignment (MCLEA, Lin et al. COLING 2022, §3.1; MEAformer,
 * Chen et al. ACM MM 2023, §3.1). Names are those of the KG feature table ({@link KgTableMetadata}) and of
 * the config ({@code model.modalities = [structure, relation, name]}). The declaration order is the order
 * of the modalities everywhere (joint embedding blocks, loss weights, Transformer tokens).
 */
public enum Modality {
    /** Graph structure: a graph attention network over the adjacency, on learned entity embeddings. */
    STRUCTURE(KgTableMetadata.STRUCTURE),
    /** Bag of the relations an entity takes part in (head or tail), top-k relations. */
    RELATION(KgTableMetadata.RELATION),
    /** Bag of attributes, top-k attributes, binary as in MCLEA's load_attr. */
    ATTRIBUTE(KgTableMetadata.ATTRIBUTE),
    /** A precomputed image feature vector (L2-normalised). */
    IMAGE(KgTableMetadata.IMAGE),
    /** The mean of the word vectors of the name tokens (L2-normalised). */
    NAME(KgTableMetadata.NAME),
    /** Bag of character n-grams of the name (L2-normalised counts). */
    CHAR(KgTableMetadata.CHAR);

    private final String id;

    Modality(String id) {
        this.id = id;
    }

    /** The name in configs, tables and result rows. */
    public String id() {
        return id;
    }

    /** The modality named {@code s}, or null. */
    public static Modality byId(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (Modality m : values()) {
            if (m.id.equals(k)) {
                return m;
            }
        }
        return null;
    }

    /** All names, for messages. */
    public static String ids() {
        return Arrays.stream(values()).map(Modality::id).collect(Collectors.joining(", "));
    }

    /** The set in declaration order, e.g. {@code structure+relation+name} (the leaderboard's eval_subset). */
    public static String label(Collection<Modality> modalities) {
        return modalities.stream().sorted().map(Modality::id).collect(Collectors.joining("+"));
    }

    /** A copy in declaration order. */
    public static List<Modality> ordered(Collection<Modality> modalities) {
        return modalities.stream().distinct().sorted().toList();
    }
}
