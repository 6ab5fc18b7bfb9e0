package dev.mmspark.features.text;

import dev.mmspark.common.InputException;
import dev.mmspark.data.SplitAssigner;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.feature.Word2Vec;
import org.apache.spark.ml.feature.Word2VecModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

/**
 * Word vectors for a vocabulary: looked up in a local GloVe/word2vec text file, or trained on the
 * training split with Spark MLlib's {@link Word2Vec}. Tokens without a vector get a small random vector
 * (uniform in [-0.25, 0.25], seeded by token, as in Kim 2014's CNN for sentences); padding is zero.
 */
public final class WordVectors {
    private static final Logger LOG = LoggerFactory.getLogger(WordVectors.class);

    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    /**
     * The embedding matrix (vocabulary order), how many tokens had a pretrained/trained vector, and which
     * ({@code found[id]}; the others got a random vector, padding a zero one).
     */
    public record Table(float[][] vectors, int covered, String source, boolean[] found) {
        public int dim() {
            return vectors[0].length;
        }

        /** Whether the token with this id got its vector from the file (or Word2Vec), not at random. */
        public boolean found(int id) {
            return found[id];
        }

        public Dataset<Row> toDataFrame(SparkSession spark) {
            List<Row> rows = new ArrayList<>(vectors.length);
            for (int i = 0; i < vectors.length; i++) {
                Float[] boxed = new Float[vectors[i].length];
                for (int j = 0; j < boxed.length; j++) {
                    boxed[j] = vectors[i][j];
                }
                rows.add(RowFactory.create(i, boxed));
            }
            // Slices of ~500 KB: a single local relation this size makes Spark warn about task size.
            int slices = Math.max(1, rows.size() * (vectors[0].length * 4 + 8) / 500_000 + 1);
            return spark.createDataFrame(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                    spark.sparkContext()).parallelize(rows, slices), SCHEMA);
        }
    }

    private WordVectors() {
    }

    /**
     * Reads vectors for the vocabulary's tokens from a GloVe or word2vec text file (optionally gzipped):
     * one {@code token v1 ... vD} per line; a word2vec header line {@code count dim} is skipped.
     */
    public static Table fromTextFile(Configuration hc, String path, Vocabulary vocab, long seed) {
        Set<String> wanted = new HashSet<>(vocab.tokens());
        float[][] found = new float[vocab.size()][];
        int dim = -1;
        int covered = 0;
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(hc);
            if (!fs.exists(p)) {
                throw new InputException("word vector file " + path + " does not exist");
            }
            try (InputStream raw = fs.open(p);
                 InputStream in = path.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                int lineNo = 0;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    int sp = line.indexOf(' ');
                    if (sp <= 0) {
                        continue;
                    }
                    String token = line.substring(0, sp);
                    if (lineNo == 1 && token.matches("[0-9]+") && line.trim().split(" ").length == 2) {
                        continue; // word2vec text header "count dim"
                    }
                    if (dim < 0) {
                        dim = line.trim().split(" ").length - 1;
                    }
                    if (!wanted.contains(token)) {
                        continue;
                    }
                    String[] parts = line.trim().split(" ");
                    if (parts.length - 1 != dim) {
                        throw new InputException(path + ":" + lineNo + ": vector of '" + token + "' has "
                                + (parts.length - 1) + " values, earlier lines have " + dim);
                    }
                    float[] v = new float[dim];
                    for (int i = 0; i < dim; i++) {
                        try {
                            v[i] = Float.parseFloat(parts[i + 1]);
                        } catch (NumberFormatException e) {
                            throw new InputException(path + ":" + lineNo + ": value " + (i + 1) + " of '" + token
                                    + "' is '" + parts[i + 1] + "', not a number");
                        }
                        if (!Float.isFinite(v[i])) {
                            throw new InputException(path + ":" + lineNo + ": value " + (i + 1) + " of '" + token
                                    + "' is " + v[i] + "; word vectors must be finite");
                        }
                    }
                    int id = vocab.id(token);
                    if (found[id] == null) {
                        found[id] = v;
                        covered++;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read word vectors " + path, e);
        }
        if (dim <= 0) {
            throw new InputException("word vector file " + path + " holds no vectors (expected lines 'token v1 ... vD')");
        }
        LOG.info("Word vectors {}: {} of {} vocabulary tokens covered ({} dims)", path, covered, vocab.size() - 2, dim);
        boolean[] mask = mask(found);
        return new Table(fill(found, vocab, dim, seed), covered, "file:" + path, mask);
    }

    /** Trains MLlib Word2Vec on the given token lists (the training split and unlabelled texts). */
    public static Table trainWord2Vec(SparkSession spark, JavaRDD<List<String>> tokenLists, Vocabulary vocab,
                                      int dim, int window, int iterations, int minCount, long seed) {
        StructType schema = new StructType().add("tokens",
                DataTypes.createArrayType(DataTypes.StringType, false), false);
        Dataset<Row> df = spark.createDataFrame(tokenLists.filter(l -> !l.isEmpty())
                .map(l -> RowFactory.create((Object) l.toArray(new String[0]))), schema);
        long t0 = System.currentTimeMillis();
        Word2VecModel model = new Word2Vec().setInputCol("tokens").setVectorSize(dim).setWindowSize(window)
                .setMaxIter(iterations).setMinCount(minCount).setSeed(seed)
                .setNumPartitions(1).fit(df);
        Set<String> wanted = new HashSet<>(vocab.tokens());
        float[][] found = new float[vocab.size()][];
        int covered = 0;
        for (Row r : model.getVectors().collectAsList()) {
            String w = r.getString(0);
            if (!wanted.contains(w)) {
                continue;
            }
            Vector v = (Vector) r.get(1);
            float[] f = new float[dim];
            for (int i = 0; i < dim; i++) {
                f[i] = (float) v.apply(i);
            }
            found[vocab.id(w)] = f;
            covered++;
        }
        LOG.info("Word2Vec ({} dims, {} iterations) trained in {} ms; {} of {} vocabulary tokens covered", dim,
                iterations, System.currentTimeMillis() - t0, covered, vocab.size() - 2);
        boolean[] mask = mask(found);
        return new Table(fill(found, vocab, dim, seed), covered, "word2vec", mask);
    }

    /** Random-but-deterministic vectors for tokens without one (Kim 2014: U[-0.25, 0.25]). */
    public static Table random(Vocabulary vocab, int dim, long seed) {
        return new Table(fill(new float[vocab.size()][], vocab, dim, seed), 0, "random", new boolean[vocab.size()]);
    }

    private static boolean[] mask(float[][] found) {
        boolean[] m = new boolean[found.length];
        for (int i = 0; i < found.length; i++) {
            m[i] = found[i] != null;
        }
        return m;
    }

    private static float[][] fill(float[][] found, Vocabulary vocab, int dim, long seed) {
        for (int i = 0; i < found.length; i++) {
            if (i == Vocabulary.PAD) {
                found[i] = new float[dim];
            } else if (found[i] == null) {
                SplittableRandom rng = new SplittableRandom((long) (SplitAssigner.unit(seed, vocab.token(i)) * Long.MAX_VALUE));
                float[] v = new float[dim];
                for (int j = 0; j < dim; j++) {
                    v[j] = (float) (rng.nextDouble() * 0.5 - 0.25);
                }
                found[i] = v;
            }
        }
        return found;
    }
}
