package dev.mmspark.evaluation.retrieval;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Retrieval metrics by hand, the tie rule, and the blockwise distributed computation against the
 * single-machine reference on sets full of exact ties.
 */
class RetrievalMetricsTest {
    private static final List<Integer> KS = List.of(1, 2, 5);

    private static RetrievalItem item(String id, int label, double... v) {
        return RetrievalItem.of(id, label, v);
    }

    /*
     * Query (1, 0) of class 0 against five candidates; cosines: a 1 (class 0), b 1 (class 1), d 0.707 (class 1),
     * c 0 (class 0), e -1 (class 0). a and b tie; by id a ranks first. Ranking a b d c e, relevant ranks 1, 4, 5
     * (R = 3):
     *   AP   = (1/1 + 2/4 + 3/5) / 3 = 0.7
     *   AP@R = (1/1) / 3            (only rank 1 is within the top R = 3)
     *   P@1 = 1, P@2 = 1/2, P@5 = 3/5;  R@1 = 1/3, R@2 = 1/3, R@5 = 1
     * Renaming a to z puts b first (ranks 2, 4, 5): AP = (1/2 + 2/4 + 3/5) / 3 = 0.5333..., AP@R = (1/2) / 3
     */
    private static List<RetrievalItem> candidates(String first) {
        return List.of(item(first, 0, 1, 0), item("b", 1, 2, 0), item("c", 0, 0, 3), item("d", 1, 1, 1),
                item("e", 0, -1, 0));
    }

    private static final RetrievalItem QUERY = item("q", 0, 1, 0);

    @Test
    void handComputedRankingWithATieBrokenByCandidateId() {
        QueryResult r = ReferenceRetrieval.perQuery(List.of(QUERY), candidates("a"), KS).get(0);
        assertEquals(3, r.relevant());
        assertEquals(0.7, r.ap(), 1e-15);
        assertEquals(1.0 / 3, r.apAtR(), 1e-15);
        assertArrayEquals(new int[]{1, 1, 3}, r.hits());
        DirectionMetrics m = ReferenceRetrieval.evaluate(List.of(QUERY), candidates("a"), KS);
        assertEquals(Map.of(1, 1.0, 2, 0.5, 5, 0.6), m.precisionAtK());
        assertEquals(1.0 / 3, m.recallAtK().get(1), 1e-15);
        assertEquals(1.0, m.recallAtK().get(5), 1e-15);

        QueryResult swapped = ReferenceRetrieval.perQuery(List.of(QUERY), candidates("z"), KS).get(0);
        assertEquals((0.5 + 0.5 + 0.6) / 3, swapped.ap(), 1e-15);
        assertEquals(1.0 / 6, swapped.apAtR(), 1e-15);
        assertArrayEquals(new int[]{0, 1, 3}, swapped.hits());
    }

    @Test
    void ranksGiveTheSameResultAsTheWalkOverTheRanking() {
        QueryResult walked = ReferenceRetrieval.perQuery(List.of(QUERY), candidates("a"), KS).get(0);
        QueryResult fromRanks = QueryResult.fromRanks("q", new long[]{1, 4, 5}, KS);
        assertEquals(walked.ap(), fromRanks.ap(), 0.0);
        assertEquals(walked.apAtR(), fromRanks.apAtR(), 0.0);
        assertArrayEquals(walked.hits(), fromRanks.hits());
        assertThrows(IllegalArgumentException.class, () -> QueryResult.fromRanks("q", new long[]{2, 2}, KS));
    }

    @Test
    void aQueryWhoseClassHasNoCandidateScoresZeroAndCounts() {
        RetrievalItem lonely = item("q2", 7, 1, 0);
        DirectionMetrics m = ReferenceRetrieval.evaluate(List.of(QUERY, lonely), candidates("a"), KS);
        assertEquals(2, m.queries());
        assertEquals(1, m.queriesWithoutRelevant());
        assertEquals(0.35, m.map(), 1e-15);
        assertEquals(0.5, m.recallAtK().get(5), 1e-15);
        Map<String, Double> expected = Map.of("map_i2t", 0.35, "map_at_r_i2t", 1.0 / 6, "p_at_1_i2t", 0.5,
                "p_at_2_i2t", 0.25, "p_at_5_i2t", 0.3, "r_at_1_i2t", 1.0 / 6, "r_at_2_i2t", 1.0 / 6, "r_at_5_i2t", 0.5);
        Map<String, Double> named = m.asMap("i2t");
        assertEquals(expected.keySet(), named.keySet());
        expected.forEach((k, v) -> assertEquals(v, named.get(k), 1e-15, k));
    }

