package dev.mmspark.training.fusion;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fusion operator by name with its settings, as written in a model's config ({@code fusion = concat} or
 * {@code fusion { name = lmf, rank = 4 }}) and recorded in a saved model's spec.
 */
public record FusionSpec(String name, Map<String, Object> settings) implements Serializable {
    public FusionSpec {
        settings = settings == null ? Map.of() : new TreeMap<>(settings);
    }

    public static FusionSpec of(String name) {
        return new FusionSpec(name, Map.of());
    }
}
