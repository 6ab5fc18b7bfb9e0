package dev.mmspark.training.testing;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.features.ExtractionConfig;
import dev.mmspark.features.FeatureExtraction;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One tiny feature table per test JVM, shared by the Spark tests of this module: 150 synthetic samples
 * (3 classes, 16x16 images, texts with 16-d word2vec vectors, tags, about 30% missing a modality).
 * Extraction takes seconds, so it is done once; the directory is deleted when the JVM exits.
 */
public final class TinyFeatureTable {
    public static final int SAMPLES = 150;
    private static Path root;
    private static String table;

    private TinyFeatureTable() {
    }

    public static synchronized String path() {
        if (table == null) {
            try {
                root = Files.createTempDirectory("mmspark-training-tests");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root)));
            SparkSession spark = SparkTestSession.get();
            String ds = TestData.synthetic(root, "dataset", SAMPLES, 11);
            String out = root.resolve("features").toString();
            Conf conf = Conf.parse("dataset { path = \"" + ds + "\" }\nextract { output = \"" + out + "\"\n"
                    + "text { dim = 16, word2vec_iterations = 1 }\nimage { size = 16 } }");
            DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
            ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
            BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "test");
            FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, false, bad, null);
            table = out;
        }
        return table;
    }

    /** A fresh directory for one test's outputs, under the shared temporary root. */
    public static synchronized String scratch(String name) {
        path();
        try {
            return Files.createDirectories(root.resolve("runs").resolve(name)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            // best effort at exit
        }
    }
}
