package dev.mmspark.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mmspark.common.InputException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the dataset format users write by hand: JSON Lines, one sample per line.
 *
 * <pre>{@code
 * {"id": "p1", "split": "train", "label": "positive", "image": "images/p1.jpg",
 *  "text": "what a day", "tags": ["sun", "beach"], "vectors": {"audio": [0.1, 0.2]},
 *  "sequences": {"visual": [[0.1, 0.2], [0.3, 0.4]]}}
 * }</pre>
 *
 * A dataset path is a {@code .jsonl} file, or a directory holding {@code samples.jsonl} or a
 * {@code samples/} directory of {@code *.jsonl} parts. Relative image paths resolve against the dataset
 * directory. Every field but {@code id} and {@code split} may be omitted or null (the modality is absent).
 * Each line is validated on the executors; problems name the file, the line and the field.
 */
public final class ManifestReader {
    private static final Logger LOG = LoggerFactory.getLogger(ManifestReader.class);

    static final Set<String> FIELDS = Set.of("id", "split", "label", "target", "image", "text", "tags",
            "vectors", "sequences");
    static final String FIELD_LIST = "id, split, label, target, image, text, tags, vectors, sequences";

    private ManifestReader() {
    }

    /** The files and base directory of a manifest dataset. */
    public record Location(String baseDir, List<String> files) {
    }

