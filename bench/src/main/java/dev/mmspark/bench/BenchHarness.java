package dev.mmspark.bench;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.data.synthetic.SyntheticConfig;
import dev.mmspark.data.synthetic.SyntheticGenerator;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.features.FeatureExtraction;
import dev.mmspark.training.fusion.Fusions;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark harness (run by {@code bench/run}; not a test):
 *
 * <pre>bench/run [--out DIR] [--only SECTION|CASE,...] [--quick] [--cases-only] [--python PATH] [--threads N]</pre>
 *
 * <ol>
 *   <li>generates the synthetic dataset and extracts its feature table on local Spark (timed: the feature
 *       extraction figures);</li>
 *   <li>writes one case per model and fusion operator (bench/README.md);</li>
 *   <li>Spark level: one epoch of the multitask model on 1 worker and on 2 parameter-averaging workers at two
 *       averaging frequencies, and the evaluation pass;</li>
 *   <li>the machine's roof: fp32 matrix multiply in ND4J and in PyTorch (system OpenBLAS);</li>
 *   <li>every case in its own JVM ({@link CaseRunner}) and in PyTorch ({@code bench/pytorch/run_case.py});</li>
 *   <li>the tables {@code models.csv}, {@code roof.csv}, {@code spark.csv} and {@code summary.txt} in DIR.</li>
 * </ol>
 * A section that fails is reported in the table with its error; the others still run.
 */
public final class BenchHarness {
    private static final Logger LOG = LoggerFactory.getLogger(BenchHarness.class);

    private BenchHarness() {
    }

    /** Command-line options; see the class comment. */
    record Options(File out, Set<String> only, boolean quick, boolean casesOnly, String python, int threads,
                   int samples) {
        static Options parse(String[] args) {
            File out = new File("work/bench");
            Set<String> only = new LinkedHashSet<>();
            boolean quick = false;
            boolean casesOnly = false;
            String python = "/usr/bin/python3";
            int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
            int samples = 1200;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--out" -> out = new File(value(args, ++i, "--out"));
                    case "--only" -> only.addAll(Arrays.asList(value(args, ++i, "--only").split(",")));
                    case "--quick" -> quick = true;
                    case "--cases-only" -> casesOnly = true;
                    case "--python" -> python = value(args, ++i, "--python");
                    case "--threads" -> threads = positive(value(args, ++i, "--threads"), "--threads");
                    case "--samples" -> samples = positive(value(args, ++i, "--samples"), "--samples");
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'; options: --out DIR, "
                            + "--only SECTION|CASE,..., --quick, --cases-only, --python PATH, --threads N, --samples N");
                }
            }
            return new Options(out, only, quick, casesOnly, python, threads, quick ? Math.min(samples, 600) : samples);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        private static int positive(String v, String option) {
            try {
                int n = Integer.parseInt(v);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + " must be a positive integer, got '" + v + "'");
        }

        boolean wants(String section) {
            return only.isEmpty() || only.contains(section);
        }

        SampleCases.Timing timing() {
            return quick ? new SampleCases.Timing(2, 3, 2) : new SampleCases.Timing(3, 5, 3);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        long start = System.nanoTime();
        o.out().mkdirs();
        File cases = new File(o.out(), "cases");
        Results results = new Results();
        List<File> caseDirs = new ArrayList<>();
        SparkSession spark = SparkSession.builder().master("local[" + o.threads() + "]").appName("mmspark-bench")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", String.valueOf(o.threads()))
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        try {
            String table = prepare(spark, o, results);
            for (SampleCases.SampleCase sc : SampleCases.MODELS) {
                if (o.wants(sc.name()) || o.wants("models")) {
                    caseDirs.add(SampleCases.writeSample(spark, table, sc, cases, 64, o.threads(), o.timing()));
                }
            }
            for (String f : Fusions.knownNames().split(", ")) {
                if (o.wants("fusion-" + f) || o.wants("fusions")) {
                    caseDirs.add(SampleCases.writeFusion(f, cases, 64, o.threads(), o.timing(), 3));
                }
            }
            if (o.wants("alignment") || o.wants("mclea") || o.wants("meaformer")) {
                caseDirs.addAll(AlignmentCases.write(cases, o.threads(), o.timing()));
            }
            LOG.info("Wrote {} cases to {}", caseDirs.size(), cases);
            if (o.casesOnly()) {
                return;
            }
            if (o.wants("spark")) {
                SparkLevel.run(spark, table, o, results);
            }
        } finally {
            spark.stop();
        }
        if (o.casesOnly()) {
            return;
        }
        Runner runner = new Runner(o);
        if (o.wants("roof")) {
            runner.roof(results);
        }
        for (File dir : caseDirs) {
            runner.runCase(dir, results);
        }
        results.write(o.out(), (System.nanoTime() - start) / 1e9);
        System.out.println(Files.readString(new File(o.out(), "summary.txt").toPath()));
    }

    /** Generates and extracts the synthetic table once per output directory (timed the first time). */
    static String prepare(SparkSession spark, Options o, Results results) {
        File data = new File(o.out(), "data");
        String table = new File(data, "features").getPath();
        if (new File(table, "metadata.json").isFile()) {
            LOG.info("Reusing the feature table {}", table);
            return table;
        }
        String ds = new File(data, "dataset").getPath();
        Conf conf = Conf.parse("generate { samples = " + o.samples() + ", classes = 3, seed = 7, image_size = 32, "
                + "missing_rate = 0.3 }\n"
                + "dataset { path = \"" + ds + "\" }\nextract { output = \"" + table + "\"\n"
                + "image { mode = pixels, size = 32 }\ntext { vectors = word2vec, dim = 100, max_tokens = 150 }\n"
                + "tags { max_tags = 10 } }");
        long t0 = System.nanoTime();
        SyntheticGenerator.Counts counts = new SyntheticGenerator(SyntheticConfig.from(conf.section("generate")))
                .generate(spark, ds, true);
        double gen = (System.nanoTime() - t0) / 1e9;
        DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
        ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
        BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "bench");
        long t1 = System.nanoTime();
        FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, true, bad, null);
        double ext = (System.nanoTime() - t1) / 1e9;
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("samples", counts.samples());
        g.put("seconds", gen);
        g.put("samples_per_s", counts.samples() / gen);
        results.spark("generate synthetic dataset (local[" + o.threads() + "])", g);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("samples", counts.samples());
        e.put("images", counts.image());
        e.put("texts", counts.text());
        e.put("seconds", ext);
        e.put("samples_per_s", counts.samples() / ext);
        e.put("images_per_s", counts.image() / ext);
        e.put("texts_per_s", counts.text() / ext);
        results.spark("feature extraction: decode+resize images, tokenise, word2vec, tags (one job)", e);
        return table;
    }
}
