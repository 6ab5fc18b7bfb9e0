package dev.mmspark.data.kg;

import dev.mmspark.data.SampleSchema;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.apache.spark.sql.functions.col;

/**
 * Two knowledge graphs and the entity pairs known to be the same (the input of multi-modal entity alignment,
 * e.g. DBP15K). An immutable value: the three Datasets and the pair's name.
 *
 * <p>Schemas ({@link #ENTITY_SCHEMA}, {@link #TRIPLE_SCHEMA}, {@link #PAIR_SCHEMA}):
 * <ul>
 *   <li>entities: {@code graph} int (1 or 2), {@code entity} int (a global id, unique across both graphs),
 *       {@code uri} string, {@code name_tokens} array&lt;string&gt; (the entity's name as tokens, e.g.
 *       machine-translated to English; null when unknown), {@code attributes} array&lt;string&gt; (names of
 *       the entity's attributes; null when unknown) and {@code image_vector} array&lt;double&gt; (a precomputed
 *       image feature; null when the entity has no image). Modalities a source lacks are null columns, so
 *       models see one schema and run with or without them;</li>
 *   <li>triples: {@code graph} int, {@code head} int, {@code relation} int, {@code tail} int (relation triples
 *       between entities of the same graph);</li>
 *   <li>pairs: {@code entity1} int (graph 1), {@code entity2} int (graph 2), one-to-one; after
 *       {@link AlignmentSplit} also {@code split} string ({@code train} / {@code test}).</li>
 * </ul>
 */
public final class KnowledgeGraphPair {
    public static final String GRAPH = "graph";
    public static final String ENTITY = "entity";
    public static final String URI = "uri";
    public static final String NAME_TOKENS = "name_tokens";
    public static final String ATTRIBUTES = "attributes";
    public static final String IMAGE_VECTOR = "image_vector";
    public static final String HEAD = "head";
    public static final String RELATION = "relation";
    public static final String TAIL = "tail";
    public static final String ENTITY1 = "entity1";
    public static final String ENTITY2 = "entity2";
    public static final String SPLIT = "split";

    public static final StructType ENTITY_SCHEMA = new StructType(new StructField[]{
            DataTypes.createStructField(GRAPH, DataTypes.IntegerType, false),
            DataTypes.createStructField(ENTITY, DataTypes.IntegerType, false),
            DataTypes.createStructField(URI, DataTypes.StringType, false),
            DataTypes.createStructField(NAME_TOKENS, DataTypes.createArrayType(DataTypes.StringType, false), true),
            DataTypes.createStructField(ATTRIBUTES, DataTypes.createArrayType(DataTypes.StringType, false), true),
            DataTypes.createStructField(IMAGE_VECTOR, SampleSchema.DOUBLE_ARRAY, true),
    });

    public static final StructType TRIPLE_SCHEMA = new StructType(new StructField[]{
            DataTypes.createStructField(GRAPH, DataTypes.IntegerType, false),
            DataTypes.createStructField(HEAD, DataTypes.IntegerType, false),
            DataTypes.createStructField(RELATION, DataTypes.IntegerType, false),
            DataTypes.createStructField(TAIL, DataTypes.IntegerType, false),
    });

    public static final StructType PAIR_SCHEMA = new StructType(new StructField[]{
            DataTypes.createStructField(ENTITY1, DataTypes.IntegerType, false),
            DataTypes.createStructField(ENTITY2, DataTypes.IntegerType, false),
    });

    private final String name;
    private final Dataset<Row> entities;
    private final Dataset<Row> triples;
    private final Dataset<Row> pairs;

    /**
     * @param name a label for logs and metadata, e.g. {@code dbp15k/zh_en}
     * @throws IllegalArgumentException when a Dataset lacks a column of its schema or has it with another
     *                                  type (extra columns are allowed)
     */
    public KnowledgeGraphPair(String name, Dataset<Row> entities, Dataset<Row> triples, Dataset<Row> pairs) {
        this.name = Objects.requireNonNull(name, "name");
        this.entities = requireColumns("entities", entities, ENTITY_SCHEMA);
        this.triples = requireColumns("triples", triples, TRIPLE_SCHEMA);
        this.pairs = requireColumns("pairs", pairs, PAIR_SCHEMA);
    }

    private static Dataset<Row> requireColumns(String what, Dataset<Row> ds, StructType expected) {
        Objects.requireNonNull(ds, what);
        Map<String, DataType> have = new HashMap<>();
        for (StructField f : ds.schema().fields()) {
            have.put(f.name(), f.dataType());
        }
        for (StructField f : expected.fields()) {
            DataType t = have.get(f.name());
            // nullability of array elements is not part of the contract: compare types without it
            if (t == null || !sameType(t, f.dataType())) {
                throw new IllegalArgumentException(what + " need a column '" + f.name() + "' of type "
                        + f.dataType().simpleString() + ", found " + (t == null ? "none" : t.simpleString())
                        + " (expected columns: " + expected.simpleString() + ")");
            }
        }
        return ds;
    }

    private static boolean sameType(DataType a, DataType b) {
        return a.simpleString().equals(b.simpleString());
    }

    public String name() {
        return name;
    }

    /** Entities of both graphs ({@link #ENTITY_SCHEMA}). */
    public Dataset<Row> entities() {
        return entities;
    }

    /** Relation triples of both graphs ({@link #TRIPLE_SCHEMA}). */
    public Dataset<Row> triples() {
        return triples;
    }

    /** Aligned entity pairs ({@link #PAIR_SCHEMA}, plus {@code split} after {@link AlignmentSplit}). */
    public Dataset<Row> pairs() {
        return pairs;
    }

    /** The same graphs with other pairs (e.g. the pairs with a {@code split} column). */
    public KnowledgeGraphPair withPairs(Dataset<Row> newPairs) {
        return new KnowledgeGraphPair(name, entities, triples, newPairs);
    }

    /** Releases the cached Datasets (the reader caches them after validating). */
    public void unpersist() {
        entities.unpersist();
        triples.unpersist();
        pairs.unpersist();
    }

    /** Row counts, for logs and metadata. */
    public record Counts(long entities1, long entities2, long named1, long named2, long triples1, long triples2,
                         long pairs) {
    }

    /** Counts rows per graph (runs small Spark jobs). */
    public Counts counts() {
        long[] e = new long[3];
        long[] named = new long[3];
        List<Row> ec = entities.groupBy(GRAPH)
                .agg(org.apache.spark.sql.functions.count("*"), org.apache.spark.sql.functions.count(NAME_TOKENS))
                .collectAsList();
        for (Row r : ec) {
            e[graphIndex(r.getInt(0))] = r.getLong(1);
            named[graphIndex(r.getInt(0))] = r.getLong(2);
        }
        long[] t = new long[3];
        for (Row r : triples.groupBy(GRAPH).count().collectAsList()) {
            t[graphIndex(r.getInt(0))] = r.getLong(1);
        }
        return new Counts(e[1], e[2], named[1], named[2], t[1], t[2], pairs.select(col(ENTITY1)).count());
    }

    private static int graphIndex(int graph) {
        if (graph != 1 && graph != 2) {
            throw new IllegalStateException("graph must be 1 or 2, found " + graph);
        }
        return graph;
    }

    @Override
    public String toString() {
        return "KnowledgeGraphPair[" + name + "]";
    }
}
