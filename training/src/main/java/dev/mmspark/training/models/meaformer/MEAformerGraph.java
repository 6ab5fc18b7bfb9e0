package dev.mmspark.training.models.meaformer;

import dev.mmspark.training.alignment.HeadBuilder;
import dev.mmspark.training.alignment.HeadGraph;
import dev.mmspark.training.alignment.HeadGraph.Side;
import dev.mmspark.training.alignment.Losses;
import dev.mmspark.training.alignment.Modality;
import dev.mmspark.training.alignment.ParamSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MEAformer's network after the structure encoder (Chen et al., ACM MM 2023, §3.2; official
 * {@code model/MEAformer_tools.py MformerFusion, BertLayer}):
 * <pre>
 *   e_m      = x_m·W_m + b_m (dim 300), e_g = GAT output      the modality tokens of an entity
 *   H, β     = TransformerLayer([e_m]_m)                      β: attention probabilities [heads, M, M]
 *   w_m      = softmax_m( Σ_heads Σ_j β_jm / √(|M|·N_h) )      meta weights: attention each modality receives
 *   joint    = [w_m · e_m / ‖e_m‖]_m                           early fusion (the evaluated embedding)
 *   h_m      = H_m / ‖H_m‖                                     late fusion: the layer's output per modality
 * </pre>
 * The layer is BERT's (self-attention with Q, K, V and output projections, residual + LayerNorm, a GELU
 * feed-forward of {@code intermediate} units, residual + LayerNorm, dropout on the attention probabilities and
 * both outputs). The meta weights are taken from the last layer's attention probabilities after dropout, as
 * the reference returns them. An entity lacking modality m: m is masked out as a key (no token attends to
 * it) and gets weight 0; with every modality present this is the reference computation.
 */
final class MEAformerGraph {
    static final String LOG_VARS = "loss.intra";
    static final double LN_EPS = 1e-12;

    private MEAformerGraph() {
    }

    static String layer(int l, String part) {
        return "fusion.layer" + l + "." + part;
    }

    static void init(MEAformerSpec spec, ParamSet p, Map<Modality, Integer> inputDims, SplittableRandom rng) {
        int d = spec.dim();
        HeadBuilder.initEncoders(p, spec.modalities(), inputDims, d, rng);
        for (int l = 0; l < spec.layers(); l++) {
            for (String part : new String[]{"query", "key", "value", "attn_out"}) {
                p.linear(layer(l, part), d, d, rng);
            }
            p.put(layer(l, "attn_norm.g"), new long[]{d}, ParamSet.filled(d, 1f));
            p.put(layer(l, "attn_norm.b"), new long[]{d}, new float[d]);
            p.linear(layer(l, "ffn_in"), d, spec.intermediate(), rng);
            p.linear(layer(l, "ffn_out"), spec.intermediate(), d, rng);
            p.put(layer(l, "out_norm.g"), new long[]{d}, ParamSet.filled(d, 1f));
            p.put(layer(l, "out_norm.b"), new long[]{d}, new float[d]);
        }
        int m = spec.modalities().size();
        p.put(LOG_VARS, new long[]{m}, new float[m]);
    }

    /** One side's outputs: early-fusion joint embedding and the late-fusion per-modality outputs. */
    record SideOutputs(SDVariable joint, Map<Modality, SDVariable> hidden, SDVariable weights /* null: one modality */) {
    }

    static HeadGraph build(MEAformerSpec spec, HeadBuilder b, boolean training) {
        List<Modality> ms = spec.modalities();
        Map<Modality, SDVariable> embL = b.encode(ms, Side.L, spec.dim());
        Map<Modality, SDVariable> maskL = b.masks(ms, Side.L);
        SideOutputs outL = side(spec, b, embL, maskL, Side.L, training);
        int jointDim = ms.size() * spec.dim();
        if (!training) {
            return b.build(null, outL.joint(), jointDim);
        }
        Map<Modality, SDVariable> embR = b.encode(ms, Side.R, spec.dim());
        Map<Modality, SDVariable> maskR = b.masks(ms, Side.R);
        SideOutputs outR = side(spec, b, embR, maskR, Side.R, true);
        SDVariable loss = MEAformerLoss.loss(spec, b, embL, embR, maskL, maskR, outL, outR);
        return b.build(loss, outL.joint(), jointDim);
    }

