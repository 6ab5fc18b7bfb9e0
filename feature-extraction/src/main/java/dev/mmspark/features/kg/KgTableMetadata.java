package dev.mmspark.features.kg;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * {@code metadata.json} of a KG feature table: the graphs' counts, the seeded split of the aligned pairs,
 * which modalities exist (with their sizes, vocabularies and extraction settings), the input with its
 * content hash, the resolved configuration and provenance.
 *
 * @param name      the knowledge-graph pair, e.g. {@code dbp15k/zh_en}
 * @param entities  rows of {@code entities/}: dense indices are 0 .. entities-1
 * @param graphs    counts of graph 1 and graph 2
 * @param split     the seed, train fraction and pair counts of the split
 * @param tableHash content hash of everything in the table except this file
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KgTableMetadata(
        String format,
        int formatVersion,
        String name,
        long entities,
        List<Graph> graphs,
        Split split,
        List<Modality> modalities,
        String tableHash,
        Input input,
        Map<String, Object> extraction,
        JsonNode config,
        List<String> skippedRecords,
        Map<String, Object> provenance,
        String createdAt,
        double wallSeconds) implements Serializable {

    public static final String FORMAT = "mmspark-kg-table";
    public static final int FORMAT_VERSION = 1;

    /** The modality names, in the order they are listed. */
    public static final String STRUCTURE = "structure";
    public static final String RELATION = "relation";
    public static final String ATTRIBUTE = "attribute";
    public static final String IMAGE = "image";
    public static final String NAME = "name";
    public static final String CHAR = "char";

    /**
     * One graph's counts.
     *
     * @param firstIndex  its entities have dense indices firstIndex .. firstIndex+entities-1
     * @param triples     relation triples
     * @param selfLoops   triples whose head is their tail (they add no neighbour, but count in the relation bag
     *                    twice: as head and as tail)
     * @param edges       undirected neighbour pairs (distinct, without self-loops, before any cap)
     * @param isolated    entities without neighbours
     * @param relations   distinct relations of its triples
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Graph(int graph, long entities, long firstIndex, long triples, long selfLoops, long edges,
                        long isolated, long relations) implements Serializable {
    }

    /** The seeded train/test split of the aligned pairs. */
    public record Split(long seed, double trainFraction, long train, long test) implements Serializable {
        public long total() {
            return train + test;
        }
    }

    /**
     * One modality.
     *
     * @param present        entities that have it, per graph ("1", "2")
     * @param dim            vector size (image)
     * @param vocabSize      vocabulary size incl. padding (0) and unknown (1); ids are by descending count
     * @param vocabPath      the vocabulary (Parquet id, token, count), relative to the table
     * @param embeddingsPath the word vectors (Parquet id, vector), relative to the table (name)
     * @param embeddingDim   their size
     * @param settings       extraction settings and statistics
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Modality(String name, Map<String, Long> present, Integer dim, Integer vocabSize, String vocabPath,
                           String embeddingsPath, Integer embeddingDim, Map<String, Object> settings)
            implements Serializable {
        @JsonIgnore
        public long presentTotal() {
            return present.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * The input.
     *
     * @param files       the files read, relative to {@code path}, with their SHA-256 (absent files are not listed)
     * @param contentHash SHA-256 over the sorted (file, hash) list
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Input(String format, String path, String contentHash, Map<String, String> files)
            implements Serializable {
    }

    public Modality modality(String modality) {
        for (Modality m : modalities) {
            if (m.name().equals(modality)) {
                return m;
            }
        }
        return null;
    }

    @JsonIgnore
    public List<String> modalityNames() {
        return modalities.stream().map(Modality::name).toList();
    }

    public Graph graph(int graph) {
        for (Graph g : graphs) {
            if (g.graph() == graph) {
                return g;
            }
        }
        return null;
    }
}
