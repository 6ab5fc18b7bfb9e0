package dev.mmspark.training.models.tfrnet;

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
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * TFR-Net's alignment module, generators and per-modality gates (Yuan et al., "Transformer-based Feature
 * Reconstruction Network for Robust Multimodal Sentiment Analysis", ACM MM 2021; module by module as in
 * {@code thuiar/TFR-Net}, {@code models/missingTask/TFR_NET/}) as one SameDiff vertex.
 *
 * <p>Inputs, per modality m (M of them): {@code x_m [B, D_m, 2T_m]}, the complete sequence (positions 0..T-1)
 * and the damaged copy (T..2T-1) already embedded, and {@code k_m [B, 2, T_m]}, channel 0 the real positions,
 * channel 1 the dropped ones ({@link TfrNetBatchBuilder}). With d = {@code dim}:
 * <pre>
 *   z_m   = sqrt(d) (x~_m P_m) + pos(T_m)                 projection of the damaged copy (no bias) + sinusoids
 *   a_m   = TE_intra_m(z_m)                                intra-modal Transformer, keys = real positions of m
 *   c_mn  = TE_cross_mn(z_m, z_n)   (n != m)               cross-modal: queries from m, keys/values from n
 *   h_m   = [a_m ; c_mn ...]            [B, T_m, M d]      the alignment output (official h_ls / h_as / h_vs)
 *   f_m   = TE_final_m(sqrt(T_m) h_m')  over the M d feature channels as tokens of width T_m (trans_*_final)
 *   r_m   = f_m' R_m + rb_m             [B, T_m, D_m]      linear generator: the reconstructed complete sequence
 *   g_m   = sigmoid(conv3(h_m))         [B, T_m, 1]        C-GATE: a width-3 convolution gives each position a gate
 *   u_m   = max over real t of tanh([h_m ; tanh(h_m) g_m] F_m + fb_m)     gated utterance vector [B, hidden]
 * </pre>
 * TE is MulT's pre-norm Transformer encoder (official {@code transformers_encoder/transformer.py}): per layer
 * x += MHA(LN0(x), LN0(kv)); x += W2 relu(W1 LN1(x)) with feed-forward width 4e; a final LayerNorm. Output
 * {@code [B, sum_m hidden + sum_m (2 T_m D_m + T_m)]}: the M gated vectors, then per modality the reconstruction
 * r_m and its target (the complete sequence; for tokens the embedding of the complete ids, which like the
 * official BERT target is not detached), both flattened position-major, and the dropped-position mask;
 * {@link TfrNetLoss} reads them.
 *
 * <p>Deviations from the official code, each for a reason given:
 * <ul>
 *   <li>the temporal projection is per position (kernel 1; official kernels 1/5/3 for text/audio/vision): a
 *       modality here is any sequence, with no per-modality kernel to inherit;</li>
 *   <li>attention masks out padded keys; the official code sets {@code attn_mask = True}, MulT's causal mask,
 *       and attends to padding. A causal mask has no meaning for image regions or patches, and padding here
 *       also stands for an absent modality (all positions padded: the attention is then uniform over zeros);</li>
 *   <li>C-GATE's bidirectional GRU before the gate is left out (DL4J 1.0.0-M2.1 has no GRU, and the Transformer
 *       output it reads is already contextual); the gate convolution and the projection read h_m directly, and
 *       the max pooling is over the real positions only (official: over all, padding included);</li>
 *   <li>no dropout inside the vertex (a SameDiff graph has no training/inference switch; the fusion and
 *       classifier dropouts are native DL4J dropouts in {@link TfrNetNetwork}); the final Transformers' heads are
 *       the largest divisor of T_m up to 25 (official: 25 heads for T = 50);</li>
 *   <li>initialisation as MulT's: Xavier-uniform weights, zero biases, LayerNorm gain 1.</li>
 * </ul>
 */
public class TfrNetCore extends SameDiffVertex {
    static final double LN_EPS = 1e-5;
    /** Added to the attention scores of padded keys. */
    static final double MASKED = 1e4;

