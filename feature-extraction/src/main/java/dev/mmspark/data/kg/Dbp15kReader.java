package dev.mmspark.data.kg;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.mmspark.common.InputException;
import dev.mmspark.data.BadRecords;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY;
import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY1;
import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY2;
import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY_SCHEMA;
import static dev.mmspark.data.kg.KnowledgeGraphPair.GRAPH;
import static dev.mmspark.data.kg.KnowledgeGraphPair.HEAD;
import static dev.mmspark.data.kg.KnowledgeGraphPair.PAIR_SCHEMA;
import static dev.mmspark.data.kg.KnowledgeGraphPair.TAIL;
import static dev.mmspark.data.kg.KnowledgeGraphPair.TRIPLE_SCHEMA;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

/**
 * Reads DBP15K (Sun, Hu and Li, "Cross-lingual Entity Alignment via Joint Attribute-Preserving Embedding",
 * ISWC 2017) as packaged with MCLEA/MEAformer into a {@link KnowledgeGraphPair}:
 *
 * <pre>
 * root/&lt;pair&gt;/ent_ids_1, ent_ids_2     id TAB entity URI          (graph 1 = the non-English DBpedia)
 * root/&lt;pair&gt;/triples_1, triples_2     head TAB relation TAB tail (integer ids)
 * root/&lt;pair&gt;/ill_ent_ids               id1 TAB id2                (the aligned pairs)
 * root/translated_ent_name/dbp_&lt;pair&gt;.json  [[id, ["token", ...]], ...] (names, machine-translated to English)
 * </pre>
 *
 * Entity ids are global: unique across both graphs, and the names file covers the entities of both. The
 * TSV files are read by Spark; the names file, a single JSON array, is streamed on the driver and broadcast.
 * DBP15K has neither attributes nor images here: those columns are null.
 *
 * <p>Checks: the field count and integer ids of every line, ids unique across both graphs, every triple's
 * head and tail an entity of its own graph, every pair an entity of graph 1 with one of graph 2, one to one.
 * Each problem names the file and line; the {@link BadRecords} policy fails or skips (a skipped entity
 * makes the triples and pairs that use it bad records too). The Datasets are validated when read and
 * cached ({@link KnowledgeGraphPair#unpersist()} releases them), so problems surface here and not in the
 * middle of training.
 */
public final class Dbp15kReader {
    private static final Logger LOG = LoggerFactory.getLogger(Dbp15kReader.class);

    public static final String NAMES_DIR = "translated_ent_name";
    private static final Pattern PAIR = Pattern.compile("[A-Za-z0-9]+_[A-Za-z0-9]+");
    private static final String FILE = "_file";
    private static final String LINE = "_line";

    private Dbp15kReader() {
    }

    /**
     * The files {@link #read} reads for a pair, relative to the DBP15K root (the names file may be absent), for
     * content hashes in the metadata of what is extracted from them.
     */
    public static List<String> inputFiles(String pair) {
        return List.of(pair + "/ent_ids_1", pair + "/ent_ids_2", pair + "/triples_1", pair + "/triples_2",
                pair + "/ill_ent_ids", NAMES_DIR + "/dbp_" + pair + ".json");
    }

