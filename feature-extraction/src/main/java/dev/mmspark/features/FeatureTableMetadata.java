package dev.mmspark.features;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * {@code metadata.json} of a feature table: what each column holds, which extractor produced it (name and
 * version), the resolved configuration, the input paths with content hashes, row counts and provenance.
 * Training records the table's path, hash and row count from here in every model it saves.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FeatureTableMetadata(
        String format,
        int formatVersion,
        String task,
        List<String> classes,
        List<Modality> modalities,
        Map<String, Long> rows,
        String tableHash,
        Input input,
        Map<String, Object> extraction,
        JsonNode config,
        List<String> skippedRecords,
        Map<String, Object> provenance,
        String createdAt,
        double wallSeconds) implements Serializable {

    public static final String FORMAT = "mmspark-feature-table";
    public static final int FORMAT_VERSION = 1;

    /** The dataset the table was extracted from. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Input(String format, String path, String contentHash, long records) implements Serializable {
    }

    /**
     * One modality: its columns, shape, and (for token modalities) vocabulary and embedding table.
     *
     * @param shape       shape of one sample's values; -1 marks a variable length
     * @param presentRows rows where the modality is present, per split
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Modality(String name, ModalityKind kind, List<Integer> shape, Map<String, Long> presentRows,
                           String extractor, int extractorVersion, Map<String, Object> settings,
                           Integer vocabSize, String vocabPath, String embeddingsPath, Integer embeddingDim,
                           Integer pooledDim) implements Serializable {

        public String presentColumn() {
            return name + "_present";
        }

        public String valuesColumn() {
            return name + "_values";
        }

        public String idsColumn() {
            return name + "_ids";
        }

        public String pooledColumn() {
            return name + "_pooled";
        }

        public String lengthColumn() {
            return name + "_length";
        }

        public long presentTotal() {
            return presentRows.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    public Modality modality(String name) {
        for (Modality m : modalities) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }

    public List<String> modalityNames() {
        return modalities.stream().map(Modality::name).toList();
    }

    public long totalRows() {
        return rows.values().stream().mapToLong(Long::longValue).sum();
    }
}
