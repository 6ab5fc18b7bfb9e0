package dev.mmspark.data.mvsa;

import dev.mmspark.common.InputException;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.ManifestReader;
import dev.mmspark.data.SampleSchema;
import dev.mmspark.data.Split;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.data.TextDecoding;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MVSA-Single (Niu et al., MMM 2016): {@code posts/<id>.jpg}, {@code posts/<id>.txt} and
 * {@code labels.csv} ({@code id,label}). Hashtags become the tag modality (lower-cased, without '#');
 * by default they are removed from the text so the two modalities carry different information
 * ({@code hashtags_in_text} keeps them). Texts are decoded with {@link TextDecoding} (940 files are GBK).
 * Labelled posts get a seeded train/validation/test split; unlabelled posts get split {@code unlabeled}.
 */
public final class MvsaSingleReader {
    private static final Logger LOG = LoggerFactory.getLogger(MvsaSingleReader.class);
    static final Pattern HASHTAG = Pattern.compile("#([\\p{L}\\p{N}_]+)");

    private MvsaSingleReader() {
    }

    public record Options(SplitAssigner splits, TextDecoding decoding, boolean hashtagsInText)
            implements java.io.Serializable {
    }

    public static Dataset<Row> read(SparkSession spark, String dir, Options options, BadRecords bad) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path root = new Path(dir);
        Path posts = new Path(root, "posts");
        Path labelsFile = new Path(root, "labels.csv");
        Set<String> ids = new TreeSet<>();
        Set<String> images = new LinkedHashSet<>();
        Set<String> texts = new LinkedHashSet<>();
        String postsUri;
        try {
            FileSystem fs = root.getFileSystem(jsc.hadoopConfiguration());
            if (!fs.exists(posts)) {
                throw new InputException("MVSA-Single directory " + dir + " has no posts/ directory");
            }
            if (!fs.exists(labelsFile)) {
                throw new InputException("MVSA-Single directory " + dir + " has no labels.csv");
            }
            postsUri = fs.makeQualified(posts).toString();
            for (FileStatus s : fs.listStatus(posts)) {
                String n = s.getPath().getName();
                int dot = n.lastIndexOf('.');
                if (dot <= 0) {
                    continue;
                }
                String id = n.substring(0, dot);
                String ext = n.substring(dot + 1).toLowerCase(Locale.ROOT);
                if (ext.equals("jpg")) {
                    images.add(id);
                    ids.add(id);
                } else if (ext.equals("txt")) {
                    texts.add(id);
                    ids.add(id);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + posts, e);
        }
        Map<String, String> labels = readLabels(spark, labelsFile.toString());
        for (String id : labels.keySet()) {
            if (!ids.contains(id)) {
                throw new InputException("labels.csv: post '" + id + "' has a label but neither posts/" + id
                        + ".jpg nor posts/" + id + ".txt exists");
            }
        }
        LOG.info("MVSA-Single {}: {} posts ({} images, {} texts), {} labelled", dir, ids.size(), images.size(),
                texts.size(), labels.size());
        Broadcast<Map<String, String>> labelsBc = jsc.broadcast(labels);
        Broadcast<SerializableConfiguration> hconf =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        List<String[]> work = new ArrayList<>();
        for (String id : ids) {
            work.add(new String[]{id, images.contains(id) ? "1" : "0", texts.contains(id) ? "1" : "0"});
        }
        int parts = Math.max(1, Math.min(jsc.defaultParallelism() * 2, work.size() / 200 + 1));
        var rdd = jsc.parallelize(work, parts).mapPartitions(it ->
                posts(it, postsUri, options, labelsBc.value(), hconf.value().value(), bad));
        return spark.createDataFrame(rdd, SampleSchema.SCHEMA);
    }

    private static Iterator<Row> posts(Iterator<String[]> it, String postsUri, Options options,
                                       Map<String, String> labels, org.apache.hadoop.conf.Configuration hc,
                                       BadRecords bad) throws IOException {
        FileSystem fs = new Path(postsUri).getFileSystem(hc);
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            String[] w = it.next();
            String id = w[0];
            try {
                String image = w[1].equals("1") ? postsUri + "/" + id + ".jpg" : null;
                String text = null;
                List<String> tags = null;
                if (w[2].equals("1")) {
                    Path p = new Path(postsUri, id + ".txt");
                    byte[] bytes;
                    try (FSDataInputStream in = fs.open(p)) {
                        bytes = in.readAllBytes();
                    }
                    String raw = options.decoding().decode(bytes, "posts/" + id + ".txt").text();
                    tags = hashtags(raw);
                    String body = options.hashtagsInText() ? raw.replace("#", " ") : HASHTAG.matcher(raw).replaceAll(" ");
                    body = body.replaceAll("\\s+", " ").trim();
                    text = body.isEmpty() ? null : body;
                    if (tags.isEmpty()) {
                        tags = null;
                    }
                }
                String label = labels.get(id);
                Split split = label == null ? Split.UNLABELED : options.splits().assign(id);
                if (image == null && text == null && tags == null) {
                    bad.problem("posts/" + id + ": post has neither an image nor any text or hashtag");
                    continue;
                }
                out.add(ManifestReader.toRow(id, split, label, null, image, text, tags, null, null,
                        "posts/" + id));
            } catch (InputException e) {
                bad.problem(e.getMessage());
            }
        }
        return out.iterator();
    }

    /** Hashtags in order of appearance, lower-cased, without '#', without duplicates. */
    public static List<String> hashtags(String text) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = HASHTAG.matcher(text);
        while (m.find()) {
            out.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        return new ArrayList<>(out);
    }

    static Map<String, String> readLabels(SparkSession spark, String file) {
        // labels.csv is small metadata (one line per post): read on the driver with exact line numbers.
        try {
            Path p = new Path(file);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            List<String> lines;
            try (FSDataInputStream in = fs.open(p)) {
                lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            }
            Map<String, String> labels = new java.util.LinkedHashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty() || (i == 0 && line.equalsIgnoreCase("id,label"))) {
                    continue;
                }
                String[] parts = line.split(",");
                if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
                    throw new InputException("labels.csv:" + (i + 1) + ": expected 'id,label', found '" + line + "'");
                }
                if (labels.put(parts[0].trim(), parts[1].trim()) != null) {
                    throw new InputException("labels.csv:" + (i + 1) + ": post '" + parts[0].trim()
                            + "' is labelled twice");
                }
            }
            return labels;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
