package dev.mmspark.training.models.misa;

import dev.mmspark.common.InputException;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Minibatches of MISA, one input per modality in {@link MisaSpec#inputs()} order, each a sequence with a
 * feature mask {@code [B, T]} (1 = a real position):
 * <ul>
 *   <li>tokens: ids {@code [B, 1, L]}, L the longest sequence of the batch;</li>
 *   <li>everything else: vectors {@code [B, D, T]} (channels first, as DL4J's 1-D layers want), T the number of
 *       regions or patches, 1 for a single vector, or the longest sequence of the batch.</li>
 * </ul>
 * A modality the sample cannot use (absent, or dropped by the caller) is all zeros with an all-zero mask. With a
 * fusion operator other than the paper's concatenation, one presence input {@code [B, 1]} per modality follows
 * (1 = the sample has it), for the operator's presence masks ({@link MisaNetwork#presence}).
 */
public final class MisaBatchBuilder extends BatchBuilder {
    private final MisaSpec spec;

    public MisaBatchBuilder(MisaSpec spec) {
        super(spec);
        this.spec = spec;
    }

    static String column(MisaSpec.Input in) {
        return switch (in.source()) {
            case TOKENS -> in.modality() + "_ids";
            case POOLED -> in.modality() + "_pooled";
            default -> in.modality() + "_values";
        };
    }

    @Override
    protected List<String> featureColumns() {
        List<String> cols = new ArrayList<>();
        for (MisaSpec.Input in : spec.inputs()) {
            cols.add(column(in));
            if (in.source() == MisaSpec.Source.SEQUENCE) {
                cols.add(in.modality() + "_length");
            }
        }
        return cols;
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable) {
        List<MisaSpec.Input> inputs = spec.inputs();
        int n = inputs.size();
        boolean presence = !spec.params().officialFusion();
        INDArray[] arrays = new INDArray[presence ? 2 * n : n];
        INDArray[] masks = new INDArray[arrays.length];
        for (int k = 0; k < n; k++) {
            INDArray[] am = inputs.get(k).source() == MisaSpec.Source.TOKENS
                    ? tokens(rows, usable, inputs.get(k)) : vectors(rows, usable, inputs.get(k));
            arrays[k] = am[0];
            masks[k] = am[1];
            if (presence) {
                float[] p = new float[rows.size()];
                for (int i = 0; i < rows.size(); i++) {
                    p[i] = usable.get(i).contains(inputs.get(k).modality()) ? 1f : 0f;
                }
                arrays[n + k] = Nd4j.create(p, new long[]{rows.size(), 1}, 'c');
            }
        }
        return new Features(arrays, masks);
    }

    private static INDArray[] tokens(List<Row> rows, List<Set<String>> usable, MisaSpec.Input in) {
        return tokenIds(rows, usable, in.modality(), column(in), in.vocabSize());
    }

    private static INDArray[] vectors(List<Row> rows, List<Set<String>> usable, MisaSpec.Input in) {
        String col = column(in);
        int d = in.dim();
        float[][] values = new float[rows.size()][];
        int[] steps = new int[rows.size()];
        int length = Math.max(1, in.steps());
        for (int i = 0; i < rows.size(); i++) {
            if (!usable.get(i).contains(in.modality())) {
                continue;
            }
            Row r = rows.get(i);
            float[] v = RowValues.floats(r, col);
            int t = in.steps();
            if (in.source() == MisaSpec.Source.SEQUENCE) {
                int li = RowValues.index(r, in.modality() + "_length");
                t = r.isNullAt(li) ? -1 : r.getInt(li);
            }
            int expected = in.source() == MisaSpec.Source.PATCHES ? in.channels() * in.height() * in.width() : t * d;
            if (v == null || t < 0 || v.length != expected) {
                throw new InputException("row " + RowValues.id(r) + ": " + col + " has "
                        + (v == null ? "no values" : v.length + " values") + " but " + in.modality() + "_present is true;"
                        + " the model expects " + (t < 0 ? "a length" : expected + " values") + " (is this the feature "
                        + "table the model was trained on?)");
            }
            values[i] = v;
            steps[i] = t;
            length = Math.max(length, t);
        }
        float[] data = new float[rows.size() * d * length];
        float[] mask = new float[rows.size() * length];
        for (int i = 0; i < rows.size(); i++) {
            if (values[i] == null) {
                continue;
            }
            int base = i * d * length;
            if (in.source() == MisaSpec.Source.PATCHES) {
                patches(values[i], in, data, base, length);
            } else {
                // stored position-major (t, c); the network wants channels first (c, t)
                for (int t = 0; t < steps[i]; t++) {
                    for (int c = 0; c < d; c++) {
                        data[base + c * length + t] = values[i][t * d + c];
                    }
                }
            }
            for (int t = 0; t < steps[i]; t++) {
                mask[i * length + t] = 1f;
            }
        }
        return new INDArray[]{Nd4j.create(data, new long[]{rows.size(), d, length}, 'c'),
                Nd4j.create(mask, new long[]{rows.size(), length}, 'c')};
    }

    /**
     * Patch (py, px) in row-major order is position t; its vector holds pixel (c, py*p + dy, px*p + dx) at index
     * (c*p + dy)*p + dx.
     */
    static void patches(float[] chw, MisaSpec.Input in, float[] out, int base, int length) {
        int p = in.patch();
        int h = in.height();
        int w = in.width();
        int across = w / p;
        for (int c = 0; c < in.channels(); c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int t = (y / p) * across + x / p;
                    int f = (c * p + y % p) * p + x % p;
                    out[base + f * length + t] = chw[(c * h + y) * w + x];
                }
            }
        }
    }
}