    private static SideOutputs side(MEAformerSpec spec, HeadBuilder b, Map<Modality, SDVariable> emb,
                                    Map<Modality, SDVariable> mask, Side s, boolean training) {
        SameDiff sd = b.sd();
        List<Modality> ms = spec.modalities();
        int m = ms.size();
        int d = spec.dim();
        int heads = spec.heads();
        SDVariable tokens = sd.stack(1, emb.values().toArray(new SDVariable[0]));            // [B, M, d]
        SDVariable present = sd.stack(1, mask.values().toArray(new SDVariable[0]));          // [B, M]
        SDVariable keyBias = present.rsub(1.0).mul(-Losses.LARGE);                           // 0 or −LARGE
        SDVariable x = tokens;
        SDVariable probs = null;
        for (int l = 0; l < spec.layers(); l++) {
            SDVariable[] out = bertLayer(spec, b, x, keyBias.reshape(-1, 1, 1, m), l, s, training);
            x = out[0];
            probs = out[1];
        }
        Map<Modality, SDVariable> hidden = new LinkedHashMap<>();
        if (m == 1) {
            // one modality: the softmax over one token is 1 whatever attention it receives, so the joint embedding
            // is the normalised modality embedding. Built without the weighting ops, whose reductions over size-1
            // axes fail in ND4J M2.1's backward pass (NPE in a reduce op; ModelHeadsTest#meaformerSingleModality*)
            Modality mod = ms.get(0);
            hidden.put(mod, Losses.l2Normalize(sd, x.reshape(-1, d)));
            return new SideOutputs(Losses.l2Normalize(sd, emb.get(mod)), hidden, null);
        }
        // meta weights: Σ over heads and over the attending tokens of the attention each modality receives
        SDVariable received = probs.sum(1).sum(1).div(Math.sqrt((double) m * heads));       // [B, M]
        SDVariable weights = sd.nn.softmax(received.add(keyBias));                            // [B, M]
        List<SDVariable> blocks = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Modality mod = ms.get(i);
            SDVariable wi = weights.mul(onehot(sd, b, m, i, 2)).sum(true, 1);               // [B, 1]
            blocks.add(Losses.l2Normalize(sd, emb.get(mod)).mul(wi));
            SDVariable hi = x.mul(onehot(sd, b, m, i, 3)).sum(1);                           // [B, d]
            hidden.put(mod, Losses.l2Normalize(sd, hi));
        }
        SDVariable joint = sd.concat(1, blocks.toArray(new SDVariable[0]));
        return new SideOutputs(joint, hidden, weights);
    }

    /** A constant selecting token i: shape [1, M] (rank 2) or [1, M, 1] (rank 3). */
    private static SDVariable onehot(SameDiff sd, HeadBuilder b, int m, int i, int rank) {
        String name = "onehot" + m + "_" + i + "_" + rank;
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        double[] v = new double[m];
        v[i] = 1;
        long[] shape = rank == 2 ? new long[]{1, m} : new long[]{1, m, 1};
        return sd.constant(name, Nd4j.createFromArray(v).castTo(b.dataType()).reshape(shape));
    }

    /** BERT's layer; returns {output [B, M, d], attention probabilities [B, heads, M, M] (after dropout)}. */
    private static SDVariable[] bertLayer(MEAformerSpec spec, HeadBuilder b, SDVariable x, SDVariable keyBias, int l,
                                          Side s, boolean training) {
        SameDiff sd = b.sd();
        int m = spec.modalities().size();
        int d = spec.dim();
        int heads = spec.heads();
        int dh = d / heads;
        double p = spec.dropout();
        SDVariable q = split(tokenLinear(b, layer(l, "query"), x, m, d), m, heads, dh);      // [B, h, M, dh]
        SDVariable k = split(tokenLinear(b, layer(l, "key"), x, m, d), m, heads, dh);
        SDVariable v = split(tokenLinear(b, layer(l, "value"), x, m, d), m, heads, dh);
        SDVariable scores = sd.mmul(q, k, false, true, false).div(Math.sqrt(dh)).add(keyBias);
        SDVariable probs = sd.nn.softmax(scores);
        if (training && p > 0) {
            probs = probs.mul(b.dropout("drop_attn" + l + "_" + s.id(), p, heads, m, m));
        }
        SDVariable ctx = sd.permute(sd.mmul(probs, v), 0, 2, 1, 3).reshape(-1, m, d);        // [B, M, d]
        SDVariable attnOut = tokenLinear(b, layer(l, "attn_out"), ctx, m, d);
        if (training && p > 0) {
            attnOut = attnOut.mul(b.dropout("drop_attn_out" + l + "_" + s.id(), p, m, d));
        }
        SDVariable h = layerNorm(sd, b, attnOut.add(x), layer(l, "attn_norm"));
        SDVariable ff = tokenLinear(b, layer(l, "ffn_out"),
                gelu(sd, tokenLinear(b, layer(l, "ffn_in"), h, m, spec.intermediate())), m, d);
        if (training && p > 0) {
            ff = ff.mul(b.dropout("drop_ffn" + l + "_" + s.id(), p, m, d));
        }
        SDVariable out = layerNorm(sd, b, ff.add(h), layer(l, "out_norm"));
        return new SDVariable[]{out, probs};
    }

    /** A linear layer applied to every token: [B, M, in] → [B, M, out]. */
    private static SDVariable tokenLinear(HeadBuilder b, String prefix, SDVariable x, int m, int out) {
        SDVariable w = b.param(prefix + ".W");
        SDVariable flat = x.reshape(-1, w.getShape()[0]);
        return b.sd().mmul(flat, w).add(b.param(prefix + ".b")).reshape(-1, m, out);
    }

    /** [B, M, d] → [B, heads, M, dh]. */
    private static SDVariable split(SDVariable x, int m, int heads, int dh) {
        return x.getSameDiff().permute(x.reshape(-1, m, heads, dh), 0, 2, 1, 3);
    }

    /** LayerNorm over the last dimension: (x − μ)/√(σ² + 1e-12)·γ + β (BERT's ε). */
    private static SDVariable layerNorm(SameDiff sd, HeadBuilder b, SDVariable x, String prefix) {
        SDVariable mu = x.mean(true, 2);
        SDVariable c = x.sub(mu);
        SDVariable var = c.mul(c).mean(true, 2);
        return c.div(sd.math.sqrt(var.add(LN_EPS))).mul(b.param(prefix + ".g")).add(b.param(prefix + ".b"));
    }

    /** The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (transformers' ACT2FN["gelu"]). */
    private static SDVariable gelu(SameDiff sd, SDVariable x) {
        return x.mul(sd.math.erf(x.div(Math.sqrt(2))).add(1.0)).mul(0.5);
    }
}
