package dev.mmspark.common;

import dev.mmspark.common.io.ContentHash;

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
}
