package dev.mmspark.jobs;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the command-line jobs print for people (tables on standard output; logs go to standard error).
 * The only class that writes to {@code System.out}: library code logs through SLF4J.
 */
final class Console {
    private static final PrintStream OUT = System.out;

    private Console() {
    }

    /** Prints up to {@code limit} rows as an aligned text table and returns how many rows the result had. */
    static long print(Dataset<Row> df, int limit) {
        List<Row> rows = df.limit(limit + 1).collectAsList();
        String[] cols = df.columns();
        List<String[]> cells = new ArrayList<>();
        cells.add(cols);
        for (int i = 0; i < Math.min(limit, rows.size()); i++) {
            Row r = rows.get(i);
            String[] c = new String[cols.length];
            for (int j = 0; j < cols.length; j++) {
                Object v = r.get(j);
                c[j] = v == null ? "" : v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : v.toString();
            }
            cells.add(c);
        }
        table(cells);
        if (rows.size() > limit) {
            OUT.println("(more than " + limit + " rows; use --limit)");
        }
        return rows.size();
    }

    /** Metrics per evaluation condition. */
    static void conditions(Map<String, Map<String, Double>> byCondition) {
        List<String> metrics = new ArrayList<>();
        byCondition.values().forEach(m -> m.keySet().forEach(k -> {
            if (!metrics.contains(k)) {
                metrics.add(k);
            }
        }));
        List<String[]> cells = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("condition"));
        header.addAll(metrics);
        cells.add(header.toArray(new String[0]));
        byCondition.forEach((cond, m) -> {
            List<String> row = new ArrayList<>(List.of(cond));
            for (String k : metrics) {
                Double v = m.get(k);
                row.add(v == null ? "" : String.format(Locale.ROOT, "%.4f", v));
            }
            cells.add(row.toArray(new String[0]));
        });
        table(cells);
    }

    /** A table of cells; the first row is the header. */
    static void rows(List<String[]> cells) {
        table(cells);
    }

    /** A one-line message to the user. */
    static void line(String text) {
        OUT.println(text);
    }

    private static void table(List<String[]> cells) {
        int[] width = new int[cells.get(0).length];
        for (String[] r : cells) {
            for (int j = 0; j < r.length; j++) {
                width[j] = Math.max(width[j], r[j].length());
            }
        }
        for (int i = 0; i < cells.size(); i++) {
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < width.length; j++) {
                sb.append(String.format("%-" + width[j] + "s", cells.get(i)[j])).append(j + 1 < width.length ? "  " : "");
            }
            OUT.println(sb.toString().stripTrailing());
            if (i == 0) {
                OUT.println("-".repeat(sb.toString().stripTrailing().length()));
            }
        }
        OUT.flush();
    }
}
