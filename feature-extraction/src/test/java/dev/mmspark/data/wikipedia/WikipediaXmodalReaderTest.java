package dev.mmspark.data.wikipedia;

import dev.mmspark.common.InputException;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.SampleSchema;
import dev.mmspark.data.Split;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.JavaConverters;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.mmspark.data.wikipedia.MatFile.MI_DOUBLE;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT8;
import static dev.mmspark.data.wikipedia.MatFile.MX_DOUBLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WikipediaXmodalReaderTest {
    private static final SparkSession SPARK = SparkTestSession.get();

    /** A tiny dataset: 3 classes, 4 training pairs, 2 test pairs; image features 3 wide, text features 2. */
    private static final class Fixture {
        double[][] iTr = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
        double[][] tTr = {{0.5, 0.5}, {0.25, 0.75}, {1, 0}, {0.125, 0.875}};
        double[][] iTe = {{20, 21, 22}, {23, 24, 25}};
        double[][] tTe = {{0.3, 0.7}, {0.9, 0.1}};
        List<String> train = new ArrayList<>(List.of("t1\timgA\t1", "t2\timgB\t2", "t3\timgC\t3", "t4\timgD\t1"));
        List<String> test = new ArrayList<>(List.of("e1\timgE\t2", "e2\timgF\t3"));
        List<String> categories = new ArrayList<>(List.of("art", "biology", "geography"));
        boolean withTextTest = true;

        String write(Path dir) throws IOException {
            MatTestWriter w = new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                    // MATLAB stores integer-valued double matrices as miUINT8: exercise that path too
                    .numeric("I_tr", iTr, MX_DOUBLE, integral(iTr) ? MI_UINT8 : MI_DOUBLE, true)
                    .numeric("T_tr", tTr, MX_DOUBLE, MI_DOUBLE, true)
                    .numeric("I_te", iTe, MX_DOUBLE, MI_DOUBLE, false);
            if (withTextTest) {
                w.numeric("T_te", tTe, MX_DOUBLE, MI_DOUBLE, true);
            }
            w.write(dir.resolve("raw_features.mat"));
            Files.write(dir.resolve("trainset_txt_img_cat.list"), train);
            Files.write(dir.resolve("testset_txt_img_cat.list"), test);
            Files.write(dir.resolve("categories.list"), categories);
            return dir.toString();
        }

        private static boolean integral(double[][] m) {
            for (double[] r : m) {
                for (double v : r) {
                    if (v != Math.rint(v) || v < 0 || v > 255) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    private static List<Row> read(String dir, long seed, double validation, BadRecords bad) {
        List<Row> rows = new ArrayList<>(WikipediaXmodalReader.read(SPARK, dir, seed, validation, bad)
                .collectAsList());
        rows.sort(Comparator.comparing(r -> r.getString(0)));
        return rows;
    }

    private static BadRecords fail() {
        return new BadRecords(SPARK.sparkContext(), BadRecordPolicy.FAIL, "wiki");
    }

    private static double[] vector(Row r, String key) {
        Map<String, scala.collection.Seq<Object>> m = JavaConverters.mapAsJavaMap(r.getMap(7));
        return JavaConverters.seqAsJavaList(m.get(key)).stream().mapToDouble(o -> (Double) o).toArray();
    }

    @Test
    void readsOneRowPerPairWithLabelVectorsAndSource(@TempDir Path dir) throws IOException {
        String d = new Fixture().write(dir);
        var df = WikipediaXmodalReader.read(SPARK, d, 1, 0.0, fail());
        assertEquals(SampleSchema.SCHEMA, df.schema());
        List<Row> rows = read(d, 1, 0.0, fail());
        assertEquals(List.of("e1", "e2", "t1", "t2", "t3", "t4"), rows.stream().map(r -> r.getString(0)).toList());
        assertEquals(List.of("test", "test", "train", "train", "train", "train"),
                rows.stream().map(r -> r.getString(1)).toList());
        assertEquals(List.of("biology", "geography", "art", "biology", "geography", "art"),
                rows.stream().map(r -> r.getString(2)).toList());
        assertEquals(List.of("testset_txt_img_cat.list:1", "testset_txt_img_cat.list:2",
                        "trainset_txt_img_cat.list:1", "trainset_txt_img_cat.list:2", "trainset_txt_img_cat.list:3",
                        "trainset_txt_img_cat.list:4"),
                rows.stream().map(r -> r.getString(9)).toList());
        Row t3 = rows.get(4);
        assertArrayEquals(new double[]{7, 8, 9}, vector(t3, "image"), 0.0);
        assertArrayEquals(new double[]{1, 0}, vector(t3, "text"), 0.0);
        Row e2 = rows.get(1);
        assertArrayEquals(new double[]{23, 24, 25}, vector(e2, "image"), 0.0);
        assertArrayEquals(new double[]{0.9, 0.1}, vector(e2, "text"), 0.0);
        assertEquals(List.of("image", "text"), List.copyOf(JavaConverters.mapAsJavaMap(t3.getMap(7)).keySet()));
        for (int c : new int[]{3, 4, 5, 6, 8}) {
            assertTrue(t3.isNullAt(c), "column " + c + " is null");
        }
    }

    @Test
    void validationIsASeededShareOfTheTrainingPairs(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        int n = 400;
        f.iTr = new double[n][3];
        f.tTr = new double[n][2];
        f.train.clear();
        for (int i = 0; i < n; i++) {
            f.iTr[i] = new double[]{i % 256, 1, 2};
            f.tTr[i] = new double[]{0.5, 0.5};
            f.train.add("text-" + i + "\timg-" + i + "\t" + (1 + i % 3));
        }
        String d = f.write(dir);
        List<Row> a = read(d, 42, 0.25, fail());
        List<Row> again = read(d, 42, 0.25, fail());
        List<Row> other = read(d, 43, 0.25, fail());
        List<String> splits = a.stream().map(r -> r.getString(1)).toList();
        assertEquals(splits, again.stream().map(r -> r.getString(1)).toList(), "same seed, same split");
        assertNotEquals(splits, other.stream().map(r -> r.getString(1)).toList(), "another seed, another split");
        long validation = 0;
        for (Row r : a) {
            String id = r.getString(0);
            if (id.startsWith("e")) {
                assertEquals("test", r.getString(1));
                continue;
            }
            // the split is SplitAssigner's, a function of (seed, text id) only
            Split expected = SplitAssigner.unit(42, id) < 0.75 ? Split.TRAIN : Split.VALIDATION;
            assertEquals(expected.id(), r.getString(1), id);
            validation += expected == Split.VALIDATION ? 1 : 0;
        }
        assertTrue(validation > 70 && validation < 130, "about a quarter of 400: " + validation);
        assertTrue(read(d, 42, 0.0, fail()).stream().noneMatch(r -> r.getString(1).equals("validation")));
    }

    @Test
    void listLengthMustMatchTheMatrices(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.train.remove(3);
        assertFails(f, dir, "trainset_txt_img_cat.list has 3 lines but I_tr and T_tr in raw_features.mat have 4"
                + " rows; line i of the list must describe row i of the matrices");
    }

    @Test
    void imageAndTextMatricesMustPairUp(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.tTe = new double[][]{{0.3, 0.7}};
        assertFails(f, dir, "raw_features.mat: I_te has 2 rows but T_te has 1; row i of both is the same (image,"
                + " text) pair");
    }

    @Test
    void trainAndTestFeaturesMustHaveTheSameWidth(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.iTe = new double[][]{{20, 21}, {23, 24}};
        assertFails(f, dir, "raw_features.mat: I_te has 2 columns but I_tr has 3; training and test features must"
                + " have the same width");
    }

    @Test
    void missingVariableOrFileIsNamed(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.withTextTest = false;
        assertFails(f, dir, "raw_features.mat: no variable 'T_te'; the file holds I_tr, T_tr, I_te");
        Files.delete(dir.resolve("categories.list"));
        InputException e = assertThrows(InputException.class,
                () -> WikipediaXmodalReader.read(SPARK, dir.toString(), 1, 0.1, fail()));
        assertEquals(dir + ": no categories.list; a Wikipedia cross-modal dataset directory holds raw_features.mat,"
                + " trainset_txt_img_cat.list, testset_txt_img_cat.list and categories.list", e.getMessage());
    }

    @Test
    void classNumbersMustNameACategory(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.train.set(1, "t2\timgB\t4");
        assertFails(f, dir, "trainset_txt_img_cat.list:2: class 4 is outside 1..3 (categories.list lists 3"
                + " classes)");
        f.train.set(1, "t2\timgB\t0");
        assertFails(f, dir, "trainset_txt_img_cat.list:2: class 0 is outside 1..3 (categories.list lists 3"
                + " classes)");
        f.train.set(1, "t2\timgB\tbiology");
        assertFails(f, dir, "trainset_txt_img_cat.list:2: class 'biology' is not an integer; expected a class"
                + " number 1..3 (categories.list)");
    }

    @Test
    void malformedLinesAndDuplicateIdsAreNamed(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.test.set(0, "e1 imgE 2");
        assertFails(f, dir, "testset_txt_img_cat.list:1: expected 3 tab-separated fields (textId, imageId,"
                + " class), found 1");
        f.test.set(0, "t3\timgE\t2");
        assertFails(f, dir, "testset_txt_img_cat.list:1: text id 't3' is already used at"
                + " trainset_txt_img_cat.list:3; ids must be unique");
        f.test.set(0, "e1\timgE\t2");
        f.categories.set(2, "art");
        assertFails(f, dir, "categories.list:3: class 'art' is already listed at line 1");
    }

    @Test
    void nonFiniteFeaturesAreNamedByMatrixCellAndLine(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.iTr[2][1] = Double.NaN;
        assertFails(f, dir, "raw_features.mat: I_tr(3,2) is NaN (the pair of trainset_txt_img_cat.list:3); feature"
                + " values must be finite (no NaN or infinity)");
        f.iTr[2][1] = 8;
        f.tTe[0][1] = Double.NEGATIVE_INFINITY;
        assertFails(f, dir, "raw_features.mat: T_te(1,2) is -Infinity (the pair of testset_txt_img_cat.list:1);"
                + " feature values must be finite (no NaN or infinity)");
    }

    @Test
    void skipPolicyDropsBadPairsAndReportsThem(@TempDir Path dir) throws IOException {
        Fixture f = new Fixture();
        f.iTr[2][1] = Double.NaN;
        f.test.set(1, "e2\timgF\t9");
        String d = f.write(dir);
        BadRecords skip = new BadRecords(SPARK.sparkContext(), BadRecordPolicy.SKIP, "wiki");
        List<Row> rows = read(d, 1, 0.0, skip);
        assertEquals(List.of("e1", "t1", "t2", "t4"), rows.stream().map(r -> r.getString(0)).toList());
        assertEquals(2, skip.skipped());
        assertEquals(List.of(
                "raw_features.mat: I_tr(3,2) is NaN (the pair of trainset_txt_img_cat.list:3); feature values must"
                        + " be finite (no NaN or infinity)",
                "testset_txt_img_cat.list:2: class 9 is outside 1..3 (categories.list lists 3 classes)"),
                skip.skippedMessages());
        // the rows after a skipped one keep their own matrix row
        assertArrayEquals(new double[]{10, 11, 12}, vector(rows.get(3), "image"), 0.0);
    }

    @Test
    void validationFractionMustBeBelowOne(@TempDir Path dir) throws IOException {
        String d = new Fixture().write(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WikipediaXmodalReader.read(SPARK, d, 1, 1.0, fail()));
        assertEquals("validation fraction must be in [0, 1), found 1.0", e.getMessage());
    }

    private static void assertFails(Fixture f, Path dir, String message) throws IOException {
        String d = f.write(dir);
        InputException e = assertThrows(InputException.class,
                () -> WikipediaXmodalReader.read(SPARK, d, 1, 0.1, fail()));
        assertEquals(message, e.getMessage());
    }
}
