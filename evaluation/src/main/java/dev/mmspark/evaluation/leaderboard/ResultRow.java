package dev.mmspark.evaluation.leaderboard;

import java.io.Serializable;
import java.sql.Timestamp;
import java.util.Map;

/**
 * One leaderboard row: one (run, evaluation condition, metric set). Self-describing: the model, its
 * config and hash, the data it saw (feature table path and content hash), the seed, code and library
 * versions, and where the model is.
 *
 * @param runId          id of the training run (hash of resolved config, feature-table hash, code version, seed)
 * @param sweepId        the sweep the run belongs to, or null
 * @param model          registered model name
 * @param fusion         fusion operator, or null when the model has none
 * @param dataset        dataset name (e.g. synthetic, mvsa_single)
 * @param featureTable   feature-table path
 * @param featureTableHash content hash of the feature table
 * @param split          evaluated split
 * @param seed           training seed
 * @param configHash     SHA-256 of the resolved training config
 * @param config         resolved training config (JSON)
 * @param evalSubset     modality subset evaluated (e.g. "i", "it#"), "natural" for each sample's own modalities,
 *                       or "all" for a single-condition metric set
 * @param missingProtocol none, modality or frame
 * @param missingRate    share of test samples (modality) or frames (frame) dropped
 * @param missingPattern which modalities were dropped ("mixed" when drawn per sample), or null
 * @param metricSet      classification, regression, retrieval, alignment, robustness
 * @param nSamples       number of evaluated samples (queries, pairs)
 * @param metrics        metric name -> value (accuracy, macro_f1, weighted_f1, map_i2t, hits_at_1, ...)
 * @param details        JSON with anything else (confusion matrix, per-class F1)
 * @param modelPath      where the model is saved
 * @param paramCount     trainable parameters
 * @param trainSeconds   training wall time
 * @param examplesPerSecond training throughput
 * @param codeVersion    mmspark version + commit
 * @param sparkVersion   Spark version
 * @param dl4jVersion    DL4J version and ND4J backend
 * @param trainedAt      when training finished
 * @param evaluatedAt    when this row was computed
 */
public record ResultRow(String runId, String sweepId, String model, String fusion, String dataset, String featureTable,
                        String featureTableHash, String split, long seed, String configHash, String config,
                        String evalSubset, String missingProtocol, double missingRate, String missingPattern,
                        String metricSet, long nSamples, Map<String, Double> metrics, String details,
                        String modelPath, long paramCount, double trainSeconds, double examplesPerSecond,
                        String codeVersion, String sparkVersion, String dl4jVersion, Timestamp trainedAt,
                        Timestamp evaluatedAt) implements Serializable {
}
