package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The harness's tables: {@code models.csv} (one row per case, Java next to PyTorch), {@code roof.csv} (matrix
 * multiply GFLOP/s per size and implementation), {@code spark.csv} (Spark-level figures), and
 * {@code summary.txt}.
 *
 * <p>Achieved GFLOP/s: a training step is counted as three forward passes (forward, and the two matrix
 * products of the backward pass per layer), the usual approximation; inference as one. The forward FLOPs
 * are counted on the PyTorch port (module hooks plus what the port reports for functional ops), which has
 * the same architecture. The roof is the system OpenBLAS's fp32 matrix multiply at 1024x768x384 measured
 * through PyTorch, the machine's practical peak.
 */
final class Results {
    static final String[] MODEL_COLUMNS = {"case", "kind", "batch", "params_java", "params_pytorch", "train_ms_java",
        "train_ms_pytorch", "train_ratio", "infer_ms_java", "infer_ms_pytorch", "infer_ratio", "train_ex_s_java",
        "train_ex_s_pytorch", "infer_ex_s_java", "infer_ex_s_pytorch", "forward_gflop_per_batch",
        "train_forward_gflop_per_batch", "train_gflops_java", "train_gflops_pytorch", "train_roof_fraction_java",
        "train_roof_fraction_pytorch", "infer_gflops_java", "infer_gflops_pytorch", "infer_roof_fraction_java",
        "infer_roof_fraction_pytorch",
        "peak_heap_mb_java", "peak_nonheap_rss_mb_java", "peak_rss_mb_java", "peak_rss_mb_pytorch", "batch_build_ms",
        "status"};

    private final List<Map<String, Object>> models = new ArrayList<>();
    private final List<Map<String, Object>> roof = new ArrayList<>();
    private final List<Map<String, Object>> spark = new ArrayList<>();