    public static Location locate(org.apache.hadoop.conf.Configuration hadoopConf, String path) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(hadoopConf);
            p = fs.makeQualified(p);
            if (!fs.exists(p)) {
                throw new InputException("dataset path " + path + " does not exist");
            }
            if (fs.getFileStatus(p).isFile()) {
                return new Location(p.getParent().toString(), List.of(p.toString()));
            }
            Path single = new Path(p, "samples.jsonl");
            if (fs.exists(single)) {
                return new Location(p.toString(), List.of(single.toString()));
            }
            Path dir = new Path(p, "samples");
            Path listDir = fs.exists(dir) && fs.getFileStatus(dir).isDirectory() ? dir : p;
            List<String> files = new ArrayList<>();
            for (FileStatus s : fs.listStatus(listDir)) {
                String n = s.getPath().getName();
                if (s.isFile() && (n.endsWith(".jsonl") || n.endsWith(".json")) && !n.startsWith(".")
                        && !n.startsWith("_") && !n.equals("dataset.json")) {
                    files.add(s.getPath().toString());
                }
            }
            if (files.isEmpty()) {
                throw new InputException("dataset path " + path + " holds no samples.jsonl, no samples/ directory"
                        + " and no *.jsonl files; expected a JSON Lines manifest (README \"Dataset format\")");
            }
            files.sort(String::compareTo);
            return new Location(p.toString(), files);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list dataset " + path, e);
        }
    }

    /** Reads and validates the manifest into {@link SampleSchema#SCHEMA}. */
    public static Dataset<Row> read(SparkSession spark, String path, BadRecords bad) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Location loc = locate(jsc.hadoopConfiguration(), path);
        LOG.info("Reading manifest dataset {} ({} file(s))", loc.baseDir(), loc.files().size());
        JavaRDD<Row> all = null;
        for (String file : loc.files()) {
            String base = loc.baseDir();
            String display = displayName(base, file);
            JavaRDD<Row> rows = jsc.hadoopFile(file, TextInputFormat.class, LongWritable.class, Text.class)
                    // Text objects are reused by the record reader: copy the bytes immediately.
                    .map(t -> Arrays.copyOf(t._2().getBytes(), t._2().getLength()))
                    .zipWithIndex()
                    .mapPartitions(it -> parsePartition(it, base, display, bad));
            all = all == null ? rows : all.union(rows);
        }
        return spark.createDataFrame(all, SampleSchema.SCHEMA);
    }

    private static String displayName(String base, String file) {
        return file.startsWith(base + "/") ? file.substring(base.length() + 1) : file;
    }

    private static Iterator<Row> parsePartition(Iterator<scala.Tuple2<byte[], Long>> it, String base,
                                                String display, BadRecords bad) {
        ObjectMapper mapper = JsonMapper.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .build();
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            scala.Tuple2<byte[], Long> t = it.next();
            String where = display + ":" + (t._2() + 1);
            try {
                Row r = parseLine(mapper, t._1(), base, where);
                if (r != null) {
                    out.add(r);
                }
            } catch (InputException e) {
                bad.problem(e.getMessage());
            }
        }
        return out.iterator();
    }

    static Row parseLine(ObjectMapper mapper, byte[] bytes, String base, String where) {
        String line;
        try {
            line = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InputException(where + ": line is not valid UTF-8 (JSON Lines manifests must be UTF-8;"
                    + " re-encode the file, e.g. iconv -f GBK -t UTF-8)");
        }
        if (line.isBlank()) {
            return null;
        }
        JsonNode node;
        try {
            node = mapper.readTree(line);
        } catch (IOException e) {
            throw new InputException(where + ": not a valid JSON object (" + firstLine(e.getMessage()) + ")");
        }
        if (node == null || !node.isObject()) {
            throw new InputException(where + ": expected a JSON object per line, found "
                    + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase()));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String f = names.next();
            if (!FIELDS.contains(f)) {
                throw new InputException(where + ": unknown field '" + f + "'; expected fields: " + FIELD_LIST);
            }
        }
        String id = requiredString(node, "id", where);
        String splitName = requiredString(node, "split", where);
        Split split = Split.parse(splitName);
        if (split == null) {
            throw new InputException(where + ": field 'split' of sample '" + id + "' is '" + splitName
                    + "'; expected one of " + Split.names());
        }
        String w = where + " (sample '" + id + "')";
        String label = optionalString(node, "label", w);
        Double target = null;
        if (present(node, "target")) {
            JsonNode tn = node.get("target");
            if (!tn.isNumber() || !Double.isFinite(tn.asDouble())) {
                throw new InputException(w + ": field 'target' must be a finite number, found " + tn);
            }
            target = tn.asDouble();
        }
        String image = optionalString(node, "image", w);
        if (image != null) {
            if (image.isBlank()) {
                throw new InputException(w + ": field 'image' is empty; omit it (or use null) when the sample has"
                        + " no image");
            }
            image = resolve(base, image);
        }
        String text = optionalString(node, "text", w);
        if (text != null && text.isBlank()) {
            throw new InputException(w + ": field 'text' is empty; omit it (or use null) when the sample has no"
                    + " text");
        }
        List<String> tags = null;
        if (present(node, "tags")) {
            JsonNode tn = node.get("tags");
            if (!tn.isArray()) {
                throw new InputException(w + ": field 'tags' must be a list of strings, found " + tn.getNodeType()
                        .toString().toLowerCase());
            }
            tags = new ArrayList<>();
            for (JsonNode e : tn) {
                if (!e.isTextual() || e.asText().isBlank()) {
                    throw new InputException(w + ": field 'tags' must hold non-empty strings, found " + e);
                }
                tags.add(e.asText());
            }
            if (tags.isEmpty()) {
                tags = null;
            }
        }
        Map<String, double[]> vectors = null;
        if (present(node, "vectors")) {
            vectors = new LinkedHashMap<>();
            JsonNode vn = node.get("vectors");
            if (!vn.isObject()) {
                throw new InputException(w + ": field 'vectors' must be an object {name: [numbers]}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> f = vn.fields(); f.hasNext(); ) {
                Map.Entry<String, JsonNode> e = f.next();
                vectors.put(e.getKey(), numbers(e.getValue(), w, "vectors." + e.getKey()));
            }
        }
        Map<String, double[][]> sequences = null;
        if (present(node, "sequences")) {
            sequences = new LinkedHashMap<>();
            JsonNode sn = node.get("sequences");
            if (!sn.isObject()) {
                throw new InputException(w + ": field 'sequences' must be an object {name: [[numbers], ...]}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> f = sn.fields(); f.hasNext(); ) {
                Map.Entry<String, JsonNode> e = f.next();
                String col = "sequences." + e.getKey();
                if (!e.getValue().isArray() || e.getValue().isEmpty()) {
                    throw new InputException(w + ": field '" + col + "' must be a non-empty list of frames");
                }
                double[][] frames = new double[e.getValue().size()][];
                int i = 0;
                for (JsonNode fr : e.getValue()) {
                    frames[i] = numbers(fr, w, col + "[" + i + "]");
                    if (frames[i].length != frames[0].length) {
                        throw new InputException(w + ": field '" + col + "' frame " + i + " has " + frames[i].length
                                + " values, frame 0 has " + frames[0].length + "; all frames need the same length");
                    }
                    i++;
                }
                sequences.put(e.getKey(), frames);
            }
        }
        if (image == null && text == null && tags == null && vectors == null && sequences == null) {
            throw new InputException(w + ": every modality is missing (no image, text, tags, vectors or"
                    + " sequences); a sample needs at least one");
        }
        return toRow(id, split, label, target, image, text, tags, vectors, sequences, where);
    }

    public static Row toRow(String id, Split split, String label, Double target, String image, String text,
                            List<String> tags, Map<String, double[]> vectors, Map<String, double[][]> sequences,
                            String source) {
        Object vec = null;
        if (vectors != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            vectors.forEach((k, v) -> m.put(k, boxed(v)));
            vec = JavaConverters.mapAsScalaMap(m);
        }
        Object seq = null;
        if (sequences != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            sequences.forEach((k, v) -> {
                Object[] frames = new Object[v.length];
                for (int i = 0; i < v.length; i++) {
                    frames[i] = boxed(v[i]);
                }
                m.put(k, frames);
            });
            seq = JavaConverters.mapAsScalaMap(m);
        }
        return RowFactory.create(id, split.id(), label, target, image, text,
                tags == null ? null : tags.toArray(new String[0]), vec, seq, source);
    }

    private static Double[] boxed(double[] v) {
        Double[] out = new Double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static double[] numbers(JsonNode n, String where, String column) {
        if (!n.isArray() || n.isEmpty()) {
            throw new InputException(where + ": field '" + column + "' must be a non-empty list of numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isNumber()) {
                throw new InputException(where + ": field '" + column + "' element " + i + " is " + e
                        + "; expected a number");
            }
            out[i] = e.asDouble();
            if (!Double.isFinite(out[i])) {
                throw new InputException(where + ": field '" + column + "' element " + i + " is " + out[i]
                        + "; feature values must be finite (no NaN or infinity)");
            }
        }
        return out;
    }

    private static boolean present(JsonNode node, String field) {
        return node.has(field) && !node.get(field).isNull();
    }

    private static String requiredString(JsonNode node, String field, String where) {
        if (!present(node, field) || !node.get(field).isTextual() || node.get(field).asText().isBlank()) {
            throw new InputException(where + ": field '" + field + "' is required (a non-empty string), found "
                    + (present(node, field) ? node.get(field).toString() : "nothing"));
        }
        return node.get(field).asText();
    }

    private static String optionalString(JsonNode node, String field, String where) {
        if (!present(node, field)) {
            return null;
        }
        JsonNode v = node.get(field);
        if (!v.isTextual()) {
            throw new InputException(where + ": field '" + field + "' must be a string, found " + v);
        }
        return v.asText();
    }

    /** Resolves a media reference: URIs stay as they are, paths resolve against the dataset directory. */
    static String resolve(String base, String ref) {
        Path p = new Path(ref);
        if (p.toUri().getScheme() != null) {
            return ref;
        }
        // Path(parent, child) keeps the parent's scheme and authority, also for an absolute child.
        return new Path(new Path(base), p).toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unparseable";
        }
        int nl = s.indexOf('\n');
        return nl > 0 ? s.substring(0, nl) : s;
    }
}
