package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.io.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the Java and the PyTorch side of each case as child processes with the same thread count. */
final class Runner {
    private static final Logger LOG = LoggerFactory.getLogger(Runner.class);
    private static final long TIMEOUT_MINUTES = 15;   // TFR-Net at its default sizes needs minutes per case

    private final BenchHarness.Options o;
    private final boolean pytorch;

    Runner(BenchHarness.Options o) {
        this.o = o;
        this.pytorch = probePython();
    }

    private boolean probePython() {
        try {
            Process p = new ProcessBuilder(o.python(), "-c", "import torch, numpy").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes());
            if (p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0) {
                return true;
            }
            LOG.warn("No PyTorch at {} ({}); install Debian's python3-torch and libopenblas0-pthread. Only the "
                    + "Java side is measured", o.python(), text.trim());
        } catch (Exception e) {
            LOG.warn("No PyTorch at {} ({}); only the Java side is measured", o.python(), e.toString());
        }
        return false;
    }

    void roof(Results results) {
        File out = new File(o.out(), "roof-java.json");
        List<String> cmd = javaCommand(RoofRunner.class.getName(), out.getPath());
        if (run("roof (ND4J)", cmd) && out.isFile()) {
            read(out).fields().forEachRemaining(e -> results.roof("nd4j", e.getKey(), e.getValue().asDouble()));
        }
        if (pytorch) {
            File py = new File(o.out(), "roof-pytorch.json");
            List<String> pc = new ArrayList<>(List.of(o.python(), "bench/pytorch/roof.py",
                    String.valueOf(o.threads()), py.getPath()));
            pc.addAll(RoofRunner.SIZES);
            if (run("roof (PyTorch)", pc) && py.isFile()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = read(py).fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getKey().startsWith("_")) {
                        results.roof("pytorch (system OpenBLAS)", e.getKey(), e.getValue().asDouble());
                    }
                }
            }
        }
    }

    void runCase(File dir, Results results) {
        JsonNode c = CaseFiles.readCase(dir);
        String name = c.get("name").asText();
        LOG.info("Case {}: Java", name);
        new File(dir, "java.json").delete();
        new File(dir, "pytorch.json").delete();
        boolean javaOk = run(name + " (Java)", javaCommand(CaseRunner.class.getName(), dir.getPath()));
        boolean torchOk = false;
        if (pytorch) {
            LOG.info("Case {}: PyTorch", name);
            torchOk = run(name + " (PyTorch)", List.of(o.python(), "bench/pytorch/run_case.py", dir.getPath()));
        }
        File jf = new File(dir, "java.json");
        File pf = new File(dir, "pytorch.json");
        JsonNode java = javaOk && jf.isFile() ? read(jf) : null;
        JsonNode torch = torchOk && pf.isFile() ? read(pf) : null;
        String status = java == null ? "java failed (see " + o.out() + "/logs)"
                : !pytorch ? "no pytorch" : torch == null ? "pytorch failed (see " + o.out() + "/logs)" : "ok";
        results.model(name, c.get("kind").asText(), c.get("batch").asInt(), java, torch, status);
        if (c.has("batch_build_ms")) {
            results.models().get(results.models().size() - 1).put("batch_build_ms", c.get("batch_build_ms").asDouble());
        }
    }

    private List<String> javaCommand(String main, String arg) {
        List<String> cmd = new ArrayList<>();
        cmd.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the harness's own flags: --add-opens, off-heap limits, logging config
            if (a.startsWith("--add-opens") || a.startsWith("-Dorg.bytedeco") || a.startsWith("-Dlog4j")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx2g");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main);
        cmd.add(arg);
        return cmd;
    }

    /** Runs a child with OMP_NUM_THREADS set; its output goes to a log next to its results. */
    private boolean run(String what, List<String> cmd) {
        File log = new File(o.out(), "logs/" + what.replaceAll("[^A-Za-z0-9.-]+", "_") + ".log");
        log.getParentFile().mkdirs();
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log));
            pb.environment().put("OMP_NUM_THREADS", String.valueOf(o.threads()));
            // Both ND4J and Debian's PyTorch run GNU OpenMP, whose idle threads spin by default; on this
            // machine passive waiting was faster for both sides (README, "Benchmarks"). Same policy on both.
            pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                LOG.error("{} ran past {} minutes and was stopped; log {}", what, TIMEOUT_MINUTES, log);
                return false;
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log.toPath());
                LOG.error("{} failed (exit {}); log {}:\n  {}", what, p.exitValue(), log,
                        String.join("\n  ", lines.subList(Math.max(0, lines.size() - 8), lines.size())));
                return false;
            }
            return true;
        } catch (Exception e) {
            LOG.error("{} could not run: {}", what, e.toString());
            return false;
        }
    }

    private static JsonNode read(File f) {
        try {
            return Json.MAPPER.readTree(f);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
