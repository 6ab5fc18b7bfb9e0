package dev.mmspark.features.kg;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.kg.AlignmentSplit;
import dev.mmspark.data.kg.Dbp15kReader;
import dev.mmspark.data.kg.KnowledgeGraphPair;
import dev.mmspark.testing.Failures;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.JavaConverters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.mmspark.features.kg.TinyKg.SPARK;
import static dev.mmspark.features.kg.TinyKg.entity;
import static dev.mmspark.features.kg.TinyKg.triple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KgFeatureExtractionTest {
    @TempDir
    static Path tmp;

    private static KgFeatureExtraction.Result five;

    @BeforeAll
    static void extractFive() {
        five = TinyKg.extract(TinyKg.five(), tmp.resolve("five").toString(), "");
    }

    /** A row as "v1 | v2 | ...", arrays as [a, b]. */
    static String fmt(Row r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
            Object v = r.get(i);
            out.add(v instanceof scala.collection.Seq<?> s ? JavaConverters.seqAsJavaList(s).toString()
                    : String.valueOf(v));
        }
        return String.join(" | ", out);
    }

    static List<String> table(String path, String dir, String orderBy) {
        return SPARK.read().parquet(path + "/" + dir).orderBy(orderBy).collectAsList().stream()
                .map(KgFeatureExtractionTest::fmt).toList();
    }

    @Test
    void entityColumnsHoldNeighboursRelationBagsNamesAndCharacterNgrams() {
        Dataset<Row> e = SPARK.read().parquet(five.output() + "/entities");
        assertEquals(List.of("graph", "entity", "index", "uri", "neighbors", "relation_ids", "relation_counts",
                "attribute_present", "attribute_ids", "attribute_counts", "image_present", "image_values",
                "name_present", "name_ids", "char_present", "char_ids", "char_counts"), List.of(e.columns()));
        assertEquals(List.of(
                "1 | 0 | 0 | http://g1/0 | [1] | [2, 3] | [2, 1] | true | [2, 3] | [1, 1] | true | [0.5, 1.0, -2.0]"
                        + " | true | [2, 4] | true | [2, 3, 4, 6, 7, 8, 11, 13, 15] | [1, 1, 1, 1, 1, 1, 1, 1, 1]",
                "1 | 2 | 1 | http://g1/2 | [0] | [2, 3] | [2, 1] | false | null | null | false | null"
                        + " | true | [5] | true | [2, 5, 9, 10, 12, 14] | [1, 2, 1, 1, 1, 1]",
                "1 | 5 | 2 | http://g1/5 | [] | [3] | [2] | false | null | null | false | null"
                        + " | false | null | false | null | null",
                "2 | 3 | 3 | http://g2/3 | [4] | [4, 5] | [1, 1] | true | [2] | [2] | false | null"
                        + " | true | [2] | true | [2, 3, 4, 6, 7, 8] | [1, 1, 1, 1, 1, 1]",
                "2 | 7 | 4 | http://g2/7 | [3] | [4, 5] | [1, 1] | false | null | null | true | [1.0, 2.0, 3.0]"
                        + " | true | [3] | false | null | null"),
                table(five.output(), "entities", "index"));

        // vocabularies: padding, unknown, then by descending count (ties by token)
        assertEquals(List.of("0 | <pad> | 0", "1 | <unk> | 0", "2 | 100 | 2", "3 | 101 | 2", "4 | 200 | 1",
                "5 | 201 | 1"), table(five.output(), "vocab/relation", "id"));
        assertEquals(List.of("0 | <pad> | 0", "1 | <unk> | 0", "2 | beijing | 2", "3 | a | 1", "4 | city | 1",
                "5 | shanghai | 1"), table(five.output(), "vocab/name", "id"));
        assertEquals("ng be ei ha ij in ji ai an ci gh it sh ty", table(five.output(), "vocab/char", "id").stream()
                .skip(2).map(s -> s.split(" \\| ")[1]).collect(Collectors.joining(" ")));
        assertEquals(List.of("0 | <pad> | 0", "1 | <unk> | 0", "2 | population | 3", "3 | area | 1"),
                table(five.output(), "vocab/attribute", "id"));
        List<String> vectors = table(five.output(), "embeddings/name", "id");
        assertEquals(6, vectors.size());
        assertTrue(vectors.get(0).startsWith("0 | [0.0, 0.0, "), "padding is a zero vector");
    }

    @Test
    void pairsCarryDenseIndicesAndTheSeededSplit() {
        AlignmentSplit s = new AlignmentSplit(42, 0.3);
        assertEquals(List.of("0 | 3 | 0 | 3 | " + s.assign(0, 3).id(), "2 | 7 | 1 | 4 | " + s.assign(2, 7).id()),
                table(five.output(), "pairs", "index1"));
    }

    @Test
    void metadataCountsGraphsSplitAndModalities() {
        KgTableMetadata m = five.metadata();
        assertEquals("mmspark-kg-table", m.format());
        assertEquals(1, m.formatVersion());
        assertEquals("kg-test", m.name());
        assertEquals(5, m.entities());
        assertEquals(List.of(new KgTableMetadata.Graph(1, 3, 0, 4, 1, 1, 1, 2),
                new KgTableMetadata.Graph(2, 2, 3, 2, 0, 1, 0, 2)), m.graphs());
        AlignmentSplit s = new AlignmentSplit(42, 0.3);
        long train = Stream.of(s.assign(0, 3), s.assign(2, 7)).filter(x -> x.id().equals("train")).count();
        assertEquals(new KgTableMetadata.Split(42, 0.3, train, 2 - train), m.split());
        assertEquals(List.of("structure", "relation", "attribute", "image", "name", "char"), m.modalityNames());
        assertEquals(Map.of("1", 2L, "2", 2L), m.modality("structure").present());
        assertEquals(Map.of("1", 3L, "2", 2L), m.modality("relation").present());
        assertEquals(Map.of("1", 1L, "2", 1L), m.modality("image").present());
        assertEquals(Map.of("1", 2L, "2", 1L), m.modality("char").present());
        assertEquals(6, m.modality("relation").vocabSize());
        assertEquals(6, m.modality("name").vocabSize());
        assertEquals(100, m.modality("name").embeddingDim());
        assertEquals("random", m.modality("name").settings().get("vectors"));
        assertEquals(16, m.modality("char").vocabSize());
        assertEquals(4, m.modality("attribute").vocabSize());
        assertEquals(3, m.modality("image").dim());
        assertEquals(0L, m.modality("structure").settings().get("entities_truncated"));
        assertEquals(64, m.tableHash().length());
        assertTrue(Files.exists(Path.of(five.output(), "metadata.json")));
    }

    @Test
    void denseIndicesAndSplitDoNotDependOnInputOrderOrPartitioning() {
        List<Row> entities = TinyKg.fiveEntities();
        Collections.reverse(entities);
        List<Row> triples = new ArrayList<>(TinyKg.fiveTriples());
        Collections.reverse(triples);
        List<Row> pairs = new ArrayList<>(TinyKg.fivePairs());
        Collections.reverse(pairs);
        KgFeatureExtraction.Result again = TinyKg.extract(TinyKg.kg(entities, triples, pairs, 3),
                tmp.resolve("again").toString(), "");
        for (String dir : List.of("entities", "pairs", "vocab/relation", "vocab/name", "vocab/char",
                "embeddings/name")) {
            String order = dir.equals("entities") ? "index" : dir.equals("pairs") ? "index1" : "id";
            assertEquals(table(five.output(), dir, order), table(again.output(), dir, order), dir);
        }
        assertEquals(five.metadata().split(), again.metadata().split());
    }

    @Test
    void fileVectorsNeighbourCapAndCappedCharacterVocabulary() throws IOException {
        Path vectors = tmp.resolve("vectors.txt");
        Files.writeString(vectors, "alpha 0.1 0.2 0.3\nbeta 0.4 0.5 0.6\ngamma 1 1 1\n");
        // entity 1 is linked to 3 by three triples, to 4 by two and to 2 by one: a cap of 2 keeps 3 and 4
        List<Row> entities = List.of(entity(1, 1, List.of("Alpha"), null, null),
                entity(1, 2, List.of("beta", "zzzq"), null, null), entity(1, 3, null, null, null),
                entity(1, 4, null, null, null), entity(2, 10, List.of("alpha"), null, null),
                entity(2, 11, null, null, null));
        List<Row> triples = List.of(triple(1, 1, 5, 2), triple(1, 1, 5, 3), triple(1, 3, 6, 1), triple(1, 1, 7, 3),
                triple(1, 4, 5, 1), triple(1, 1, 6, 4));
        KgFeatureExtraction.Result r = TinyKg.extract(TinyKg.kg(entities, triples,
                        List.of(RowFactory.create(1, 10), RowFactory.create(2, 11)), 1), tmp.resolve("capped").toString(),
                "name_vectors = file, vectors_path = \"" + vectors + "\", char_ngram = 3, max_char_vocab = 4,"
                        + " max_neighbors = 2, split { seed = 7, train = 0.5 }");
        assertEquals(List.of(
                        "0 | [2, 3] | true | [2] | true | [1, 2, 3] | [1, 1, 1]",
                        "1 | [0] | true | [3, 4] | true | [1] | [4]",
                        "2 | [0] | false | null | false | null | null",
                        "3 | [0] | false | null | false | null | null",
                        "4 | [] | true | [2] | true | [1, 2, 3] | [1, 1, 1]",
                        "5 | [] | false | null | false | null | null"),
                SPARK.read().parquet(r.output() + "/entities").orderBy("index")
                        .selectExpr("index", "neighbors", "name_present", "name_ids", "char_present", "char_ids",
                                "char_counts").collectAsList().stream().map(KgFeatureExtractionTest::fmt).toList());
        List<String> columns = List.of(SPARK.read().parquet(r.output() + "/entities").columns());
        assertFalse(columns.contains("image_present") || columns.contains("attribute_present"),
                "no optional modality columns without such input: " + columns);

        KgTableMetadata m = r.metadata();
        assertEquals(List.of("structure", "relation", "name", "char"), m.modalityNames());
        assertEquals(3, m.graph(1).edges(), "distinct undirected neighbour pairs before the cap");
        assertEquals(1L, m.modality("structure").settings().get("entities_truncated"));
        assertEquals(7L, m.modality("char").settings().get("distinct_ngrams"));
        Map<String, Object> name = m.modality("name").settings();
        assertEquals("file:" + vectors, name.get("vectors"));
        assertEquals(2, name.get("vocab_tokens_with_vector"));
        assertEquals(4L, name.get("name_tokens"));
        assertEquals(3L, name.get("name_tokens_with_vector"));
        assertEquals(3L, name.get("entities_with_a_token_vector"));
        assertEquals(3, m.modality("name").embeddingDim());
        assertEquals(List.of("2 | [0.1, 0.2, 0.3]", "3 | [0.4, 0.5, 0.6]"),
                table(r.output(), "embeddings/name", "id").subList(2, 4));
        assertEquals(new KgTableMetadata.Split(7, 0.5, m.split().train(), m.split().test()), m.split());
    }

    @Test
    void nanImageValueNamesTheEntity() {
        List<Row> entities = TinyKg.fiveEntities();
        entities.set(3, entity(2, 7, List.of("a"), null, List.of(1.0, Double.NaN, 3.0)));
        assertFails(TinyKg.kg(entities, TinyKg.fiveTriples(), TinyKg.fivePairs(), 1),
                "kg-test graph 2 entity 7 (http://g2/7): image_vector element 1 is NaN; feature values must be"
                        + " finite (no NaN or infinity)");
    }

    @Test
    void imageVectorsOfAnotherLengthNameTheEntity() {
        List<Row> entities = TinyKg.fiveEntities();
        entities.set(2, entity(1, 2, List.of("shanghai"), List.of(), List.of(1.0, 1.0, 1.0)));
        entities.set(3, entity(2, 7, List.of("a"), null, List.of(1.0, 2.0)));
        assertFails(TinyKg.kg(entities, TinyKg.fiveTriples(), TinyKg.fivePairs(), 1),
                "kg-test graph 2 entity 7 (http://g2/7): image_vector has 2 values, expected 3 like the other 2"
                        + " entities with an image (image vectors must all have the same length)");
    }

    @Test
    void triplesAndPairsMustUseEntitiesOfTheirGraph() {
        List<Row> triples = new ArrayList<>(TinyKg.fiveTriples());
        triples.add(triple(2, 3, 200, 0)); // 0 is an entity of graph 1, not 2
        assertFails(TinyKg.kg(TinyKg.fiveEntities(), triples, TinyKg.fivePairs(), 1),
                "kg-test: triple (3, 200, 0) of graph 2: tail 0 is not an entity of graph 2");
        assertFails(TinyKg.kg(TinyKg.fiveEntities(), TinyKg.fiveTriples(),
                        List.of(RowFactory.create(0, 3), RowFactory.create(2, 5)), 1),
                "kg-test: aligned pair (2, 5): entity2 5 is not an entity of graph 2");
    }

    private void assertFails(KnowledgeGraphPair kg, String expected) {
        Path out = tmp.resolve("failed");
        assertEquals(expected, Failures.message(() -> TinyKg.extract(kg, out.toString(), "")));
        assertFalse(Files.exists(out), "nothing is written when extraction fails");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".failed"))
                    .toList(), "no temporary output is left behind");
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void refusesAnExistingOutputBeforeReadingTheInput() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(out.resolve("keep.txt"), "another run's result");
        BadRecords bad = new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "kg-test");
        MmsparkException e = Failures.error(() -> KgFeatureExtraction.run(SPARK, () -> {
            throw new AssertionError("the input must not be read when the output exists");
        }, new KgFeatureExtraction.Input("test", "/nonexistent", List.of()), TinyKg.config(out.toString(), ""),
                false, bad, null));
        assertEquals(ExitCode.OUTPUT_EXISTS, e.exitCode());
        assertEquals("output path " + out + " already exists (it may hold another run's results); refusing to"
                + " write the KG feature table there. Choose another path or pass --overwrite to replace it",
                e.getMessage());
        assertEquals("another run's result", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void extractsWhatTheDbp15kReaderReadsAndHashesItsFiles() throws IOException {
        Path root = tmp.resolve("dbp15k");
        Map<String, List<String>> files = Map.of(
                "zh_en/ent_ids_1", List.of("0\thttp://zh.dbpedia.org/resource/北京", "1\thttp://zh.dbpedia.org/resource/上海"),
                "zh_en/ent_ids_2", List.of("10\thttp://dbpedia.org/resource/Beijing",
                        "11\thttp://dbpedia.org/resource/Shanghai"),
                "zh_en/triples_1", List.of("0\t100\t1"),
                "zh_en/triples_2", List.of("10\t200\t11"),
                "zh_en/ill_ent_ids", List.of("0\t10", "1\t11"),
                "translated_ent_name/dbp_zh_en.json", List.of("[[0, [\"beijing\"]], [10, [\"beijing\"]]]"));
        for (Map.Entry<String, List<String>> f : files.entrySet()) {
            Files.createDirectories(root.resolve(f.getKey()).getParent());
            Files.write(root.resolve(f.getKey()), f.getValue());
        }
        BadRecords bad = new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "kg-test");
        KgFeatureExtraction.Result r = KgFeatureExtraction.run(SPARK,
                () -> Dbp15kReader.read(SPARK, root.toString(), "zh_en", bad),
                new KgFeatureExtraction.Input("dbp15k", root.toString(), Dbp15kReader.inputFiles("zh_en")),
                TinyKg.config(tmp.resolve("dbp").toString(), ""), false, bad, null);
        KgTableMetadata m = r.metadata();
        assertEquals("dbp15k/zh_en", m.name());
        assertEquals(4, m.entities());
        assertEquals(files.keySet().stream().sorted().toList(), List.copyOf(m.input().files().keySet()));
        assertNotNull(m.input().contentHash());
        assertEquals(List.of("1 | 0 | 0 | [1] | [2] | true", "1 | 1 | 1 | [0] | [2] | false",
                        "2 | 10 | 2 | [3] | [3] | true", "2 | 11 | 3 | [2] | [3] | false"),
                SPARK.read().parquet(r.output() + "/entities").orderBy("index")
                        .selectExpr("graph", "entity", "index", "neighbors", "relation_ids", "name_present")
                        .collectAsList().stream().map(KgFeatureExtractionTest::fmt).toList());
    }
}
