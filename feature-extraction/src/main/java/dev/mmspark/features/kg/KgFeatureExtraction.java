package dev.mmspark.features.kg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.Provenance;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.kg.KnowledgeGraphPair;
import dev.mmspark.features.text.Vocabulary;
import dev.mmspark.features.text.WordVectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import static dev.mmspark.data.kg.KnowledgeGraphPair.ATTRIBUTES;
import static dev.mmspark.data.kg.KnowledgeGraphPair.HEAD;
import static dev.mmspark.data.kg.KnowledgeGraphPair.IMAGE_VECTOR;
import static dev.mmspark.data.kg.KnowledgeGraphPair.NAME_TOKENS;
import static dev.mmspark.data.kg.KnowledgeGraphPair.RELATION;
import static dev.mmspark.data.kg.KnowledgeGraphPair.TAIL;
import static dev.mmspark.features.kg.KgSchema.ATTRIBUTE_PRESENT;
import static dev.mmspark.features.kg.KgSchema.CHAR_PRESENT;
import static dev.mmspark.features.kg.KgSchema.ENTITY;
import static dev.mmspark.features.kg.KgSchema.ENTITY1;
import static dev.mmspark.features.kg.KgSchema.ENTITY2;
import static dev.mmspark.features.kg.KgSchema.GRAPH;
import static dev.mmspark.features.kg.KgSchema.IMAGE_PRESENT;
import static dev.mmspark.features.kg.KgSchema.INDEX;
import static dev.mmspark.features.kg.KgSchema.INDEX1;
import static dev.mmspark.features.kg.KgSchema.INDEX2;
import static dev.mmspark.features.kg.KgSchema.NAME_IDS;
import static dev.mmspark.features.kg.KgSchema.NAME_PRESENT;
import static dev.mmspark.features.kg.KgSchema.NEIGHBORS;
import static dev.mmspark.features.kg.KgSchema.RELATION_COUNTS;
import static dev.mmspark.features.kg.KgSchema.RELATION_IDS;
import static dev.mmspark.features.kg.KgSchema.SPLIT;
import static dev.mmspark.features.kg.KgSchema.URI;
import static dev.mmspark.features.kg.KgTableMetadata.ATTRIBUTE;
import static dev.mmspark.features.kg.KgTableMetadata.CHAR;
import static dev.mmspark.features.kg.KgTableMetadata.IMAGE;
import static dev.mmspark.features.kg.KgTableMetadata.NAME;
import static dev.mmspark.features.kg.KgTableMetadata.STRUCTURE;
import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.negate;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * Turns a {@link KnowledgeGraphPair} (two graphs and their aligned entities, e.g. DBP15K) into a KG feature
 * table for multi-modal entity alignment (MCLEA, MEAformer): per entity its dense index, neighbours, bag of
 * relations, name tokens, bag of character n-grams and, when the input has them, attributes and an image
 * vector; the aligned pairs with a seeded train/test split; vocabularies and name word vectors.
 *
 * <pre>
 * output/
 *   entities/            Parquet, one row per entity of both graphs ({@link KgSchema}), ordered by index
 *   pairs/               Parquet, the aligned pairs with their split
 *   vocab/relation/      Parquet (id, token = relation id, count = triples)
 *   vocab/name/          Parquet (id, token, count)             when some entity has a name
 *   embeddings/name/     Parquet (id, vector float[])           word vectors in vocabulary order
 *   vocab/char/          Parquet (id, token = n-gram, count)    when enabled and some entity has a name
 *   vocab/attribute/     Parquet (id, token, count)             when the input has attributes
 *   metadata.json        {@link KgTableMetadata}
 * </pre>
 *
 * <p>Vocabularies follow {@link Vocabulary}: id 0 is padding, 1 unknown, then by descending count, so the
 * first k ids are the k-2 most frequent entries (MCLEA keeps the 1,000 most frequent relations). They are
 * built from all entities of both graphs: names and relations are inputs of every entity, not labels; only
 * the pairs carry the alignment, and their test part is never used here.
 *
 * <p>Neighbours and relation bags are computed with Spark joins and aggregations (the triples never reach
 * the driver); only vocabularies and counts do. The output appears at its destination only when complete.
 */
public final class KgFeatureExtraction {
    private static final Logger LOG = LoggerFactory.getLogger(KgFeatureExtraction.class);
    public static final int EXTRACTOR_VERSION = 1;
    /** Entities per Parquet file of {@code entities/} when {@code extract.partitions} is 0. */
    static final int ENTITIES_PER_FILE = 100_000;

    private KgFeatureExtraction() {
    }

    /**
     * The input, for the metadata: its format, root directory and the files read (relative to the root); the
     * files that exist are hashed.
     */
    public record Input(String format, String path, List<String> files) implements Serializable {
    }

    /** What the extraction produced. */
    public record Result(String output, KgTableMetadata metadata) {
    }

    /** Settings of the executor-side row builder (all serialisable). */
    private record RowPlan(String kgName, boolean lowercase, boolean name, boolean chars, int charNgram,
                           boolean attribute, boolean image, int imageDim) implements Serializable {
    }

