package dev.mmspark.data.wikipedia;

import dev.mmspark.common.InputException;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.ManifestReader;
import dev.mmspark.data.SampleSchema;
import dev.mmspark.data.Split;
import dev.mmspark.data.SplitAssigner;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the Wikipedia cross-modal retrieval dataset (Rasiwasia et al., "A New Approach to Cross-Modal
 * Multimedia Retrieval", ACM MM 2010) in its feature release into {@link SampleSchema#SCHEMA}: one row per
 * (text, image) pair, with the 128-bin SIFT bag-of-words of the image and the 10 LDA topic proportions of
 * the text as precomputed vectors.
 *
 * <p>A dataset directory holds:
 * <ul>
 *   <li>{@code raw_features.mat}: MATLAB v5 matrices {@code I_tr}, {@code T_tr} (training pairs) and
 *       {@code I_te}, {@code T_te} (test pairs), one row per pair;</li>
 *   <li>{@code trainset_txt_img_cat.list} / {@code testset_txt_img_cat.list}: {@code textId<TAB>imageId<TAB>class},
 *       line i describing matrix row i, classes numbered from 1;</li>
 *   <li>{@code categories.list}: the class names, line k naming class k.</li>
 * </ul>
 *
 * <p>Rows: {@code id} = the text id, {@code label} = the class name, {@code vectors} =
 * {@code {"image": I row, "text": T row}}, {@code source} = {@code <list file>:<line>}. Test-list rows are
 * {@code test}; training-list rows are {@code train} except a seeded share carved out as {@code validation}
 * by {@link SplitAssigner} (a function of (seed, text id) only), so that models are tuned on the user's own
 * split and never on the test set. The image id is not kept: the features are all this release has of the
 * image.
 *
 * <p>The files are about 1 MB, so they are parsed on the driver. Structural problems (a list whose length
 * differs from its matrices, a missing file or variable, train and test features of different widths) always
 * fail; a bad line or a non-finite value is a bad record handled by the {@link BadRecords} policy.
 */
public final class WikipediaXmodalReader {
    private static final Logger LOG = LoggerFactory.getLogger(WikipediaXmodalReader.class);

    public static final String FEATURES_FILE = "raw_features.mat";
    public static final String TRAIN_LIST = "trainset_txt_img_cat.list";
    public static final String TEST_LIST = "testset_txt_img_cat.list";
    public static final String CATEGORIES_FILE = "categories.list";
    /** Keys of the two vectors in the {@code vectors} column. */
    public static final String IMAGE_VECTOR = "image";
    public static final String TEXT_VECTOR = "text";

    private static final String LAYOUT = "a Wikipedia cross-modal dataset directory holds " + FEATURES_FILE + ", "
            + TRAIN_LIST + ", " + TEST_LIST + " and " + CATEGORIES_FILE;

    private WikipediaXmodalReader() {
    }

    /** One half of the dataset: its list file and its two matrices. */
    private record Part(String listFile, String imageVar, String textVar, boolean test) {
    }

    private static final Part TRAIN = new Part(TRAIN_LIST, "I_tr", "T_tr", false);
    private static final Part TEST = new Part(TEST_LIST, "I_te", "T_te", true);

    /**
     * Reads the dataset in {@code dir} (any Hadoop file system).
     *
     * @param seed               seed of the train/validation split
     * @param validationFraction share of the training pairs that becomes the validation split, in [0, 1)
     * @param bad                policy for malformed list lines and non-finite feature values
     */
    public static Dataset<Row> read(SparkSession spark, String dir, long seed, double validationFraction,
                                    BadRecords bad) {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), found " + validationFraction);
        }
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path base = new Path(dir);
        FileSystem fs;
        try {
            fs = base.getFileSystem(conf);
            if (!fs.exists(base) || !fs.getFileStatus(base).isDirectory()) {
                throw new InputException("dataset path " + dir + " is not a directory; " + LAYOUT);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot access dataset " + dir, e);
        }
        List<String> categories = categories(lines(fs, base, CATEGORIES_FILE));
        MatFile mat = MatFile.parse(FEATURES_FILE, bytes(fs, base, FEATURES_FILE));
        SplitAssigner assigner = new SplitAssigner(seed, 1.0 - validationFraction, validationFraction);

        Map<String, String> seen = new HashMap<>();
        List<Row> rows = new ArrayList<>();
        Map<Split, Integer> counts = new EnumMap<>(Split.class);
        int[] widths = null;
        for (Part part : List.of(TRAIN, TEST)) {
            double[][] image = mat.matrix(part.imageVar());
            double[][] text = mat.matrix(part.textVar());
            int[] w = checkShapes(mat, part, image, text);
            if (widths == null) {
                widths = w;
            } else {
                sameWidth(part.imageVar(), w[0], TRAIN.imageVar(), widths[0]);
                sameWidth(part.textVar(), w[1], TRAIN.textVar(), widths[1]);
            }
            List<String> lines = lines(fs, base, part.listFile());
            if (lines.size() != image.length) {
                throw new InputException(part.listFile() + " has " + lines.size() + " lines but " + part.imageVar()
                        + " and " + part.textVar() + " in " + FEATURES_FILE + " have " + image.length
                        + " rows; line i of the list must describe row i of the matrices");
            }
            for (int r = 0; r < lines.size(); r++) {
                String where = part.listFile() + ":" + (r + 1);
                try {
                    Row row = row(part, r, lines.get(r), where, categories, image[r], text[r], assigner, seen);
                    rows.add(row);
                    counts.merge(Split.parse(row.getString(1)), 1, Integer::sum);
                } catch (InputException e) {
                    bad.problem(e.getMessage());
                }
            }
        }
        LOG.info("Wikipedia cross-modal dataset {}: {} classes, {} train, {} validation (seed {}, fraction {}),"
                        + " {} test pairs; image vectors of {}, text vectors of {} values", dir, categories.size(),
                counts.getOrDefault(Split.TRAIN, 0), counts.getOrDefault(Split.VALIDATION, 0), seed,
                validationFraction, counts.getOrDefault(Split.TEST, 0), widths[0], widths[1]);
        // Slice the parsed rows so no single task carries the whole matrix (Spark warns above ~1 MB).
        int slices = Math.max(1, Math.min(64, rows.size() / 250));
        return spark.createDataFrame(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(rows, slices), SampleSchema.SCHEMA);
    }

    private static Row row(Part part, int r, String line, String where, List<String> categories, double[] image,
                           double[] text, SplitAssigner assigner, Map<String, String> seen) {
        String[] f = line.split("\t", -1);
        if (f.length != 3) {
            throw new InputException(where + ": expected 3 tab-separated fields (textId, imageId, class), found "
                    + f.length);
        }
        String id = f[0].strip();
        if (id.isEmpty()) {
            throw new InputException(where + ": the text id (field 1) is empty");
        }
        int cls;
        try {
            cls = Integer.parseInt(f[2].strip());
        } catch (NumberFormatException e) {
            throw new InputException(where + ": class '" + f[2] + "' is not an integer; expected a class number 1.."
                    + categories.size() + " (" + CATEGORIES_FILE + ")");
        }
        if (cls < 1 || cls > categories.size()) {
            throw new InputException(where + ": class " + cls + " is outside 1.." + categories.size() + " ("
                    + CATEGORIES_FILE + " lists " + categories.size() + " classes)");
        }
        finite(part.imageVar(), r, image, where);
        finite(part.textVar(), r, text, where);
        String first = seen.putIfAbsent(id, where);
        if (first != null) {
            throw new InputException(where + ": text id '" + id + "' is already used at " + first
                    + "; ids must be unique");
        }
        Split split;
        if (part.test()) {
            split = Split.TEST;
        } else {
            // train + validation fractions sum to 1: anything not TRAIN is the validation share (a TEST
            // answer could only come from rounding at the upper end of [0, 1)).
            split = assigner.assign(id) == Split.TRAIN ? Split.TRAIN : Split.VALIDATION;
        }
        Map<String, double[]> vectors = new LinkedHashMap<>();
        vectors.put(IMAGE_VECTOR, image);
        vectors.put(TEXT_VECTOR, text);
        return ManifestReader.toRow(id, split, categories.get(cls - 1), null, null, null, null, vectors, null,
                where);
    }

    private static void finite(String var, int r, double[] values, String where) {
        for (int j = 0; j < values.length; j++) {
            if (!Double.isFinite(values[j])) {
                throw new InputException(FEATURES_FILE + ": " + var + "(" + (r + 1) + "," + (j + 1) + ") is "
                        + values[j] + " (the pair of " + where + "); feature values must be finite (no NaN or"
                        + " infinity)");
            }
        }
    }

    /** Checks that a part's two matrices pair up and returns their widths. */
    private static int[] checkShapes(MatFile mat, Part part, double[][] image, double[][] text) {
        if (image.length != text.length) {
            throw new InputException(FEATURES_FILE + ": " + part.imageVar() + " has " + image.length + " rows but "
                    + part.textVar() + " has " + text.length + "; row i of both is the same (image, text) pair");
        }
        int[] w = {mat.dimensions(part.imageVar())[1], mat.dimensions(part.textVar())[1]};
        if (w[0] == 0 || w[1] == 0) {
            throw new InputException(FEATURES_FILE + ": " + (w[0] == 0 ? part.imageVar() : part.textVar())
                    + " has no columns; expected one feature vector per row");
        }
        return w;
    }

    private static void sameWidth(String var, int width, String trainVar, int trainWidth) {
        if (width != trainWidth) {
            throw new InputException(FEATURES_FILE + ": " + var + " has " + width + " columns but " + trainVar
                    + " has " + trainWidth + "; training and test features must have the same width");
        }
    }

    private static List<String> categories(List<String> lines) {
        List<String> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String name = lines.get(i).strip();
            String where = CATEGORIES_FILE + ":" + (i + 1);
            if (name.isEmpty()) {
                throw new InputException(where + ": empty class name; expected one class name per line, line k"
                        + " naming class k");
            }
            Integer first = seen.putIfAbsent(name, i + 1);
            if (first != null) {
                throw new InputException(where + ": class '" + name + "' is already listed at line " + first);
            }
            out.add(name);
        }
        if (out.isEmpty()) {
            throw new InputException(CATEGORIES_FILE + " is empty; expected one class name per line");
        }
        return out;
    }

    /** The file's lines, strictly UTF-8, without line terminators and without trailing blank lines. */
    private static List<String> lines(FileSystem fs, Path base, String name) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes(fs, base, name))).toString();
        } catch (CharacterCodingException e) {
            throw new InputException(name + ": not UTF-8 text");
        }
        List<String> lines = new ArrayList<>(List.of(text.split("\r?\n", -1)));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    private static byte[] bytes(FileSystem fs, Path base, String name) {
        Path p = new Path(base, name);
        try {
            if (!fs.exists(p)) {
                throw new InputException(base + ": no " + name + "; " + LAYOUT);
            }
            try (FSDataInputStream in = fs.open(p)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}
