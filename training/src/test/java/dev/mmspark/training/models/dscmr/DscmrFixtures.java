package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.config.Conf;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.Optimisation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;
import java.util.Map;

/**
 * Tiny DSCMR models without Spark: feature-table metadata written by hand (3 classes; a 6-d image vector and a
 * 4-d text vector like the Wikipedia table's, or 3x8x8 pixels and 20-word tokens with 4-d word vectors like the
 * synthetic one) and rows with the feature table's columns.
 */
public final class DscmrFixtures {
    public static final List<String> CLASSES = List.of("a", "b", "c");
    public static final int IMAGE_DIM = 6;
    public static final int TEXT_DIM = 4;
    public static final int VOCAB = 20;

    /** Small enough for a gradient check. */
    public static final String TINY = """
            common_dim = 3
            image { hidden = [5], cnn_channels = [2] }
            text { hidden = [4, 5] }
            """;

    private DscmrFixtures() {
    }

    /** A Wikipedia-like table: two vectors. */
    public static FeatureTableMetadata vectors() {
        return table(List.of(
                modality("image", ModalityKind.VECTOR, List.of(IMAGE_DIM), null, null, null),
                modality("text", ModalityKind.VECTOR, List.of(TEXT_DIM), null, null, null)));
    }

    /** A synthetic-like table: pixels and tokens with word vectors. */
    public static FeatureTableMetadata pixelsAndTokens() {
        return table(List.of(
                modality("image", ModalityKind.IMAGE_PIXELS, List.of(3, 8, 8), null, null, null),
                modality("text", ModalityKind.TOKENS, List.of(150), VOCAB, "embeddings/text", 4)));
    }

    static FeatureTableMetadata.Modality modality(String name, ModalityKind kind, List<Integer> shape, Integer vocab,
                                                  String embeddings, Integer embeddingDim) {
        return new FeatureTableMetadata.Modality(name, kind, shape, Map.of("train", 10L), "test", 1, Map.of(), vocab,
                vocab == null ? null : "vocab/" + name, embeddings, embeddingDim, null);
    }

    static FeatureTableMetadata table(List<FeatureTableMetadata.Modality> modalities) {
        return new FeatureTableMetadata(FeatureTableMetadata.FORMAT, FeatureTableMetadata.FORMAT_VERSION,
                "classification", CLASSES, modalities, Map.of("train", 10L), "hash", null, Map.of(), null, List.of(),
                Map.of(), "2024-01-01T00:00:00Z", 1.0);
    }

    public static DscmrSpec spec(FeatureTableMetadata table, String hocon) {
        return DscmrParams.parse(Conf.parse(hocon)).resolve(table, "/tables/tiny");
    }

    public static DscmrSpec tinySpec() {
        return spec(vectors(), TINY);
    }

    public static Optimisation optimisation(DataType dt) {
        return new Optimisation(Optimisation.Optimizer.ADAM, 1e-3, 0, 42, dt);
    }

    /** What gradient checks need: plain gradient steps of size 1 (DL4J rejects any other updater there). */
    public static Optimisation gradientCheck() {
        return new Optimisation(Optimisation.Optimizer.SGD, 1.0, 0, 42, DataType.DOUBLE);
    }

    public static final StructType VECTOR_SCHEMA = new StructType()
            .add("id", DataTypes.StringType)
            .add("split", DataTypes.StringType)
            .add("label_index", DataTypes.IntegerType)
            .add("image_present", DataTypes.BooleanType)
            .add("image_values", DataTypes.createArrayType(DataTypes.FloatType))
            .add("text_present", DataTypes.BooleanType)
            .add("text_values", DataTypes.createArrayType(DataTypes.FloatType));

    /** A row of the vector table; a null array means the modality is absent. */
    public static Row row(String id, int label, float[] image, float[] text) {
        return new GenericRowWithSchema(new Object[]{id, "train", label, image != null, image, text != null, text},
                VECTOR_SCHEMA);
    }

    /** A deterministic vector. */
    public static float[] vector(int seed, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) Math.sin(seed * 7.1 + i * 0.37);
        }
        return v;
    }
}
