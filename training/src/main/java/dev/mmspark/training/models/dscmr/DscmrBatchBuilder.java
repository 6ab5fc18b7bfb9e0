package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.InputException;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Set;

/**
 * Minibatches of DSCMR: the image input, the text input and the pair flag, in that order.
 *
 * <ul>
 *   <li>vectors and backbone embeddings: {@code [B, D]}; pixels: {@code [B, C, H, W]} (CHW); tokens: ids
 *       {@code [B, 1, L]} with a feature mask {@code [B, L]} (1 = real token), L the longest text of the
 *       minibatch;</li>
 *   <li>pair flag {@code [B, 1]}: 1 when the row may use both modalities. The loss layer reads it to leave
 *       unpaired samples out of every term (a DL4J SameDiff output layer does not see label masks).</li>
 * </ul>
 *
 * A modality the row cannot use (absent, or withheld by the caller) is all zeros with an all-zero mask.
 *
 * <p>Labels come from {@link BatchBuilder}, one array per output of {@link DscmrSpec#outputs()}: with a pair
 * head, a second one-hot array for the pair classifier whose label mask {@code [B, 1]} is 1 exactly where the
 * pair flag is (the output requires both modalities), so only pairs train it.
 */
public final class DscmrBatchBuilder extends BatchBuilder {
    private final DscmrSpec spec;

    public DscmrBatchBuilder(DscmrSpec spec) {
        super(spec);
        this.spec = spec;
    }

    @Override
    protected List<String> featureColumns() {
        return List.of(spec.image().column(), spec.text().column());
    }

    @Override
    protected Features features(List<Row> rows, List<Set<String>> usable) {
        INDArray[] inputs = new INDArray[3];
        INDArray[] masks = new INDArray[3];
        DscmrParams.Role[] roles = DscmrParams.Role.values();
        for (int k = 0; k < roles.length; k++) {
            DscmrSpec.BranchInput in = spec.input(roles[k]);
            if (in.source() == DscmrSpec.Source.TOKENS) {
                INDArray[] idsAndMask = tokens(rows, usable, in);
                inputs[k] = idsAndMask[0];
                masks[k] = idsAndMask[1];
            } else {
                inputs[k] = dense(rows, usable, in);
            }
        }
        float[] flag = new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            flag[i] = usable.get(i).containsAll(spec.modalities()) ? 1f : 0f;
        }
        inputs[2] = Nd4j.create(flag, new long[]{rows.size(), 1}, 'c');
        return new Features(inputs, masks);
    }

    private static INDArray dense(List<Row> rows, List<Set<String>> usable, DscmrSpec.BranchInput in) {
        boolean pixels = in.source() == DscmrSpec.Source.PIXELS;
        int size = pixels ? in.channels() * in.height() * in.width() : in.dim();
        String column = in.column();
        float[] data = new float[rows.size() * size];
        for (int i = 0; i < rows.size(); i++) {
            if (!usable.get(i).contains(in.modality())) {
                continue;
            }
            float[] v = RowValues.floats(rows.get(i), column);
            if (v == null || v.length != size) {
                throw new InputException("row " + RowValues.id(rows.get(i)) + ": " + column + " has "
                        + (v == null ? "no values" : v.length + " values") + " but " + in.modality()
                        + "_present is true; the model expects " + size + " (is this the feature table the model "
                        + "was trained on?)");
            }
            System.arraycopy(v, 0, data, i * size, size);
        }
        long[] shape = pixels ? new long[]{rows.size(), in.channels(), in.height(), in.width()}
                : new long[]{rows.size(), size};
        return Nd4j.create(data, shape, 'c');
    }

    private static INDArray[] tokens(List<Row> rows, List<Set<String>> usable, DscmrSpec.BranchInput in) {
        return tokenIds(rows, usable, in.modality(), in.column(), in.vocabSize());
    }
}
