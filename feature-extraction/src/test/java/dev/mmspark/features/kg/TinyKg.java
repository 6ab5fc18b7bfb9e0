package dev.mmspark.features.kg;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.kg.KnowledgeGraphPair;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tiny knowledge-graph pairs for the KG extraction tests, built in memory.
 *
 * <p>{@link #five()}: graph 1 has entities 0, 2, 5 (dense indices 0, 1, 2), graph 2 has 3, 7 (indices 3, 4:
 * graph before entity id). Triples of graph 1: (0 100 2), (2 100 0) (the same neighbours backwards),
 * (0 101 2) (a parallel edge) and (5 101 5) (a self-loop: entity 5 has no neighbour); graph 2: (3 200 7),
 * (7 201 3). Names: 0 "Beijing City", 2 "shanghai", 3 "beijing", 7 "a" (no bigram), 5 none. Attributes:
 * 0 [population, area], 3 [population, population], 2 [] (none). Images: 0 and 7 (3 values). Pairs (0, 3)
 * and (2, 7).
 */
final class TinyKg {
    static final SparkSession SPARK = SparkTestSession.get();
    static final String NAME = "kg-test";

    private TinyKg() {
    }

    static Row entity(int graph, int id, List<String> name, List<String> attributes, List<Double> image) {
        return RowFactory.create(graph, id, uri(graph, id), name, attributes, image);
    }

    static String uri(int graph, int id) {
        return "http://g" + graph + "/" + id;
    }

    static Row triple(int graph, int head, int relation, int tail) {
        return RowFactory.create(graph, head, relation, tail);
    }

    static List<Row> fiveEntities() {
        return new ArrayList<>(List.of(
                entity(1, 5, null, null, null),
                entity(1, 0, List.of("Beijing", "City"), List.of("population", "area"), List.of(0.5, 1.0, -2.0)),
                entity(1, 2, List.of("shanghai"), List.of(), null),
                entity(2, 7, List.of("a"), null, List.of(1.0, 2.0, 3.0)),
                entity(2, 3, List.of("beijing"), List.of("population", "population"), null)));
    }

    static List<Row> fiveTriples() {
        return List.of(triple(1, 0, 100, 2), triple(1, 2, 100, 0), triple(1, 0, 101, 2), triple(1, 5, 101, 5),
                triple(2, 3, 200, 7), triple(2, 7, 201, 3));
    }

    static List<Row> fivePairs() {
        return List.of(RowFactory.create(0, 3), RowFactory.create(2, 7));
    }

    static KnowledgeGraphPair five() {
        return kg(fiveEntities(), fiveTriples(), fivePairs(), 1);
    }

    /** A pair from rows; {@code partitions} spreads the rows (to show the result does not depend on it). */
    static KnowledgeGraphPair kg(List<Row> entities, List<Row> triples, List<Row> pairs, int partitions) {
        return new KnowledgeGraphPair(NAME, df(entities, KnowledgeGraphPair.ENTITY_SCHEMA, partitions),
                df(triples, KnowledgeGraphPair.TRIPLE_SCHEMA, partitions),
                df(pairs, KnowledgeGraphPair.PAIR_SCHEMA, partitions));
    }

    private static Dataset<Row> df(List<Row> rows, org.apache.spark.sql.types.StructType schema, int partitions) {
        Dataset<Row> d = SPARK.createDataFrame(rows, schema);
        return partitions > 1 ? d.repartition(partitions) : d;
    }

    static KgExtractionConfig config(String output, String kg) {
        Conf c = Conf.parse("extract { output = \"" + output + "\"\nkg { " + kg + " } }");
        KgExtractionConfig cfg = KgExtractionConfig.from(c.section("extract"));
        c.rejectUnknownKeys();
        return cfg;
    }

    static KgFeatureExtraction.Result extract(KnowledgeGraphPair kg, String output, String kgConf) {
        BadRecords bad = new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "kg-test");
        return KgFeatureExtraction.run(SPARK, kg, new KgFeatureExtraction.Input("test", "/nonexistent", List.of()),
                config(output, kgConf), false, bad, null);
    }

    /** Rows ordered by a column, as strings: compact expectations. */
    static List<String> rows(Dataset<Row> ds, String orderBy, String... columns) {
        return ds.orderBy(orderBy).selectExpr(columns).collectAsList().stream().map(Row::toString).toList();
    }

    static int[] ints(Integer... v) {
        return Arrays.stream(v).mapToInt(Integer::intValue).toArray();
    }
}
