package dev.mmspark.training.fusion;

import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * BLOCK (Ben-younes et al., "BLOCK: bilinear superdiagonal fusion for visual question answering and visual
 * relationship detection", AAAI 2019), as in {@code Cadene/block.bootstrap.pytorch} (class Block, pos_norm
 * before_cat): a block-superdiagonal tensor decomposition. The projections q_m = x_m W_m + b_m (mm_dim) are cut
 * into {@code chunks} chunks (sizes as the reference's get_sizes_list); chunk c is fused by its own rank-R
 * MUTAN-style core,
 * <pre>
 *   z_c = sum_{r=1..R} prod_m (q_m[c] M_m^c + c_m^c)[r-th block],   z_c &lt;- z_c / sqrt|z_c| / ||.||  (power + L2)
 *   y   = [z_1; ...; z_C] W_o + b_o
 * </pre>
 * N &gt; 2 modalities: an N-mode core per chunk. A missing modality (a zero vector) has q_m = b_m.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class BlockVertex extends FusionVertex {
    private int mmDim;
    private int chunks;
    private int rank;
    private int outputDim;

    protected BlockVertex() {
    }

    public BlockVertex(int[] inputSizes, int mmDim, int chunks, int rank, int outputDim) {
        super(inputSizes);
        this.mmDim = mmDim;
        this.chunks = chunks;
        this.rank = rank;
        this.outputDim = outputDim;
    }

    @Override
    public int outputSize() {
        return outputDim;
    }

    /** The reference's get_sizes_list: ceil(dim / chunks) each, the last ones shortened to sum to dim. */
    static int[] chunkSizes(int dim, int chunks) {
        int split = (dim + chunks - 1) / chunks;
        int[] sizes = new int[chunks];
        java.util.Arrays.fill(sizes, split);
        sizes[chunks - 1] -= split * chunks - dim;
        if (sizes[chunks - 1] < 0) {
            int missing = sizes[chunks - 2] - sizes[chunks - 1];
            sizes[chunks - 1] = sizes[chunks - 2];
            for (int j = 0; j < missing; j++) {
                sizes[chunks - 1 - j] -= 1;
            }
        }
        int sum = 0;
        for (int s : sizes) {
            if (s <= 0) {
                throw new IllegalArgumentException("BLOCK: mm_dim " + dim + " cannot be cut into " + chunks
                        + " non-empty chunks");
            }
            sum += s;
        }
        if (sum != dim) {
            throw new IllegalArgumentException("BLOCK: chunk sizes " + java.util.Arrays.toString(sizes)
                    + " do not add up to mm_dim " + dim);
        }
        return sizes;
    }

    @Override
    protected void defineParameters(SDVertexParams params) {
        int[] sizes = chunkSizes(mmDim, chunks);
        for (int m = 0; m < inputSizes.length; m++) {
            params.addWeightParam("W" + m, inputSizes[m], mmDim);
            params.addBiasParam("b" + m, 1, mmDim);
            for (int c = 0; c < chunks; c++) {
                params.addWeightParam("M" + c + "m" + m, sizes[c], (long) sizes[c] * rank);
                params.addBiasParam("bc" + c + "m" + m, 1, (long) sizes[c] * rank);
            }
        }
        params.addWeightParam("Wo", mmDim, outputDim);
        params.addBiasParam("bo", 1, outputDim);
    }

    @Override
    protected SDVariable fuse(SameDiff sd, List<SDVariable> xs, Map<String, SDVariable> p) {
        int[] sizes = chunkSizes(mmDim, chunks);
        List<SDVariable> qs = new ArrayList<>();
        for (int m = 0; m < xs.size(); m++) {
            qs.add(linear(xs.get(m), p.get("W" + m), p.get("b" + m)));
        }
        SDVariable[] zs = new SDVariable[chunks];
        int begin = 0;
        for (int c = 0; c < chunks; c++) {
            List<SDVariable> ms = new ArrayList<>();
            for (int m = 0; m < qs.size(); m++) {
                SDVariable chunk = qs.get(m).get(SDIndex.all(), SDIndex.interval(begin, begin + sizes[c]));
                ms.add(linear(chunk, p.get("M" + c + "m" + m), p.get("bc" + c + "m" + m)));
            }
            SDVariable z = product(ms).reshape(-1, rank, sizes[c]).sum(1);
            zs[c] = powerL2Normalise(sd, z);
            begin += sizes[c];
        }
        SDVariable z = chunks == 1 ? zs[0] : sd.concat(1, zs);
        return linear(z, p.get("Wo"), p.get("bo"));
    }
}
