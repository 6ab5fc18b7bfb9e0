package dev.mmspark.bench;

import dev.mmspark.common.config.Conf;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.DistributedTrainer;
import dev.mmspark.training.EpochStats;
import dev.mmspark.training.OutputAccuracy;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.GraphPredictor;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spark-level figures on the benchmark's synthetic table: one epoch of the multitask model in one worker and
 * with two parameter-averaging workers (every 5 and every minibatch), and the distributed evaluation pass.
 */
final class SparkLevel {
    private static final Logger LOG = LoggerFactory.getLogger(SparkLevel.class);

    private SparkLevel() {
    }

    static void run(SparkSession spark, String table, BenchHarness.Options o, Results results) {
        DistributedTrainer.Result single = null;
        int[][] runs = o.threads() >= 2 ? new int[][]{{1, 5}, {2, 5}, {2, 1}} : new int[][]{{1, 5}};
        for (int[] run : runs) {
            int workers = run[0];
            int every = run[1];
            String name = "train multitask 1 epoch: " + workers + " worker" + (workers > 1 ? "s" : "")
                    + ", averaging every " + every + " minibatch" + (every > 1 ? "es" : "");
            try {
                String output = new File(o.out(), "spark/model-w" + workers + "-f" + every).getPath();
                Conf conf = Conf.parse("train { model { name = multitask }\nfeatures = \"" + table + "\"\noutput = \""
                        + output + "\"\nepochs = 1\nbatch_size_per_worker = 32\naveraging_frequency = " + every
                        + "\nworkers = " + workers + "\nvalidate_each_epoch = false\nkeep_best = false\nseed = 42 }");
                TrainConfig cfg = TrainConfig.from(conf.section("train"));
                long t0 = System.nanoTime();
                DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, false, true);
                double wall = (System.nanoTime() - t0) / 1e9;
                EpochStats e = r.metadata().history().get(0);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("examples", e.examples());
                row.put("seconds", e.seconds());
                row.put("examples_per_s", e.examplesPerSecond());
                row.put("job_wall_seconds", wall);
                results.spark(name, row);
                if (workers == 1) {
                    single = r;
                }
            } catch (RuntimeException ex) {
                LOG.error("{} failed", name, ex);
                results.spark(name, Map.of("error", String.valueOf(ex.getMessage())));
            }
        }
        if (single == null) {
            return;
        }
        String name = "evaluate multitask on the test split (distributed, every output)";
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<GraphPredictor> bc = jsc.broadcast(single.model().predictor());
            FeatureTable ft = FeatureTable.open(spark, table);
            List<String> cols = single.model().spec().batchBuilder().columns();
            var rows = ft.split("test").where(functions.col("label_index").geq(0))
                    .select(cols.stream().map(functions::col).toArray(Column[]::new)).javaRDD().cache();
            long n = rows.count();
            long t0 = System.nanoTime();
            OutputAccuracy.Result test = OutputAccuracy.evaluate(rows, bc);
            double s = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("examples", n);
            row.put("seconds", s);
            row.put("examples_per_s", n / s);
            row.put("accuracy_after_1_epoch", test.accuracy());
            results.spark(name, row);
            rows.unpersist();
        } catch (RuntimeException ex) {
            LOG.error("{} failed", name, ex);
            results.spark(name, Map.of("error", String.valueOf(ex.getMessage())));
        }
    }
}
