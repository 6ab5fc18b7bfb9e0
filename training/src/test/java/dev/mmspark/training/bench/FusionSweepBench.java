package dev.mmspark.training.bench;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.EpochStats;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains the multitask model with one fusion operator on an existing feature table through the distributed
 * trainer (local[2] Spark, as the train job), then scores the trimodal head on the test split (not a test:
 * run by hand, one operator per JVM; scripts/fusion-sweep.sh runs them all):
 *
 * <pre>
 * java -cp ... dev.mmspark.training.bench.FusionSweepBench TABLE OUTDIR FUSIONS train.key=value...
 * </pre>
 *
 * FUSIONS: entries separated by ';', each a fusion name or {@code name:settings} (HOCON object body), e.g.
 * {@code concat;mlb;mutan:mm_dim=400,rank=5}; they are trained one after the other in one Spark session.
 *
 * Writes OUTDIR/NAME.json: parameters (whole network and the fusion vertices), seconds per epoch, and on the
 * test rows that have every modality the trimodal head's accuracy and macro-F1 (classes that occur as a label
 * or a prediction, scikit-learn's convention), plus every head's accuracy on the rows it can score.
 */
public final class FusionSweepBench {
    private static final Logger LOG = LoggerFactory.getLogger(FusionSweepBench.class);

    private FusionSweepBench() {
    }

    public static void main(String[] args) throws Exception {
        String table = args[0];
        String outDir = args[1];
        List<String> common = List.of(args).subList(3, args.length);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("fusion-sweep")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        try {
            for (String entry : args[2].split(";")) {
                String name = entry.contains(":") ? entry.substring(0, entry.indexOf(':')) : entry;
                String fusion = entry.contains(":")
                        ? "train.model.fusion={name=" + name + "," + entry.substring(entry.indexOf(':') + 1) + "}"
                        : "train.model.fusion=" + name;
                List<String> overrides = new java.util.ArrayList<>(common);
                overrides.add(fusion);
                try {
                    run(spark, table, outDir, name, overrides);
                } catch (RuntimeException e) {
                    LOG.error("FAILED {}", name, e);
                }
            }
        } finally {
            spark.stop();
        }
    }

    private static void run(SparkSession spark, String table, String outDir, String name, List<String> overrides)
            throws Exception {
        {
            Conf conf = Conf.parse("train { model { name = multitask }\nfeatures = \"" + table + "\"\n"
                    + "output = \"" + outDir + "/models/" + name + "\" }", "bench", overrides);
            TrainConfig cfg = TrainConfig.from(conf.section("train"));
            conf.rejectUnknownKeys();
            long t0 = System.nanoTime();
            DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, true);
            double wall = (System.nanoTime() - t0) / 1e9;

            ComputationGraph net = r.model().network();
            long fusionParams = 0;
            for (GraphVertex v : net.getVertices()) {
                if (v.getVertexName().startsWith("fuse_")) {
                    fusionParams += v.numParams();
                }
            }
            GraphPredictor p = r.model().predictor();
            FeatureTable ft = FeatureTable.open(spark, table);
            List<String> cols = r.model().spec().batchBuilder().columns();
            List<Row> rows = ft.split("test").where(functions.col("label_index").geq(0))
                    .select(cols.stream().map(functions::col).toArray(Column[]::new)).collectAsList();
            int classes = p.classNames().size();
            List<ModelOutput> outputs = r.model().spec().outputs();
            int tri = 0;
            for (int o = 0; o < outputs.size(); o++) {
                if (outputs.get(o).requires().size() > outputs.get(tri).requires().size()) {
                    tri = o;
                }
            }
            long[][] confusion = new long[classes][classes];
            long[] correct = new long[outputs.size()];
            long[] total = new long[outputs.size()];
            for (int from = 0; from < rows.size(); from += GraphPredictor.CHUNK) {
                List<Row> batch = rows.subList(from, Math.min(rows.size(), from + GraphPredictor.CHUNK));
                GraphPredictor.Scores s = p.scores(batch, null);
                for (int i = 0; i < batch.size(); i++) {
                    Row row = batch.get(i);
                    int label = row.getInt(RowValues.index(row, BatchBuilder.LABEL_INDEX));
                    Set<String> usable = s.usable().get(i);
                    for (int o = 0; o < outputs.size(); o++) {
                        if (!usable.containsAll(outputs.get(o).requires())) {
                            continue;
                        }
                        int pred = argmax(s.values()[o][i]);
                        total[o]++;
                        correct[o] += pred == label ? 1 : 0;
                        if (o == tri) {
                            confusion[label][pred]++;
                        }
                    }
                }
            }
            Map<String, Double> headAccuracy = new LinkedHashMap<>();
            for (int o = 0; o < outputs.size(); o++) {
                headAccuracy.put(outputs.get(o).label(), total[o] == 0 ? Double.NaN : (double) correct[o] / total[o]);
            }

            Map<String, Object> out = new LinkedHashMap<>();
            out.put("name", name);
            out.put("table", table);
            out.put("overrides", overrides);
            out.put("fusion", r.model().metadata().spec().path("params").path("fusion"));
            out.put("network_params", net.numParams());
            out.put("fusion_params", fusionParams);
            out.put("wall_seconds", wall);
            out.put("seconds_per_epoch", r.metadata().history().stream().mapToDouble(EpochStats::seconds).average()
                    .orElse(Double.NaN));
            out.put("history", r.metadata().history());
            out.put("trimodal_head", outputs.get(tri).label());
            out.put("trimodal_test_rows", total[tri]);
            out.put("trimodal_test_accuracy", headAccuracy.get(outputs.get(tri).label()));
            out.put("trimodal_test_macro_f1", macroF1(confusion));
            out.put("test_head_accuracy", headAccuracy);
            out.put("load_average_after", Files.readString(new File("/proc/loadavg").toPath()).trim());
            new File(outDir).mkdirs();
            Files.writeString(new File(outDir, name + ".json").toPath(), Json.write(out));
            LOG.info("RESULT {} trimodal acc {} macro-F1 {} params {} fusion params {} s/epoch {}", name,
                    out.get("trimodal_test_accuracy"), out.get("trimodal_test_macro_f1"), net.numParams(), fusionParams,
                    out.get("seconds_per_epoch"));
        }
    }

    /** Mean F1 over the classes that occur as a label or a prediction. */
    static double macroF1(long[][] confusion) {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < confusion.length; c++) {
            long tp = confusion[c][c];
            long actual = 0;
            long predicted = 0;
            for (int k = 0; k < confusion.length; k++) {
                actual += confusion[c][k];
                predicted += confusion[k][c];
            }
            if (actual == 0 && predicted == 0) {
                continue;
            }
            sum += 2.0 * tp / (actual + predicted);
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] > v[best]) {
                best = j;
            }
        }
        return best;
    }
}
