package dev.mmspark.training.models.misa;

import dev.mmspark.training.layers.ExternalErrorsFix;
import dev.mmspark.training.layers.SameDiffSessionMemory;
import dev.mmspark.training.layers.SerialCopy;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.common.primitives.Pair;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The modality-invariant and -specific representations of MISA and their Transformer fusion (Hazarika,
 * Zimmermann &amp; Poria, "MISA: Modality-Invariant and -Specific Representations for Multimodal Sentiment
 * Analysis", ACM MM 2020; layer by layer as in {@code declare-lab/MISA}, {@code models.py}).
 *
 * <p>Inputs: M utterance vectors x_m {@code [B, h]} (the ReLU outputs of each modality's projection). With
 * LN a layer normalisation over the h features (eps 1e-5, learned gain and bias per modality):
 * <pre>
 *   u_m    = LN_m(x_m)                                   utterance vector (the end of project_m)
 *   hc_m   = sigmoid(u_m Wc + bc)                        shared encoder E_c, one set of weights for all m
 *   hp_m   = sigmoid(u_m Wp_m + bp_m)                    private encoder E_p^m
 *   r_m    = (hc_m + hp_m) Wr_m + br_m                   decoder (reconstruction of u_m)
 *   S      = [hp_1 .. hp_M, hc_1 .. hc_M]                the 2M vectors as a sequence
 *   A      = LN1(S + MHA(S))                             one post-norm Transformer encoder layer
 *   F      = LN2(A + relu(A W1 + b1) W2 + b2)            (PyTorch nn.TransformerEncoderLayer, nhead heads)
 * </pre>
 * MHA is multi-head self-attention: per head softmax(Q K' / sqrt(h / heads)) V with Q, K, V = S Wq + bq, ...,
 * heads concatenated and projected by Wo + bo. The output {@code [B, 6Mh]} is, in this order, F flattened
 * token by token (2Mh: the official {@code torch.cat((h[0], ..., h[5]), dim=1)}), then u, hc, hp and r (Mh
 * each, modality by modality), which {@link MisaLoss} reads for the similarity, difference and
 * reconstruction losses. The Transformer's internal dropout (0.1 in PyTorch) is not applied: a SameDiff graph
 * has no training/inference switch, so dropout here would also perturb predictions; the head's dropout (the
 * paper's 0.5) is a native DL4J dropout instead.
 */
public class MisaCore extends SameDiffVertex {
    static final double LN_EPS = 1e-5;

    private int modalities;
    private int hidden;
    private int heads;
    private int feedForward;

    /** For JSON deserialisation. */
    protected MisaCore() {
    }

    /**
     * @param modalities  M, the number of inputs (at least 2: the similarity loss compares modality pairs)
     * @param hidden      h, the size of every utterance vector and representation (official: 128)
     * @param heads       attention heads (official: 2); must divide h
     * @param feedForward the Transformer's feed-forward width (PyTorch's default 2048)
     */
    public MisaCore(int modalities, int hidden, int heads, int feedForward) {
        if (modalities < 2 || hidden < 1 || heads < 1 || hidden % heads != 0 || feedForward < 1) {
            throw new IllegalArgumentException("MISA core needs >= 2 modalities, hidden >= 1 divisible by heads and "
                    + "feedForward >= 1, found modalities=" + modalities + " hidden=" + hidden + " heads=" + heads
                    + " feedForward=" + feedForward);
        }
        this.modalities = modalities;
        this.hidden = hidden;
        this.heads = heads;
        this.feedForward = feedForward;
    }

    /** Width of the output: fused 2Mh plus u, hc, hp, r (Mh each). */
    public static long outputSize(int modalities, int hidden) {
        return 6L * modalities * hidden;
    }

    /** Width of the fused (Transformer) part, which comes first. */
    public static long fusedSize(int modalities, int hidden) {
        return 2L * modalities * hidden;
    }

    static String inputName(int m) {
        return "x" + m;
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        String[] names = new String[modalities];
        for (int m = 0; m < modalities; m++) {
            names[m] = inputName(m);
        }
        params.defineInputs(names);
        long h = hidden;
        for (int m = 0; m < modalities; m++) {
            // layer-norm gains are registered as biases so that weight decay does not pull them to 0
            params.addBiasParam("lng" + m, 1, h);
            params.addBiasParam("lnb" + m, 1, h);
            params.addWeightParam("Wp" + m, h, h);
            params.addBiasParam("bp" + m, 1, h);
            params.addWeightParam("Wr" + m, h, h);
            params.addBiasParam("br" + m, 1, h);
        }
        params.addWeightParam("Wc", h, h);
        params.addBiasParam("bc", 1, h);
        for (String p : List.of("q", "k", "v", "o")) {
            params.addWeightParam("W" + p, h, h);
            params.addBiasParam("b" + p, 1, h);
        }
        params.addBiasParam("ln1g", 1, h);
        params.addBiasParam("ln1b", 1, h);
        params.addWeightParam("W1", h, feedForward);
        params.addBiasParam("b1", 1, feedForward);
        params.addWeightParam("W2", feedForward, h);
        params.addBiasParam("b2", 1, h);
        params.addBiasParam("ln2g", 1, h);
        params.addBiasParam("ln2b", 1, h);
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> in, Map<String, SDVariable> p,
                                   Map<String, SDVariable> masks) {
        SameDiffSessionMemory.register(sd);                  // intermediate arrays freed pass by pass, not by the GC
        List<SDVariable> u = new ArrayList<>();
        List<SDVariable> hc = new ArrayList<>();
        List<SDVariable> hp = new ArrayList<>();
        List<SDVariable> r = new ArrayList<>();
        for (int m = 0; m < modalities; m++) {
            SDVariable um = layerNorm(sd, in.get(inputName(m)), p.get("lng" + m), p.get("lnb" + m));
            SDVariable c = sd.nn.sigmoid(um.mmul(p.get("Wc")).add(p.get("bc")));
            SDVariable q = sd.nn.sigmoid(um.mmul(p.get("Wp" + m)).add(p.get("bp" + m)));
            u.add(um);
            hc.add(c);
            hp.add(q);
            r.add(c.add(q).mmul(p.get("Wr" + m)).add(p.get("br" + m)));
        }
        List<SDVariable> tokens = new ArrayList<>(hp);
        tokens.addAll(hc);
        int t = tokens.size();
        long h = hidden;
        long dh = hidden / heads;
        // [B, T, h] -> rows of [B*T, h]: every projection is one matrix product over all tokens
        SDVariable s = sd.stack(1, tokens.toArray(new SDVariable[0])).reshape(-1, h);
        SDVariable query = split(s.mmul(p.get("Wq")).add(p.get("bq")), t, dh);
        SDVariable key = split(s.mmul(p.get("Wk")).add(p.get("bk")), t, dh);
        SDVariable value = split(s.mmul(p.get("Wv")).add(p.get("bv")), t, dh);
        SDVariable scores = sd.mmul(query, key, false, true, false).div(Math.sqrt(dh));       // [B, H, T, T]
        SDVariable weights = sd.nn.softmax(scores, 3);
        SDVariable attended = sd.mmul(weights, value)                                         // [B, H, T, dh]
                .permute(0, 2, 1, 3).reshape(-1, h);                                          // [B*T, h]
        SDVariable mha = attended.mmul(p.get("Wo")).add(p.get("bo"));
        SDVariable a = layerNorm(sd, s.add(mha), p.get("ln1g"), p.get("ln1b"));
        SDVariable ff = sd.nn.relu(a.mmul(p.get("W1")).add(p.get("b1")), 0.0).mmul(p.get("W2")).add(p.get("b2"));
        SDVariable f = layerNorm(sd, a.add(ff), p.get("ln2g"), p.get("ln2b")).reshape(-1, t * h);

        List<SDVariable> parts = new ArrayList<>();
        parts.add(f);
        parts.addAll(u);
        parts.addAll(hc);
        parts.addAll(hp);
        parts.addAll(r);
        return ExternalErrorsFix.output(sd, sd.concat(1, parts.toArray(new SDVariable[0])));
    }

    /** [B*T, h] -> [B, heads, T, dh]. */
    private SDVariable split(SDVariable x, int t, long dh) {
        return x.reshape(-1, t, heads, dh).permute(0, 2, 1, 3);
    }

    /** (x - mean) / sqrt(var + eps) * g + b over the last dimension of a [N, h] variable (biased variance). */
    static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable gain, SDVariable bias) {
        SDVariable centred = x.sub(x.mean(true, 1));
        SDVariable var = centred.mul(centred).mean(true, 1);
        return centred.div(sd.math.sqrt(var.add(LN_EPS))).mul(gain).add(bias);
    }

    /**
     * PyTorch's defaults, which the official code keeps: nn.Linear weights and biases U(-1/sqrt(fan_in),
     * 1/sqrt(fan_in)); layer-norm gain 1 and bias 0.
     */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            String name = e.getKey();
            INDArray v = e.getValue();
            if (name.startsWith("ln")) {
                v.assign(name.contains("g") ? 1.0 : 0.0);
                continue;
            }
            String weight = "W" + name.substring(1);
            long fanIn = name.startsWith("W") ? v.size(0) : params.get(weight).size(0);
            double bound = 1.0 / Math.sqrt(fanIn);
            v.assign(Nd4j.rand(v.dataType(), v.shape()).muli(2 * bound).subi(bound));
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        if (vertexInputs.length != modalities) {
            throw new IllegalStateException("MISA core expects " + modalities + " inputs, got " + vertexInputs.length);
        }
        for (int i = 0; i < vertexInputs.length; i++) {
            if (vertexInputs[i].getType() != InputType.Type.FF || vertexInputs[i].arrayElementsPerExample() != hidden) {
                throw new IllegalStateException("MISA core input " + i + ": expected a feed-forward vector of size "
                        + hidden + ", got " + vertexInputs[i]);
            }
        }
        return InputType.feedForward(outputSize(modalities, hidden));
    }

    /**
     * The inputs are pooled utterance vectors: their sequence masks were consumed by the pooling, and the output
     * has one row per sample, so no mask goes further (DL4J's SameDiffVertex does not implement this itself).
     */
    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public int minVertexInputs() {
        return modalities;
    }

    @Override
    public int maxVertexInputs() {
        return modalities;
    }

    public int getModalities() {
        return modalities;
    }

    public int getHidden() {
        return hidden;
    }

    public int getHeads() {
        return heads;
    }

    public int getFeedForward() {
        return feedForward;
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
        MisaCore c = (MisaCore) o;
        return modalities == c.modalities && hidden == c.hidden && heads == c.heads && feedForward == c.feedForward;
    }

    @Override
    public int hashCode() {
        return Objects.hash(modalities, hidden, heads, feedForward);
    }

    @Override
    public String toString() {
        return "MisaCore(M=" + modalities + ", h=" + hidden + ", heads=" + heads + ", ff=" + feedForward + ")";
    }
}
