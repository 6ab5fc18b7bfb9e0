package dev.mmspark.evaluation.retrieval;

import dev.mmspark.common.InputException;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.sql.Row;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * A modality's features as one fixed-length vector per row, for the classical baselines (CCA, raw cosine) --
 * the same features the models read: a vector as it is, a backbone's pooled embedding, pixels flattened (CHW),
 * and tokens as the mean of their word vectors (the table's; a text without tokens is the zero vector).
 */
public final class RawFeatures implements Serializable {
    private final String modality;
    private final String column;
    private final int dim;
    /** Token modalities: the word-vector table, [vocabulary][dim]; null otherwise. */
    private final float[][] wordVectors;

    private RawFeatures(String modality, String column, int dim, float[][] wordVectors) {
        this.modality = modality;
        this.column = column;
        this.dim = dim;
        this.wordVectors = wordVectors;
    }

    public static RawFeatures of(FeatureTable table, String modality) {
        FeatureTableMetadata.Modality m = table.require(modality);
        List<Integer> shape = m.shape();
        return switch (m.kind()) {
            case VECTOR -> new RawFeatures(modality, m.valuesColumn(), shape.get(0), null);
            case IMAGE_EMBEDDING -> new RawFeatures(modality, m.pooledColumn(),
                    m.pooledDim() != null ? m.pooledDim() : shape.get(shape.size() - 1), null);
            case IMAGE_PIXELS -> new RawFeatures(modality, m.valuesColumn(), shape.get(0) * shape.get(1) * shape.get(2),
                    null);
            case TOKENS -> {
                float[][] vectors = table.embeddings(modality);
                if (vectors == null) {
                    throw new InputException("modality '" + modality + "' of feature table " + table.path() + " has "
                            + "tokens without word vectors; the baselines average word vectors into a text vector");
                }
                yield new RawFeatures(modality, m.idsColumn(), vectors[0].length, vectors);
            }
            case SEQUENCE -> throw new InputException("modality '" + modality + "' of feature table " + table.path()
                    + " is " + m.kind().name().toLowerCase(Locale.ROOT) + "; the retrieval baselines take vectors, "
                    + "embeddings, pixels or tokens. Sequence inputs are not implemented");
        };
    }

    public String modality() {
        return modality;
    }

    public String column() {
        return column;
    }

    public int dim() {
        return dim;
    }

    /** The row's vector, or null when the row does not have the modality. */
    public double[] vector(Row row) {
        if (!RowValues.present(row, modality)) {
            return null;
        }
        double[] out = new double[dim];
        if (wordVectors != null) {
            int[] ids = RowValues.ints(row, column);
            if (ids == null || ids.length == 0) {
                return out;
            }
            for (int id : ids) {
                float[] w = wordVectors[id];
                for (int j = 0; j < dim; j++) {
                    out[j] += w[j];
                }
            }
            for (int j = 0; j < dim; j++) {
                out[j] /= ids.length;
            }
            return out;
        }
        float[] v = RowValues.floats(row, column);
        if (v == null || v.length != dim) {
            throw new InputException("row " + RowValues.id(row) + ": " + column + " has "
                    + (v == null ? "no values" : v.length + " values") + ", expected " + dim);
        }
        for (int j = 0; j < dim; j++) {
            out[j] = v[j];
        }
        return out;
    }
}
