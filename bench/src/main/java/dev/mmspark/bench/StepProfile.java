package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.training.layers.SameDiffSessionMemory;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.profiler.OpProfiler;

import java.io.File;
import java.util.Locale;

/**
 * One case's training (or inference) step, step by step, for profiling (not part of {@code bench/run}):
 *
 * <pre>java -cp ... dev.mmspark.bench.StepProfile CASE_DIR [STEPS] [train|infer] [ops]</pre>
 *
 * Prints each step's wall time, the process's resident set and CPU time after it, and how many intermediate arrays
 * the SameDiff sessions freed; with {@code ops}, ND4J's op profiler's per-op table over the steps after the first.
 * Run it under JFR ({@code -XX:StartFlightRecording=...}) to see where the time goes (bench/README.md).
 */
public final class StepProfile {
    private StepProfile() {
    }

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boolean train = args.length <= 2 || !args[2].equals("infer");
        boolean ops = args.length > 3 && args[3].equals("ops");
        JsonNode c = CaseFiles.readCase(dir);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (Target t = Targets.build(dir, c)) {
            for (int s = 0; s < steps; s++) {
                if (ops && s == 1) {
                    Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.OPERATIONS);
                    OpProfiler.getInstance().reset();
                }
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                if (train) {
                    t.trainStep();
                } else {
                    t.inferStep();
                }
                double ms = (System.nanoTime() - t0) / 1e6;
                double cpu = (os.getProcessCpuTime() - cpu0) / 1e6;
                long[] freed = SameDiffSessionMemory.counts();
                System.out.printf(Locale.ROOT, "step %d: %.0f ms wall, %.0f ms CPU, RSS %.0f MB (peak %.0f MB), "
                                + "freed %d arrays (%.0f MB), score %.9f%n", s, ms, cpu, CaseRunner.nonHeapResident() / 1048576.0
                                + Runtime.getRuntime().totalMemory() / 1048576.0, CaseRunner.vmHwmKb() / 1024.0, freed[0],
                        freed[1] / 1048576.0, t.score());
            }
            if (ops) {
                Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
                OpProfiler.getInstance().printOutDashboard();
            }
        }
    }
}
