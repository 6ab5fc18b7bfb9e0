package dev.mmspark.training.models.multitask;

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
 * Minibatches of the multitask model, one input per role in {@link MultitaskSpec#roles()} order:
 *
 * <ul>
 *   <li>image: {@code [B, C, H, W]} from {@code <m>_values} (pixels, CHW) or {@code [B, D]} from
 *       {@code <m>_pooled} (backbone embedding) / {@code <m>_values} (vector); no mask;</li>
 *   <li>text from a vector modality: {@code [B, D]} from {@code <m>_values}; no mask;</li>
 *   <li>text and tags: token ids {@code [B, 1, L]} with L the longest sequence of the batch, and a feature
 *       mask {@code [B, L]} (1 = real token, 0 = padding). Rank 3 lets DL4J's minibatch merging pad
 *       sequences of different lengths with masks.</li>
 * </ul>
 *
 * A modality the sample cannot use (absent, or dropped by the caller) is all zeros with an all-zero mask.
 */
public final class MultitaskBatchBuilder extends BatchBuilder {
    private final MultitaskSpec spec;

    public MultitaskBatchBuilder(MultitaskSpec spec) {
        super(spec);
        this.spec = spec;
    }

    @Override
    protected List<String> featureColumns() {
        List<String> cols = new ArrayList<>();
        if (spec.image() != null) {
            cols.add(imageColumn(spec.image()));
        }
        if (spec.text() != null) {
            cols.add(spec.text().modality() + (spec.text().fromVector() ? "_values" : "_ids"));
        }
        if (spec.tags() != null) {
            cols.add(spec.tags().modality() + "_ids");
        }
        return cols;
    }

    private static String imageColumn(MultitaskSpec.ImageInput image) {
        return image.modality() + (image.source() == MultitaskSpec.ImageSource.EMBEDDING ? "_pooled" : "_values");
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable) {
        List<Role> roles = spec.roles();
        INDArray[] inputs = new INDArray[roles.size()];
        INDArray[] masks = new INDArray[roles.size()];
        for (int k = 0; k < roles.size(); k++) {
            Role r = roles.get(k);
            if (r == Role.IMAGE) {
                inputs[k] = image(rows, usable);
            } else if (r == Role.TEXT && spec.text().fromVector()) {
                inputs[k] = vector(rows, usable, spec.text().modality(), spec.text().embeddingDim());
            } else {
                MultitaskSpec.TokenInput t = r == Role.TEXT ? spec.text() : spec.tags();
                INDArray[] idsAndMask = tokens(rows, usable, t);
                inputs[k] = idsAndMask[0];
                masks[k] = idsAndMask[1];
            }
        }
        return new Features(inputs, masks);
    }

    private INDArray image(List<Row> rows, List<Set<String>> usable) {
        MultitaskSpec.ImageInput image = spec.image();
        boolean pixels = image.source() == MultitaskSpec.ImageSource.PIXELS;
        int size = pixels ? image.pixels() : image.dim();
        String column = imageColumn(image);
        float[] data = new float[rows.size() * size];
        for (int i = 0; i < rows.size(); i++) {
            if (!usable.get(i).contains(image.modality())) {
                continue;
            }
            float[] v = RowValues.floats(rows.get(i), column);
            if (v == null || v.length != size) {
                throw new InputException("row " + RowValues.id(rows.get(i)) + ": " + column + " has "
                        + (v == null ? "no values" : v.length + " values") + " but " + image.modality()
                        + "_present is true; the model expects " + size + " (is this the feature table the model "
                        + "was trained on?)");
            }
            System.arraycopy(v, 0, data, i * size, size);
        }
        long[] shape = pixels ? new long[]{rows.size(), image.channels(), image.height(), image.width()}
                : new long[]{rows.size(), size};
        return Nd4j.create(data, shape, 'c');
    }

    /** A vector modality {@code <m>_values} as {@code [B, D]}; zeros where it is not usable. */
    private static INDArray vector(List<Row> rows, List<Set<String>> usable, String modality, int dim) {
        String column = modality + "_values";
        float[] data = new float[rows.size() * dim];
        for (int i = 0; i < rows.size(); i++) {
            if (!usable.get(i).contains(modality)) {
                continue;
            }
            float[] v = RowValues.floats(rows.get(i), column);
            if (v == null || v.length != dim) {
                throw new InputException("row " + RowValues.id(rows.get(i)) + ": " + column + " has "
                        + (v == null ? "no values" : v.length + " values") + " but " + modality + "_present is true; "
                        + "the model expects " + dim + " (is this the feature table the model was trained on?)");
            }
            System.arraycopy(v, 0, data, i * dim, dim);
        }
        return Nd4j.create(data, new long[]{rows.size(), dim}, 'c');
    }

    private INDArray[] tokens(List<Row> rows, List<Set<String>> usable, MultitaskSpec.TokenInput t) {
        return tokenIds(rows, usable, t.modality(), t.modality() + "_ids", t.vocabSize());
    }
}
