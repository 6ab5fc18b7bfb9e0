package dev.mmspark.training.model;

import org.apache.spark.sql.Row;

import java.io.Serializable;
import java.util.List;

/**
 * A trained common-space model, ready to embed rows on the executors: per row, the vector of one modality in
 * the space where the model compares modalities (cross-modal retrieval ranks the items of one modality by
 * their similarity to a query of the other there). Serialisable, so a job broadcasts it once; safe to call
 * from several task threads of one executor.
 *
 * <p>This sits beside {@link Predictor} rather than inside it: per-sample predictions (class distributions)
 * and per-modality embeddings are different answers, and a model may give both.
 */
public interface EmbeddingPredictor extends Serializable {

    String modelName();

    /** The modalities the model embeds, in its role order (for DSCMR: the image role, then the text role). */
    List<String> modalities();

    /** Length of every embedding. */
    int dimension();

    /** Every feature-table column {@link #embeddings} reads. */
    List<String> columns();

    /**
     * Per row the common-space embedding of {@code modality} ({@code [rows][dimension]}), or null for a row
     * that does not have the modality: a row is embedded from that modality's features alone, whatever else
     * it has.
     */
    float[][] embeddings(List<Row> rows, String modality);
}
