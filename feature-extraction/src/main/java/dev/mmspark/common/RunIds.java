package dev.mmspark.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;

/**
 * Run ids: a hash of what determines a run's result, so the same run has the same id wherever and
 * whenever it is computed (a sweep rerun skips runs whose rows are already in the leaderboard).
 */
public final class RunIds {
    private RunIds() {
    }

    /**
     * @param resolvedConfigJson the resolved training configuration (canonical JSON)
     * @param tableHash          content hash of the feature table
     * @param codeVersion        {@link Provenance#codeVersion()}
     * @param seed               training seed
     */
    public static String of(String resolvedConfigJson, String tableHash, String codeVersion, long seed) {
        return ContentHash.ofString(resolvedConfigJson + "\u0000" + tableHash + "\u0000" + codeVersion + "\u0000" + seed)
                .substring(0, 16);
    }

    private static final ObjectMapper CANONICAL = Json.MAPPER.copy()
            .disable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /**
     * Compact JSON with every object's keys sorted, at any depth: a config described before training (records,
     * ordered maps) and the same config read back from a saved model's metadata.json (plain maps) give the
     * same text, so a sweep can compute a run's id before the run exists.
     */
    public static String canonicalJson(Object value) {
        try {
            return CANONICAL.writeValueAsString(Json.MAPPER.convertValue(value, Object.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getName() + " to JSON", e);
        }
    }
}
