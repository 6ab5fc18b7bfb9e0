package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times one case in its own JVM, so that its peak memory is its own:
 *
 * <pre>java -cp ... dev.mmspark.bench.CaseRunner CASE_DIR</pre>
 *
 * Warm-up steps first (JIT, ND4J workspaces, op caches), then {@code runs} runs of {@code steps} steps each;
 * the figure is the median over runs of the mean step time, for training and for inference. Peak memory:
 * the JVM heap pools' peak usage, the peak of the resident memory outside the committed heap (ND4J's
 * native buffers and the JVM's own), sampled after every step, and the process's peak resident set (VmHWM). Writes CASE_DIR/java.json.
 */
public final class CaseRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CaseRunner.class);

    private CaseRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: CaseRunner CASE_DIR");
        }
        File dir = new File(args[0]);
        JsonNode c = CaseFiles.readCase(dir);
        JsonNode timing = c.path("timing");
        int warmup = timing.path("warmup").asInt(3);
        int runs = timing.path("runs").asInt(5);
        int steps = timing.path("steps").asInt(3);
        long[] offHeapPeak = {0};
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("case", c.get("name").asText());
        try (Target t = Targets.build(dir, c)) {
            Runnable train = () -> {
                t.trainStep();
                offHeapPeak[0] = Math.max(offHeapPeak[0], nonHeapResident());
            };
            Runnable infer = () -> {
                t.inferStep();
                offHeapPeak[0] = Math.max(offHeapPeak[0], nonHeapResident());
            };
            double[] trainRuns = time(train, warmup, runs, steps);
            double[] inferRuns = time(infer, warmup, runs, steps);
            out.put("train_ms", median(trainRuns));
            out.put("train_ms_runs", trainRuns);
            out.put("infer_ms", median(inferRuns));
            out.put("infer_ms_runs", inferRuns);
            out.put("params", t.parameters());
        }
        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        out.put("peak_heap_mb", heapPeak / 1048576.0);
        out.put("peak_nonheap_rss_mb", offHeapPeak[0] / 1048576.0);
        out.put("peak_rss_mb", vmHwmKb() / 1024.0);
        out.put("threads", Nd4j.getEnvironment().maxMasterThreads());
        out.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
        out.put("blas", Nd4j.factory().blas().getClass().getSimpleName());
        CaseFiles.writeJson(new File(dir, "java.json"), out);
        LOG.info("{}: train {} ms, inference {} ms per batch", c.get("name").asText(), out.get("train_ms"),
                out.get("infer_ms"));
    }

    /**
     * Resident memory not taken by the committed heap: ND4J's native buffers, plus the JVM's own code and
     * metadata. (JavaCPP's {@code Pointer.totalBytes()} does not see ND4J 1.0.0-M2.1's allocations, so the
     * resident set is the honest figure.)
     */
    static long nonHeapResident() {
        return Pointer.physicalBytes() - Runtime.getRuntime().totalMemory();
    }

    static double[] time(Runnable step, int warmup, int runs, int steps) {
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        double[] perRun = new double[runs];
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                step.run();
            }
            perRun[r] = (System.nanoTime() - t0) / 1e6 / steps;
        }
        return perRun;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Peak resident set of this process in KiB (Linux), or -1. */
    static long vmHwmKb() {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(new File("/proc/self/status").toPath()));
            for (String l : lines) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            LOG.debug("no /proc/self/status: {}", e.toString());
        }
        return -1;
    }
}
