package dev.mmspark.features.kg;

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
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mmspark.features.kg.KgSchema.ATTRIBUTE_COUNTS;
import static dev.mmspark.features.kg.KgSchema.ATTRIBUTE_IDS;
import static dev.mmspark.features.kg.KgSchema.CHAR_COUNTS;
import static dev.mmspark.features.kg.KgSchema.CHAR_IDS;
import static dev.mmspark.features.kg.KgSchema.ENTITY;
import static dev.mmspark.features.kg.KgSchema.GRAPH;
import static dev.mmspark.features.kg.KgSchema.IMAGE_VALUES;
import static dev.mmspark.features.kg.KgSchema.INDEX;
import static dev.mmspark.features.kg.KgSchema.INDEX1;
import static dev.mmspark.features.kg.KgSchema.INDEX2;
import static dev.mmspark.features.kg.KgSchema.NAME_IDS;
import static dev.mmspark.features.kg.KgSchema.NEIGHBORS;
import static dev.mmspark.features.kg.KgSchema.RELATION_COUNTS;
import static dev.mmspark.features.kg.KgSchema.RELATION_IDS;
import static dev.mmspark.features.kg.KgSchema.SPLIT;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;

/**
 * A KG feature table written by {@link KgFeatureExtraction}, opened for training or evaluation. Opening
 * checks {@code metadata.json} (format and version) and the Parquet schemas of {@code entities/} and
 * {@code pairs/} against the modalities it lists, so a missing or mistyped column is reported by name, with
 * the expected and found types, before any work.
 */
public final class KgTable {
    private final SparkSession spark;
    private final String path;
    private final KgTableMetadata metadata;
    private final Dataset<Row> entities;
    private final Dataset<Row> pairs;

    private KgTable(SparkSession spark, String path, KgTableMetadata metadata, Dataset<Row> entities,
                    Dataset<Row> pairs) {
        this.spark = spark;
        this.path = path;
        this.metadata = metadata;
        this.entities = entities;
        this.pairs = pairs;
    }

    /** Opens and validates a table. */
    public static KgTable open(SparkSession spark, String path) {
        KgTableMetadata meta = readMetadata(spark, path);
        Dataset<Row> entities = parquet(spark, path, "entities");
        Dataset<Row> pairs = parquet(spark, path, "pairs");
        checkColumns(path, "entities", KgSchema.entityColumns(meta.modalityNames()), entities.schema());
        checkColumns(path, "pairs", KgSchema.pairColumns(), pairs.schema());
        return new KgTable(spark, path, meta, entities, pairs);
    }

