package dev.mmspark.training.bench;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.data.synthetic.SyntheticConfig;
import dev.mmspark.data.synthetic.SyntheticGenerator;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.features.FeatureExtraction;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.EpochStats;
import dev.mmspark.training.OutputAccuracy;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.GraphPredictor;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures the multitask model trained with 1 and with 2 parameter-averaging workers on the synthetic
 * dataset (not a test: run by hand, one configuration per JVM so thread settings can differ):
 *
 * <pre>
 * java -cp ... dev.mmspark.training.bench.MultitaskAveragingBench WORKDIR NAME key=value...
 * </pre>
 *
 * The first run in a WORKDIR generates 3,000 samples with the generator's defaults (32x32 images; other
 * generator settings as {@code generate.key=value}) and extracts them (word2vec dimension 100); every run
 * trains with the paper's model settings plus the given {@code train.*} overrides, then scores the test
 * split and writes WORKDIR/results/NAME.json.
 */
public final class MultitaskAveragingBench {
    private static final Logger LOG = LoggerFactory.getLogger(MultitaskAveragingBench.class);

    private MultitaskAveragingBench() {
    }

    public static void main(String[] args) throws Exception {
        String work = args[0];
        String name = args[1];
        List<String> all = List.of(args).subList(2, args.length);
        List<String> overrides = all.stream().filter(a -> !a.startsWith("generate.")).toList();
        List<String> generate = all.stream().filter(a -> a.startsWith("generate."))
                .map(a -> a.substring("generate.".length())).toList();
        SparkSession spark = SparkSession.builder().master("local[2]").appName("multitask-bench")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        try {
            String table = work + "/features";
            if (!new File(table, "metadata.json").isFile()) {
                prepare(spark, work, generate);
            }
            Conf conf = Conf.parse("train { model { name = multitask }\nfeatures = \"" + table + "\"\n"
                    + "output = \"" + work + "/models/" + name + "\" }", "bench", overrides);
            TrainConfig cfg = TrainConfig.from(conf.section("train"));
            conf.rejectUnknownKeys();
            long t0 = System.nanoTime();
            DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, true);
            double wall = (System.nanoTime() - t0) / 1e9;

            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<GraphPredictor> bc = jsc.broadcast(r.model().predictor());
            FeatureTable ft = FeatureTable.open(spark, table);
            List<String> cols = r.model().spec().batchBuilder().columns();
            OutputAccuracy.Result test = OutputAccuracy.evaluate(ft.split("test")
                    .where(functions.col("label_index").geq(0))
                    .select(cols.stream().map(functions::col).toArray(org.apache.spark.sql.Column[]::new)).javaRDD(), bc);

            Map<String, Object> out = new LinkedHashMap<>();
            out.put("name", name);
            out.put("overrides", overrides);
            out.put("workers", r.metadata().training().workers());
            out.put("wall_seconds", wall);
            out.put("training_seconds", r.metadata().training().trainingSeconds());
            out.put("examples_per_second", r.metadata().training().examplesPerSecond());
            out.put("seconds_per_epoch", r.metadata().history().stream().mapToDouble(EpochStats::seconds).average()
                    .orElse(Double.NaN));
            out.put("history", r.metadata().history());
            out.put("test_rows", test.rows());
            out.put("test_accuracy", test.accuracy());
            out.put("test_output_accuracy", test.outputAccuracy());
            out.put("test_complete_rows", test.complete());
            out.put("test_complete_accuracy", test.completeAccuracy());
            out.put("omp_num_threads", System.getenv("OMP_NUM_THREADS"));
            out.put("load_average_after", Files.readString(new File("/proc/loadavg").toPath()).trim());
            File results = new File(work, "results");
            results.mkdirs();
            Files.writeString(new File(results, name + ".json").toPath(), Json.write(out));
            LOG.info("RESULT {}", Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature
                    .INDENT_OUTPUT).writeValueAsString(out));
        } finally {
            spark.stop();
        }
    }

    private static void prepare(SparkSession spark, String work, List<String> generate) {
        SyntheticConfig sc = SyntheticConfig.from(Conf.parse("samples = 3000", "bench", generate));
        String ds = work + "/dataset";
        if (!new File(ds, "dataset.json").isFile()) {
            new SyntheticGenerator(sc).generate(spark, ds, true);
        }
        Conf conf = Conf.parse("dataset { path = \"" + ds + "\" }\nextract { output = \"" + work + "/features\"\n"
                + "text { dim = 100 }\nimage { size = 32 } }");
        DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
        ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
        BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "bench");
        FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, true, bad, null);
    }
}
