package dev.mmspark.training.models.multitask;

import dev.mmspark.common.config.Conf;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import dev.mmspark.training.model.Optimisation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tiny multitask models without Spark: feature-table metadata written by hand (3 classes; 3x8x8 images,
 * a 20-word text vocabulary with 4-d word vectors, 10 tags) and rows with the feature table's columns.
 */
public final class MultitaskFixtures {
    public static final List<String> CLASSES = List.of("neg", "neu", "pos");
    public static final int TEXT_VOCAB = 20;
    public static final int TAG_VOCAB = 10;

    /** Settings small enough for a gradient check; dropout off (it makes the loss random). */
    public static final String TINY = """
            representation_dim = 6
            head_hidden = [5, 4]
            image { cnn_channels = [2] }
            text { filters = 3, windows = [2, 3], dropout = 0 }
            tags { embedding_dim = 3, filters = 4 }
            """;

    private MultitaskFixtures() {
    }

    public static FeatureTableMetadata metadata(boolean image, boolean text, boolean tags) {
        List<FeatureTableMetadata.Modality> ms = new ArrayList<>();
        if (image) {
            ms.add(new FeatureTableMetadata.Modality("image", ModalityKind.IMAGE_PIXELS, List.of(3, 8, 8),
                    Map.of("train", 10L), "image-pixels", 1, Map.of(), null, null, null, null, null));
        }
        if (text) {
            ms.add(new FeatureTableMetadata.Modality("text", ModalityKind.TOKENS, List.of(150), Map.of("train", 10L),
                    "word-tokenizer", 1, Map.of(), TEXT_VOCAB, "vocab/text", "embeddings/text", 4, null));
        }
        if (tags) {
            ms.add(new FeatureTableMetadata.Modality("tags", ModalityKind.TOKENS, List.of(10), Map.of("train", 10L),
                    "tag-vocabulary", 1, Map.of(), TAG_VOCAB, "vocab/tags", null, null, null));
        }
        return new FeatureTableMetadata(FeatureTableMetadata.FORMAT, FeatureTableMetadata.FORMAT_VERSION,
                "classification", CLASSES, ms, Map.of("train", 10L), "hash", null, Map.of(), null, List.of(), Map.of(),
                "2024-01-01T00:00:00Z", 1.0);
    }

    public static MultitaskSpec spec(FeatureTableMetadata table, String hocon) {
        return (MultitaskSpec) MultitaskParams.parse(Conf.parse(hocon)).resolve(table, "/tables/tiny");
    }

    public static MultitaskSpec tinySpec() {
        return spec(metadata(true, true, true), TINY);
    }

    public static Optimisation optimisation(DataType dt) {
        return new Optimisation(Optimisation.Optimizer.ADAM, 1e-3, 0, 42, dt);
    }

    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType)
            .add("split", DataTypes.StringType)
            .add("label_index", DataTypes.IntegerType)
            .add("image_present", DataTypes.BooleanType)
            .add("image_values", DataTypes.createArrayType(DataTypes.FloatType))
            .add("text_present", DataTypes.BooleanType)
            .add("text_ids", DataTypes.createArrayType(DataTypes.IntegerType))
            .add("tags_present", DataTypes.BooleanType)
            .add("tags_ids", DataTypes.createArrayType(DataTypes.IntegerType));

    /** A row; a null array means the modality is absent. */
    public static Row row(String id, int label, float[] image, int[] text, int[] tags) {
        return new GenericRowWithSchema(new Object[]{id, "train", label, image != null, image, text != null, text,
                tags != null, tags}, SCHEMA);
    }

    /** A deterministic 3x8x8 image. */
    public static float[] image(int seed) {
        float[] v = new float[3 * 8 * 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(seed * 7.1 + i * 0.37);
        }
        return v;
    }
}
