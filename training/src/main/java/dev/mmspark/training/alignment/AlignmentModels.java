package dev.mmspark.training.alignment;

import dev.mmspark.common.config.ConfigException;
import dev.mmspark.training.models.mclea.MCLEA;
import dev.mmspark.training.models.meaformer.MEAformer;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The entity-alignment models by name. Kept apart from the registry of per-sample models (those train with
 * DL4J's ComputationGraph and dl4j-spark): these need the whole graph per step and train with
 * {@link AlignmentTrainer}.
 */
public final class AlignmentModels {
    private static final Map<String, AlignmentModel> MODELS = new LinkedHashMap<>();

    static {
        register(MCLEA.INSTANCE);
        register(MEAformer.INSTANCE);
    }

    private AlignmentModels() {
    }

    private static void register(AlignmentModel m) {
        MODELS.put(m.name(), m);
    }

    /** The model registered under {@code name} (case-insensitive). */
    public static AlignmentModel get(String name) {
        AlignmentModel m = MODELS.get(name.trim().toLowerCase(Locale.ROOT));
        if (m == null) {
            throw new ConfigException("unknown entity-alignment model '" + name + "'; known models: " + names());
        }
        return m;
    }

    /** Whether {@code name} (case-insensitive) is an entity-alignment model. */
    public static boolean has(String name) {
        return MODELS.containsKey(name.trim().toLowerCase(Locale.ROOT));
    }

    public static String names() {
        return String.join(", ", MODELS.keySet());
    }
}
