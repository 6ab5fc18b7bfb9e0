package dev.mmspark.evaluation.report;

import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.Json;
import dev.mmspark.evaluation.leaderboard.Leaderboard;
import dev.mmspark.evaluation.leaderboard.LeaderboardSummary;
import dev.mmspark.training.EpochStats;
import dev.mmspark.training.ModelMetadata;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Renders the aggregated leaderboard as a static HTML page with PNG charts (XChart): per dataset the
 * ranked settings (mean ± sd, 95% CI, p-value against the best), the metric against the missing-modality
 * rate per setting (error bars: sd over seeds), the metric against the parameter count, and the training
 * loss curves of the top settings' runs. The directory is written atomically (a hidden sibling renamed
 * on success), so a reader never sees half a report.
 */
public final class LeaderboardReport {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderboardReport.class);

    private LeaderboardReport() {
    }

    /** What was written: the directory, the page and the charts (file names). */
    public record Result(String output, List<String> charts, int datasets) {
    }

    /**
     * @param metric the metric to rank and plot (e.g. accuracy)
     * @param top    settings listed and plotted per dataset
     */
    public static Result write(Leaderboard lb, List<LeaderboardSummary.Entry> entries, String output, String metric,
                               int top, boolean overwrite) {
        var hc = lb.spark().sparkContext().hadoopConfiguration();
        Map<String, String> modelPaths = new HashMap<>();
        for (Row r : lb.read().select("run_id", "model_path").where("model_path IS NOT NULL").distinct()
                .collectAsList()) {
            modelPaths.put(r.getString(0), r.getString(1));
        }
        Map<String, List<LeaderboardSummary.Entry>> byDataset = new TreeMap<>();
        for (LeaderboardSummary.Entry e : entries) {
            if (e.metric().equals(metric) && !e.metricSet().equals("robustness")) {
                byDataset.computeIfAbsent(e.dataset() + " / " + e.split() + " / table " + e.tableHash().substring(0,
                        Math.min(8, e.tableHash().length())), k -> new ArrayList<>()).add(e);
            }
        }
        List<String> charts = new ArrayList<>();
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mmspark leaderboard</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
                .append("td.l,th.l{text-align:left}img{max-width:100%}</style></head><body>\n")
                .append("<h1>Leaderboard: ").append(esc(metric)).append("</h1>\n<p>Table ")
                .append(esc(lb.tableName())).append(", snapshot ").append(lb.currentSnapshot())
                .append(". Mean ± sample sd over seeds; 95% CI from Student's t; p: paired t-test over common seeds")
                .append(" against the best setting (bold: significantly worse at 0.05).</p>\n");
        try (AtomicOutput out = AtomicOutput.begin(hc, output, overwrite, "report")) {
            FileSystem fs = out.fileSystem();
            int d = 0;
            for (Map.Entry<String, List<LeaderboardSummary.Entry>> ds : byDataset.entrySet()) {
                d++;
                List<LeaderboardSummary.Entry> all = ds.getValue();
                List<LeaderboardSummary.Entry> natural = all.stream()
                        .filter(e -> e.subset().equals("natural") && e.protocol().equals("none"))
                        .sorted(Comparator.comparingInt(LeaderboardSummary.Entry::rank)).toList();
                List<String> topSettings = natural.stream().limit(top).map(LeaderboardSummary.Entry::settingId)
                        .toList();
                html.append("<h2>").append(esc(ds.getKey())).append("</h2>\n");
                table(html, natural.stream().limit(top).toList(), metric);
                String prefix = "dataset" + d;
                XYChart robust = robustness(all, topSettings, metric);
                if (robust != null) {
                    charts.add(png(fs, out.tempPath(), prefix + "-robustness.png", robust));
                    img(html, prefix + "-robustness.png", metric + " vs missing-modality rate");
                }
                XYChart params = params(natural, metric);
                if (params != null) {
                    charts.add(png(fs, out.tempPath(), prefix + "-params.png", params));
                    img(html, prefix + "-params.png", metric + " vs parameter count");
                }
                XYChart curves = curves(fs, natural, topSettings, modelPaths);
                if (curves != null) {
                    charts.add(png(fs, out.tempPath(), prefix + "-training.png", curves));
                    img(html, prefix + "-training.png", "training loss per epoch");
                }
            }
            if (byDataset.isEmpty()) {
                html.append("<p>No results with the metric '").append(esc(metric)).append("' yet.</p>\n");
            }
            html.append("</body></html>\n");
            try (FSDataOutputStream s = fs.create(new Path(out.tempPath(), "index.html"))) {
                s.write(html.toString().getBytes(StandardCharsets.UTF_8));
            }
            out.commit();
            LOG.info("Report with {} chart(s) for {} dataset(s) written to {}", charts.size(), byDataset.size(), output);
            return new Result(output, charts, byDataset.size());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report " + output, e);
        }
    }

    private static void table(StringBuilder html, List<LeaderboardSummary.Entry> rows, String metric) {
        html.append("<table><tr><th>rank</th><th class=\"l\">model</th><th class=\"l\">fusion</th>")
                .append("<th class=\"l\">setting</th><th>").append(esc(metric))
                .append(" mean ± sd</th><th>95% CI</th><th>seeds</th><th>p vs best</th><th>parameters</th></tr>\n");
        for (LeaderboardSummary.Entry e : rows) {
            boolean worse = e.significantlyWorse();
            html.append("<tr><td>").append(e.rank()).append("</td><td class=\"l\">").append(esc(e.model()))
                    .append("</td><td class=\"l\">").append(esc(e.fusion() == null ? "—" : e.fusion()))
                    .append("</td><td class=\"l\" title=\"").append(esc(e.setting())).append("\">")
                    .append(esc(e.settingId())).append("</td><td>").append(worse ? "<b>" : "")
                    .append(f(e.summary().mean())).append(" ± ").append(f(e.summary().std()))
                    .append(worse ? "</b>" : "").append("</td><td>[").append(f(e.summary().ciLow())).append(", ")
                    .append(f(e.summary().ciHigh())).append("]</td><td>").append(e.summary().n())
                    .append("</td><td>").append(e.pValue() == null ? "—" : f(e.pValue())).append("</td><td>")
                    .append(e.paramCount()).append("</td></tr>\n");
        }
        html.append("</table>\n");
    }

    private static XYChart robustness(List<LeaderboardSummary.Entry> all, List<String> settings, String metric) {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(metric + " vs missing-modality rate")
                .xAxisTitle("share of test samples missing one or two modalities").yAxisTitle(metric).build();
        int series = 0;
        for (String s : settings) {
            List<LeaderboardSummary.Entry> curve = all.stream()
                    .filter(e -> e.settingId().equals(s) && e.subset().equals("natural")
                            && e.protocol().equals("modality"))
                    .sorted(Comparator.comparingDouble(LeaderboardSummary.Entry::rate)).toList();
            if (curve.size() < 2) {
                continue;
            }
            double[] x = curve.stream().mapToDouble(LeaderboardSummary.Entry::rate).toArray();
            double[] y = curve.stream().mapToDouble(e -> e.summary().mean()).toArray();
            double[] err = curve.stream().mapToDouble(e -> Double.isNaN(e.summary().std()) ? 0 : e.summary().std())
                    .toArray();
            chart.addSeries(label(curve.get(0)), x, y, err);
            series++;
        }
        return series == 0 ? null : chart;
    }

    private static XYChart params(List<LeaderboardSummary.Entry> natural, String metric) {
        Map<String, List<LeaderboardSummary.Entry>> byModel = natural.stream().filter(e -> e.paramCount() > 0)
                .collect(Collectors.groupingBy(LeaderboardSummary.Entry::model, TreeMap::new, Collectors.toList()));
        if (byModel.isEmpty()) {
            return null;
        }
        XYChart chart = new XYChartBuilder().width(800).height(500).title(metric + " vs parameter count")
                .xAxisTitle("trainable parameters").yAxisTitle(metric).build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        for (Map.Entry<String, List<LeaderboardSummary.Entry>> m : byModel.entrySet()) {
            chart.addSeries(m.getKey(), m.getValue().stream().mapToDouble(e -> e.paramCount()).toArray(),
                    m.getValue().stream().mapToDouble(e -> e.summary().mean()).toArray());
        }
        return chart;
    }

    private static XYChart curves(FileSystem fs, List<LeaderboardSummary.Entry> natural, List<String> settings,
                                  Map<String, String> modelPaths) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title("training loss")
                .xAxisTitle("epoch").yAxisTitle("mean training loss").build();
        int series = 0;
        for (LeaderboardSummary.Entry e : natural) {
            if (!settings.contains(e.settingId())) {
                continue;
            }
            for (int i = 0; i < e.runIds().size(); i++) {
                String path = modelPaths.get(e.runIds().get(i));
                List<EpochStats> history = history(fs, path);
                if (history.isEmpty()) {
                    continue;
                }
                XYSeries s = chart.addSeries(label(e) + " seed " + e.seeds().get(i),
                        history.stream().mapToDouble(EpochStats::epoch).toArray(),
                        history.stream().mapToDouble(EpochStats::loss).toArray());
                s.setMarker(SeriesMarkers.CIRCLE);
                series++;
            }
        }
        return series == 0 ? null : chart;
    }

    private static List<EpochStats> history(FileSystem fs, String modelPath) throws IOException {
        if (modelPath == null) {
            return List.of();
        }
        Path meta = new Path(modelPath, "metadata.json");
        FileSystem mfs = meta.getFileSystem(fs.getConf());
        if (!mfs.exists(meta)) {
            return List.of(); // a model removed after its evaluation: no curve, the scores stay
        }
        try (InputStream in = mfs.open(meta)) {
            ModelMetadata m = Json.MAPPER.readValue(in, ModelMetadata.class);
            return m.history() == null ? List.of() : m.history();
        }
    }

    private static String png(FileSystem fs, Path dir, String name, XYChart chart) throws IOException {
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        try (FSDataOutputStream s = fs.create(new Path(dir, name))) {
            s.write(bytes);
        }
        return name;
    }

    private static void img(StringBuilder html, String file, String alt) {
        html.append("<p><img src=\"").append(file).append("\" alt=\"").append(esc(alt)).append("\"></p>\n");
    }

    private static String label(LeaderboardSummary.Entry e) {
        return e.model() + (e.fusion() == null ? "" : " " + e.fusion()) + " " + e.settingId().substring(0, 6);
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&quot;");
    }

}
