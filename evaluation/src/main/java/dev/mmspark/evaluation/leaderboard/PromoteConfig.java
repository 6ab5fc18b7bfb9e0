package dev.mmspark.evaluation.leaderboard;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;

/**
 * The {@code promote} section: when a challenger replaces the champion of a dataset.
 *
 * <pre>
 * promote {
 *   dataset = synthetic      # dataset name as in the leaderboard rows
 *   metric = accuracy        # compared on the natural test condition (each sample's own modalities)
 *   alpha = 0.05             # the challenger must be better with a paired t-test p-value below this
 *   sweep = null             # only settings run by this sweep may challenge (default: any)
 * }
 * </pre>
 */
public record PromoteConfig(String dataset, String metric, double alpha, String sweep) {
    public static PromoteConfig from(Conf c) {
        String dataset = c.requireString("dataset");
        String metric = c.string("metric", "accuracy");
        double alpha = c.number("alpha", 0.05, x -> x > 0 && x < 1, "in (0, 1)");
        String sweep = c.string("sweep", null);
        if (metric.isBlank()) {
            throw new ConfigException("config key '" + c.full("metric") + "' is empty");
        }
        return new PromoteConfig(dataset, metric, alpha, sweep);
    }
}
