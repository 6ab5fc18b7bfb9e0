package dev.mmspark.evaluation.leaderboard;

import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeaderboardTest {
    @TempDir
    Path tmp;

    private Leaderboard open(String warehouse, String catalog) {
        return Leaderboard.open(SparkTestSession.get(), new LeaderboardConfig(warehouse, catalog, "leaderboard", "results"));
    }

    @Test
    void appendIsReadableByNameAndTimeTravels() {
        Leaderboard lb = open(tmp.resolve("wh").toString(), "lbt1");
        long first = lb.append(List.of(ResultRows.row("r1", "multitask", 0.8)));
        lb.append(List.of(ResultRows.row("r2", "misa", 0.9), ResultRows.row("r2", "misa", 0.7)));
        SparkSession spark = SparkTestSession.get();
        assertEquals(3, spark.sql("SELECT * FROM lbt1.leaderboard.results").count());
        Row best = spark.sql("SELECT model, metrics['accuracy'] AS acc FROM lbt1.leaderboard.results "
                + "ORDER BY acc DESC LIMIT 1").first();
        assertEquals("misa", best.getString(0));
        assertEquals(1, spark.sql("SELECT * FROM lbt1.leaderboard.results VERSION AS OF " + first).count());
        assertTrue(lb.hasRun("r2"));
        assertTrue(!lb.hasRun("r3"));
    }

    @Test
    void concurrentWritersInThreadsAndProcessesLoseNoRows() throws Exception {
        String wh = tmp.resolve("wh").toString();
        Leaderboard lb = open(wh, "lbt2");
        lb.ensureTable();
        // Two other JVMs (as two sweeps launched by a scheduler would be) and two threads here, at once.
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Process> procs = new ArrayList<>();
        for (String w : List.of("p1", "p2")) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            cmd.addAll(List.of(System.getProperty("test.child.opens", "").split(" ")).stream().filter(s -> !s.isBlank()).toList());
            cmd.addAll(List.of("-Xmx1g", "-cp", cp, LeaderboardWriterMain.class.getName(), wh, w, "4", "3"));
            procs.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve(w + ".log").toFile()).start());
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> fs = new ArrayList<>();
        for (String w : List.of("t1", "t2")) {
            fs.add(pool.submit(() -> {
                for (int c = 0; c < 4; c++) {
                    List<ResultRow> rows = new ArrayList<>();
                    for (int r = 0; r < 3; r++) {
                        rows.add(ResultRows.row(w + "-" + c + "-" + r, "m-" + w, 0.5));
                    }
                    lb.append(rows);
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        for (int i = 0; i < procs.size(); i++) {
            Process p = procs.get(i);
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "writer process did not finish");
            assertEquals(0, p.exitValue(), "writer process failed, see " + tmp.resolve("p" + (i + 1) + ".log"));
        }
        var all = SparkTestSession.get().sql("SELECT run_id FROM lbt2.leaderboard.results");
        assertEquals(48, all.count());
        assertEquals(48, all.distinct().count());
    }
}