    /**
     * @param dbp15kRoot the directory holding the pair directories and {@code translated_ent_name/}
     * @param pair       a pair directory, e.g. {@code zh_en} or {@code ja_en}
     */
    public static KnowledgeGraphPair read(SparkSession spark, String dbp15kRoot, String pair, BadRecords bad) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path root = new Path(dbp15kRoot);
        FileSystem fs;
        try {
            fs = root.getFileSystem(jsc.hadoopConfiguration());
            root = fs.makeQualified(root);
            if (!fs.isDirectory(root)) {
                throw new InputException("DBP15K root " + dbp15kRoot + " is not a directory");
            }
            if (!PAIR.matcher(pair).matches() || !fs.isDirectory(new Path(root, pair))) {
                throw new InputException("DBP15K pair '" + pair + "' not found in " + dbp15kRoot + "; it holds "
                        + pairsIn(fs, root));
            }
            for (String f : List.of("ent_ids_1", "ent_ids_2", "triples_1", "triples_2", "ill_ent_ids")) {
                if (!fs.isFile(new Path(root, pair + "/" + f))) {
                    throw new InputException(dbp15kRoot + "/" + pair + ": no file " + f + "; a DBP15K pair directory"
                            + " holds ent_ids_1, ent_ids_2, triples_1, triples_2 and ill_ent_ids");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot access DBP15K root " + dbp15kRoot, e);
        }
        String base = root.toString();

        String namesFile = NAMES_DIR + "/dbp_" + pair + ".json";
        Map<Integer, String[]> names = readNames(fs, new Path(root, namesFile), namesFile, bad);
        Broadcast<Map<Integer, String[]>> namesB = jsc.broadcast(names == null ? Map.of() : names);

        List<Dataset<Row>> cached = new ArrayList<>();
        Dataset<Row> entities;
        Dataset<Row> triples;
        Dataset<Row> pairs;
        try {
            entities = materialize(validate(dedupEntities(spark.createDataFrame(
                    lines(jsc, base, pair, "ent_ids_1", 1).union(lines(jsc, base, pair, "ent_ids_2", 2))
                            .mapPartitions(it -> parseEntities(it, namesB, bad)),
                    withSource(ENTITY_SCHEMA))), bad, ENTITY_SCHEMA), cached);
            triples = materialize(validate(checkTriples(spark.createDataFrame(
                    lines(jsc, base, pair, "triples_1", 1).union(lines(jsc, base, pair, "triples_2", 2))
                            .mapPartitions(it -> parseTriples(it, bad)),
                    withSource(TRIPLE_SCHEMA)), entities, pair), bad, TRIPLE_SCHEMA), cached);
            Dataset<Row> known = validate(checkPairs(spark.createDataFrame(
                    lines(jsc, base, pair, "ill_ent_ids", 0).mapPartitions(it -> parsePairs(it, bad)),
                    withSource(PAIR_SCHEMA)), entities, pair), bad, withSource(PAIR_SCHEMA));
            pairs = materialize(validate(oneToOne(known), bad, PAIR_SCHEMA), cached);
        } catch (Exception e) { // Spark's job failures are (undeclared) checked SparkExceptions
            cached.forEach(Dataset::unpersist);
            throw e;
        } finally {
            namesB.unpersist(); // re-sent if an evicted partition is recomputed
        }

        KnowledgeGraphPair kg = new KnowledgeGraphPair("dbp15k/" + pair, entities, triples, pairs);
        KnowledgeGraphPair.Counts c = kg.counts();
        LOG.info("DBP15K {}: {} + {} entities ({} + {} with a name), {} + {} triples, {} aligned pairs", pair,
                c.entities1(), c.entities2(), c.named1(), c.named2(), c.triples1(), c.triples2(), c.pairs());
        if (names != null && c.named1() + c.named2() < names.size()) {
            LOG.warn("{}: {} of its {} names belong to no entity of {}", namesFile,
                    names.size() - c.named1() - c.named2(), names.size(), pair);
        }
        bad.report("DBP15K " + pair);
        return kg;
    }

    private static String pairsIn(FileSystem fs, Path root) throws IOException {
        TreeSet<String> found = new TreeSet<>();
        for (FileStatus s : fs.listStatus(root)) {
            if (s.isDirectory() && fs.exists(new Path(s.getPath(), "ill_ent_ids"))) {
                found.add(s.getPath().getName());
            }
        }
        return found.isEmpty() ? "no pair directories (with an ill_ent_ids file)" : String.join(", ", found);
    }

    // ---------------------------------------------------------------- line parsing (executors)

    /** A file and the graph its records belong to (0 for the pairs file). */
    private record Source(int graph, String file) implements Serializable {
    }

    /** A parsed line: where it came from and its fields. */
    private record Line(int graph, String where, String file, long number, String[] fields) {
    }

    /** The lines of one file with their 0-based numbers, tagged with their source. */
    private static JavaRDD<Tuple2<Source, Tuple2<byte[], Long>>> lines(JavaSparkContext jsc, String base,
                                                                        String pair, String name, int graph) {
        Source source = new Source(graph, pair + "/" + name);
        return jsc.hadoopFile(base + "/" + source.file(), TextInputFormat.class, LongWritable.class, Text.class)
                // Text objects are reused by the record reader: copy the bytes immediately.
                .map(t -> Arrays.copyOf(t._2().getBytes(), t._2().getLength()))
                .zipWithIndex()
                .map(t -> new Tuple2<>(source, t));
    }

    /** Decodes a line; null for a blank line or a problem (then reported to {@code bad}). */
    private static Line line(Tuple2<Source, Tuple2<byte[], Long>> t, int expectedFields, String fieldNames,
                             BadRecords bad) {
        Source source = t._1();
        long number = t._2()._2() + 1;
        String where = source.file() + ":" + number;
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(t._2()._1())).toString();
        } catch (CharacterCodingException e) {
            bad.problem(where + ": line is not valid UTF-8");
            return null;
        }
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.isBlank()) {
            return null;
        }
        String[] f = text.split("\t", -1);
        if (f.length != expectedFields) {
            bad.problem(where + ": expected " + expectedFields + " tab-separated fields (" + fieldNames + "), found "
                    + f.length);
            return null;
        }
        return new Line(source.graph(), where, source.file(), number, f);
    }

    /** A non-negative int id, or a problem naming the field. */
    static int id(String s, String what, String where) {
        String v = s.strip();
        if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new InputException(where + ": " + what + " '" + s + "' is not a non-negative integer");
        }
        if (new java.math.BigInteger(v).bitLength() > 31) {
            throw new InputException(where + ": " + what + " " + v + " is too large (ids must be below 2^31)");
        }
        return Integer.parseInt(v);
    }

    private static Iterator<Row> parseEntities(Iterator<Tuple2<Source, Tuple2<byte[], Long>>> it,
                                               Broadcast<Map<Integer, String[]>> names, BadRecords bad) {
        Map<Integer, String[]> n = names.value();
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            Line l = line(it.next(), 2, "id, URI", bad);
            if (l == null) {
                continue;
            }
            try {
                int id = id(l.fields()[0], "entity id", l.where());
                String uri = l.fields()[1].strip();
                if (uri.isEmpty()) {
                    throw new InputException(l.where() + ": entity " + id + " has an empty URI");
                }
                out.add(RowFactory.create(l.graph(), id, uri, n.get(id), null, null, l.file(), l.number()));
            } catch (InputException e) {
                bad.problem(e.getMessage());
            }
        }
        return out.iterator();
    }

    private static Iterator<Row> parseTriples(Iterator<Tuple2<Source, Tuple2<byte[], Long>>> it, BadRecords bad) {
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            Line l = line(it.next(), 3, "head, relation, tail", bad);
            if (l == null) {
                continue;
            }
            try {
                out.add(RowFactory.create(l.graph(), id(l.fields()[0], "head", l.where()),
                        id(l.fields()[1], "relation", l.where()), id(l.fields()[2], "tail", l.where()), l.file(),
                        l.number()));
            } catch (InputException e) {
                bad.problem(e.getMessage());
            }
        }
        return out.iterator();
    }

    private static Iterator<Row> parsePairs(Iterator<Tuple2<Source, Tuple2<byte[], Long>>> it, BadRecords bad) {
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            Line l = line(it.next(), 2, "entity1, entity2", bad);
            if (l == null) {
                continue;
            }
            try {
                out.add(RowFactory.create(id(l.fields()[0], "entity1", l.where()),
                        id(l.fields()[1], "entity2", l.where()), l.file(), l.number()));
            } catch (InputException e) {
                bad.problem(e.getMessage());
            }
        }
        return out.iterator();
    }

    // ---------------------------------------------------------------- cross-record checks (Spark SQL)

    private static StructType withSource(StructType schema) {
        return schema.add(FILE, DataTypes.StringType, false).add(LINE, DataTypes.LongType, false);
    }

    /** Problem column: null when the record is fine, else the message. */
    private static final String PROBLEM = "_problem";

    /**
     * Entity ids must be unique across both graphs: the first definition (graph 1 first, then by line)
     * stays, later ones are problems.
     */
    private static Dataset<Row> dedupEntities(Dataset<Row> parsed) {
        WindowSpec w = Window.partitionBy(ENTITY).orderBy(col(GRAPH), col(LINE));
        Column rank = row_number().over(w);
        Column firstAt = concat(first(FILE).over(w), lit(":"), first(LINE).over(w));
        return parsed.withColumn(PROBLEM, when(rank.gt(1),
                concat(col(FILE), lit(":"), col(LINE), lit(": entity id "), col(ENTITY),
                        lit(" is already defined at "), firstAt, lit("; ids must be unique across both graphs"))));
    }

    /** Every triple's head and tail must be an entity of the triple's own graph. */
    private static Dataset<Row> checkTriples(Dataset<Row> parsed, Dataset<Row> entities, String pair) {
        Dataset<Row> heads = entities.select(col(GRAPH).as("_hg"), col(ENTITY).as("_he"), lit(true).as("_hk"));
        Dataset<Row> tails = entities.select(col(GRAPH).as("_tg"), col(ENTITY).as("_te"), lit(true).as("_tk"));
        Dataset<Row> joined = parsed
                .join(heads, parsed.col(GRAPH).equalTo(col("_hg")).and(parsed.col(HEAD).equalTo(col("_he"))), "left")
                .join(tails, parsed.col(GRAPH).equalTo(col("_tg")).and(parsed.col(TAIL).equalTo(col("_te"))), "left");
        Column where = concat(col(FILE), lit(":"), col(LINE), lit(": "));
        Column graphName = concat(lit(" graph "), col(GRAPH), lit(" ("), lit(pair),
                lit("/ent_ids_"), col(GRAPH), lit(")"));
        Column problem = when(col("_hk").isNull().and(col("_tk").isNull()), concat(where,
                        lit("head "), col(HEAD), lit(" and tail "), col(TAIL), lit(" are not entities of"), graphName))
                .when(col("_hk").isNull(), concat(where, lit("head "), col(HEAD),
                        lit(" is not an entity of"), graphName))
                .when(col("_tk").isNull(), concat(where, lit("tail "), col(TAIL),
                        lit(" is not an entity of"), graphName));
        return joined.withColumn(PROBLEM, problem).select(columns(withSource(TRIPLE_SCHEMA), parsed, problem));
    }

    /** Every pair must align an entity of graph 1 with an entity of graph 2. */
    private static Dataset<Row> checkPairs(Dataset<Row> parsed, Dataset<Row> entities, String pair) {
        Dataset<Row> g1 = entities.where(col(GRAPH).equalTo(1)).select(col(ENTITY).as("_e1"), lit(true).as("_k1"));
        Dataset<Row> g2 = entities.where(col(GRAPH).equalTo(2)).select(col(ENTITY).as("_e2"), lit(true).as("_k2"));
        Dataset<Row> joined = parsed
                .join(g1, parsed.col(ENTITY1).equalTo(col("_e1")), "left")
                .join(g2, parsed.col(ENTITY2).equalTo(col("_e2")), "left");
        Column where = concat(col(FILE), lit(":"), col(LINE), lit(": "));
        Column problem = when(col("_k1").isNull(), concat(where, lit("entity1 "), col(ENTITY1),
                        lit(" is not an entity of graph 1 (" + pair + "/ent_ids_1)")))
                .when(col("_k2").isNull(), concat(where, lit("entity2 "), col(ENTITY2),
                        lit(" is not an entity of graph 2 (" + pair + "/ent_ids_2)")));
        return joined.withColumn(PROBLEM, problem).select(columns(withSource(PAIR_SCHEMA), parsed, problem));
    }

    /**
     * Alignment is one to one (each test entity has a single counterpart, as the Hits@k evaluation assumes):
     * the first pair (by line) of an entity stays, later pairs using it are problems.
     */
    private static Dataset<Row> oneToOne(Dataset<Row> pairs) {
        WindowSpec w1 = Window.partitionBy(ENTITY1).orderBy(col(LINE));
        WindowSpec w2 = Window.partitionBy(ENTITY2).orderBy(col(LINE));
        Column where = concat(col(FILE), lit(":"), col(LINE), lit(": "));
        Column problem = when(row_number().over(w1).gt(1), concat(where, lit("entity1 "),
                        col(ENTITY1), lit(" is already aligned at "), col(FILE), lit(":"), first(LINE).over(w1),
                        lit("; alignment pairs must be one to one")))
                .when(row_number().over(w2).gt(1), concat(where, lit("entity2 "),
                        col(ENTITY2), lit(" is already aligned at "), col(FILE), lit(":"), first(LINE).over(w2),
                        lit("; alignment pairs must be one to one")));
        return pairs.withColumn(PROBLEM, problem);
    }

    /** The input's columns of {@code schema}, then the problem column. */
    private static Column[] columns(StructType schema, Dataset<Row> from, Column problem) {
        List<Column> out = new ArrayList<>();
        for (String name : schema.fieldNames()) {
            out.add(from.col(name));
        }
        out.add(problem.as(PROBLEM));
        return out.toArray(new Column[0]);
    }

    /**
     * Applies the policy to the {@code _problem} column and keeps the columns of {@code out} (a prefix of the
     * input's columns).
     */
    private static Dataset<Row> validate(Dataset<Row> checked, BadRecords bad, StructType out) {
        int problemIndex = checked.schema().fieldIndex(PROBLEM);
        int width = out.size();
        FlatMapFunction<Row, Row> f = r -> {
            if (!r.isNullAt(problemIndex)) {
                bad.problem(r.getString(problemIndex));
                return List.<Row>of().iterator();
            }
            Object[] v = new Object[width];
            for (int i = 0; i < width; i++) {
                v[i] = r.get(i);
            }
            return List.of(RowFactory.create(v)).iterator();
        };
        return checked.flatMap(f, Encoders.row(out));
    }

    /**
     * Caches a validated Dataset and computes it once, so that every problem is reported here, once; a task's
     * InputException (FAIL policy) reaches the caller as itself, not wrapped in Spark's job failure.
     */
    private static Dataset<Row> materialize(Dataset<Row> ds, List<Dataset<Row>> cached) {
        cached.add(ds.persist(StorageLevel.MEMORY_AND_DISK()));
        try {
            ds.count();
        } catch (Exception e) { // a failed job is an (undeclared) checked SparkException
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof InputException ie) {
                    throw ie;
                }
            }
            throw e;
        }
        return ds;
    }

    // ---------------------------------------------------------------- names (driver, streamed)

    /**
     * Streams {@code [[id, ["tok", ...]], ...]}. Returns null when the file does not exist (no names); an empty
     * token list means no name.
     */
    static Map<Integer, String[]> readNames(FileSystem fs, Path file, String display, BadRecords bad) {
        try {
            if (!fs.exists(file)) {
                LOG.warn("No entity names: {} does not exist; name_tokens will be null", file);
                return null;
            }
            try (FSDataInputStream in = fs.open(file);
                 JsonParser p = new JsonFactory().createParser((java.io.InputStream) in)) {
                return parseNames(p, display, bad);
            }
        } catch (JsonParseException e) {
            JsonLocation loc = e.getLocation();
            // Jackson's message names the stream class ("[Source: ...; line: 1, ...]"): meaningless to a user
            String why = e.getOriginalMessage().replaceAll("\\[Source: [^;\\]]*; ", "[");
            throw new InputException(display + ": invalid JSON at line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + " (" + why + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Map<Integer, String[]> parseNames(JsonParser p, String display, BadRecords bad)
            throws IOException {
        String format = "; expected [[id, [\"token\", ...]], ...]";
        if (p.nextToken() != JsonToken.START_ARRAY) {
            throw new InputException(display + ": the file does not start with a JSON array" + format);
        }
        Map<Integer, String[]> names = new HashMap<>();
        Map<Integer, Integer> entryOf = new HashMap<>();
        int entry = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == null) {
                throw new InputException(display + ": truncated: the JSON array is not closed" + format);
            }
            entry++;
            JsonLocation loc = p.currentTokenLocation();
            String where = display + ": entry " + entry + " (line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + ")";
            try {
                if (t != JsonToken.START_ARRAY) {
                    throw new InputException(where + ": expected [id, [\"token\", ...]], found " + describe(p));
                }
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new InputException(where + ": the id must be an integer, found " + describe(p));
                }
                int id = id(p.getText(), "entity id", where);
                if (p.nextToken() != JsonToken.START_ARRAY) {
                    throw new InputException(where + ": the tokens of entity " + id + " must be a list of strings,"
                            + " found " + describe(p));
                }
                List<String> tokens = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    if (p.currentToken() != JsonToken.VALUE_STRING) {
                        throw new InputException(where + ": the tokens of entity " + id + " must be strings, found "
                                + describe(p));
                    }
                    tokens.add(p.getText());
                }
                if (p.nextToken() != JsonToken.END_ARRAY) {
                    throw new InputException(where + ": expected [id, [\"token\", ...]] with nothing after the"
                            + " tokens, found " + describe(p));
                }
                Integer first = entryOf.putIfAbsent(id, entry);
                if (first != null) {
                    throw new InputException(where + ": entity " + id + " already has a name (entry " + first + ")");
                }
                if (!tokens.isEmpty()) {
                    names.put(id, tokens.toArray(new String[0]));
                }
            } catch (InputException e) {
                bad.problem(e.getMessage());
                skipRestOfEntry(p, display);
            }
        }
        if (p.nextToken() != null) {
            throw new InputException(display + ": unexpected content after the JSON array (" + describe(p) + ")");
        }
        return names;
    }

    private static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "the end of the file";
        }
        return switch (t) {
            case START_ARRAY -> "a list";
            case START_OBJECT -> "an object";
            case END_ARRAY -> "the end of the list";
            case VALUE_STRING -> "\"" + p.getText() + "\"";
            default -> p.getText();
        };
    }

    /** After a problem inside an entry, moves to the entry's last token (its closing bracket, or a scalar). */
    private static void skipRestOfEntry(JsonParser p, String display) throws IOException {
        // nesting depth 1 = inside the top-level array, i.e. between entries
        while (p.getParsingContext().getNestingDepth() > 1) {
            if (p.nextToken() == null) {
                throw new InputException(display + ": truncated: the JSON array is not closed");
            }
        }
    }
}
