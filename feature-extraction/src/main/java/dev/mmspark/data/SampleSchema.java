package dev.mmspark.data;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/**
 * The canonical schema every dataset reader produces: one row per sample, any modality may be null
 * (absent). The feature extraction job consumes only this schema, so a new data source needs only a
 * reader.
 *
 * <ul>
 *   <li>{@code id}: unique sample id;</li>
 *   <li>{@code split}: one of {@link Split};</li>
 *   <li>{@code label}: class name (classification) or null; {@code target}: real value (regression) or null;</li>
 *   <li>{@code image}: fully qualified URI of an image file (JPEG, PNG, BMP, GIF);</li>
 *   <li>{@code text}: the sample's text, already decoded to a Java string;</li>
 *   <li>{@code tags}: tag strings (e.g. hashtags);</li>
 *   <li>{@code vectors}: precomputed feature vectors by modality name (e.g. {@code audio -> [..]});</li>
 *   <li>{@code sequences}: precomputed feature sequences by modality name (frames x dims, e.g. CMU-MOSI's
 *       COVAREP/FACET features);</li>
 *   <li>{@code source}: where the record came from ({@code file:line}), used in error messages.</li>
 * </ul>
 */
public final class SampleSchema {
    public static final String ID = "id";
    public static final String SPLIT = "split";
    public static final String LABEL = "label";
    public static final String TARGET = "target";
    public static final String IMAGE = "image";
    public static final String TEXT = "text";
    public static final String TAGS = "tags";
    public static final String VECTORS = "vectors";
    public static final String SEQUENCES = "sequences";
    public static final String SOURCE = "source";

    /** The three built-in content modalities, in the canonical order i, t, #. */
    public static final List<String> CONTENT_MODALITIES = List.of(IMAGE, TEXT, TAGS);

    public static final ArrayType DOUBLE_ARRAY = DataTypes.createArrayType(DataTypes.DoubleType, false);

    public static final StructType SCHEMA = new StructType(new StructField[]{
            DataTypes.createStructField(ID, DataTypes.StringType, false),
            DataTypes.createStructField(SPLIT, DataTypes.StringType, false),
            DataTypes.createStructField(LABEL, DataTypes.StringType, true),
            DataTypes.createStructField(TARGET, DataTypes.DoubleType, true),
            DataTypes.createStructField(IMAGE, DataTypes.StringType, true),
            DataTypes.createStructField(TEXT, DataTypes.StringType, true),
            DataTypes.createStructField(TAGS, DataTypes.createArrayType(DataTypes.StringType, false), true),
            DataTypes.createStructField(VECTORS, MapType.apply(DataTypes.StringType, DOUBLE_ARRAY, false), true),
            DataTypes.createStructField(SEQUENCES,
                    MapType.apply(DataTypes.StringType, DataTypes.createArrayType(DOUBLE_ARRAY, false), false), true),
            DataTypes.createStructField(SOURCE, DataTypes.StringType, false),
    });

    private SampleSchema() {
    }
}
