package dev.mmspark.features;

import dev.mmspark.common.InputException;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.text.Vocabulary;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An extracted feature table, opened for training or evaluation. Opening checks the Parquet schema
 * against the metadata before any work, so a missing or mistyped column is reported by name (with the
 * expected and found types) instead of failing inside a Spark task.
 */
public final class FeatureTable {
    private final SparkSession spark;
    private final String path;
    private final FeatureTableMetadata metadata;
    private final Dataset<Row> rows;

    private FeatureTable(SparkSession spark, String path, FeatureTableMetadata metadata, Dataset<Row> rows) {
        this.spark = spark;
        this.path = path;
        this.metadata = metadata;
        this.rows = rows;
    }

    public static FeatureTable open(SparkSession spark, String path) {
        FeatureTableMetadata meta = readMetadata(spark, path);
        Dataset<Row> rows;
        try {
            rows = spark.read().parquet(path + "/features");
        } catch (Exception e) {
            throw new InputException("feature table " + path + ": cannot read features/ as Parquet (" + e.getMessage() + ")");
        }
        checkSchema(path, meta, rows.schema());
        return new FeatureTable(spark, path, meta, rows);
    }

    public static FeatureTableMetadata readMetadata(SparkSession spark, String path) {
        Path mp = new Path(path, "metadata.json");
        try {
            FileSystem fs = mp.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(new Path(path))) {
                throw new InputException("feature table " + path + " does not exist (run the extract job first)");
            }
            if (!fs.exists(mp)) {
                throw new InputException("feature table " + path + " has no metadata.json; is it a feature table"
                        + " written by the extract job?");
            }
            String json;
            try (FSDataInputStream in = fs.open(mp)) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            FeatureTableMetadata m;
            try {
                m = Json.MAPPER.readValue(json, FeatureTableMetadata.class);
            } catch (IOException e) {
                throw new InputException("feature table " + path + ": metadata.json is not valid (" + e.getMessage()
                        .lines().findFirst().orElse("") + ")");
            }
            if (!FeatureTableMetadata.FORMAT.equals(m.format())) {
                throw new InputException("feature table " + path + ": metadata.json has format '" + m.format()
                        + "', expected '" + FeatureTableMetadata.FORMAT + "'");
            }
            if (m.formatVersion() > FeatureTableMetadata.FORMAT_VERSION) {
                throw new InputException("feature table " + path + " has format version " + m.formatVersion()
                        + "; this build reads up to " + FeatureTableMetadata.FORMAT_VERSION);
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + mp, e);
        }
    }

    /** The columns each modality kind must have, with their Spark types. */
    static Map<String, DataType> expectedColumns(FeatureTableMetadata.Modality m) {
        Map<String, DataType> cols = new LinkedHashMap<>();
        ArrayType floats = DataTypes.createArrayType(DataTypes.FloatType, false);
        ArrayType ints = DataTypes.createArrayType(DataTypes.IntegerType, false);
        cols.put(m.presentColumn(), DataTypes.BooleanType);
        switch (m.kind()) {
            case IMAGE_PIXELS, VECTOR -> cols.put(m.valuesColumn(), floats);
            case IMAGE_EMBEDDING -> {
                cols.put(m.pooledColumn(), floats);
                if (m.shape().size() == 2) {
                    cols.put(m.valuesColumn(), floats);
                }
            }
            case TOKENS -> cols.put(m.idsColumn(), ints);
            case SEQUENCE -> {
                cols.put(m.valuesColumn(), floats);
                cols.put(m.lengthColumn(), DataTypes.IntegerType);
            }
        }
        return cols;
    }

    static void checkSchema(String path, FeatureTableMetadata meta, StructType schema) {
        Map<String, DataType> expected = new LinkedHashMap<>();
        expected.put("id", DataTypes.StringType);
        expected.put("split", DataTypes.StringType);
        expected.put("label_index", DataTypes.IntegerType);
        for (FeatureTableMetadata.Modality m : meta.modalities()) {
            expected.putAll(expectedColumns(m));
        }
        for (Map.Entry<String, DataType> e : expected.entrySet()) {
            StructField f = find(schema, e.getKey());
            if (f == null) {
                throw new InputException("feature table " + path + ": column '" + e.getKey() + "' is missing (expected "
                        + e.getValue().simpleString() + "); found columns " + List.of(schema.fieldNames()));
            }
            if (!sameType(f.dataType(), e.getValue())) {
                throw new InputException("feature table " + path + ": column '" + e.getKey() + "' has type "
                        + f.dataType().simpleString() + ", expected " + e.getValue().simpleString());
            }
        }
    }

    private static boolean sameType(DataType found, DataType expected) {
        if (found instanceof ArrayType fa && expected instanceof ArrayType ea) {
            return fa.elementType().equals(ea.elementType());
        }
        return found.equals(expected);
    }

    private static StructField find(StructType s, String name) {
        for (StructField f : s.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    public String path() {
        return path;
    }

    public FeatureTableMetadata metadata() {
        return metadata;
    }

    public Dataset<Row> rows() {
        return rows;
    }

    public Dataset<Row> split(String split) {
        return rows.where(rows.col("split").equalTo(split));
    }

    /** The vocabulary of a token modality (small: read to the driver). */
    public Vocabulary vocabulary(String modality) {
        FeatureTableMetadata.Modality m = require(modality);
        if (m.vocabPath() == null) {
            throw new InputException("feature table " + path + ": modality '" + modality + "' has no vocabulary");
        }
        return Vocabulary.fromDataFrame(spark.read().parquet(path + "/" + m.vocabPath()));
    }

    /** The word-embedding table of a token modality as a [vocab x dim] array, or null if it has none. */
    public float[][] embeddings(String modality) {
        FeatureTableMetadata.Modality m = require(modality);
        if (m.embeddingsPath() == null) {
            return null;
        }
        List<Row> rows = spark.read().parquet(path + "/" + m.embeddingsPath()).orderBy("id").collectAsList();
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            List<Float> v = rows.get(i).getList(1);
            out[i] = new float[v.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = v.get(j);
            }
        }
        return out;
    }

    public FeatureTableMetadata.Modality require(String modality) {
        FeatureTableMetadata.Modality m = metadata.modality(modality);
        if (m == null) {
            throw new InputException("feature table " + path + " has no modality '" + modality + "'; it has "
                    + metadata.modalityNames());
        }
        return m;
    }
}
