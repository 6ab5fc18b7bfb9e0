package dev.mmspark.training.models.tate;

import dev.mmspark.training.layers.ExternalErrorsFix;
import dev.mmspark.training.layers.SameDiffSessionMemory;
import dev.mmspark.training.layers.SdMath;
import dev.mmspark.training.layers.SerialCopy;
import dev.mmspark.training.layers.XavierInit;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * TATE's encoders, decoder and pooling (Zeng, Liu &amp; Zhou, "Tag-assisted Multimodal Sentiment Analysis under
 * Uncertain Missing Modalities", SIGIR 2022; block by block as {@code JaydenZeng/TATE}, {@code network.py} and
 * {@code module.py}) as one SameDiff vertex, with a frozen copy of the encoder: the teacher.
 *
 * <p>Inputs, per modality m (M of them): {@code x_m [B, D_m, T_m]} the model's input already embedded (zeros
 * where missing), {@code c_m [B, C_m, T_m]} the complete sample, embedded (token ids by the teacher's frozen
 * embedding layer), {@code k_m [B, 2, T_m]} their real positions; then {@code g} the tags and
 * the KL switch ({@link TateBatchBuilder}). With d = {@code dim}, P = d + M + 1, N = sum_m T_m:
 * <pre>
 *   h_m   = Block_m(x_m Wp_m)  (real positions as keys; zero at the others)     per-modality encoder  [B, T_m, d]
 *   s_m   = [h_m W_mn]_{n != m}    W_mn = W_nm: [d, d/(M-1)], shared by the pair   common space     [B, T_m, d]
 *   u     = [s_1 ; ... ; s_M] (tokens) with the M+1-bit missing tag appended to every token         [B, N, P]
 *   e     = Block_enc(u)         encoder (keys: the real positions)                                   [B, N, P]
 *   r     = Block_dec(e)         decoder, reconstructs the tagged input u                             [B, N, P]
 *   v     = sum_t a_t e_t,  a = softmax_t(((e Wu) * sigmoid(e Wm)) Wr)    sigmoid-attention pooling    [B, P]
 *   e'    = the teacher's e: the same encoder with frozen parameters on the complete sample and its tag
 * </pre>
 * Block is the official post-norm Transformer block (Kyubyong's {@code multihead_attention} + {@code ff}):
 * a = LN(x + MHA(x)), Q/K/V projections without bias and no output projection; y = LN(a + W2 relu(W1 a + b1) + b2);
 * LayerNorm eps 1e-8. The pooling runs over the "slots": the real positions and every position of a missing
 * modality (whose tokens are zeros + tag, filled by attending to the others).
 *
 * <p>Output {@code [B, P + (M+1) + 4 N P + 2 N + (M+1) + 1]}: v, then for {@link TateLoss} the tag logits (the last
 * M + 1 channels of v, official {@code outputs_en[:, -4:]}), e, e', r, u (each position-major), the teacher's real
 * positions, the slots, the input's tag and the KL switch.
 *
 * <p>The teacher's parameters ({@code t...}: per-modality projections and encoders, pair matrices, encoder) have a zero learning rate and no regularisation, so parameter averaging leaves them as
 * {@link TateSpec#startMainPhase} set them.
 *
 * <p>Deviations from the official code, each for a reason given:
 * <ul>
 *   <li>the teacher reads the complete version of the sample (the paper's design); the official training script
 *       feeds the pretrained model the same missing-modality batch as the student;</li>
 *   <li>padding is masked: per-modality encoders attend to real keys only and zero their padded outputs, the
 *       encoder and decoder attend to the real positions, the pooling runs over the slots; the official code pads
 *       every sequence to a fixed length and, once the tag is appended, attends to and pools over padding;</li>
 *   <li>no query masking and no attention dropout (0.2 official): a SameDiff graph has no training switch;</li>
 *   <li>Q, K, V of the encoder and decoder (width P) use the largest divisor of P up to {@code heads} heads
 *       (official: 4 heads of 76 for P = 304);</li>
 *   <li>M modalities generalise the three pair matrices: modality m's common vector is the concatenation of its
 *       M - 1 pair projections of d/(M-1) columns (official: two of 150 for d = 300).</li>
 * </ul>
 */
public class TateCore extends SameDiffVertex {
    static final double LN_EPS = 1e-8;
    /** Added to the attention scores of masked keys. */
    static final double MASKED = 1e4;
    static final String TEACHER = "t";

    private int[] dims;
    private int[] steps;
    private int dim;
    private int heads;

    /** For JSON deserialisation. */
    protected TateCore() {
    }

    /**
     * @param dims  D_m, per-position size of each modality's sequence (embedding size for tokens)
     * @param steps T_m, each modality's fixed length
     * @param dim   d, the width of the per-modality encoders and of the common space
     * @param heads attention heads (must divide d)
     */
    public TateCore(int[] dims, int[] steps, int dim, int heads) {
        int m = dims.length;
        if (m < 2 || steps.length != m || dim < 1 || heads < 1 || dim % heads != 0
                || dim % (m - 1) != 0 || Arrays.stream(dims).anyMatch(x -> x < 1)
                || Arrays.stream(steps).anyMatch(x -> x < 1)) {
            throw new IllegalArgumentException("TATE core needs >= 2 modalities with sizes and lengths >= 1, dim >= 1 "
                    + "divisible by heads and by M - 1; found dims=" + Arrays.toString(dims) + " steps="
                    + Arrays.toString(steps) + " dim=" + dim + " heads=" + heads);
        }
        this.dims = dims.clone();
        this.steps = steps.clone();
        this.dim = dim;
        this.heads = heads;
    }

    int modalities() {
        return dims.length;
    }

    /** P, the width of the tagged tokens: d + M + 1. */
    static int width(int dim, int modalities) {
        return dim + modalities + 1;
    }

    static int tokens(int[] steps) {
        return Arrays.stream(steps).sum();
    }

    /** Heads of the encoder and decoder over P channels: the largest divisor of P up to {@code heads}. */
    static int jointHeads(int p, int heads) {
        for (int h = Math.min(heads, p); h > 1; h--) {
            if (p % h == 0) {
                return h;
            }
        }
        return 1;
    }

    /** Width of the output. */
    public static long outputSize(int[] steps, int dim) {
        int m = steps.length;
        long p = width(dim, m);
        long n = tokens(steps);
        return p + (m + 1) + 4 * n * p + 2 * n + (m + 1) + 1;
    }

    static String input(int m) {
        return "x" + m;
    }

    static String complete(int m) {
        return "c" + m;
    }

    static String mask(int m) {
        return "k" + m;
    }

    static final String TAGS = "g";

    static boolean isTeacher(String param) {
        return param.startsWith(TEACHER);
    }

    /** The student parameter a teacher parameter copies, or null (not a teacher parameter). */
    static String studentOf(String param) {
        return isTeacher(param) ? param.substring(TEACHER.length()) : null;
    }

    private static void defineBlock(SDVertexParams params, String q, long e) {
        for (String w : List.of("Wq", "Wk", "Wv")) {
            params.addWeightParam(q + w, e, e);
        }
        params.addBiasParam(q + "lnag", 1, e);
        params.addBiasParam(q + "lnab", 1, e);
        params.addWeightParam(q + "W1", e, 4 * e);
        params.addBiasParam(q + "b1", 1, 4 * e);
        params.addWeightParam(q + "W2", 4 * e, e);
        params.addBiasParam(q + "b2", 1, e);
        params.addBiasParam(q + "lnfg", 1, e);
        params.addBiasParam(q + "lnfb", 1, e);
    }

    private void defineEncoder(SDVertexParams params, String pre) {
        int mods = modalities();
        for (int m = 0; m < mods; m++) {
            params.addWeightParam(pre + "m" + m + "Wp", dims[m], dim);
            defineBlock(params, pre + "m" + m, dim);
        }
        for (int m = 0; m < mods; m++) {
            for (int n = m + 1; n < mods; n++) {
                params.addWeightParam(pre + pair(m, n), dim, dim / (mods - 1));
            }
        }
        defineBlock(params, pre + "e", width(dim, mods));
    }

    private static String pair(int m, int n) {
        return "p" + Math.min(m, n) + "x" + Math.max(m, n) + "W";
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        int mods = modalities();
        String[] names = new String[3 * mods + 1];
        for (int m = 0; m < mods; m++) {
            names[3 * m] = input(m);
            names[3 * m + 1] = complete(m);
            names[3 * m + 2] = mask(m);
        }
        names[3 * mods] = TAGS;
        params.defineInputs(names);
        long p = width(dim, mods);
        defineEncoder(params, "");
        defineBlock(params, "d", p);
        params.addWeightParam("aWu", p, p);
        params.addWeightParam("aWm", p, p);
        params.addWeightParam("aWr", p, 1);
        defineEncoder(params, TEACHER);
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> in, Map<String, SDVariable> p,
                                   Map<String, SDVariable> masks) {
        SameDiffSessionMemory.register(sd);                  // intermediate arrays freed pass by pass, not by the GC
        int mods = modalities();
        int n = tokens(steps);
        int width = width(dim, mods);
        SDVariable[] student = new SDVariable[mods];
        SDVariable[] teacher = new SDVariable[mods];
        SDVariable[] realS = new SDVariable[mods];
        SDVariable[] realT = new SDVariable[mods];
        for (int m = 0; m < mods; m++) {
            int t = steps[m];
            student[m] = in.get(input(m)).permute(0, 2, 1);                                       // [B, T, D]
            teacher[m] = in.get(complete(m)).permute(0, 2, 1);
            SDVariable k = in.get(mask(m));
            realS[m] = k.get(SDIndex.all(), SDIndex.point(0), SDIndex.all());                     // [B, T]
            realT[m] = k.get(SDIndex.all(), SDIndex.point(1), SDIndex.all());
        }
        SDVariable g = in.get(TAGS);
        SDVariable tagS = g.get(SDIndex.all(), SDIndex.interval(0L, (long) mods + 1));
        SDVariable tagT = g.get(SDIndex.all(), SDIndex.interval((long) mods + 1, 2L * mods + 2));
        SDVariable klSwitch = g.get(SDIndex.all(), SDIndex.interval(2L * mods + 2, 2L * mods + 3));
        SDVariable[] studentOut = encode(sd, p, "", student, realS, tagS, n, width);
        SDVariable enc = studentOut[0];
        SDVariable tagged = studentOut[1];
        SDVariable encT = encode(sd, p, TEACHER, teacher, realT, tagT, n, width)[0];
        SDVariable qReal = sd.concat(1, realS);
        SDVariable dec = block(sd, p, "d", enc, keyBias(qReal, n), n, width, jointHeads(width, heads));
        // slots: the real positions, and every position of a missing modality (tag bit 1 + m)
        SDVariable[] slots = new SDVariable[mods];
        for (int m = 0; m < mods; m++) {
            SDVariable bit = tagS.get(SDIndex.all(), SDIndex.interval(1L + m, 2L + m));           // [B, 1]
            slots[m] = realS[m].add(bit).sub(realS[m].mul(bit));
        }
        SDVariable qSlots = sd.concat(1, slots);                                                  // [B, N]
        SDVariable qTeacher = sd.concat(1, realT);
        SDVariable pooled = pool(sd, p, enc, qSlots, n, width);                                   // [B, P]
        SDVariable tagLogits = pooled.get(SDIndex.all(), SDIndex.interval((long) dim, (long) width));
        long np = (long) n * width;
        return ExternalErrorsFix.output(sd, sd.concat(1, pooled, tagLogits, enc.reshape(-1, np), encT.reshape(-1, np),
                dec.reshape(-1, np), tagged.reshape(-1, np), qTeacher, qSlots, tagS, klSwitch));
    }

    /** The encoder with parameters {@code pre...}: {e, u} (encoder output and tagged input), each [B, N, P]. */
    private SDVariable[] encode(SameDiff sd, Map<String, SDVariable> p, String pre, SDVariable[] x, SDVariable[] real,
                                SDVariable tag, int n, int width) {
        int mods = modalities();
        SDVariable[] h = new SDVariable[mods];
        for (int m = 0; m < mods; m++) {
            int t = steps[m];
            SDVariable projected = x[m].reshape(-1, dims[m]).mmul(p.get(pre + "m" + m + "Wp")).reshape(-1, t, dim);
            SDVariable encoded = block(sd, p, pre + "m" + m, projected, keyBias(real[m], t), t, dim, heads);
            h[m] = encoded.mul(real[m].reshape(-1, t, 1));
        }
        SDVariable[] common = new SDVariable[mods];
        int part = dim / (mods - 1);
        for (int m = 0; m < mods; m++) {
            List<SDVariable> parts = new ArrayList<>();
            for (int o = 0; o < mods; o++) {
                if (o != m) {
                    parts.add(h[m].reshape(-1, dim).mmul(p.get(pre + pair(m, o))).reshape(-1, steps[m], part));
                }
            }
            common[m] = parts.size() == 1 ? parts.get(0) : sd.concat(2, parts.toArray(new SDVariable[0]));
        }
        SDVariable all = sd.concat(1, common);                                                    // [B, N, d]
        INDArray ones = Nd4j.ones(1, n, 1).castTo(x[0].dataType());
        SDVariable tags = tag.reshape(-1, 1, mods + 1).mul(sd.constant(ones));                    // [B, N, M+1]
        SDVariable tagged = sd.concat(2, all, tags);
        SDVariable enc = block(sd, p, pre + "e", tagged, keyBias(sd.concat(1, real), n), n, width,
                jointHeads(width, heads));
        return new SDVariable[]{enc, tagged};
    }

    private static SDVariable keyBias(SDVariable real, int t) {
        return real.sub(1.0).mul(MASKED).reshape(-1, 1, 1, t);
    }

    /** The official post-norm block over {@code x [B, n, e]}: LN(x + MHA(x)), then LN(a + FF(a)). */
    private static SDVariable block(SameDiff sd, Map<String, SDVariable> p, String q, SDVariable x, SDVariable keyBias,
                                    int n, int e, int h) {
        long dh = e / h;
        SDVariable flat = x.reshape(-1, e);
        SDVariable query = flat.mmul(p.get(q + "Wq")).reshape(-1, n, h, dh).permute(0, 2, 1, 3);
        SDVariable key = flat.mmul(p.get(q + "Wk")).reshape(-1, n, h, dh).permute(0, 2, 1, 3);
        SDVariable value = flat.mmul(p.get(q + "Wv")).reshape(-1, n, h, dh).permute(0, 2, 1, 3);
        SDVariable scores = sd.mmul(query, key, false, true, false).div(Math.sqrt(dh)).add(keyBias);
        SDVariable weights = SdMath.softmax(sd, scores, 3);
        SDVariable attended = sd.mmul(weights, value).permute(0, 2, 1, 3).reshape(-1, n, e);
        SDVariable a = SdMath.layerNorm(sd, attended.add(x), p.get(q + "lnag"), p.get(q + "lnab"), e, LN_EPS);
        SDVariable ff = sd.nn.relu(a.reshape(-1, e).mmul(p.get(q + "W1")).add(p.get(q + "b1")), 0.0)
                .mmul(p.get(q + "W2")).add(p.get(q + "b2")).reshape(-1, n, e);
        return SdMath.layerNorm(sd, ff.add(a), p.get(q + "lnfg"), p.get(q + "lnfb"), e, LN_EPS);
    }

    /** The official SigmoidAtt over the slots {@code q [B, N]}. */
    private static SDVariable pool(SameDiff sd, Map<String, SDVariable> p, SDVariable e, SDVariable q, int n, int width) {
        SDVariable flat = e.reshape(-1, width);
        SDVariable hot = flat.mmul(p.get("aWu")).mul(sd.nn.sigmoid(flat.mmul(p.get("aWm"))));
        SDVariable scores = hot.mmul(p.get("aWr")).reshape(-1, n).add(q.sub(1.0).mul(MASKED));
        SDVariable a = SdMath.softmax(sd, scores, 1).reshape(-1, n, 1);
        return e.mul(a).sum(1);
    }

    /** TensorFlow's Xavier initialiser (the official default), zero biases, LayerNorm gains 1. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        XavierInit.initialise(params);
    }

    /** The teacher's parameters never move: learning rate 0 ... */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return isTeacher(paramName) ? new Sgd(0.0) : super.getUpdaterByParam(paramName);
    }

    /** ... and no weight decay or L2. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return isTeacher(paramName) ? List.of() : super.getRegularizationByParam(paramName);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        int mods = modalities();
        if (vertexInputs.length != 3 * mods + 1) {
            throw new IllegalStateException("TATE core expects " + (3 * mods + 1) + " inputs, got " + vertexInputs.length);
        }
        for (int m = 0; m < mods; m++) {
            check(vertexInputs[3 * m], dims[m], "sequence " + m);
            check(vertexInputs[3 * m + 1], dims[m], "complete sequence " + m);
            check(vertexInputs[3 * m + 2], 2, "mask " + m);
        }
        long tags = TateBatchBuilder.tagWidth(mods);
        if (!(vertexInputs[3 * mods] instanceof InputType.InputTypeFeedForward ff) || ff.getSize() != tags) {
            throw new IllegalStateException("TATE core tags: expected a feed-forward input of size " + tags + ", got "
                    + vertexInputs[3 * mods]);
        }
        return InputType.feedForward(outputSize(steps, dim));
    }

    private static void check(InputType type, long size, String what) {
        if (!(type instanceof InputType.InputTypeRecurrent r) || r.getSize() != size) {
            throw new IllegalStateException("TATE core " + what + ": expected a recurrent input of size " + size
                    + ", got " + type);
        }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public int minVertexInputs() {
        return 3 * modalities() + 1;
    }

    @Override
    public int maxVertexInputs() {
        return 3 * modalities() + 1;
    }

    public int[] getDims() {
        return dims.clone();
    }

    public int[] getSteps() {
        return steps.clone();
    }

    public int getDim() {
        return dim;
    }

    public int getHeads() {
        return heads;
    }

    @Override
    public GraphVertex clone() {
        return SerialCopy.of(this);
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        TateCore c = (TateCore) o;
        return Arrays.equals(dims, c.dims) && Arrays.equals(steps, c.steps) && dim == c.dim && heads == c.heads;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(dims), Arrays.hashCode(steps), dim, heads);
    }

    @Override
    public String toString() {
        return "TateCore(D=" + Arrays.toString(dims) + ", T=" + Arrays.toString(steps) + ", dim=" + dim + ", heads=" + heads + ")";
    }
}
