package dev.mmspark.data.kg;

import dev.mmspark.data.Split;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlignmentSplitTest {
    private static final SparkSession SPARK = SparkTestSession.get();

    /** n pairs (i, 100000 + i), in a given number of partitions. */
    private static Dataset<Row> pairs(int n, int partitions) {
        return SPARK.range(0, n, 1, partitions)
                .select(col("id").cast("int").as(KnowledgeGraphPair.ENTITY1),
                        col("id").plus(100000).cast("int").as(KnowledgeGraphPair.ENTITY2));
    }

    private static Map<Integer, String> splitOf(Dataset<Row> split) {
        Map<Integer, String> m = new HashMap<>();
        for (Row r : split.collectAsList()) {
            m.put(r.getInt(0), r.getString(2));
        }
        return m;
    }

    @Test
    void addsASplitColumnThatDependsOnlyOnSeedAndPair() {
        AlignmentSplit s = new AlignmentSplit(42);
        assertEquals(0.3, s.trainFraction());
        Dataset<Row> split = s.apply(pairs(3000, 1));
        assertEquals("struct<entity1:int,entity2:int,split:string>", split.schema().simpleString());
        assertEquals(false, split.schema().apply("split").nullable());
        Map<Integer, String> one = splitOf(split);
        // other partitionings and another order give the same split per pair
        assertEquals(one, splitOf(s.apply(pairs(3000, 7).orderBy(col("entity1").desc()))));
        assertEquals(one, splitOf(s.apply(pairs(3000, 3).repartition(5))));
        // ... and a subset keeps its pairs' splits
        Map<Integer, String> subset = splitOf(s.apply(pairs(3000, 2).where(col("entity1").mod(2).equalTo(0))));
        subset.forEach((e1, sp) -> assertEquals(one.get(e1), sp));
        // the split is SplitAssigner.unit(seed, "entity1 TAB entity2") < train fraction
        one.forEach((e1, sp) -> assertEquals(
                SplitAssigner.unit(42, e1 + "\t" + (e1 + 100000)) < 0.3 ? "train" : "test", sp));
        one.forEach((e1, sp) -> assertEquals(s.assign(e1, e1 + 100000), Split.parse(sp)));
        assertNotEquals(one, splitOf(new AlignmentSplit(43).apply(pairs(3000, 1))), "another seed, another split");
    }

    @Test
    void countsFollowTheFraction() {
        AlignmentSplit.Counts c = AlignmentSplit.counts(new AlignmentSplit(7).apply(pairs(3000, 4)));
        assertEquals(3000, c.total());
        // binomial(3000, 0.3): mean 900, sd 25
        assertTrue(c.train() > 800 && c.train() < 1000, c.toString());
        AlignmentSplit.Counts half = AlignmentSplit.counts(new AlignmentSplit(7, 0.5).apply(pairs(3000, 4)));
        assertTrue(half.train() > 1400 && half.train() < 1600, half.toString());
    }

    @Test
    void appliesToAKnowledgeGraphPair() {
        Dataset<Row> entities = SPARK.createDataFrame(List.of(), KnowledgeGraphPair.ENTITY_SCHEMA);
        Dataset<Row> triples = SPARK.createDataFrame(List.of(), KnowledgeGraphPair.TRIPLE_SCHEMA);
        KnowledgeGraphPair kg = new KnowledgeGraphPair("t", entities, triples, pairs(10, 1));
        KnowledgeGraphPair split = new AlignmentSplit(1).apply(kg);
        assertEquals(List.of("entity1", "entity2", "split"), List.of(split.pairs().columns()));
        assertEquals(10, AlignmentSplit.counts(split.pairs()).total());
    }

    @Test
    void fractionMustBeStrictlyBetweenZeroAndOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AlignmentSplit(1, 1.0));
        assertEquals("alignment train fraction must be in (0, 1), found 1.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AlignmentSplit(1, 0.0));
    }

    @Test
    void knowledgeGraphPairChecksItsColumns() {
        Dataset<Row> entities = SPARK.createDataFrame(List.of(), KnowledgeGraphPair.ENTITY_SCHEMA);
        Dataset<Row> triples = SPARK.createDataFrame(List.of(), KnowledgeGraphPair.TRIPLE_SCHEMA);
        Dataset<Row> badPairs = pairs(3, 1).withColumnRenamed("entity2", "right");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KnowledgeGraphPair("t", entities, triples, badPairs));
        assertEquals("pairs need a column 'entity2' of type int, found none (expected columns:"
                + " struct<entity1:int,entity2:int>)", e.getMessage());
    }
}