    private int[] dims;
    private int[] steps;
    private int dim;
    private int heads;
    private int layers;
    private int hidden;

    /** For JSON deserialisation. */
    protected TfrNetCore() {
    }

    /**
     * @param dims   D_m, per-position size of each modality's sequence (embedding size for tokens)
     * @param steps  T_m, each modality's fixed length
     * @param dim    d, the alignment Transformers' width (official 30)
     * @param heads  their heads (official 6; must divide d)
     * @param layers layers of every Transformer (official 3)
     * @param hidden size of each gated utterance vector (official fusion_t_hid 36)
     */
    public TfrNetCore(int[] dims, int[] steps, int dim, int heads, int layers, int hidden) {
        if (dims.length < 2 || dims.length != steps.length || dim < 1 || heads < 1 || dim % heads != 0 || layers < 1
                || hidden < 1 || Arrays.stream(dims).anyMatch(x -> x < 1) || Arrays.stream(steps).anyMatch(x -> x < 1)) {
            throw new IllegalArgumentException("TFR-Net core needs >= 2 modalities with sizes and lengths >= 1, dim >= 1 "
                    + "divisible by heads, layers >= 1 and hidden >= 1; found dims=" + Arrays.toString(dims) + " steps="
                    + Arrays.toString(steps) + " dim=" + dim + " heads=" + heads + " layers=" + layers + " hidden="
                    + hidden);
        }
        this.dims = dims.clone();
        this.steps = steps.clone();
        this.dim = dim;
        this.heads = heads;
        this.layers = layers;
        this.hidden = hidden;
    }

    int modalities() {
        return dims.length;
    }

    /** Width of the alignment output of each modality: intra plus M-1 cross-modal streams. */
    int aligned() {
        return dims.length * dim;
    }

    /** Heads of modality m's final Transformer: the largest divisor of T_m up to 25. */
    static int finalHeads(int t) {
        for (int h = Math.min(25, t); h > 1; h--) {
            if (t % h == 0) {
                return h;
            }
        }
        return 1;
    }

    /** Width of the output. */
    public static long outputSize(int[] dims, int[] steps, int hidden) {
        long n = (long) dims.length * hidden;
        for (int m = 0; m < dims.length; m++) {
            n += 2L * steps[m] * dims[m] + steps[m];
        }
        return n;
    }

    static String input(int m) {
        return "x" + m;
    }

    static String mask(int m) {
        return "k" + m;
    }

