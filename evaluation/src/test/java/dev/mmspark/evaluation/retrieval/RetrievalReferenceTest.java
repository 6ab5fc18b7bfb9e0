package dev.mmspark.evaluation.retrieval;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The distributed retrieval metrics against values computed outside this code base: the checked-in script
 * {@code retrieval/retrieval_reference.py} (plain Python, the DSCMR reference code's mAP loop as a cross-check)
 * wrote the fixture, a set full of exact ties with queries that have no relevant candidate, and the metrics of
 * both directions.
 */
class RetrievalReferenceTest {
    private static final List<Integer> KS = List.of(1, 3, 10);

    @Test
    void blockwiseMetricsEqualTheScriptsOnBothDirections() throws IOException {
        List<RetrievalItem> queries = new ArrayList<>();
        List<RetrievalItem> cands = new ArrayList<>();
        for (String[] f : tsv("retrieval/retrieval_fixture.tsv")) {
            RetrievalItem it = RetrievalItem.of(f[1], Integer.parseInt(f[2]), new double[]{Double.parseDouble(f[3]),
                    Double.parseDouble(f[4]), Double.parseDouble(f[5])});
            (f[0].equals("query") ? queries : cands).add(it);
        }
        assertEquals(14, queries.size());
        assertEquals(17, cands.size());
        Map<String, Map<String, Double>> expected = new HashMap<>();
        for (String[] f : tsv("retrieval/retrieval_expected.tsv")) {
            expected.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], Double.parseDouble(f[2]));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        JavaRDD<RetrievalItem> q = jsc.parallelize(queries, 2);
        JavaRDD<RetrievalItem> c = jsc.parallelize(cands, 3);
        for (int block : new int[]{4, 100}) {
            check(expected.get("forward"), BlockwiseRetrieval.evaluate(q, c, KS, block), "forward, block " + block);
            check(expected.get("backward"), BlockwiseRetrieval.evaluate(c, q, KS, block), "backward, block " + block);
        }
    }

    private static void check(Map<String, Double> e, DirectionMetrics m, String what) {
        assertNotNull(e, what);
        assertEquals(e.get("queries").longValue(), m.queries(), what);
        assertEquals(e.get("candidates").longValue(), m.candidates(), what);
        assertEquals(e.get("queries_without_relevant").longValue(), m.queriesWithoutRelevant(), what);
        assertEquals(e.get("map"), m.map(), 1e-12, what);
        assertEquals(e.get("map_at_r"), m.mapAtR(), 1e-12, what);
        for (int k : KS) {
            assertEquals(e.get("p_at_" + k), m.precisionAtK().get(k), 1e-12, what + " P@" + k);
            assertEquals(e.get("r_at_" + k), m.recallAtK().get(k), 1e-12, what + " R@" + k);
        }
    }

    private static List<String[]> tsv(String resource) throws IOException {
        try (InputStream in = RetrievalReferenceTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource);
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            List<String[]> out = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                if (!lines[i].isBlank()) {
                    out.add(lines[i].split("\t"));
                }
            }
            return out;
        }
    }
}