    private static Dataset<Row> parquet(SparkSession spark, String path, String dir) {
        try {
            return spark.read().parquet(path + "/" + dir);
        } catch (Exception e) { // AnalysisException: missing directory or not Parquet
            throw new InputException("kg table " + path + ": cannot read " + dir + "/ as Parquet ("
                    + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    public static KgTableMetadata readMetadata(SparkSession spark, String path) {
        Path mp = new Path(path, "metadata.json");
        try {
            FileSystem fs = mp.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(new Path(path))) {
                throw new InputException("kg table " + path + " does not exist (run the extract job first)");
            }
            if (!fs.exists(mp)) {
                throw new InputException("kg table " + path + " has no metadata.json; is it a KG feature table"
                        + " written by the extract job?");
            }
            String json;
            try (FSDataInputStream in = fs.open(mp)) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            KgTableMetadata m;
            try {
                m = Json.MAPPER.readValue(json, KgTableMetadata.class);
            } catch (IOException e) {
                throw new InputException("kg table " + path + ": metadata.json is not valid (" + e.getMessage()
                        .lines().findFirst().orElse("") + ")");
            }
            if (!KgTableMetadata.FORMAT.equals(m.format())) {
                throw new InputException("kg table " + path + ": metadata.json has format '" + m.format()
                        + "', expected '" + KgTableMetadata.FORMAT + "'");
            }
            if (m.formatVersion() > KgTableMetadata.FORMAT_VERSION) {
                throw new InputException("kg table " + path + " has format version " + m.formatVersion()
                        + "; this build reads up to " + KgTableMetadata.FORMAT_VERSION);
            }
            if (m.modalities() == null || m.graphs() == null || m.split() == null) {
                throw new InputException("kg table " + path + ": metadata.json lacks modalities, graphs or split");
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + mp, e);
        }
    }

    static void checkColumns(String path, String dir, Map<String, DataType> expected, StructType schema) {
        for (Map.Entry<String, DataType> e : expected.entrySet()) {
            StructField f = find(schema, e.getKey());
            if (f == null) {
                throw new InputException("kg table " + path + ": " + dir + " column '" + e.getKey()
                        + "' is missing (expected " + e.getValue().simpleString() + "); found columns "
                        + List.of(schema.fieldNames()));
            }
            if (!sameType(f.dataType(), e.getValue())) {
                throw new InputException("kg table " + path + ": " + dir + " column '" + e.getKey() + "' has type "
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

    public KgTableMetadata metadata() {
        return metadata;
    }

    /** Entities of both graphs ({@link KgSchema}). */
    public Dataset<Row> entities() {
        return entities;
    }

    /** Aligned pairs with their split ({@link KgSchema}). */
    public Dataset<Row> pairs() {
        return pairs;
    }

    /** Entities of both graphs: dense indices are 0 .. entityCount-1. */
    public int entityCount() {
        return Math.toIntExact(metadata.entities());
    }

    public boolean has(String modality) {
        return metadata.modality(modality) != null;
    }

    public KgTableMetadata.Modality require(String modality) {
        KgTableMetadata.Modality m = metadata.modality(modality);
        if (m == null) {
            throw new InputException("kg table " + path + " has no modality '" + modality + "'; it has "
                    + metadata.modalityNames());
        }
        return m;
    }

    /** The vocabulary of relation, name, char or attribute (small: read to the driver). */
    public Vocabulary vocabulary(String modality) {
        KgTableMetadata.Modality m = require(modality);
        if (m.vocabPath() == null) {
            throw new InputException("kg table " + path + ": modality '" + modality + "' has no vocabulary");
        }
        return Vocabulary.fromDataFrame(spark.read().parquet(path + "/" + m.vocabPath()));
    }

    /** The name word vectors as a [name vocabulary x dim] matrix, or null when the table has no names. */
    public float[][] nameEmbeddings() {
        KgTableMetadata.Modality m = metadata.modality(KgTableMetadata.NAME);
        if (m == null || m.embeddingsPath() == null) {
            return null;
        }
        List<Row> rows = spark.read().parquet(path + "/" + m.embeddingsPath()).orderBy("id").collectAsList();
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            if (rows.get(i).getInt(0) != i) {
                throw new InputException("kg table " + path + ": " + m.embeddingsPath() + " has no vector for id "
                        + i);
            }
            List<Float> v = rows.get(i).getList(1);
            out[i] = new float[v.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = v.get(j);
            }
        }
        return out;
    }

    /** The directed edges {@code (src, dst)}: each neighbour pair in both directions (distributed). */
    public Dataset<Row> edges() {
        return entities.select(col(INDEX).as("src"), explode(col(NEIGHBORS)).as("dst"));
    }

    /** The pairs of a split ("train" / "test") as dense index arrays, ordered by index1. */
    public KgTensors.Pairs pairs(String split) {
        List<Row> rows = pairs.where(col(SPLIT).equalTo(split)).select(INDEX1, INDEX2).orderBy(INDEX1)
                .collectAsList();
        int[] left = new int[rows.size()];
        int[] right = new int[rows.size()];
        int n = entityCount();
        for (int i = 0; i < left.length; i++) {
            left[i] = rows.get(i).getInt(0);
            right[i] = rows.get(i).getInt(1);
            if (left[i] < 0 || left[i] >= n || right[i] < 0 || right[i] >= n) {
                throw new InputException("kg table " + path + ": pair (" + left[i] + ", " + right[i]
                        + ") is not a pair of entity indices (0.." + (n - 1) + ")");
            }
        }
        return new KgTensors.Pairs(left, right);
    }

    public KgTensors.Pairs trainPairs() {
        return pairs("train");
    }

    public KgTensors.Pairs testPairs() {
        return pairs("test");
    }

    /**
     * Collects the graph tensors to the driver (for broadcasting), validating that the indices are exactly
     * 0..N-1, graph 1 first, and that every neighbour and vocabulary id is in range.
     */
    public KgTensors tensors() {
        int n = entityCount();
        boolean names = has(KgTableMetadata.NAME);
        boolean chars = has(KgTableMetadata.CHAR);
        boolean attributes = has(KgTableMetadata.ATTRIBUTE);
        boolean images = has(KgTableMetadata.IMAGE);
        List<String> cols = new ArrayList<>(List.of(INDEX, GRAPH, ENTITY, NEIGHBORS, RELATION_IDS, RELATION_COUNTS));
        if (names) {
            cols.add(NAME_IDS);
        }
        if (chars) {
            cols.add(CHAR_IDS);
            cols.add(CHAR_COUNTS);
        }
        if (attributes) {
            cols.add(ATTRIBUTE_IDS);
            cols.add(ATTRIBUTE_COUNTS);
        }
        if (images) {
            cols.add(IMAGE_VALUES);
        }
        List<Row> collected = entities.selectExpr(cols.toArray(new String[0])).collectAsList();
        if (collected.size() != n) {
            throw new InputException("kg table " + path + ": entities/ has " + collected.size()
                    + " rows, metadata.json says " + n);
        }
        Row[] byIndex = new Row[n];
        for (Row r : collected) {
            int i = r.getInt(0);
            if (i < 0 || i >= n) {
                throw new InputException("kg table " + path + ": entity index " + i + " is outside 0.." + (n - 1));
            }
            if (byIndex[i] != null) {
                throw new InputException("kg table " + path + ": entity index " + i + " occurs twice");
            }
            byIndex[i] = r;
        }
        int entities1 = 0;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            int g = byIndex[i].getInt(1);
            if (g == 1 && entities1 != i || g != 1 && g != 2) {
                throw new InputException("kg table " + path + ": entity index " + i + " is in graph " + g
                        + "; graph 1's entities must come first, then graph 2's");
            }
            if (g == 1) {
                entities1++;
            }
            ids[i] = byIndex[i].getInt(2);
        }
        int c = 3;
        KgTensors.Csr adjacency = csr(byIndex, c++, -1, n, NEIGHBORS);
        int relVocab = require(KgTableMetadata.RELATION).vocabSize();
        KgTensors.Csr relations = csr(byIndex, c, c + 1, relVocab, RELATION_IDS);
        c += 2;
        KgTensors.Csr nameIds = null;
        int nameVocab = 0;
        if (names) {
            nameVocab = require(KgTableMetadata.NAME).vocabSize();
            nameIds = csr(byIndex, c++, -1, nameVocab, NAME_IDS);
        }
        KgTensors.Csr charBags = null;
        int charVocab = 0;
        if (chars) {
            charVocab = require(KgTableMetadata.CHAR).vocabSize();
            charBags = csr(byIndex, c, c + 1, charVocab, CHAR_IDS);
            c += 2;
        }
        KgTensors.Csr attributeBags = null;
        int attributeVocab = 0;
        if (attributes) {
            attributeVocab = require(KgTableMetadata.ATTRIBUTE).vocabSize();
            attributeBags = csr(byIndex, c, c + 1, attributeVocab, ATTRIBUTE_IDS);
            c += 2;
        }
        float[] imageValues = null;
        boolean[] imagePresent = null;
        int imageDim = 0;
        if (images) {
            imageDim = require(KgTableMetadata.IMAGE).dim();
            imageValues = new float[Math.multiplyExact(n, imageDim)];
            imagePresent = new boolean[n];
            for (int i = 0; i < n; i++) {
                if (byIndex[i].isNullAt(c)) {
                    continue;
                }
                List<Float> v = byIndex[i].getList(c);
                if (v.size() != imageDim) {
                    throw new InputException("kg table " + path + ": entity index " + i + ": " + IMAGE_VALUES
                            + " has " + v.size() + " values, metadata.json says " + imageDim);
                }
                for (int j = 0; j < imageDim; j++) {
                    imageValues[i * imageDim + j] = v.get(j);
                }
                imagePresent[i] = true;
            }
        }
        return new KgTensors(n, entities1, ids, adjacency, relations, relVocab, nameIds, nameVocab, charBags,
                charVocab, attributeBags, attributeVocab, imageValues, imagePresent, imageDim, trainPairs(),
                testPairs());
    }

    /** Stacks an array column (null: empty row) into CSR, with an optional parallel values column. */
    private KgTensors.Csr csr(Row[] rows, int column, int valuesColumn, int bound, String name) {
        int[] offsets = new int[rows.length + 1];
        for (int i = 0; i < rows.length; i++) {
            int len = rows[i].isNullAt(column) ? 0 : rows[i].getList(column).size();
            offsets[i + 1] = Math.addExact(offsets[i], len);
        }
        int[] indices = new int[offsets[rows.length]];
        int[] values = valuesColumn < 0 ? null : new int[indices.length];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].isNullAt(column)) {
                continue;
            }
            List<Integer> ids = rows[i].getList(column);
            List<Integer> vs = valuesColumn < 0 ? null : rows[i].getList(valuesColumn);
            if (vs != null && vs.size() != ids.size()) {
                throw new InputException("kg table " + path + ": entity index " + i + ": " + name + " has "
                        + ids.size() + " entries but its counts " + vs.size());
            }
            for (int k = 0; k < ids.size(); k++) {
                int id = ids.get(k);
                if (id < 0 || id >= bound) {
                    throw new InputException("kg table " + path + ": entity index " + i + ": " + name + " holds "
                            + id + ", outside 0.." + (bound - 1));
                }
                indices[offsets[i] + k] = id;
                if (values != null) {
                    values[offsets[i] + k] = vs.get(k);
                }
            }
        }
        return new KgTensors.Csr(offsets, indices, values);
    }
}
