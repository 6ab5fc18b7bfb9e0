package dev.mmspark.training.models.tate;

import dev.mmspark.common.InputException;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.models.tfrnet.TfrNetBatchBuilder;
import dev.mmspark.training.models.tfrnet.TfrNetSpec;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Minibatches of TATE. Per modality, in {@link TateSpec#inputs()} order, three network inputs (no DL4J feature
 * masks; the masks are ordinary inputs the core reads), sequences cut to T and zero-padded:
 * <ul>
 *   <li>{@code in_<m>} {@code [B, C, T]}: what the model reads (C = 1 token id, or the D channels of a vector);
 *       all zeros where the modality is missing;</li>
 *   <li>{@code full_<m>} {@code [B, C, T]}: the complete sample, the frozen teacher's input;</li>
 *   <li>{@code mask_<m>} {@code [B, 2, T]}: channel 0 = 1 at the real positions of {@code in_<m>}, channel 1 at
 *       those of {@code full_<m>};</li>
 * </ul>
 * then {@code tag} {@code [B, 2(M+1) + 1]}: the missing tag of the model's input, the tag of the complete sample,
 * and the switch of the KL term (1 in training minibatches of the student phase, else 0).
 *
 * <p>The tag has M + 1 bits (4 for three modalities, as the official flag encoding): bit 0 is 1 when no modality
 * is missing, bit 1 + m when modality m is missing. A modality is missing when the sample lacks it, the caller
 * made it unavailable (the evaluation's protocol) or the training pattern dropped it.
 *
 * <p>Missing patterns: in training minibatches of the student phase a share {@code missing_rate} of the samples
 * lose the modalities of one pattern, drawn uniformly from all 2^M - 2 non-empty proper subsets of the
 * modalities ({@link #patterns}; for three modalities the six of the paper: one or two missing; the official
 * {@code miss_modality} draws {@code randint(0, 3)}, so only four of its six). Which samples, and which pattern,
 * is a seeded hash of (missing_seed, sample id): reproducible, independent of minibatches and workers, and the
 * same in every epoch, as the official code, which sets the patterns once when it loads the data. The teacher
 * phase and inference drop nothing.
 */
public final class TateBatchBuilder extends BatchBuilder {
    private final TateSpec spec;
    private final boolean teacherPhase;

    /** @param teacherPhase builds the teacher phase's training minibatches (nothing dropped, no KL term) */
    public TateBatchBuilder(TateSpec spec, boolean teacherPhase) {
        super(spec);
        this.spec = spec;
        this.teacherPhase = teacherPhase;
    }

    @Override
    protected List<String> featureColumns() {
        List<String> cols = new ArrayList<>();
        for (TfrNetSpec.Input in : spec.inputs()) {
            cols.add(TfrNetBatchBuilder.column(in));
            if (in.source() == TfrNetSpec.Source.SEQUENCE) {
                cols.add(in.modality() + "_length");
            }
        }
        return cols;
    }

    /**
     * The missing patterns of {@code modalities} modalities, as bit sets (bit m: modality m missing): every
     * non-empty proper subset, by size and then by value (three modalities: {0}, {1}, {2}, {0,1}, {0,2}, {1,2}).
     */
    public static List<Integer> patterns(int modalities) {
        List<Integer> out = new ArrayList<>();
        for (int size = 1; size < modalities; size++) {
            for (int set = 1; set < (1 << modalities) - 1; set++) {
                if (Integer.bitCount(set) == size) {
                    out.add(set);
                }
            }
        }
        return out;
    }

    /** The missing pattern (bit set) of training sample {@code id}, or 0 when it keeps all its modalities. */
    public static int pattern(long seed, double rate, String id, int modalities) {
        if (rate <= 0 || SplitAssigner.unit(seed, "tate\u0000" + id) >= rate) {
            return 0;
        }
        List<Integer> all = patterns(modalities);
        int k = (int) (SplitAssigner.unit(seed, "tate-pattern\u0000" + id) * all.size());
        return all.get(Math.min(k, all.size() - 1));
    }

    /** The M + 1 tag bits of an input whose missing modalities are the bit set {@code missing}. */
    public static float[] tag(int missing, int modalities) {
        float[] t = new float[modalities + 1];
        t[0] = missing == 0 ? 1f : 0f;
        for (int m = 0; m < modalities; m++) {
            t[1 + m] = (missing >> m & 1) == 1 ? 1f : 0f;
        }
        return t;
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable) {
        return features(rows, usable, false);
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable, boolean training) {
        List<TfrNetSpec.Input> inputs = spec.inputs();
        int mods = inputs.size();
        int n = rows.size();
        boolean student = training && !teacherPhase;
        double rate = student ? spec.params().missingRate() : 0;
        float klSwitch = student && spec.params().teacherEpochs() != 0 ? 1f : 0f;
        List<Set<String>> kept = new ArrayList<>(n);
        int width = 2 * (mods + 1) + 1;
        float[] tags = new float[n * width];
        for (int i = 0; i < n; i++) {
            int drop = rate > 0 ? pattern(spec.params().missingSeed(), rate, sampleId(rows.get(i)), mods) : 0;
            Set<String> k = new HashSet<>(usable.get(i));
            int missing = 0;
            int absent = 0;
            for (int m = 0; m < mods; m++) {
                String name = inputs.get(m).modality();
                if (!usable.get(i).contains(name)) {
                    absent |= 1 << m;
                }
                if ((drop >> m & 1) == 1) {
                    k.remove(name);
                }
                if (!k.contains(name)) {
                    missing |= 1 << m;
                }
            }
            kept.add(k);
            System.arraycopy(tag(missing, mods), 0, tags, i * width, mods + 1);
            System.arraycopy(tag(absent, mods), 0, tags, i * width + mods + 1, mods + 1);
            tags[i * width + width - 1] = klSwitch;
        }
        INDArray[] arrays = new INDArray[3 * mods + 1];
        for (int m = 0; m < mods; m++) {
            TfrNetSpec.Input in = inputs.get(m);
            int t = in.steps();
            int c = in.inputChannels();
            float[] data = new float[n * c * t];
            float[] full = new float[n * c * t];
            float[] mask = new float[n * 2 * t];
            for (int i = 0; i < n; i++) {
                if (!usable.get(i).contains(in.modality())) {
                    continue;
                }
                Row r = rows.get(i);
                float[] values = in.source() == TfrNetSpec.Source.TOKENS ? TfrNetBatchBuilder.ids(r, in)
                        : TfrNetBatchBuilder.vectors(r, in);
                boolean keep = kept.get(i).contains(in.modality());
                int length = Math.min(t, values.length / c);
                for (int p = 0; p < length; p++) {
                    mask[i * 2 * t + t + p] = 1f;
                    if (keep) {
                        mask[i * 2 * t + p] = 1f;
                    }
                    for (int ch = 0; ch < c; ch++) {
                        float v = values[p * c + ch];
                        full[(i * c + ch) * t + p] = v;
                        if (keep) {
                            data[(i * c + ch) * t + p] = v;
                        }
                    }
                }
            }
            arrays[3 * m] = Nd4j.create(data, new long[]{n, c, t}, 'c');
            arrays[3 * m + 1] = Nd4j.create(full, new long[]{n, c, t}, 'c');
            arrays[3 * m + 2] = Nd4j.create(mask, new long[]{n, 2, t}, 'c');
        }
        arrays[3 * mods] = Nd4j.create(tags, new long[]{n, width}, 'c');
        return new Features(arrays, new INDArray[arrays.length]);
    }

    /** The sample id the missing pattern is keyed on (the {@code id} column). */
    private static String sampleId(Row r) {
        int i = r.fieldIndex(ID);
        if (r.isNullAt(i)) {
            throw new InputException("a training row has no id; TATE's missing patterns are keyed on it");
        }
        return String.valueOf(r.get(i));
    }

    /** Whether this builder makes the teacher phase's training minibatches. */
    public boolean teacherPhase() {
        return teacherPhase;
    }

    static int tagWidth(int modalities) {
        return 2 * (modalities + 1) + 1;
    }
}
