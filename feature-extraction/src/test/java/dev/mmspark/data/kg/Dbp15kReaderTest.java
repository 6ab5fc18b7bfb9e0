package dev.mmspark.data.kg;

import dev.mmspark.common.InputException;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Dbp15kReaderTest {
    private static final SparkSession SPARK = SparkTestSession.get();
    private static final String NAMES = "translated_ent_name/dbp_zh_en.json";

    /** A tiny zh_en pair: 4 entities per graph (global ids), 2 + 3 triples, 4 aligned pairs, 5 names. */
    private static final class Fixture {
        final Map<String, List<String>> files = new LinkedHashMap<>();

        Fixture() {
            files.put("zh_en/ent_ids_1", new ArrayList<>(List.of(
                    "0\thttp://zh.dbpedia.org/resource/北京",
                    "1\thttp://zh.dbpedia.org/resource/上海",
                    "2\thttp://zh.dbpedia.org/resource/东京",
                    "5\thttp://zh.dbpedia.org/resource/京都")));
            files.put("zh_en/ent_ids_2", new ArrayList<>(List.of(
                    "10\thttp://dbpedia.org/resource/Beijing",
                    "11\thttp://dbpedia.org/resource/Shanghai",
                    "12\thttp://dbpedia.org/resource/Tokyo",
                    "13\thttp://dbpedia.org/resource/Kyoto")));
            files.put("zh_en/triples_1", new ArrayList<>(List.of("0\t100\t1", "2\t101\t5")));
            files.put("zh_en/triples_2", new ArrayList<>(List.of("10\t200\t11", "12\t201\t13", "11\t200\t12")));
            files.put("zh_en/ill_ent_ids", new ArrayList<>(List.of("0\t10", "1\t11", "2\t12", "5\t13")));
            files.put(NAMES, new ArrayList<>(List.of(
                    "[[0, [\"beijing\"]], [1, [\"shang\", \"hai\"]], [2, []],",
                    " [10, [\"beijing\"]], [11, [\"shanghai\"]], [99, [\"nobody\"]]]")));
        }

        String write(Path root) throws IOException {
            for (Map.Entry<String, List<String>> e : files.entrySet()) {
                Path p = root.resolve(e.getKey());
                Files.createDirectories(p.getParent());
                Files.write(p, e.getValue());
            }
            return root.toString();
        }
    }

    private static BadRecords fail() {
        return new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "kg");
    }

    private static List<Row> sorted(List<Row> rows, Comparator<Row> order) {
        List<Row> out = new ArrayList<>(rows);
        out.sort(order);
        return out;
    }

    private static List<String> tokens(Row r) {
        return r.isNullAt(3) ? null : r.getList(3);
    }

    @Test
    void readsBothGraphsTheirTriplesAndThePairs(@TempDir Path dir) throws IOException {
        KnowledgeGraphPair kg = Dbp15kReader.read(SPARK, new Fixture().write(dir), "zh_en", fail());
        try {
            assertEquals("dbp15k/zh_en", kg.name());
            assertEquals(KnowledgeGraphPair.ENTITY_SCHEMA, kg.entities().schema());
            assertEquals(KnowledgeGraphPair.TRIPLE_SCHEMA, kg.triples().schema());
            assertEquals(KnowledgeGraphPair.PAIR_SCHEMA, kg.pairs().schema());
            assertEquals(new KnowledgeGraphPair.Counts(4, 4, 2, 2, 2, 3, 4), kg.counts());

            List<Row> e = sorted(kg.entities().collectAsList(), Comparator.comparingInt(r -> r.getInt(1)));
            assertEquals(List.of(0, 1, 2, 5, 10, 11, 12, 13), e.stream().map(r -> r.getInt(1)).toList());
            assertEquals(List.of(1, 1, 1, 1, 2, 2, 2, 2), e.stream().map(r -> r.getInt(0)).toList());
            assertEquals("http://zh.dbpedia.org/resource/上海", e.get(1).getString(2));
            assertEquals(List.of("shang", "hai"), tokens(e.get(1)));
            assertEquals(List.of("shanghai"), tokens(e.get(5)));
            // an empty token list and a missing entry both mean: no name
            assertEquals(null, tokens(e.get(2)));
            assertEquals(null, tokens(e.get(3)));
            for (Row r : e) {
                assertTrue(r.isNullAt(4) && r.isNullAt(5), "attributes and image_vector are absent in DBP15K");
            }

            List<Row> t = sorted(kg.triples().collectAsList(),
                    Comparator.comparingInt((Row r) -> r.getInt(0)).thenComparingInt(r -> r.getInt(1)));
            assertEquals("[[1,0,100,1], [1,2,101,5], [2,10,200,11], [2,11,200,12], [2,12,201,13]]", t.toString());
            List<Row> p = sorted(kg.pairs().collectAsList(), Comparator.comparingInt(r -> r.getInt(0)));
            assertEquals("[[0,10], [1,11], [2,12], [5,13]]", p.toString());
        } finally {
            kg.unpersist();
        }
    }

    @Test
    void namesAreOptional(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.remove(NAMES);
        KnowledgeGraphPair kg = Dbp15kReader.read(SPARK, f.write(dir), "zh_en", fail());
        assertEquals(new KnowledgeGraphPair.Counts(4, 4, 0, 0, 2, 3, 4), kg.counts());
        kg.unpersist();
    }

    @Test
    void blankLinesAndWindowsLineEndsAreAccepted(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/triples_2").set(1, "12\t201\t13\r");
        f.files.get("zh_en/ill_ent_ids").add("");
        KnowledgeGraphPair kg = Dbp15kReader.read(SPARK, f.write(dir), "zh_en", fail());
        assertEquals(new KnowledgeGraphPair.Counts(4, 4, 2, 2, 2, 3, 4), kg.counts());
        kg.unpersist();
    }

    @Test
    void malformedLinesAreNamedByFileAndLine(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/ent_ids_1").set(0, "0 http://zh.dbpedia.org/resource/北京");
        assertFails(f, dir, "zh_en/ent_ids_1:1: expected 2 tab-separated fields (id, URI), found 1");
        f = new Fixture();
        f.files.get("zh_en/triples_2").set(1, "12\tr201\t13");
        assertFails(f, dir, "zh_en/triples_2:2: relation 'r201' is not a non-negative integer");
        f = new Fixture();
        f.files.get("zh_en/triples_1").set(0, "0\t100\t1\t7");
        assertFails(f, dir, "zh_en/triples_1:1: expected 3 tab-separated fields (head, relation, tail), found 4");
        f = new Fixture();
        f.files.get("zh_en/ill_ent_ids").set(3, "5\t-13");
        assertFails(f, dir, "zh_en/ill_ent_ids:4: entity2 '-13' is not a non-negative integer");
        f = new Fixture();
        f.files.get("zh_en/ent_ids_2").set(3, "3000000000\thttp://dbpedia.org/resource/Kyoto");
        assertFails(f, dir, "zh_en/ent_ids_2:4: entity id 3000000000 is too large (ids must be below 2^31)");
    }

    @Test
    void triplesMustReferToEntitiesOfTheirOwnGraph(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/triples_1").set(1, "2\t101\t12");
        assertFails(f, dir, "zh_en/triples_1:2: tail 12 is not an entity of graph 1 (zh_en/ent_ids_1)");
        f.files.get("zh_en/triples_1").set(1, "2\t101\t5");
        f.files.get("zh_en/triples_2").set(2, "77\t200\t78");
        assertFails(f, dir, "zh_en/triples_2:3: head 77 and tail 78 are not entities of graph 2 (zh_en/ent_ids_2)");
    }

    @Test
    void pairsMustAlignAnEntityOfEachGraphOneToOne(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/ill_ent_ids").set(3, "5\t99");
        assertFails(f, dir, "zh_en/ill_ent_ids:4: entity2 99 is not an entity of graph 2 (zh_en/ent_ids_2)");
        f.files.get("zh_en/ill_ent_ids").set(3, "13\t5");
        assertFails(f, dir, "zh_en/ill_ent_ids:4: entity1 13 is not an entity of graph 1 (zh_en/ent_ids_1)");
        f.files.get("zh_en/ill_ent_ids").set(3, "0\t13");
        assertFails(f, dir, "zh_en/ill_ent_ids:4: entity1 0 is already aligned at zh_en/ill_ent_ids:1; alignment"
                + " pairs must be one to one");
        f.files.get("zh_en/ill_ent_ids").set(3, "5\t11");
        assertFails(f, dir, "zh_en/ill_ent_ids:4: entity2 11 is already aligned at zh_en/ill_ent_ids:2; alignment"
                + " pairs must be one to one");
    }

    @Test
    void entityIdsMustBeUniqueAcrossBothGraphs(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/ent_ids_2").set(0, "1\thttp://dbpedia.org/resource/Beijing");
        assertFails(f, dir, "zh_en/ent_ids_2:1: entity id 1 is already defined at zh_en/ent_ids_1:2; ids must be"
                + " unique across both graphs");
    }

    @Test
    void namesFileProblemsAreNamedByEntryAndPosition(@TempDir Path dir) throws IOException {
        final Fixture f = new Fixture();
        f.files.put(NAMES, List.of("[[0, [\"beijing\"]], [1, [\"shang\", 7]]]"));
        assertFails(f, dir, NAMES + ": entry 2 (line 1, column 20): the tokens of entity 1 must be strings, found 7");
        f.files.put(NAMES, List.of("[[0, [\"beijing\"]],", " [0, [\"peking\"]]]"));
        assertFails(f, dir, NAMES + ": entry 2 (line 2, column 2): entity 0 already has a name (entry 1)");
        f.files.put(NAMES, List.of("[[0, [\"beijing\"]], [1, \"shanghai\"]]"));
        assertFails(f, dir, NAMES + ": entry 2 (line 1, column 20): the tokens of entity 1 must be a list of"
                + " strings, found \"shanghai\"");
        f.files.put(NAMES, List.of("[[0, [\"beijing\"]], [1, [\"shanghai\"]"));
        InputException e = assertThrows(InputException.class,
                () -> Dbp15kReader.read(SPARK, f.write(dir), "zh_en", fail()));
        // our part exactly; the reason is Jackson's wording (without its stream class name)
        assertTrue(e.getMessage().startsWith(NAMES + ": invalid JSON at line 2, column 1 (Unexpected"
                + " end-of-input"), e.getMessage());
        assertTrue(e.getMessage().endsWith("[line: 1, column: 20]))"), e.getMessage());
        f.files.put(NAMES, List.of("{\"0\": [\"beijing\"]}"));
        assertFails(f, dir, NAMES + ": the file does not start with a JSON array; expected [[id, [\"token\","
                + " ...]], ...]");
    }

    @Test
    void skipPolicyDropsBadRecordsAndWhatDependsOnThem(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.files.get("zh_en/ent_ids_1").set(3, "x5\thttp://zh.dbpedia.org/resource/京都");
        f.files.get("zh_en/triples_2").add("13\t202\t99");
        f.files.put(NAMES, List.of("[[0, [\"beijing\"]], {\"1\": 2}, [11, [\"shanghai\"]], [0, [\"again\"]]]"));
        BadRecords skip = new BadRecords(SPARK.sparkContext(), BadRecordPolicy.SKIP, "kg");
        KnowledgeGraphPair kg = Dbp15kReader.read(SPARK, f.write(dir), "zh_en", skip);
        assertEquals(new KnowledgeGraphPair.Counts(3, 4, 1, 1, 1, 3, 3), kg.counts());
        assertEquals(List.of(
                NAMES + ": entry 2 (line 1, column 20): expected [id, [\"token\", ...]], found an object",
                NAMES + ": entry 4 (line 1, column 50): entity 0 already has a name (entry 1)",
                "zh_en/ent_ids_1:4: entity id 'x5' is not a non-negative integer",
                "zh_en/ill_ent_ids:4: entity1 5 is not an entity of graph 1 (zh_en/ent_ids_1)",
                "zh_en/triples_1:2: tail 5 is not an entity of graph 1 (zh_en/ent_ids_1)",
                "zh_en/triples_2:4: tail 99 is not an entity of graph 2 (zh_en/ent_ids_2)"),
                skip.skippedMessages());
        assertEquals(6, skip.skipped());
        kg.unpersist();
    }

    @Test
    void unknownPairOrMissingFileIsNamed(@TempDir Path dir) throws IOException {
        String root = new Fixture().write(dir);
        InputException e = assertThrows(InputException.class,
                () -> Dbp15kReader.read(SPARK, root, "fr_en", fail()));
        assertEquals("DBP15K pair 'fr_en' not found in " + root + "; it holds zh_en", e.getMessage());
        e = assertThrows(InputException.class, () -> Dbp15kReader.read(SPARK, root, "../zh_en", fail()));
        assertEquals("DBP15K pair '../zh_en' not found in " + root + "; it holds zh_en", e.getMessage());
        Files.delete(dir.resolve("zh_en/triples_2"));
        e = assertThrows(InputException.class, () -> Dbp15kReader.read(SPARK, root, "zh_en", fail()));
        assertEquals(root + "/zh_en: no file triples_2; a DBP15K pair directory holds ent_ids_1, ent_ids_2,"
                + " triples_1, triples_2 and ill_ent_ids", e.getMessage());
    }

    private static void assertFails(Fixture f, Path dir, String message) throws IOException {
        String root = f.write(dir);
        InputException e = assertThrows(InputException.class, () -> Dbp15kReader.read(SPARK, root, "zh_en", fail()));
        assertEquals(message, e.getMessage());
    }
}
