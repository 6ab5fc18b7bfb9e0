package dev.mmspark.training.model;

import dev.mmspark.common.InputException;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns feature-table rows into a DL4J minibatch on the executors. A model supplies its inputs and feature
 * masks ({@link #features}); labels and label masks are the same for every model and built here:
 *
 * <ul>
 *   <li>one label array per network output, in {@link ModelSpec#outputs()} order: a one-hot
 *       {@code [batch, classes]} array of {@code label_index} (classification) or {@code [batch, 1]} of
 *       {@code target} (regression);</li>
 *   <li>one label mask {@code [batch, 1]} per output: 1 when the sample has every modality the output
 *       {@linkplain ModelOutput#requires() requires}, else 0. DL4J multiplies each sample's loss by it, so a
 *       sample contributes only to the outputs it can feed (the multitask loss of Page-Fortin &amp;
 *       Chaib-draa 2019).</li>
 * </ul>
 *
 * A modality a sample lacks -- or that the caller made unavailable -- is given to {@link #features} as not
 * usable; the model must then fill its input with zeros and mask it out, so that dropping a modality and
 * never having had it are indistinguishable.
 */
public abstract class BatchBuilder implements Serializable {
    public static final String LABEL_INDEX = "label_index";
    public static final String TARGET = "target";
    public static final String ID = "id";

    /** The network inputs and their feature masks (null entries: no mask for that input). */
    public record Features(INDArray[] inputs, INDArray[] masks) {
    }

    private final Task task;
    private final int classes;
    private final List<ModelOutput> outputs;
    private final List<String> modalities;

    protected BatchBuilder(ModelSpec spec) {
        this.task = spec.task();
        this.classes = spec.classes().size();
        this.outputs = List.copyOf(spec.outputs());
        this.modalities = List.copyOf(spec.modalities());
    }

    /** The model's input columns (besides the presence flags, which every builder reads). */
    protected abstract List<String> featureColumns();

    /**
     * The inputs for {@code rows}; {@code usable.get(i)} is the set of modalities row i may use. Arrays are
     * FLOAT; a network of another data type casts them.
     */
    protected abstract Features features(List<Row> rows, List<Set<String>> usable);

    /**
     * The inputs for {@code rows} when the caller also says whether it builds a training minibatch
     * ({@code withLabels}: the trainer's minibatches) or an inference one (predictions, evaluation). A model
     * whose training input differs from its inference input (TFR-Net's training-only frame drop) overrides this;
     * by default both are {@link #features(List, List)}.
     */
    protected Features features(List<Row> rows, List<Set<String>> usable, boolean withLabels) {
        return features(rows, usable);
    }

    /** Every feature-table column {@link #build} reads, for a column-pruned scan of the Parquet table. */
    public final List<String> columns() {
        Set<String> cols = new LinkedHashSet<>();
        cols.add(ID);
        cols.add(task == Task.CLASSIFICATION ? LABEL_INDEX : TARGET);
        for (String m : modalities) {
            cols.add(RowValues.presentColumn(m));
        }
        cols.addAll(featureColumns());
        return new ArrayList<>(cols);
    }

    public final List<String> modalities() {
        return modalities;
    }

    /** Usable modalities per row (present, and in {@code available} when given). */
    public final List<Set<String>> usable(List<Row> rows, List<Set<String>> available) {
        if (available != null && available.size() != rows.size()) {
            throw new IllegalArgumentException("available has " + available.size() + " entries for " + rows.size()
                    + " rows");
        }
        List<Set<String>> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            out.add(RowValues.usable(rows.get(i), modalities, available == null ? null : available.get(i)));
        }
        return out;
    }

    /**
     * A minibatch of {@code rows}. With {@code withLabels} every row must have a label; without, the label
     * arrays are zeros and every label mask is zero (inference).
     *
     * @param available per row the modalities the model may use, or null for all the row has
     */
    public final MultiDataSet build(List<Row> rows, List<Set<String>> available, boolean withLabels) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("cannot build an empty minibatch");
        }
        List<Set<String>> usable = usable(rows, available);
        Features f = features(rows, usable, withLabels);
        int n = rows.size();
        int width = task == Task.CLASSIFICATION ? classes : 1;
        float[][] target = new float[n][width];
        if (withLabels) {
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                if (task == Task.CLASSIFICATION) {
                    int idx = r.getInt(RowValues.index(r, LABEL_INDEX));
                    if (idx < 0 || idx >= classes) {
                        throw new InputException("row " + RowValues.id(r) + " has label_index " + idx + "; training "
                                + "rows need a class between 0 and " + (classes - 1));
                    }
                    target[i][idx] = 1f;
                } else {
                    int ti = RowValues.index(r, TARGET);
                    if (r.isNullAt(ti)) {
                        throw new InputException("row " + RowValues.id(r) + " has no target; training rows need one");
                    }
                    target[i][0] = (float) r.getDouble(ti);
                }
            }
        }
        INDArray[] labels = new INDArray[outputs.size()];
        INDArray[] labelMasks = new INDArray[outputs.size()];
        INDArray labelArray = Nd4j.create(target);
        for (int o = 0; o < outputs.size(); o++) {
            float[][] mask = new float[n][1];
            if (withLabels) {
                for (int i = 0; i < n; i++) {
                    mask[i][0] = usable.get(i).containsAll(outputs.get(o).requires()) ? 1f : 0f;
                }
            }
            labels[o] = o == 0 ? labelArray : labelArray.dup();
            labelMasks[o] = Nd4j.create(mask);
        }
        return new org.nd4j.linalg.dataset.MultiDataSet(f.inputs(), labels, f.masks(), labelMasks);
    }

    /**
     * Token ids of {@code column} as a {@code [batch, 1, length]} input and its {@code [batch, length]} mask,
     * length the longest usable row's; a row that may not use {@code modality} is all zeros, mask 0.
     *
     * @throws InputException naming the row when the ids are null although the modality is present, or an id
     *         lies outside the {@code vocabSize} tokens the model was built with
     */
    protected static INDArray[] tokenIds(List<Row> rows, List<Set<String>> usable, String modality, String column,
                                         int vocabSize) {
        int[][] ids = new int[rows.size()][];
        int length = 1;
        for (int i = 0; i < rows.size(); i++) {
            if (!usable.get(i).contains(modality)) {
                continue;
            }
            int[] v = RowValues.ints(rows.get(i), column);
            if (v == null) {
                throw new InputException("row " + RowValues.id(rows.get(i)) + ": " + column + " is null but "
                        + modality + "_present is true");
            }
            for (int id : v) {
                if (id < 0 || id >= vocabSize) {
                    throw new InputException("row " + RowValues.id(rows.get(i)) + ": " + column + " contains id " + id
                            + ", outside the vocabulary of " + vocabSize + " tokens the model was trained with (is "
                            + "this the feature table the model was trained on?)");
                }
            }
            ids[i] = v;
            length = Math.max(length, v.length);
        }
        float[] data = new float[rows.size() * length];
        float[] mask = new float[rows.size() * length];
        for (int i = 0; i < rows.size(); i++) {
            if (ids[i] == null) {
                continue;
            }
            for (int j = 0; j < ids[i].length; j++) {
                data[i * length + j] = ids[i][j];
                mask[i * length + j] = 1f;
            }
        }
        return new INDArray[]{Nd4j.create(data, new long[]{rows.size(), 1, length}, 'c'),
                Nd4j.create(mask, new long[]{rows.size(), length}, 'c')};
    }
}