    /** What the figures depend on besides the code: the ND4J native build and BLAS settings. */
    static String setup() {
        String nd4j = "?";
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            String n = new File(e).getName();
            if (n.startsWith("nd4j-native-1") && n.contains("linux")) {
                nd4j = n;
            }
        }
        return "ND4J native " + nd4j + ", OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "")
                + ", LD_PRELOAD=" + System.getenv().getOrDefault("LD_PRELOAD", "")
                + ", OMP_WAIT_POLICY=" + System.getenv().getOrDefault("OMP_WAIT_POLICY", "PASSIVE (harness default)");
    }

    void spark(String what, Map<String, Object> figures) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("what", what);
        row.putAll(figures);
        spark.add(row);
    }

    void roof(String impl, String size, double gflops) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("implementation", impl);
        row.put("m_k_n", size);
        row.put("gflops", gflops);
        roof.add(row);
    }

    /** The roof: the best system-OpenBLAS (PyTorch) figure at the reference size, else the best ND4J one. */
    double roofGflops() {
        double best = Double.NaN;
        for (String impl : new String[]{"pytorch (system OpenBLAS)", "nd4j"}) {
            for (Map<String, Object> r : roof) {
                if (r.get("implementation").equals(impl) && r.get("m_k_n").equals(RoofRunner.REFERENCE)) {
                    best = Double.isNaN(best) ? (double) r.get("gflops") : best;
                }
            }
            if (!Double.isNaN(best)) {
                return best;
            }
        }
        return best;
    }

    /** One case: {@code java}/{@code pytorch} are the runners' JSON (null when that side failed). */
    void model(String name, String kind, int batch, JsonNode java, JsonNode pytorch, String status) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("case", name);
        row.put("kind", kind);
        row.put("batch", batch);
        row.put("params_java", java == null ? null : java.path("params").asLong());
        row.put("params_pytorch", pytorch == null ? null : pytorch.path("params").asLong());
        Double jt = java == null ? null : java.path("train_ms").asDouble();
        Double pt = pytorch == null ? null : pytorch.path("train_ms").asDouble();
        Double ji = java == null ? null : java.path("infer_ms").asDouble();
        Double pi = pytorch == null ? null : pytorch.path("infer_ms").asDouble();
        row.put("train_ms_java", jt);
        row.put("train_ms_pytorch", pt);
        row.put("train_ratio", jt != null && pt != null ? jt / pt : null);
        row.put("infer_ms_java", ji);
        row.put("infer_ms_pytorch", pi);
        row.put("infer_ratio", ji != null && pi != null ? ji / pi : null);
        row.put("train_ex_s_java", jt == null ? null : batch * 1000.0 / jt);
        row.put("train_ex_s_pytorch", pt == null ? null : batch * 1000.0 / pt);
        row.put("infer_ex_s_java", ji == null ? null : batch * 1000.0 / ji);
        row.put("infer_ex_s_pytorch", pi == null ? null : batch * 1000.0 / pi);
        Double gflop = pytorch == null ? null : pytorch.path("forward_flops").asDouble() / 1e9;
        // the training step's own forward FLOPs where the port counted them (negative: not counted)
        Double trainGflop = pytorch == null ? null : pytorch.has("train_forward_flops")
                ? pytorch.get("train_forward_flops").asDouble() / 1e9 : gflop;
        if (trainGflop != null && trainGflop < 0) {
            trainGflop = null;
        }
        row.put("forward_gflop_per_batch", gflop);
        row.put("train_forward_gflop_per_batch", trainGflop);
        Double jg = trainGflop != null && jt != null ? 3 * trainGflop / (jt / 1000) : null;
        Double pg = trainGflop != null && pt != null ? 3 * trainGflop / (pt / 1000) : null;
        Double jig = gflop != null && ji != null ? gflop / (ji / 1000) : null;
        Double pig = gflop != null && pi != null ? gflop / (pi / 1000) : null;
        row.put("train_gflops_java", jg);
        row.put("train_gflops_pytorch", pg);
        double r = roofGflops();
        row.put("train_roof_fraction_java", jg == null || Double.isNaN(r) ? null : jg / r);
        row.put("train_roof_fraction_pytorch", pg == null || Double.isNaN(r) ? null : pg / r);
        row.put("infer_gflops_java", jig);
        row.put("infer_gflops_pytorch", pig);
        row.put("infer_roof_fraction_java", jig == null || Double.isNaN(r) ? null : jig / r);
        row.put("infer_roof_fraction_pytorch", pig == null || Double.isNaN(r) ? null : pig / r);
        row.put("peak_heap_mb_java", java == null ? null : java.path("peak_heap_mb").asDouble());
        row.put("peak_nonheap_rss_mb_java", java == null ? null : java.path("peak_nonheap_rss_mb").asDouble());
        row.put("peak_rss_mb_java", java == null ? null : java.path("peak_rss_mb").asDouble());
        row.put("peak_rss_mb_pytorch", pytorch == null ? null : pytorch.path("peak_rss_mb").asDouble());
        String st = status;
        if (st.equals("ok") && java != null && pytorch != null
                && java.path("params").asLong() != pytorch.path("params").asLong()) {
            st = "parameter counts differ";
        }
        row.put("status", st);
        models.add(row);
    }

    List<Map<String, Object>> models() {
        return models;
    }

    void write(File out, double seconds) {
        writeCsv(new File(out, "models.csv"), List.of(MODEL_COLUMNS), models);
        writeCsv(new File(out, "roof.csv"), List.of("implementation", "m_k_n", "gflops"), roof);
        List<String> sparkCols = new ArrayList<>();
        for (Map<String, Object> r : spark) {
            for (String k : r.keySet()) {
                if (!sparkCols.contains(k)) {
                    sparkCols.add(k);
                }
            }
        }
        writeCsv(new File(out, "spark.csv"), sparkCols, spark);
        try {
            Files.writeString(new File(out, "summary.txt").toPath(), summary(seconds));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String summary(double seconds) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "mmspark benchmark, %s, %d processors, harness wall %.0f s%n",
                Instant.now(), Runtime.getRuntime().availableProcessors(), seconds));
        s.append(setup()).append("\n\n");
        s.append(String.format(Locale.ROOT, "%-18s %10s %9s %9s %6s %9s %9s %6s %7s %7s %7s %7s %8s %8s%n", "case",
                "params", "train ms", "torch ms", "ratio", "infer ms", "torch ms", "ratio", "roofTrJ", "roofTrT",
                "roofInJ", "roofInT", "rss MB J", "rss MB T"));
        for (Map<String, Object> r : models) {
            s.append(String.format(Locale.ROOT, "%-18s %10s %9s %9s %6s %9s %9s %6s %7s %7s %7s %7s %8s %8s  %s%n",
                    r.get("case"), fmt(r.get("params_java"), "%.0f"), fmt(r.get("train_ms_java"), "%.1f"),
                    fmt(r.get("train_ms_pytorch"), "%.1f"), fmt(r.get("train_ratio"), "%.2f"),
                    fmt(r.get("infer_ms_java"), "%.1f"), fmt(r.get("infer_ms_pytorch"), "%.1f"),
                    fmt(r.get("infer_ratio"), "%.2f"), pct(r.get("train_roof_fraction_java")),
                    pct(r.get("train_roof_fraction_pytorch")), pct(r.get("infer_roof_fraction_java")),
                    pct(r.get("infer_roof_fraction_pytorch")), fmt(r.get("peak_rss_mb_java"), "%.0f"),
                    fmt(r.get("peak_rss_mb_pytorch"), "%.0f"), r.get("status").equals("ok") ? "" : r.get("status")));
        }
        for (Map<String, Object> r : models) {
            if (r.get("batch_build_ms") != null) {
                s.append(String.format(Locale.ROOT, "  %s: %s train ex/s project, %s PyTorch; %s infer ex/s project, %s "
                                + "PyTorch; peak heap %s MB, off-heap RSS %s MB; batch builder %.1f ms per minibatch%n",
                        r.get("case"), fmt(r.get("train_ex_s_java"), "%.1f"), fmt(r.get("train_ex_s_pytorch"), "%.1f"),
                        fmt(r.get("infer_ex_s_java"), "%.1f"), fmt(r.get("infer_ex_s_pytorch"), "%.1f"),
                        fmt(r.get("peak_heap_mb_java"), "%.0f"), fmt(r.get("peak_nonheap_rss_mb_java"), "%.0f"),
                        (double) r.get("batch_build_ms")));
            }
        }
        s.append("\nratio = time(project) / time(PyTorch), batch 64 (alignment: see bench/README.md); roofTr / roofIn ="
                + " achieved GFLOP/s of a training step (3x its forward FLOPs) / of inference, as a fraction of the"
                + " system OpenBLAS matmul at " + RoofRunner.REFERENCE + "; J = project, T = PyTorch\n\n"
                + "Matrix multiply (fp32 GFLOP/s):\n");
        for (Map<String, Object> r : roof) {
            s.append(String.format(Locale.ROOT, "  %-28s %-16s %8.1f%n", r.get("implementation"), r.get("m_k_n"),
                    (double) r.get("gflops")));
        }
        s.append("\nSpark level:\n");
        for (Map<String, Object> r : spark) {
            s.append("  ").append(r.get("what")).append(": ");
            List<String> parts = new ArrayList<>();
            r.forEach((k, v) -> {
                if (!k.equals("what")) {
                    parts.add(k + " " + (v instanceof Double d ? String.format(Locale.ROOT, "%.2f", d) : v));
                }
            });
            s.append(String.join(", ", parts)).append('\n');
        }
        return s.toString();
    }

    private static String fmt(Object v, String f) {
        if (v == null) {
            return "-";
        }
        return String.format(Locale.ROOT, f, ((Number) v).doubleValue());
    }

    private static String pct(Object v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * ((Number) v).doubleValue());
    }

    static void writeCsv(File file, List<String> columns, List<Map<String, Object>> rows) {
        StringBuilder b = new StringBuilder(String.join(",", columns)).append('\n');
        for (Map<String, Object> r : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                Object v = r.get(c);
                cells.add(v == null ? "" : csv(String.valueOf(v)));
            }
            b.append(String.join(",", cells)).append('\n');
        }
        try {
            Files.writeString(file.toPath(), b.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String csv(String v) {
        if (v.contains(",") || v.contains("\"") || v.contains("\n")) {
            return '"' + v.replace("\"", "\"\"") + '"';
        }
        return v;
    }
}
