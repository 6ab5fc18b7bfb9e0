package dev.mmspark.features.kg;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Columns of a KG feature table.
 *
 * <p>{@code entities/}, one row per entity of both graphs, ordered by {@code index}:
 * <ul>
 *   <li>{@code graph} int (1 or 2), {@code entity} int (the input's id), {@code index} int (dense 0..N-1
 *       ordered by graph, then entity: graph 1 takes 0..n1-1), {@code uri} string;</li>
 *   <li>structure: {@code neighbors} array&lt;int&gt;: dense indices of the entity's neighbours in its graph
 *       (undirected, distinct, sorted, no self-loops; empty when isolated);</li>
 *   <li>relation: {@code relation_ids} / {@code relation_counts} array&lt;int&gt;: the bag of relations of the
 *       triples the entity is head or tail of (relation vocabulary ids, ascending; empty when none);</li>
 *   <li>name: {@code name_present} boolean, {@code name_ids} array&lt;int&gt; (name-token ids in order; null
 *       when absent);</li>
 *   <li>char: {@code char_present}, {@code char_ids} / {@code char_counts}: bag of the character n-grams of
 *       the name tokens (ascending ids; null when absent);</li>
 *   <li>attribute (when the input has attributes): {@code attribute_present}, {@code attribute_ids} /
 *       {@code attribute_counts};</li>
 *   <li>image (when the input has image vectors): {@code image_present}, {@code image_values}
 *       array&lt;float&gt; (null when absent).</li>
 * </ul>
 * {@code pairs/}: {@code entity1}, {@code entity2} (input ids, graph 1 and graph 2), {@code index1},
 * {@code index2} (dense) int, {@code split} string ({@code train} / {@code test}), ordered by index1.
 */
public final class KgSchema {
    public static final String GRAPH = "graph";
    public static final String ENTITY = "entity";
    public static final String INDEX = "index";
    public static final String URI = "uri";
    public static final String NEIGHBORS = "neighbors";
    public static final String RELATION_IDS = "relation_ids";
    public static final String RELATION_COUNTS = "relation_counts";
    public static final String NAME_PRESENT = "name_present";
    public static final String NAME_IDS = "name_ids";
    public static final String CHAR_PRESENT = "char_present";
    public static final String CHAR_IDS = "char_ids";
    public static final String CHAR_COUNTS = "char_counts";
    public static final String ATTRIBUTE_PRESENT = "attribute_present";
    public static final String ATTRIBUTE_IDS = "attribute_ids";
    public static final String ATTRIBUTE_COUNTS = "attribute_counts";
    public static final String IMAGE_PRESENT = "image_present";
    public static final String IMAGE_VALUES = "image_values";

    public static final String ENTITY1 = "entity1";
    public static final String ENTITY2 = "entity2";
    public static final String INDEX1 = "index1";
    public static final String INDEX2 = "index2";
    public static final String SPLIT = "split";

    static final ArrayType INTS = DataTypes.createArrayType(DataTypes.IntegerType, false);
    static final ArrayType FLOATS = DataTypes.createArrayType(DataTypes.FloatType, false);

    private KgSchema() {
    }

    /** The columns of {@code entities/} for the given modalities (in column order), with their types. */
    public static Map<String, DataType> entityColumns(List<String> modalities) {
        Map<String, DataType> c = new LinkedHashMap<>();
        c.put(GRAPH, DataTypes.IntegerType);
        c.put(ENTITY, DataTypes.IntegerType);
        c.put(INDEX, DataTypes.IntegerType);
        c.put(URI, DataTypes.StringType);
        for (String m : modalities) {
            switch (m) {
                case KgTableMetadata.STRUCTURE -> c.put(NEIGHBORS, INTS);
                case KgTableMetadata.RELATION -> {
                    c.put(RELATION_IDS, INTS);
                    c.put(RELATION_COUNTS, INTS);
                }
                case KgTableMetadata.NAME -> {
                    c.put(NAME_PRESENT, DataTypes.BooleanType);
                    c.put(NAME_IDS, INTS);
                }
                case KgTableMetadata.CHAR -> {
                    c.put(CHAR_PRESENT, DataTypes.BooleanType);
                    c.put(CHAR_IDS, INTS);
                    c.put(CHAR_COUNTS, INTS);
                }
                case KgTableMetadata.ATTRIBUTE -> {
                    c.put(ATTRIBUTE_PRESENT, DataTypes.BooleanType);
                    c.put(ATTRIBUTE_IDS, INTS);
                    c.put(ATTRIBUTE_COUNTS, INTS);
                }
                case KgTableMetadata.IMAGE -> {
                    c.put(IMAGE_PRESENT, DataTypes.BooleanType);
                    c.put(IMAGE_VALUES, FLOATS);
                }
                default -> throw new IllegalArgumentException("unknown KG modality '" + m + "'");
            }
        }
        return c;
    }

    /** The columns of {@code pairs/}. */
    public static Map<String, DataType> pairColumns() {
        Map<String, DataType> c = new LinkedHashMap<>();
        c.put(ENTITY1, DataTypes.IntegerType);
        c.put(ENTITY2, DataTypes.IntegerType);
        c.put(INDEX1, DataTypes.IntegerType);
        c.put(INDEX2, DataTypes.IntegerType);
        c.put(SPLIT, DataTypes.StringType);
        return c;
    }

    /** A Spark schema for the columns (all nullable except the keys and flags). */
    static StructType struct(Map<String, DataType> columns) {
        StructType s = new StructType();
        for (Map.Entry<String, DataType> e : columns.entrySet()) {
            boolean nullable = e.getValue() instanceof ArrayType && !e.getKey().equals(NEIGHBORS)
                    && !e.getKey().startsWith("relation_");
            s = s.add(e.getKey(), e.getValue(), nullable);
        }
        return s;
    }
}
