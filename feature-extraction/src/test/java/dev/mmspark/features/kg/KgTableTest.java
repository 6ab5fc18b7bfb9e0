package dev.mmspark.features.kg;

import dev.mmspark.features.text.Vocabulary;
import dev.mmspark.testing.Failures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static dev.mmspark.features.kg.TinyKg.SPARK;
import static dev.mmspark.features.kg.TinyKg.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KgTableTest {
    @TempDir
    static Path tmp;

    private static KgFeatureExtraction.Result five;

    @BeforeAll
    static void extractFive() {
        five = TinyKg.extract(TinyKg.five(), tmp.resolve("five").toString(), "dim = 8");
    }

    @Test
    void roundTripToTheGraphTensors() {
        KgTable t = KgTable.open(SPARK, five.output());
        KgTableMetadata m = t.metadata();
        assertEquals(five.metadata().graphs(), m.graphs());
        assertEquals(five.metadata().split(), m.split());
        assertEquals(five.metadata().modalityNames(), m.modalityNames());
        assertEquals(five.metadata().tableHash(), m.tableHash());
        assertEquals(5, t.entityCount());
        assertEquals("ng", t.vocabulary(KgTableMetadata.CHAR).token(2));
        assertEquals("201", t.vocabulary(KgTableMetadata.RELATION).token(5));

        KgTensors g = t.tensors();
        assertEquals(5, g.entityCount());
        assertEquals(3, g.entities1());
        assertEquals(2, g.graph(3));
        assertArrayEquals(ints(0, 2, 5, 3, 7), g.entityIds());
        assertArrayEquals(ints(0, 1, 2, 2, 3, 4), g.adjacency().offsets());
        assertArrayEquals(ints(1, 0, 4, 3), g.adjacency().indices());
        assertArrayEquals(new int[][]{ints(0, 1, 3, 4), ints(1, 0, 4, 3)}, g.edgeList());
        assertArrayEquals(ints(3), g.relations().row(2));
        assertArrayEquals(ints(2), g.relations().values(2));
        assertArrayEquals(ints(2, 3), g.relations().row(0));
        assertArrayEquals(ints(2, 1), g.relations().values(0));
        assertEquals(6, g.relationVocabSize());
        assertArrayEquals(ints(2, 4), g.names().row(0));
        assertEquals(0, g.names().length(2), "no name: an empty row");
        assertEquals(6, g.nameVocabSize());
        assertArrayEquals(ints(2, 5, 9, 10, 12, 14), g.chars().row(1));
        assertArrayEquals(ints(1, 2, 1, 1, 1, 1), g.chars().values(1));
        assertEquals(16, g.charVocabSize());
        assertArrayEquals(ints(2), g.attributes().row(3));
        assertArrayEquals(ints(2), g.attributes().values(3));
        assertEquals(4, g.attributeVocabSize());
        assertEquals(3, g.imageDim());
        assertArrayEquals(new float[]{0.5f, 1f, -2f}, g.image(0));
        assertNull(g.image(1));
        assertArrayEquals(new float[]{1f, 2f, 3f}, g.image(4));

        // pairs (0, 3) and (2, 7) are dense (0, 3) and (1, 4); each is in one split
        KgTensors.Pairs train = g.train();
        KgTensors.Pairs test = g.test();
        assertEquals(2, train.size() + test.size());
        assertEquals(five.metadata().split().train(), train.size());
        for (KgTensors.Pairs p : List.of(train, test)) {
            for (int k = 0; k < p.size(); k++) {
                assertEquals(p.left()[k] == 0 ? 3 : 4, p.right()[k]);
            }
        }
        assertEquals(4, t.edges().count());

        float[][] vectors = t.nameEmbeddings();
        assertEquals(6, vectors.length);
        assertEquals(8, vectors[2].length);
        assertArrayEquals(new float[8], vectors[Vocabulary.PAD]);
    }

    @Test
    void mistypedColumnIsNamedWithExpectedAndFoundType() throws IOException {
        Path copy = copyOfFive("mistyped");
        SPARK.read().parquet(five.output() + "/entities")
                .withColumn("neighbors", org.apache.spark.sql.functions.col("neighbors").cast("array<bigint>"))
                .write().parquet(copy.resolve("entities").toString());
        assertEquals("kg table " + copy + ": entities column 'neighbors' has type array<bigint>, expected array<int>",
                Failures.message(() -> KgTable.open(SPARK, copy.toString())));
    }

    @Test
    void missingColumnIsNamed() throws IOException {
        Path copy = copyOfFive("missing");
        SPARK.read().parquet(five.output() + "/pairs").drop("split")
                .write().parquet(copy.resolve("pairs").toString());
        assertEquals("kg table " + copy + ": pairs column 'split' is missing (expected string); found columns"
                + " [entity1, entity2, index1, index2]", Failures.message(() -> KgTable.open(SPARK, copy.toString())));
    }

    @Test
    void notAKgTable() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(dir.resolve("metadata.json"), "{\"format\": \"mmspark-feature-table\", \"formatVersion\": 1}");
        assertEquals("kg table " + dir + ": metadata.json has format 'mmspark-feature-table', expected"
                + " 'mmspark-kg-table'", Failures.message(() -> KgTable.open(SPARK, dir.toString())));
        assertTrue(Failures.message(() -> KgTable.open(SPARK, tmp.resolve("none").toString()))
                .endsWith("does not exist (run the extract job first)"));
    }

    /** The table without the directory that the test rewrites ({@code entities} or {@code pairs}). */
    private Path copyOfFive(String name) throws IOException {
        Path src = Path.of(five.output());
        Path dst = tmp.resolve(name);
        String replaced = name.equals("mistyped") ? "entities" : "pairs";
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                Path rel = src.relativize(p);
                if (rel.toString().startsWith(replaced)) {
                    continue;
                }
                Path target = dst.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        assertFalse(Files.exists(dst.resolve(replaced)));
        return dst;
    }
}
