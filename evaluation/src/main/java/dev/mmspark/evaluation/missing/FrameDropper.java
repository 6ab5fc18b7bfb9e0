package dev.mmspark.evaluation.missing;

import dev.mmspark.data.SplitAssigner;
import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.text.Vocabulary;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The frame-level protocol of TFR-Net (Yuan et al., ACM MM 2021): in every modality of every test sample a
 * share {@code rate} of the frames is dropped, each frame independently by a seeded hash of (seed, sample,
 * modality, position). A dropped token becomes the unknown token (TFR-Net replaces text frames with
 * [UNK]); a dropped sequence frame or image region becomes zero (and a pooled backbone embedding becomes
 * the mean of the regions that are left); pixel images are cut into 4x4 cells that are zeroed. Fixed-length
 * vectors have no frames and are left as they are. The modality stays "present": its content is degraded,
 * which is what this protocol measures.
 */
public final class FrameDropper implements Serializable {
    private static final int PIXEL_CELLS = 4;

    private record Target(String modality, String kind, int values, int ids, int pooled, List<Integer> shape)
            implements Serializable {
    }

    private final double rate;
    private final long seed;
    private final List<Target> targets = new ArrayList<>();

    public FrameDropper(FeatureTableMetadata meta, StructType schema, double rate, long seed) {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("frame missing rate must be in [0, 1], found " + rate);
        }
        this.rate = rate;
        this.seed = seed;
        for (FeatureTableMetadata.Modality m : meta.modalities()) {
            int values = index(schema, m.valuesColumn());
            int ids = index(schema, m.idsColumn());
            int pooled = index(schema, m.pooledColumn());
            targets.add(new Target(m.name(), m.kind().name(), values, ids, pooled, m.shape()));
        }
    }

    private static int index(StructType s, String name) {
        for (int i = 0; i < s.fields().length; i++) {
            if (s.fields()[i].name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private boolean dropped(String id, String modality, int position) {
        return rate > 0 && SplitAssigner.unit(seed, id + "\u0000" + modality + "\u0000" + position) < rate;
    }

    public Row apply(Row row) {
        if (rate == 0) {
            return row;
        }
        Object[] v = new Object[row.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = row.get(i);
        }
        String id = row.getString(row.fieldIndex("id"));
        for (Target t : targets) {
            switch (t.kind()) {
                case "TOKENS" -> {
                    if (t.ids() >= 0 && v[t.ids()] != null) {
                        List<Integer> ids = row.getList(t.ids());
                        Integer[] out = new Integer[ids.size()];
                        for (int p = 0; p < out.length; p++) {
                            out[p] = dropped(id, t.modality(), p) ? Vocabulary.UNK : ids.get(p);
                        }
                        v[t.ids()] = scala.collection.JavaConverters.asScalaBuffer(List.of(out)).toSeq();
                    }
                }
                case "SEQUENCE" -> {
                    if (t.values() >= 0 && v[t.values()] != null) {
                        v[t.values()] = zeroFrames(row.getList(t.values()), t.shape().get(1), id, t.modality());
                    }
                }
                case "IMAGE_EMBEDDING" -> {
                    if (t.values() >= 0 && v[t.values()] != null && t.shape().size() == 2) {
                        int d = t.shape().get(1);
                        List<Float> regions = row.getList(t.values());
                        Float[] z = zeroFramesArray(regions, d, id, t.modality());
                        v[t.values()] = seq(z);
                        if (t.pooled() >= 0 && v[t.pooled()] != null) {
                            v[t.pooled()] = seq(meanOfKept(z, d, id, t.modality()));
                        }
                    }
                }
                case "IMAGE_PIXELS" -> {
                    if (t.values() >= 0 && v[t.values()] != null) {
                        v[t.values()] = seq(zeroCells(row.getList(t.values()), t.shape(), id, t.modality()));
                    }
                }
                default -> {
                    // VECTOR: no frames
                }
            }
        }
        return new GenericRowWithSchema(v, row.schema());
    }

    private Object zeroFrames(List<Float> values, int d, String id, String modality) {
        return seq(zeroFramesArray(values, d, id, modality));
    }

    private Float[] zeroFramesArray(List<Float> values, int d, String id, String modality) {
        Float[] out = values.toArray(new Float[0]);
        for (int f = 0; f * d < out.length; f++) {
            if (dropped(id, modality, f)) {
                for (int j = 0; j < d; j++) {
                    out[f * d + j] = 0f;
                }
            }
        }
        return out;
    }

    private Float[] meanOfKept(Float[] regions, int d, String id, String modality) {
        Float[] mean = new Float[d];
        java.util.Arrays.fill(mean, 0f);
        int kept = 0;
        for (int f = 0; f * d < regions.length; f++) {
            if (!dropped(id, modality, f)) {
                kept++;
                for (int j = 0; j < d; j++) {
                    mean[j] += regions[f * d + j];
                }
            }
        }
        for (int j = 0; j < d && kept > 0; j++) {
            mean[j] /= kept;
        }
        return mean;
    }

    private Float[] zeroCells(List<Float> pixels, List<Integer> shape, String id, String modality) {
        int c = shape.get(0);
        int h = shape.get(1);
        int w = shape.get(2);
        Float[] out = pixels.toArray(new Float[0]);
        int ch = Math.max(1, h / PIXEL_CELLS);
        int cw = Math.max(1, w / PIXEL_CELLS);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int cell = (y / ch) * PIXEL_CELLS + (x / cw);
                if (dropped(id, modality, cell)) {
                    for (int k = 0; k < c; k++) {
                        out[k * h * w + y * w + x] = 0f;
                    }
                }
            }
        }
        return out;
    }

    private static Object seq(Object[] a) {
        return scala.collection.JavaConverters.asScalaBuffer(java.util.Arrays.asList(a)).toSeq();
    }
}