    /**
     * Extracts the features of {@code kg}. The caller keeps ownership of {@code kg} (it is not unpersisted).
     *
     * @param bad the policy the input was read with (its skipped records are reported in the metadata)
     * @throws dev.mmspark.common.MmsparkException OUTPUT_EXISTS when the output exists and overwrite is false;
     *                                             BAD_INPUT naming the entity, triple or pair at fault
     */
    public static Result run(SparkSession spark, KnowledgeGraphPair kg, Input input, KgExtractionConfig cfg,
                             boolean overwrite, BadRecords bad, JsonNode resolvedConfig) {
        return run(spark, () -> kg, false, input, cfg, overwrite, bad, resolvedConfig);
    }

    /**
     * Like {@link #run(SparkSession, KnowledgeGraphPair, Input, KgExtractionConfig, boolean, BadRecords,
     * JsonNode)}, but reads the input only once the output path is known to be free, and releases it after.
     */
    public static Result run(SparkSession spark, Supplier<KnowledgeGraphPair> read, Input input,
                             KgExtractionConfig cfg, boolean overwrite, BadRecords bad, JsonNode resolvedConfig) {
        return run(spark, read, true, input, cfg, overwrite, bad, resolvedConfig);
    }

    private static Result run(SparkSession spark, Supplier<KnowledgeGraphPair> read, boolean release, Input input,
                              KgExtractionConfig cfg, boolean overwrite, BadRecords bad, JsonNode resolvedConfig) {
        long t0 = System.currentTimeMillis();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // Fail before any work if the destination is taken.
        try (AtomicOutput out = AtomicOutput.begin(jsc.hadoopConfiguration(), cfg.output(), overwrite,
                "KG feature table")) {
            KnowledgeGraphPair kg = read.get();
            List<Dataset<Row>> cached = new ArrayList<>();
            try {
                return new Run(spark, jsc, kg, input, cfg, bad, resolvedConfig, out, t0, cached).extract();
            } catch (RuntimeException e) {
                throw userError(e);
            } catch (Exception e) { // Spark's job failures are (undeclared) checked SparkExceptions
                RuntimeException user = userError(e);
                throw user != null ? user : new IllegalStateException("KG feature extraction failed", e);
            } finally {
                cached.forEach(Dataset::unpersist);
                if (release) {
                    kg.unpersist();
                }
            }
        }
    }

