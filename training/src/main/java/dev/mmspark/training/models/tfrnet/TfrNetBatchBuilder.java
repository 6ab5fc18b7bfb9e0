package dev.mmspark.training.models.tfrnet;

import dev.mmspark.common.InputException;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.features.text.Vocabulary;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Minibatches of TFR-Net: per modality, in {@link TfrNetSpec#inputs()} order, two network inputs
 * (no DL4J feature masks; the masks are ordinary inputs that the core reads):
 * <ul>
 *   <li>{@code in_<m>}: the complete sequence and the damaged copy side by side on the time axis,
 *       {@code [B, C, 2T]}: positions 0..T-1 complete, T..2T-1 damaged (C = 1 token id, or the D channels of a
 *       vector); sequences are cut to T, shorter ones zero-padded;</li>
 *   <li>{@code mask_<m>}: {@code [B, 2, T]}, channel 0 = 1 at the real positions, channel 1 = 1 at the real
 *       positions dropped from the damaged copy (the positions the reconstruction loss is computed on).</li>
 * </ul>
 * Frames are dropped only in training minibatches ({@code withLabels}, the trainer's); at inference the damaged
 * copy is the input as given and nothing is marked dropped, so the evaluation's frame-level protocol (which
 * degrades the rows itself) is what the model sees. As in the official {@code generate_m} a real frame is dropped
 * independently with probability {@code missing_rate}: a token becomes {@link Vocabulary#UNK} (official: BERT's
 * [UNK]), any other frame zeros. The draw is a seeded hash of (missing_seed, sample id, modality, position), so it
 * is reproducible, independent of how rows are split into minibatches and workers, and the same in every epoch --
 * as in the official code, which draws the masks once when it loads the data ({@code np.random.seed(missing_seed)}).
 * A modality the sample cannot use is all zeros with all-zero masks.
 */
public final class TfrNetBatchBuilder extends BatchBuilder {
    private final TfrNetSpec spec;

    public TfrNetBatchBuilder(TfrNetSpec spec) {
        super(spec);
        this.spec = spec;
    }

    /** The feature-table column that holds modality {@code in}'s sequence. */
    public static String column(TfrNetSpec.Input in) {
        return switch (in.source()) {
            case TOKENS -> in.modality() + "_ids";
            case POOLED -> in.modality() + "_pooled";
            default -> in.modality() + "_values";
        };
    }

    @Override
    protected List<String> featureColumns() {
        List<String> cols = new ArrayList<>();
        for (TfrNetSpec.Input in : spec.inputs()) {
            cols.add(column(in));
            if (in.source() == TfrNetSpec.Source.SEQUENCE) {
                cols.add(in.modality() + "_length");
            }
        }
        return cols;
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable) {
        return features(rows, usable, false);
    }

    /** Whether frame {@code position} of {@code modality} of sample {@code id} is dropped in training. */
    static boolean dropped(long seed, double rate, String id, String modality, int position) {
        return rate > 0 && SplitAssigner.unit(seed, "tfrnet\u0000" + id + "\u0000" + modality + "\u0000" + position) < rate;
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable, boolean training) {
        List<TfrNetSpec.Input> inputs = spec.inputs();
        INDArray[] arrays = new INDArray[2 * inputs.size()];
        double rate = training ? spec.params().missingRate() : 0;
        long seed = spec.params().missingSeed();
        for (int k = 0; k < inputs.size(); k++) {
            TfrNetSpec.Input in = inputs.get(k);
            int n = rows.size();
            int t = in.steps();
            int c = in.inputChannels();
            float[] data = new float[n * c * 2 * t];
            float[] mask = new float[n * 2 * t];
            for (int i = 0; i < n; i++) {
                if (!usable.get(i).contains(in.modality())) {
                    continue;
                }
                Row r = rows.get(i);
                float[] values = in.source() == TfrNetSpec.Source.TOKENS ? ids(r, in) : vectors(r, in);
                int length = Math.min(t, values.length / c);
                String id = training ? sampleId(r) : "";
                int base = i * c * 2 * t;
                for (int p = 0; p < length; p++) {
                    boolean drop = dropped(seed, rate, id, in.modality(), p);
                    mask[i * 2 * t + p] = 1f;
                    mask[i * 2 * t + t + p] = drop ? 1f : 0f;
                    for (int ch = 0; ch < c; ch++) {
                        float v = values[p * c + ch];
                        data[base + ch * 2 * t + p] = v;
                        float damaged = in.source() == TfrNetSpec.Source.TOKENS ? Vocabulary.UNK : 0f;
                        data[base + ch * 2 * t + t + p] = drop ? damaged : v;
                    }
                }
            }
            arrays[2 * k] = Nd4j.create(data, new long[]{n, c, 2L * t}, 'c');
            arrays[2 * k + 1] = Nd4j.create(mask, new long[]{n, 2, t}, 'c');
        }
        return new Features(arrays, new INDArray[arrays.length]);
    }

    /** The sample id the frame drop is keyed on (the {@code id} column; RowValues.id quotes it for messages). */
    private static String sampleId(Row r) {
        int i = r.fieldIndex(ID);
        if (r.isNullAt(i)) {
            throw new InputException("a training row has no id; TFR-Net's frame drop is keyed on it");
        }
        return String.valueOf(r.get(i));
    }

    /** The row's token ids of {@code in}, checked against its vocabulary. */
    public static float[] ids(Row r, TfrNetSpec.Input in) {
        String col = column(in);
        int[] v = RowValues.ints(r, col);
        if (v == null) {
            throw new InputException("row " + RowValues.id(r) + ": " + col + " is null but " + in.modality()
                    + "_present is true");
        }
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            if (v[j] < 0 || v[j] >= in.vocabSize()) {
                throw new InputException("row " + RowValues.id(r) + ": " + col + " contains id " + v[j] + ", outside the "
                        + "vocabulary of " + in.vocabSize() + " tokens the model was trained with (is this the feature "
                        + "table the model was trained on?)");
            }
            out[j] = v[j];
        }
        return out;
    }

    /** The row's sequence position-major ({@code [len * D]}): as stored, or its pixel patches. */
    public static float[] vectors(Row r, TfrNetSpec.Input in) {
        String col = column(in);
        float[] v = RowValues.floats(r, col);
        int d = in.dim();
        int expected;
        if (in.source() == TfrNetSpec.Source.SEQUENCE) {
            int li = RowValues.index(r, in.modality() + "_length");
            int len = r.isNullAt(li) ? -1 : r.getInt(li);
            expected = len < 0 ? -1 : len * d;
        } else if (in.source() == TfrNetSpec.Source.PATCHES) {
            expected = in.channels() * in.height() * in.width();
        } else if (in.source() == TfrNetSpec.Source.REGIONS) {
            expected = -2;                                   // any whole number of regions; cut to T below
        } else {
            expected = d;
        }
        boolean ok = v != null && (expected >= 0 ? v.length == expected : expected == -2 && v.length % d == 0);
        if (!ok) {
            throw new InputException("row " + RowValues.id(r) + ": " + col + " has " + (v == null ? "no values"
                    : v.length + " values") + " but " + in.modality() + "_present is true; the model expects "
                    + (expected == -1 ? "a length" : expected == -2 ? "a multiple of " + d : expected + " values")
                    + " (is this the feature table the model was trained on?)");
        }
        return in.source() == TfrNetSpec.Source.PATCHES ? patches(v, in) : v;
    }

    /**
     * Patch (py, px) in row-major order is position t; its vector holds pixel (c, py*p + dy, px*p + dx) at index
     * (c*p + dy)*p + dx (the layout of MISA's patches).
     */
    static float[] patches(float[] chw, TfrNetSpec.Input in) {
        int p = in.patch();
        int h = in.height();
        int w = in.width();
        int across = w / p;
        int d = in.dim();
        float[] out = new float[in.steps() * d];
        for (int c = 0; c < in.channels(); c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int t = (y / p) * across + x / p;
                    int f = (c * p + y % p) * p + x % p;
                    out[t * d + f] = chw[(c * h + y) * w + x];
                }
            }
        }
        return out;
    }
}
