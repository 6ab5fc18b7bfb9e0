package dev.mmspark.training.model;

import org.apache.spark.sql.Row;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

/**
 * A trained model, ready to predict on executors: serialisable, so a job broadcasts it once and calls it in
 * {@code mapPartitions}. Implementations are safe to call from several task threads of one executor.
 *
 * <pre>{@code
 * Predictor p = TrainedModels.load(spark, modelPath).predictor();
 * Broadcast<Predictor> bc = jsc.broadcast(p);
 * rows.mapPartitions(it -> { List<Row> batch = ...; float[][] probs = bc.value().predict(batch, null); ... });
 * }</pre>
 */
public interface Predictor extends Serializable {

    String modelName();

    Task task();

    /** Class names in the order of the probability columns (classification). */
    List<String> classNames();

    /** The feature-table modalities the model can use. */
    List<String> modalities();

    /**
     * Per-row class probabilities ({@code [rows][classes]}, classification) or predicted values
     * ({@code [rows][1]}, regression).
     *
     * @param rows      feature-table rows with their schema (at least the columns of
     *                  {@link BatchBuilder#columns()})
     * @param available per row the modality names the model may use (a subset of what the row has;
     *                  evaluation drops modalities to simulate missing ones, and the model treats a dropped
     *                  modality exactly like an absent one), or null to use everything each row has
     */
    float[][] predict(List<Row> rows, List<Set<String>> available);

    /** Like {@link #predict} with, per row, which network output answered. */
    Predictions predictions(List<Row> rows, List<Set<String>> available);
}