    private void defineEncoder(SDVertexParams params, String pre, int e) {
        long ee = e;
        for (int l = 0; l < layers; l++) {
            String p = pre + "l" + l;
            params.addBiasParam(p + "ln0g", 1, ee);
            params.addBiasParam(p + "ln0b", 1, ee);
            for (String w : List.of("q", "k", "v", "o")) {
                params.addWeightParam(p + "W" + w, ee, ee);
                params.addBiasParam(p + "b" + w, 1, ee);
            }
            params.addBiasParam(p + "ln1g", 1, ee);
            params.addBiasParam(p + "ln1b", 1, ee);
            params.addWeightParam(p + "W1", ee, 4 * ee);
            params.addBiasParam(p + "b1", 1, 4 * ee);
            params.addWeightParam(p + "W2", 4 * ee, ee);
            params.addBiasParam(p + "b2", 1, ee);
        }
        params.addBiasParam(pre + "lnfg", 1, ee);
        params.addBiasParam(pre + "lnfb", 1, ee);
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        int mods = modalities();
        String[] names = new String[2 * mods];
        for (int m = 0; m < mods; m++) {
            names[2 * m] = input(m);
            names[2 * m + 1] = mask(m);
        }
        params.defineInputs(names);
        long a = aligned();
        for (int m = 0; m < mods; m++) {
            params.addWeightParam("m" + m + "Wp", dims[m], dim);
            defineEncoder(params, "i" + m, dim);
            for (int n = 0; n < mods; n++) {
                if (n != m) {
                    defineEncoder(params, "c" + m + "x" + n, dim);
                }
            }
            defineEncoder(params, "f" + m, steps[m]);
            params.addWeightParam("m" + m + "Wr", a, dims[m]);
            params.addBiasParam("m" + m + "br", 1, dims[m]);
            params.addWeightParam("m" + m + "Wgate", 3 * a, 1);
            params.addBiasParam("m" + m + "bgate", 1, 1);
            params.addWeightParam("m" + m + "Wf", 2 * a, hidden);
            params.addBiasParam("m" + m + "bf", 1, hidden);
        }
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> in, Map<String, SDVariable> p,
                                   Map<String, SDVariable> masks) {
        SameDiffSessionMemory.register(sd);                  // intermediate arrays freed pass by pass, not by the GC
        int mods = modalities();
        int a = aligned();
        SDVariable[] z = new SDVariable[mods];
        SDVariable[] keyBias = new SDVariable[mods];
        SDVariable[] real = new SDVariable[mods];
        SDVariable[] drop = new SDVariable[mods];
        SDVariable[] target = new SDVariable[mods];
        for (int m = 0; m < mods; m++) {
            int t = steps[m];
            SDVariable x = in.get(input(m));
            SDVariable k = in.get(mask(m));
            SDVariable complete = x.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0L, (long) t)).permute(0, 2, 1);
            SDVariable damaged = x.get(SDIndex.all(), SDIndex.all(), SDIndex.interval((long) t, 2L * t)).permute(0, 2, 1);
            real[m] = k.get(SDIndex.all(), SDIndex.point(0), SDIndex.all());                       // [B, T]
            drop[m] = k.get(SDIndex.all(), SDIndex.point(1), SDIndex.all());
            target[m] = complete.reshape(-1, (long) t * dims[m]);
            SDVariable projected = damaged.reshape(-1, dims[m]).mmul(p.get("m" + m + "Wp")).reshape(-1, t, dim);
            INDArray pos = Nd4j.create(positions(t, dim)).reshape(1, t, dim).castTo(x.dataType());
            z[m] = projected.mul(Math.sqrt(dim)).add(sd.constant(pos));
            keyBias[m] = real[m].sub(1.0).mul(MASKED).reshape(-1, 1, 1, t);
        }
        List<SDVariable> reps = new ArrayList<>();
        List<SDVariable> aux = new ArrayList<>();
        for (int m = 0; m < mods; m++) {
            int t = steps[m];
            List<SDVariable> streams = new ArrayList<>();
            streams.add(encoder(sd, p, "i" + m, z[m], null, keyBias[m], t, t, dim, heads));
            for (int n = 0; n < mods; n++) {
                if (n != m) {
                    streams.add(encoder(sd, p, "c" + m + "x" + n, z[m], z[n], keyBias[n], t, steps[n], dim, heads));
                }
            }
            SDVariable h = sd.concat(2, streams.toArray(new SDVariable[0]));                       // [B, T, a]
            // generator: the final Transformer over the feature channels, then a position-wise linear map
            SDVariable channels = h.permute(0, 2, 1).mul(Math.sqrt(t));                            // [B, a, T]
            SDVariable f = encoder(sd, p, "f" + m, channels, null, null, a, t, t, finalHeads(t)).permute(0, 2, 1);
            SDVariable rec = f.reshape(-1, a).mmul(p.get("m" + m + "Wr")).add(p.get("m" + m + "br"))
                    .reshape(-1, (long) t * dims[m]);
            // C-GATE: a width-3 convolution (zero padding) over time gives each position a gate
            SDVariable zero = h.get(SDIndex.all(), SDIndex.interval(0L, 1L), SDIndex.all()).mul(0.0);
            SDVariable prev = t == 1 ? zero
                    : sd.concat(1, zero, h.get(SDIndex.all(), SDIndex.interval(0L, (long) t - 1), SDIndex.all()));
            SDVariable next = t == 1 ? zero
                    : sd.concat(1, h.get(SDIndex.all(), SDIndex.interval(1L, (long) t), SDIndex.all()), zero);
            SDVariable gate = sd.nn.sigmoid(sd.concat(2, prev, h, next).reshape(-1, 3L * a)
                    .mmul(p.get("m" + m + "Wgate")).add(p.get("m" + m + "bgate"))).reshape(-1, t, 1);
            SDVariable gated = sd.math.tanh(h).mul(gate);
            SDVariable u = sd.math.tanh(sd.concat(2, h, gated).reshape(-1, 2L * a).mmul(p.get("m" + m + "Wf"))
                    .add(p.get("m" + m + "bf"))).reshape(-1, t, hidden);
            // max over the real positions: padded ones are set to -2, below tanh's range; a sequence without any
            // real position (an absent modality) gives the zero vector
            SDVariable r3 = real[m].reshape(-1, t, 1);
            SDVariable pooled = u.mul(r3).add(r3.sub(1.0).mul(2.0)).max(1);                      // [B, hidden]
            reps.add(pooled.mul(real[m].max(true, 1)));
            aux.add(rec);
            aux.add(target[m]);
            aux.add(drop[m]);
        }
        List<SDVariable> parts = new ArrayList<>(reps);
        parts.addAll(aux);
        return ExternalErrorsFix.output(sd, sd.concat(1, parts.toArray(new SDVariable[0])));
    }

    /**
     * MulT's pre-norm Transformer encoder over {@code x [B, n, e]}; with {@code kv [B, nk, e]} cross-modal (keys and
     * values from kv, normalised by the same LayerNorm), else self-attention. {@code keyBias [B, 1, 1, nk]} is added
     * to the attention scores (null: none).
     */
    private SDVariable encoder(SameDiff sd, Map<String, SDVariable> p, String pre, SDVariable x, SDVariable kv,
                               SDVariable keyBias, int n, int nk, int e, int h) {
        for (int l = 0; l < layers; l++) {
            String q = pre + "l" + l;
            SDVariable xn = layerNorm(sd, x, p.get(q + "ln0g"), p.get(q + "ln0b"), e);
            SDVariable kn = kv == null ? xn : layerNorm(sd, kv, p.get(q + "ln0g"), p.get(q + "ln0b"), e);
            x = x.add(attention(sd, p, q, xn, kn, keyBias, n, kv == null ? n : nk, e, h));
            SDVariable y = layerNorm(sd, x, p.get(q + "ln1g"), p.get(q + "ln1b"), e).reshape(-1, e);
            SDVariable ff = sd.nn.relu(y.mmul(p.get(q + "W1")).add(p.get(q + "b1")), 0.0).mmul(p.get(q + "W2"))
                    .add(p.get(q + "b2"));
            x = x.add(ff.reshape(-1, n, e));
        }
        return layerNorm(sd, x, p.get(pre + "lnfg"), p.get(pre + "lnfb"), e);
    }

    private static SDVariable attention(SameDiff sd, Map<String, SDVariable> p, String q, SDVariable xn, SDVariable kn,
                                        SDVariable keyBias, int n, int nk, int e, int h) {
        long dh = e / h;
        // the 1/sqrt(dh) scaling on the queries [B, H, n, dh] instead of on the scores [B, H, n, nk]: the same
        // product, one small tensor scaled instead of a large one (the final Transformers' scores are B x 25 x 90 x 90)
        SDVariable query = xn.reshape(-1, e).mmul(p.get(q + "Wq")).add(p.get(q + "bq")).reshape(-1, n, h, dh)
                .permute(0, 2, 1, 3).div(Math.sqrt(dh));
        SDVariable key = kn.reshape(-1, e).mmul(p.get(q + "Wk")).add(p.get(q + "bk")).reshape(-1, nk, h, dh)
                .permute(0, 2, 1, 3);
        SDVariable value = kn.reshape(-1, e).mmul(p.get(q + "Wv")).add(p.get(q + "bv")).reshape(-1, nk, h, dh)
                .permute(0, 2, 1, 3);
        SDVariable scores = sd.mmul(query, key, false, true, false);                              // [B, H, n, nk]
        SDVariable weights;
        if (keyBias == null) {
            // nothing masked (the final Transformers): ND4J's fused softmax, forward and backward
            weights = sd.nn.softmax(scores, 3);
        } else {
            // softmax written out with the maximum subtracted: ND4J's softmax op gave NaN where every key of a row
            // was masked (an absent modality), i.e. every score was about -1e4. The maximum is only a shift, under
            // which softmax is invariant: its gradient is exactly zero, so it is not differentiated (stop_gradient
            // saves the reduce_max backward, the costliest op of the step before)
            scores = scores.add(keyBias);
            SDVariable shift = new StopGradient(sd, scores.max(true, 3)).outputVariable();
            SDVariable exp = sd.math.exp(scores.sub(shift));
            weights = exp.div(exp.sum(true, 3));
        }
        SDVariable attended = sd.mmul(weights, value).permute(0, 2, 1, 3).reshape(-1, e);       // [B*n, e]
        return attended.mmul(p.get(q + "Wo")).add(p.get(q + "bo")).reshape(-1, n, e);
    }

    /** LayerNorm over the last axis of a rank-3 variable (biased variance, eps 1e-5). */
    static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable gain, SDVariable bias, int e) {
        return SdMath.layerNorm(sd, x, gain, bias, e, LN_EPS);
    }

    /**
     * fairseq's sinusoidal positions (MulT's {@code SinusoidalPositionalEmbedding}) for positions 1..t: the first
     * half of the e channels sin(pos w_i), the second half cos(pos w_i), w_i = exp(-i ln(10000) / (half - 1)); an
     * odd e has a last channel of 0.
     */
    static double[][] positions(int t, int e) {
        int half = e / 2;
        double step = half > 1 ? Math.log(10000) / (half - 1) : 0;
        double[][] out = new double[t][e];
        for (int pos = 1; pos <= t; pos++) {
            for (int i = 0; i < half; i++) {
                double w = Math.exp(-i * step);
                out[pos - 1][i] = Math.sin(pos * w);
                out[pos - 1][half + i] = Math.cos(pos * w);
            }
        }
        return out;
    }

    /** The kind of a parameter, the end of its name ({@link XavierInit#kind}). */
    static String kind(String name) {
        return XavierInit.kind(name);
    }

    /** MulT's initialisation: Xavier-uniform weights, zero biases, LayerNorm gains 1. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        XavierInit.initialise(params);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        if (vertexInputs.length != 2 * modalities()) {
            throw new IllegalStateException("TFR-Net core expects " + 2 * modalities() + " inputs, got "
                    + vertexInputs.length);
        }
        for (int m = 0; m < modalities(); m++) {
            check(vertexInputs[2 * m], dims[m], "sequence " + m);
            check(vertexInputs[2 * m + 1], 2, "mask " + m);
        }
        return InputType.feedForward(outputSize(dims, steps, hidden));
    }

    /**
     * The size only: DL4J M2.1 reports an embedding layer's output length as 1 whatever its input's, so the lengths
     * (fixed by the spec, and by the reshapes of the graph) cannot be checked here.
     */
    private static void check(InputType type, long size, String what) {
        if (!(type instanceof InputType.InputTypeRecurrent r) || r.getSize() != size) {
            throw new IllegalStateException("TFR-Net core " + what + ": expected a recurrent input of size " + size
                    + ", got " + type);
        }
    }

    /** The output has one row per sample and no mask goes further. */
    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public int minVertexInputs() {
        return 2 * modalities();
    }

    @Override
    public int maxVertexInputs() {
        return 2 * modalities();
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

    public int getLayers() {
        return layers;
    }

    public int getHidden() {
        return hidden;
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
        TfrNetCore c = (TfrNetCore) o;
        return Arrays.equals(dims, c.dims) && Arrays.equals(steps, c.steps) && dim == c.dim && heads == c.heads
                && layers == c.layers && hidden == c.hidden;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(dims), Arrays.hashCode(steps), dim, heads, layers, hidden);
    }

    @Override
    public String toString() {
        return "TfrNetCore(D=" + Arrays.toString(dims) + ", T=" + Arrays.toString(steps) + ", dim=" + dim + ", heads="
                + heads + ", layers=" + layers + ", hidden=" + hidden + ")";
    }
}