    /**
     * Items on a small integer grid in 3-d, so that many cosines are exactly equal (repeated and scaled
     * vectors, the zero vector), four classes of which the candidates lack one; then the blockwise computation
     * with blocks of 3, 8 and all items equals the reference query by query, bit for bit.
     */
    @Test
    void blockwiseEqualsTheReferenceOnASetFullOfTies() {
        Random rnd = new Random(4);
        List<RetrievalItem> queries = new ArrayList<>();
        List<RetrievalItem> cands = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            queries.add(item("q" + i, rnd.nextInt(4), rnd.nextInt(3) - 1, rnd.nextInt(3), rnd.nextInt(2)));
        }
        for (int i = 0; i < 31; i++) {
            cands.add(item(String.format("c%02d", (i * 17) % 31), rnd.nextInt(3), rnd.nextInt(3) - 1, rnd.nextInt(3),
                    rnd.nextInt(2)));
        }
        cands.add(item("c99", 1, 0, 0, 0));
        List<QueryResult> reference = ReferenceRetrieval.perQuery(queries, cands, KS);
        long ties = countTies(queries, cands);
        assertEquals(true, ties > 100, "the fixture must be full of ties, has " + ties);
        DirectionMetrics expected = ReferenceRetrieval.evaluate(queries, cands, KS);

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        JavaRDD<RetrievalItem> q = jsc.parallelize(queries, 3);
        JavaRDD<RetrievalItem> c = jsc.parallelize(cands, 2);
        for (int block : new int[]{3, 8, 1000}) {
            List<QueryResult> distributed = new ArrayList<>(BlockwiseRetrieval.perQuery(q, c, KS, block));
            distributed.sort(Comparator.comparing(r -> Integer.parseInt(r.queryId().substring(1))));
            assertEquals(reference.size(), distributed.size());
            for (int i = 0; i < reference.size(); i++) {
                QueryResult a = reference.get(i);
                QueryResult b = distributed.get(i);
                String what = "block " + block + ", query " + a.queryId();
                assertEquals(a.queryId(), b.queryId(), what);
                assertEquals(a.relevant(), b.relevant(), what);
                assertEquals(a.ap(), b.ap(), 0.0, what);
                assertEquals(a.apAtR(), b.apAtR(), 0.0, what);
                assertArrayEquals(a.hits(), b.hits(), what);
            }
            DirectionMetrics m = BlockwiseRetrieval.evaluate(q, c, KS, block);
            assertEquals(expected.queries(), m.queries());
            assertEquals(expected.candidates(), m.candidates());
            assertEquals(expected.queriesWithoutRelevant(), m.queriesWithoutRelevant());
            assertEquals(expected.map(), m.map(), 1e-12);
            assertEquals(expected.mapAtR(), m.mapAtR(), 1e-12);
            for (int k : KS) {
                assertEquals(expected.precisionAtK().get(k), m.precisionAtK().get(k), 1e-12);
                assertEquals(expected.recallAtK().get(k), m.recallAtK().get(k), 1e-12);
            }
        }
        assertEquals(true, expected.queriesWithoutRelevant() > 0, "class 3 has no candidate");
    }

    @Test
    void blockwiseReproducesTheHandComputedTie() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        for (String first : List.of("a", "z")) {
            List<QueryResult> r = BlockwiseRetrieval.perQuery(jsc.parallelize(List.of(QUERY)),
                    jsc.parallelize(candidates(first), 2), KS, 2);
            assertEquals(ReferenceRetrieval.perQuery(List.of(QUERY), candidates(first), KS).get(0).ap(), r.get(0).ap(),
                    0.0);
        }
    }

    private static long countTies(List<RetrievalItem> queries, List<RetrievalItem> cands) {
        long ties = 0;
        for (RetrievalItem q : queries) {
            for (int i = 0; i < cands.size(); i++) {
                for (int j = i + 1; j < cands.size(); j++) {
                    if (RetrievalItem.similarity(q, cands.get(i)) == RetrievalItem.similarity(q, cands.get(j))) {
                        ties++;
                    }
                }
            }
        }
        return ties;
    }
}