    /** An executor's InputException arrives wrapped in Spark's job failure: surface it as itself. */
    private static RuntimeException userError(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MmsparkException m) {
                return m;
            }
        }
        return e instanceof RuntimeException r ? r : null;
    }

    /** One extraction: the state shared by its steps. */
    private static final class Run {
        private final SparkSession spark;
        private final JavaSparkContext jsc;
        private final KnowledgeGraphPair kg;
        private final Input input;
        private final KgExtractionConfig cfg;
        private final BadRecords bad;
        private final JsonNode resolvedConfig;
        private final AtomicOutput out;
        private final long t0;
        private final List<Dataset<Row>> cached;
        private final String root;

        Run(SparkSession spark, JavaSparkContext jsc, KnowledgeGraphPair kg, Input input, KgExtractionConfig cfg,
            BadRecords bad, JsonNode resolvedConfig, AtomicOutput out, long t0, List<Dataset<Row>> cached) {
            this.spark = spark;
            this.jsc = jsc;
            this.kg = kg;
            this.input = input;
            this.cfg = cfg;
            this.bad = bad;
            this.resolvedConfig = resolvedConfig;
            this.out = out;
            this.t0 = t0;
            this.cached = cached;
            this.root = out.path();
        }

        private Dataset<Row> persist(Dataset<Row> ds) {
            cached.add(ds.persist(StorageLevel.MEMORY_AND_DISK()));
            return ds;
        }

        Result extract() {
            // ---- dense indices: ordered by graph, then entity
            Dataset<Row> entities = kg.entities().select(GRAPH, ENTITY, URI, NAME_TOKENS, ATTRIBUTES, IMAGE_VECTOR);
            long entityCount = checkEntities(entities);
            Dataset<Row> indexed = persist(withIndex(entities));
            Dataset<Row> ids = indexed.select(GRAPH, ENTITY, INDEX);

            // ---- triples with dense head/tail indices; per (relation, graph) counts give the relation
            // vocabulary (count = triples) and the graphs' triple statistics in one job
            Dataset<Row> edges = persist(edges(ids));
            RelationStats relationStats = relationStats(edges);
            Vocab relations = relationStats.vocab();
            long sharedRelations = relationStats.shared();
            if (sharedRelations > 0) {
                LOG.warn("{}: {} relation id(s) occur in both graphs; each is one relation (one vocabulary entry)",
                        kg.name(), sharedRelations);
            }

            // ---- neighbours and relation bags
            Dataset<Row> neighbors = persist(neighbors(edges));
            Map<Integer, long[]> degreeStats = new TreeMap<>(); // graph -> {edges, truncated}
            for (Row r : neighbors.groupBy(GRAPH).agg(sum("degree"),
                    sum(when(size(col(NEIGHBORS)).lt(col("degree")), 1).otherwise(0))).collectAsList()) {
                degreeStats.put(r.getInt(0), new long[]{r.getLong(1) / 2, r.getLong(2)});
            }
            Dataset<Row> bags = relationBags(edges, relations.vocab());

            // ---- names and their character n-grams
            boolean lower = cfg.lowercase();
            JavaRDD<List<String>> names = indexed.where(col(NAME_TOKENS).isNotNull()).select(NAME_TOKENS).javaRDD()
                    .map(r -> nameTokens(r.getList(0), lower));
            Vocab nameVocab = vocabulary(names, 0);
            boolean hasName = nameVocab.vocab().size() > 2;
            WordVectors.Table vectors = null;
            if (hasName) {
                vectors = switch (cfg.nameVectors()) {
                    case FILE -> WordVectors.fromTextFile(jsc.hadoopConfiguration(), cfg.vectorsPath(),
                            nameVocab.vocab(), cfg.seed());
                    case RANDOM -> WordVectors.random(nameVocab.vocab(), cfg.dim(), cfg.seed());
                };
            }
            Vocab charVocab = null;
            if (hasName && cfg.charNgrams()) {
                int n = cfg.charNgram();
                charVocab = vocabulary(names.map(t -> ngrams(t, n)), cfg.maxCharVocab());
            }
            boolean hasChar = charVocab != null && charVocab.vocab().size() > 2;

            // ---- optional modalities: attributes and image vectors
            Vocab attributeVocab = vocabulary(indexed.where(col(ATTRIBUTES).isNotNull()).select(ATTRIBUTES)
                    .javaRDD().map(r -> attributes(r.getList(0))), 0);
            boolean hasAttribute = attributeVocab.vocab().size() > 2;
            int imageDim = imageDim(indexed);
            boolean hasImage = imageDim > 0;

            // ---- entity rows
            List<String> modalities = new ArrayList<>(List.of(STRUCTURE, KgTableMetadata.RELATION));
            if (hasAttribute) {
                modalities.add(ATTRIBUTE);
            }
            if (hasImage) {
                modalities.add(IMAGE);
            }
            if (hasName) {
                modalities.add(NAME);
            }
            if (hasChar) {
                modalities.add(CHAR);
            }
            RowPlan plan = new RowPlan(kg.name(), lower, hasName, hasChar, cfg.charNgram(), hasAttribute, hasImage,
                    imageDim);
            StructType schema = KgSchema.struct(KgSchema.entityColumns(modalities));
            Dataset<Row> base = indexed
                    .join(neighbors.select(col("src"), col(NEIGHBORS)), col(INDEX).equalTo(col("src")), "left")
                    .join(bags, col(INDEX).equalTo(col("e")), "left")
                    .select(GRAPH, ENTITY, INDEX, URI, NAME_TOKENS, ATTRIBUTES, IMAGE_VECTOR, NEIGHBORS, RELATION_IDS,
                            RELATION_COUNTS);
            Broadcast<Vocabulary> nameB = jsc.broadcast(hasName ? nameVocab.vocab() : null);
            Broadcast<Vocabulary> charB = jsc.broadcast(hasChar ? charVocab.vocab() : null);
            Broadcast<Vocabulary> attrB = jsc.broadcast(hasAttribute ? attributeVocab.vocab() : null);
            JavaRDD<Row> rows = base.javaRDD().mapPartitions(it -> entityRows(it, plan, nameB.value(), charB.value(),
                    attrB.value()));
            int files = cfg.partitions() > 0 ? cfg.partitions()
                    : (int) Math.max(1, (entityCount + ENTITIES_PER_FILE - 1) / ENTITIES_PER_FILE);
            sorted(spark.createDataFrame(rows, schema), files, INDEX).write().parquet(root + "/entities");

            // ---- pairs with their split
            Dataset<Row> pairs = pairs(ids);
            sorted(pairs, 1, INDEX1).write().parquet(root + "/pairs");

            // ---- vocabularies and word vectors
            relations.vocab().toDataFrame(spark).write().parquet(root + "/vocab/relation");
            if (hasName) {
                nameVocab.vocab().toDataFrame(spark).write().parquet(root + "/vocab/name");
                vectors.toDataFrame(spark).write().parquet(root + "/embeddings/name");
            }
            if (hasChar) {
                charVocab.vocab().toDataFrame(spark).write().parquet(root + "/vocab/char");
            }
            if (hasAttribute) {
                attributeVocab.vocab().toDataFrame(spark).write().parquet(root + "/vocab/attribute");
            }
            LOG.info("Wrote the KG feature table; computing counts");

            // ---- counts from what was written
            Dataset<Row> written = spark.read().parquet(root + "/entities");
            Map<String, Map<String, Long>> present = new LinkedHashMap<>();
            Map<Integer, long[]> perGraph = writtenCounts(written, modalities, present);
            long total = perGraph.values().stream().mapToLong(v -> v[0]).sum();
            if (total == 0) {
                throw new InputException(kg.name() + " has no entities"
                        + (bad.skipped() > 0 ? " (all were skipped as bad records)" : ""));
            }
            Map<String, Long> splitCounts = new TreeMap<>();
            spark.read().parquet(root + "/pairs").groupBy(SPLIT).count().collectAsList()
                    .forEach(r -> splitCounts.put(r.getString(0), r.getLong(1)));

            List<KgTableMetadata.Graph> graphs = new ArrayList<>();
            for (int g = 1; g <= 2; g++) {
                long[] e = perGraph.getOrDefault(g, new long[]{0, -1, 0});
                long[] t = relationStats.graphs().getOrDefault(g, new long[3]);
                long[] d = degreeStats.getOrDefault(g, new long[2]);
                graphs.add(new KgTableMetadata.Graph(g, e[0], e[0] == 0 ? -1 : e[1], t[0], t[1], d[0], e[2], t[2]));
            }
            long truncated = degreeStats.values().stream().mapToLong(v -> v[1]).sum();
            List<KgTableMetadata.Modality> mods = new ArrayList<>();
            for (String m : modalities) {
                Map<String, Object> settings = new LinkedHashMap<>();
                switch (m) {
                    case STRUCTURE -> {
                        settings.put("max_neighbors", cfg.maxNeighbors());
                        settings.put("entities_truncated", truncated);
                        settings.put("self_loops", "dropped");
                        mods.add(modality(m, present, null, null, null, settings));
                    }
                    case KgTableMetadata.RELATION -> {
                        settings.put("distinct_relations", relations.distinct());
                        settings.put("relations_in_both_graphs", sharedRelations);
                        mods.add(modality(m, present, null, relations.vocab().size(), "vocab/relation", settings));
                    }
                    case ATTRIBUTE -> {
                        settings.put("distinct_attributes", attributeVocab.distinct());
                        mods.add(modality(m, present, null, attributeVocab.vocab().size(), "vocab/attribute",
                                settings));
                    }
                    case IMAGE -> mods.add(modality(m, present, imageDim, null, null, settings));
                    case NAME -> {
                        settings.put("lowercase", lower);
                        settings.put("vectors", vectors.source());
                        settings.put("vocab_tokens_with_vector", vectors.covered());
                        if (cfg.nameVectors() == KgExtractionConfig.NameVectors.FILE) {
                            settings.putAll(nameCoverage(written, vectors));
                        }
                        mods.add(new KgTableMetadata.Modality(m, present.get(m), null, nameVocab.vocab().size(),
                                "vocab/name", "embeddings/name", vectors.dim(), settings));
                    }
                    case CHAR -> {
                        settings.put("n", cfg.charNgram());
                        settings.put("max_vocab", cfg.maxCharVocab());
                        settings.put("distinct_ngrams", charVocab.distinct());
                        mods.add(modality(m, present, null, charVocab.vocab().size(), "vocab/char", settings));
                    }
                    default -> throw new IllegalStateException(m);
                }
            }
            KgTableMetadata.Split split = new KgTableMetadata.Split(cfg.splitSeed(), cfg.trainFraction(),
                    splitCounts.getOrDefault("train", 0L), splitCounts.getOrDefault("test", 0L));

            List<String> skipped = bad.report(kg.name());
            Configuration hc = jsc.hadoopConfiguration();
            String tableHash = ContentHash.of(hc, root, jsc);
            Map<String, Object> extraction = new LinkedHashMap<>();
            extraction.put("extractor_version", EXTRACTOR_VERSION);
            extraction.put("skipped_records", bad.skipped());
            extraction.put("entity_files", files);
            double wall = (System.currentTimeMillis() - t0) / 1000.0;
            KgTableMetadata meta = new KgTableMetadata(KgTableMetadata.FORMAT, KgTableMetadata.FORMAT_VERSION,
                    kg.name(), total, graphs, split, mods, tableHash, inputDescription(hc), extraction, resolvedConfig,
                    skipped, Provenance.current().asMap(), Instant.now().toString(), wall);
            writeText(out.fileSystem(), new Path(root, "metadata.json"), Json.write(meta));
            out.commit();
            LOG.info("KG feature table {}: {} entities ({} + {}), {} pairs ({} train, {} test), modalities {}, in {}s",
                    cfg.output(), total, graphs.get(0).entities(), graphs.get(1).entities(), split.total(),
                    split.train(), split.test(), mods.stream().map(x -> x.name() + "=" + x.presentTotal()).toList(),
                    String.format(Locale.ROOT, "%.1f", wall));
            return new Result(cfg.output(), meta);
        }

        private KgTableMetadata.Modality modality(String m, Map<String, Map<String, Long>> present, Integer dim,
                                                  Integer vocabSize, String vocabPath, Map<String, Object> settings) {
            return new KgTableMetadata.Modality(m, present.get(m), dim, vocabSize, vocabPath, null, null, settings);
        }

        // ------------------------------------------------------------ entities and indices

        /** Checks that graphs are 1 and 2 and (graph, entity) is unique; returns the entity count. One job. */
        private long checkEntities(Dataset<Row> entities) {
            Dataset<Row> perId = entities.groupBy(GRAPH, ENTITY).count();
            Column wrong = col("count").gt(1).or(not(col(GRAPH).isin(1, 2)));
            Row counts = perId.agg(sum("count"), sum(when(wrong, 1L).otherwise(0L))).first();
            if (!counts.isNullAt(1) && counts.getLong(1) > 0) {
                Row d = perId.where(wrong).orderBy(GRAPH, ENTITY).first();
                if (d.getInt(0) != 1 && d.getInt(0) != 2) {
                    throw new InputException(kg.name() + ": entity " + d.getInt(1) + " has graph " + d.getInt(0)
                            + "; graphs are 1 and 2");
                }
                throw new InputException(kg.name() + ": graph " + d.getInt(0) + " entity " + d.getInt(1) + " occurs "
                        + d.getLong(2) + " times; entity ids must be unique within a graph");
            }
            return counts.isNullAt(0) ? 0 : counts.getLong(0);
        }

        /** Appends the dense index: the position in (graph, entity) order. */
        private Dataset<Row> withIndex(Dataset<Row> entities) {
            StructType schema = entities.schema().add(INDEX, DataTypes.IntegerType, false);
            int width = entities.schema().size();
            JavaRDD<Row> rows = entities.orderBy(GRAPH, ENTITY).javaRDD().zipWithIndex().map(t -> {
                if (t._2() > Integer.MAX_VALUE) {
                    throw new InputException("more than 2^31 entities: dense indices are ints");
                }
                Object[] v = new Object[width + 1];
                for (int i = 0; i < width; i++) {
                    v[i] = t._1().get(i);
                }
                v[width] = (int) (long) t._2();
                return RowFactory.create(v);
            });
            return spark.createDataFrame(rows, schema);
        }

        /** The triples as (graph, head, relation, tail, hi, ti) with dense head and tail indices. */
        private Dataset<Row> edges(Dataset<Row> ids) {
            Dataset<Row> t = kg.triples().select(GRAPH, HEAD, RELATION, TAIL);
            Dataset<Row> h = ids.select(col(GRAPH).as("_hg"), col(ENTITY).as("_he"), col(INDEX).as("hi"));
            Dataset<Row> tl = ids.select(col(GRAPH).as("_tg"), col(ENTITY).as("_te"), col(INDEX).as("ti"));
            return t
                    .join(h, t.col(GRAPH).equalTo(col("_hg")).and(t.col(HEAD).equalTo(col("_he"))), "left")
                    .join(tl, t.col(GRAPH).equalTo(col("_tg")).and(t.col(TAIL).equalTo(col("_te"))), "left")
                    .select(t.col(GRAPH), t.col(HEAD), t.col(RELATION), t.col(TAIL), col("hi"), col("ti"));
        }

        /** What {@link #relationStats} computes (on the driver: one row per relation and graph). */
        private record RelationStats(Vocab vocab, long shared, Map<Integer, long[]> graphs) {
        }

        /**
         * One job over the triples: per (relation, graph) the triples, self-loops and triples with an unknown
         * head or tail. Gives the relation vocabulary, per graph {triples, self-loops, distinct relations}, the
         * relations used by both graphs; fails naming the first triple whose head or tail is not an entity.
         */
        private RelationStats relationStats(Dataset<Row> edges) {
            List<Row> rows = edges.groupBy(RELATION, GRAPH).agg(count("*"),
                    sum(when(col("hi").equalTo(col("ti")), 1L).otherwise(0L)),
                    sum(when(col("hi").isNull().or(col("ti").isNull()), 1L).otherwise(0L))).collectAsList();
            Map<Integer, Long> perRelation = new TreeMap<>();
            Map<Integer, Integer> graphsOf = new TreeMap<>();
            Map<Integer, long[]> graphs = new TreeMap<>();
            long dangling = 0;
            for (Row r : rows) {
                perRelation.merge(r.getInt(0), r.getLong(2), Long::sum);
                graphsOf.merge(r.getInt(0), 1, Integer::sum);
                long[] g = graphs.computeIfAbsent(r.getInt(1), k -> new long[3]);
                g[0] += r.getLong(2);
                g[1] += r.getLong(3);
                g[2]++;
                dangling += r.getLong(4);
            }
            if (dangling > 0) {
                Row d = edges.where(col("hi").isNull().or(col("ti").isNull()))
                        .orderBy(GRAPH, HEAD, RELATION, TAIL).first();
                boolean head = d.isNullAt(4);
                throw new InputException(kg.name() + ": triple (" + d.getInt(1) + ", " + d.getInt(2) + ", "
                        + d.getInt(3) + ") of graph " + d.getInt(0) + ": " + (head ? "head " + d.getInt(1)
                        : "tail " + d.getInt(3)) + " is not an entity of graph " + d.getInt(0));
            }
            List<Map.Entry<String, Long>> entries = new ArrayList<>();
            perRelation.forEach((rel, n) -> entries.add(Map.entry(Integer.toString(rel), n)));
            long shared = graphsOf.values().stream().filter(n -> n > 1).count();
            return new RelationStats(new Vocab(vocabulary(entries, 0), entries.size()), shared, graphs);
        }

        /**
         * Per entity with neighbours: (graph, src, neighbors, degree). Undirected, distinct, without
         * self-loops; with a cap, the neighbours linked by the most triples are kept (ties: lower index).
         */
        private Dataset<Row> neighbors(Dataset<Row> edges) {
            Dataset<Row> links = edges.where(col("hi").notEqual(col("ti")));
            Dataset<Row> directed = links.select(col(GRAPH), col("hi").as("src"), col("ti").as("dst"))
                    .union(links.select(col(GRAPH), col("ti").as("src"), col("hi").as("dst")));
            Dataset<Row> multiplicity = directed.groupBy(GRAPH, "src", "dst").agg(count("*").as("m"));
            int cap = cfg.maxNeighbors();
            if (cap == 0) {
                return multiplicity.groupBy(GRAPH, "src").agg(array_sort(collect_list("dst")).as(NEIGHBORS),
                        count("*").as("degree"));
            }
            return multiplicity.groupBy(GRAPH, "src")
                    .agg(sort_array(collect_list(struct(negate(col("m")).as("k"), col("dst").as("d")))).as("l"))
                    .select(col(GRAPH), col("src"),
                            expr("array_sort(transform(slice(l, 1, " + cap + "), x -> x.d))").as(NEIGHBORS),
                            size(col("l")).cast("long").as("degree"));
        }

        /** Per entity with triples: (e, relation_ids, relation_counts), ids ascending. */
        private Dataset<Row> relationBags(Dataset<Row> edges, Vocabulary vocab) {
            List<Row> map = new ArrayList<>();
            for (int id = 2; id < vocab.size(); id++) {
                map.add(RowFactory.create(Integer.parseInt(vocab.token(id)), id));
            }
            Dataset<Row> ids = spark.createDataFrame(map, new StructType()
                    .add(RELATION, DataTypes.IntegerType, false).add("rid", DataTypes.IntegerType, false));
            Dataset<Row> incident = edges.select(col("hi").as("e"), col(RELATION))
                    .union(edges.select(col("ti").as("e"), col(RELATION)));
            return incident.join(broadcast(ids), RELATION)
                    .groupBy("e", "rid").agg(count("*").cast("int").as("c"))
                    .groupBy("e").agg(sort_array(collect_list(struct(col("rid"), col("c")))).as("l"))
                    .select(col("e"), expr("transform(l, x -> x.rid)").as(RELATION_IDS),
                            expr("transform(l, x -> x.c)").as(RELATION_COUNTS));
        }

        /** Image vector size (0: no entity has one); every vector must have it. */
        private int imageDim(Dataset<Row> indexed) {
            Dataset<Row> withImage = indexed.where(col(IMAGE_VECTOR).isNotNull());
            List<Row> dims = withImage.groupBy(size(col(IMAGE_VECTOR)).as("d")).count().collectAsList();
            if (dims.isEmpty()) {
                return 0;
            }
            Row common = dims.stream().max((a, b) -> a.getLong(1) != b.getLong(1)
                    ? Long.compare(a.getLong(1), b.getLong(1)) : Integer.compare(b.getInt(0), a.getInt(0))).get();
            int dim = common.getInt(0);
            if (dims.size() > 1 || dim == 0) {
                Row b = withImage.where(size(col(IMAGE_VECTOR)).notEqual(dim).or(lit(dim == 0)))
                        .orderBy(INDEX).select(GRAPH, ENTITY, URI, IMAGE_VECTOR).first();
                int found = b.getList(3).size();
                throw new InputException(where(kg.name(), b.getInt(0), b.getInt(1), b.getString(2)) + ": "
                        + IMAGE_VECTOR + (found == 0 ? " is empty" : " has " + found + " values, expected " + dim
                        + " like the other " + common.getLong(1) + " entities with an image")
                        + " (image vectors must all have the same length)");
            }
            return dim;
        }

        // ------------------------------------------------------------ pairs

        private Dataset<Row> pairs(Dataset<Row> ids) {
            Dataset<Row> p = kg.pairs();
            if (Arrays.asList(p.columns()).contains(SPLIT)) {
                throw new IllegalArgumentException("the pairs already have a split column; the KG extraction"
                        + " assigns the split itself (extract.kg.split)");
            }
            Dataset<Row> split = cfg.split().apply(p.select(ENTITY1, ENTITY2));
            Dataset<Row> i1 = ids.where(col(GRAPH).equalTo(1)).select(col(ENTITY).as("_e1"), col(INDEX).as(INDEX1));
            Dataset<Row> i2 = ids.where(col(GRAPH).equalTo(2)).select(col(ENTITY).as("_e2"), col(INDEX).as(INDEX2));
            Dataset<Row> joined = persist(split.join(i1, col(ENTITY1).equalTo(col("_e1")), "left")
                    .join(i2, col(ENTITY2).equalTo(col("_e2")), "left")
                    .select(ENTITY1, ENTITY2, INDEX1, INDEX2, SPLIT));
            List<Row> unknown = joined.where(col(INDEX1).isNull().or(col(INDEX2).isNull())).orderBy(ENTITY1, ENTITY2)
                    .limit(1).collectAsList();
            if (!unknown.isEmpty()) {
                Row u = unknown.get(0);
                boolean first = u.isNullAt(2);
                throw new InputException(kg.name() + ": aligned pair (" + u.getInt(0) + ", " + u.getInt(1) + "): "
                        + (first ? "entity1 " + u.getInt(0) + " is not an entity of graph 1"
                        : "entity2 " + u.getInt(1) + " is not an entity of graph 2"));
            }
            return joined;
        }

        // ------------------------------------------------------------ counts and metadata

        /**
         * One job over the written entities: per graph {entities, first index, isolated entities}, and fills
         * {@code present} with the entities that have each modality, per graph ("1", "2").
         */
        private Map<Integer, long[]> writtenCounts(Dataset<Row> written, List<String> modalities,
                                                   Map<String, Map<String, Long>> present) {
            List<Column> aggs = new ArrayList<>(List.of(min(INDEX).cast("long"),
                    sum(when(size(col(NEIGHBORS)).equalTo(0), 1L).otherwise(0L))));
            for (String m : modalities) {
                Column has = switch (m) {
                    case STRUCTURE -> size(col(NEIGHBORS)).gt(0);
                    case KgTableMetadata.RELATION -> size(col(RELATION_IDS)).gt(0);
                    case ATTRIBUTE -> col(ATTRIBUTE_PRESENT);
                    case IMAGE -> col(IMAGE_PRESENT);
                    case NAME -> col(NAME_PRESENT);
                    case CHAR -> col(CHAR_PRESENT);
                    default -> throw new IllegalStateException(m);
                };
                aggs.add(sum(when(has, 1L).otherwise(0L)).as(m));
            }
            modalities.forEach(m -> present.put(m, new TreeMap<>()));
            Map<Integer, long[]> perGraph = new TreeMap<>();
            for (Row r : written.groupBy(GRAPH).agg(count("*"), aggs.toArray(new Column[0])).collectAsList()) {
                perGraph.put(r.getInt(0), new long[]{r.getLong(1), r.getLong(2), r.getLong(3)});
                for (int i = 0; i < modalities.size(); i++) {
                    present.get(modalities.get(i)).put(Integer.toString(r.getInt(0)), r.getLong(i + 4));
                }
            }
            return perGraph;
        }

        /** Name tokens (occurrences) and entities covered by a vector from the file. */
        private Map<String, Object> nameCoverage(Dataset<Row> written, WordVectors.Table vectors) {
            List<Row> found = new ArrayList<>();
            for (int id = 0; id < vectors.vectors().length; id++) {
                if (vectors.found(id)) {
                    found.add(RowFactory.create(id));
                }
            }
            Dataset<Row> foundIds = spark.createDataFrame(found, new StructType().add("id", DataTypes.IntegerType))
                    .withColumn("k", lit(1));
            Row r = written.where(col(NAME_PRESENT)).select(col(INDEX), explode(col(NAME_IDS)).as("id"))
                    .join(broadcast(foundIds), new String[]{"id"}, "left") // left join on a Seq of names
                    .agg(count("*"), count("k"), countDistinct(when(col("k").isNotNull(), col(INDEX))))
                    .first();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name_tokens", r.getLong(0));
            m.put("name_tokens_with_vector", r.getLong(1));
            m.put("entities_with_a_token_vector", r.getLong(2));
            return m;
        }

        private KgTableMetadata.Input inputDescription(Configuration hc) {
            Map<String, String> hashes = new TreeMap<>();
            try {
                for (String f : input.files()) {
                    Path p = new Path(input.path(), f);
                    if (p.getFileSystem(hc).exists(p)) {
                        hashes.put(f, ContentHash.of(hc, p.toString()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot hash the input " + input.path(), e);
            }
            StringBuilder all = new StringBuilder();
            hashes.forEach((f, h) -> all.append(f).append('\0').append(h).append('\n'));
            return new KgTableMetadata.Input(input.format(), input.path(), ContentHash.ofString(all.toString()),
                    hashes);
        }
    }

    /**
     * Sorted output files: a single file needs no range partitioning (and none of its sampling job).
     */
    private static Dataset<Row> sorted(Dataset<Row> ds, int files, String column) {
        Dataset<Row> parts = files == 1 ? ds.repartition(1) : ds.repartitionByRange(files, col(column));
        return parts.sortWithinPartitions(column);
    }

    // ---------------------------------------------------------------- vocabularies

    /** A vocabulary and the number of distinct entries seen (more than its size when capped). */
    private record Vocab(Vocabulary vocab, long distinct) {
    }

    /**
     * Counts entries (one list per entity) on the executors. Without a cap (0) every distinct entry is kept:
     * the counts are the vocabulary and come to the driver in one job; with a cap the distinct entries are
     * counted and the most frequent taken from the same shuffle output.
     */
    private static Vocab vocabulary(JavaRDD<List<String>> lists, int cap) {
        JavaPairRDD<String, Long> counts = lists.flatMap(List::iterator).mapToPair(t -> new Tuple2<>(t, 1L))
                .reduceByKey(Long::sum);
        if (cap <= 0) {
            List<Map.Entry<String, Long>> all = new ArrayList<>();
            counts.collect().forEach(t -> all.add(Map.entry(t._1(), t._2())));
            return new Vocab(vocabulary(all, 0), all.size());
        }
        long distinct = counts.count();
        List<Map.Entry<String, Long>> top = new ArrayList<>();
        counts.takeOrdered((int) Math.min(distinct, cap - 2L), new ByCountThenToken())
                .forEach(t -> top.add(Map.entry(t._1(), t._2())));
        return new Vocab(vocabulary(top, cap), distinct);
    }

    /**
     * A {@link Vocabulary} from (entry, count): padding, unknown, then by descending count, ties by entry (the
     * order of {@link Vocabulary#build}), at most {@code cap} ids (0: no cap).
     */
    static Vocabulary vocabulary(List<Map.Entry<String, Long>> counts, int cap) {
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts);
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        int keep = cap > 0 ? Math.min(sorted.size(), cap - 2) : sorted.size();
        List<String> tokens = new ArrayList<>(List.of(Vocabulary.PAD_TOKEN, Vocabulary.UNK_TOKEN));
        List<Long> cs = new ArrayList<>(List.of(0L, 0L));
        for (Map.Entry<String, Long> e : sorted.subList(0, keep)) {
            tokens.add(e.getKey());
            cs.add(e.getValue());
        }
        return new Vocabulary(tokens, cs);
    }

    /** Count descending, then entry ascending (serialisable, for takeOrdered). */
    private static final class ByCountThenToken implements Comparator<Tuple2<String, Long>>, Serializable {
        @Override
        public int compare(Tuple2<String, Long> a, Tuple2<String, Long> b) {
            int c = Long.compare(b._2(), a._2());
            return c != 0 ? c : a._1().compareTo(b._1());
        }
    }

    /** Name tokens, stripped (and lower-cased); blank tokens dropped. */
    static List<String> nameTokens(List<String> raw, boolean lowercase) {
        List<String> out = new ArrayList<>(raw.size());
        for (String t : raw) {
            if (t == null) {
                continue;
            }
            String s = t.strip();
            if (!s.isEmpty()) {
                out.add(lowercase ? s.toLowerCase(Locale.ROOT) : s);
            }
        }
        return out;
    }

    /**
     * The character n-grams of each token, in order, with repeats (MCLEA's bigram features: n-grams within a
     * token, no boundary markers; a token shorter than n has none). Counts code points, not UTF-16 units.
     */
    static List<String> ngrams(List<String> tokens, int n) {
        List<String> out = new ArrayList<>();
        for (String t : tokens) {
            int[] cp = t.codePoints().toArray();
            for (int i = 0; i + n <= cp.length; i++) {
                out.add(new String(cp, i, n));
            }
        }
        return out;
    }

    /** Attribute names, stripped; blank ones dropped. */
    static List<String> attributes(List<String> raw) {
        return nameTokens(raw, false);
    }

    // ---------------------------------------------------------------- entity rows (executors)

    private static Iterator<Row> entityRows(Iterator<Row> it, RowPlan plan, Vocabulary names, Vocabulary chars,
                                            Vocabulary attributes) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Row next() {
                return entityRow(it.next(), plan, names, chars, attributes);
            }
        };
    }

    /**
     * Input columns: 0 graph, 1 entity, 2 index, 3 uri, 4 name_tokens, 5 attributes, 6 image_vector,
     * 7 neighbors, 8 relation_ids, 9 relation_counts; output in {@link KgSchema#entityColumns} order.
     */
    private static Row entityRow(Row r, RowPlan plan, Vocabulary names, Vocabulary chars, Vocabulary attributes) {
        List<Object> v = new ArrayList<>(20);
        v.add(r.getInt(0));
        v.add(r.getInt(1));
        v.add(r.getInt(2));
        v.add(r.getString(3));
        v.add(r.isNullAt(7) ? new Integer[0] : r.get(7));
        v.add(r.isNullAt(8) ? new Integer[0] : r.get(8));
        v.add(r.isNullAt(9) ? new Integer[0] : r.get(9));
        if (plan.attribute()) {
            Integer[][] bag = r.isNullAt(5) ? null : bag(attributes(r.getList(5)), attributes);
            v.add(bag != null);
            v.add(bag == null ? null : bag[0]);
            v.add(bag == null ? null : bag[1]);
        }
        if (plan.image()) {
            Float[] image = r.isNullAt(6) ? null : image(r, plan);
            v.add(image != null);
            v.add(image);
        }
        List<String> tokens = r.isNullAt(4) ? List.of() : nameTokens(r.getList(4), plan.lowercase());
        if (plan.name()) {
            Integer[] ids = null;
            if (!tokens.isEmpty()) {
                ids = new Integer[tokens.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = names.id(tokens.get(i));
                }
            }
            v.add(ids != null);
            v.add(ids);
        }
        if (plan.chars()) {
            Integer[][] bag = bag(ngrams(tokens, plan.charNgram()), chars);
            v.add(bag != null);
            v.add(bag == null ? null : bag[0]);
            v.add(bag == null ? null : bag[1]);
        }
        return RowFactory.create(v.toArray());
    }

    /** A bag of vocabulary ids: {ids ascending, counts}; null when empty. */
    private static Integer[][] bag(List<String> entries, Vocabulary vocab) {
        if (entries.isEmpty()) {
            return null;
        }
        TreeMap<Integer, Integer> counts = new TreeMap<>();
        for (String e : entries) {
            counts.merge(vocab.id(e), 1, Integer::sum);
        }
        Integer[][] out = {new Integer[counts.size()], new Integer[counts.size()]};
        int i = 0;
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            out[0][i] = e.getKey();
            out[1][i++] = e.getValue();
        }
        return out;
    }

    private static Float[] image(Row r, RowPlan plan) {
        List<Double> raw = r.getList(6);
        Float[] out = new Float[plan.imageDim()];
        for (int i = 0; i < out.length; i++) {
            Double d = raw.get(i);
            if (d == null || !Double.isFinite(d)) {
                throw new InputException(where(plan.kgName(), r.getInt(0), r.getInt(1), r.getString(3)) + ": "
                        + IMAGE_VECTOR + " element " + i + " is " + d
                        + "; feature values must be finite (no NaN or infinity)");
            }
            out[i] = (float) (double) d;
        }
        return out;
    }

    /** Names an entity in messages: {@code dbp15k/zh_en graph 1 entity 5 (http://...)}. */
    static String where(String kgName, int graph, int entity, String uri) {
        return kgName + " graph " + graph + " entity " + entity + " (" + uri + ")";
    }

    private static void writeText(FileSystem fs, Path p, String text) {
        try (FSDataOutputStream o = fs.create(p, true)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
    }
}
