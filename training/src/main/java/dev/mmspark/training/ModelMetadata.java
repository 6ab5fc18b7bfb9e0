package dev.mmspark.training;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.model.Optimisation;

import java.util.List;
import java.util.Map;

/**
 * {@code metadata.json} of a saved model: enough to rebuild the network, to check that a feature table
 * fits it, and to reproduce the run (resolved configuration, code and library versions, seed, input table
 * with hash and row counts).
 *
 * @param spec          the resolved model spec (Jackson form of the model's spec record)
 * @param config        every {@code train} setting with its resolved value
 * @param optimisation  what the network configuration was built with
 * @param featureTable  the table the model was trained on
 * @param prior         class frequencies of the training split (or the mean target): the answer for a
 *                      sample with no usable modality
 * @param validation    the last epoch's validation result, when computed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelMetadata(String format, int formatVersion, String model, String reference, String task,
                            List<String> classes, JsonNode spec, Map<String, Object> config,
                            Optimisation optimisation, Map<String, Object> provenance, TableRef featureTable,
                            Training training, List<EpochStats> history, EpochStats validation, float[] prior) {

    public static final String FORMAT = "mmspark-model";
    public static final int FORMAT_VERSION = 1;

    /**
     * The feature table a model was trained on.
     *
     * @param modalities   the table's description of each modality the model reads
     * @param vocabularies per token modality, a SHA-256 of its tokens in id order: token ids only mean the
     *                     same words under the same vocabulary
     */
    public record TableRef(String path, String tableHash, Map<String, Long> rows,
                           List<FeatureTableMetadata.Modality> modalities, Map<String, String> vocabularies) {
    }

    /**
     * @param wallSeconds       whole run (this session), including reading, validation and checkpoints
     * @param trainingSeconds   sum of the epochs' training time over all sessions (resumes included)
     * @param examplesPerSecond training examples per second of training time
     * @param resumedFromEpoch  the checkpoint epoch this session started from (0: from scratch)
     */
    public record Training(String startedAt, String finishedAt, double wallSeconds, double trainingSeconds,
                           int epochs, int resumedFromEpoch, int workers, long trainExamples,
                           double examplesPerSecond, long parameters) {
    }
}
