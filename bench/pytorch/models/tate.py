"""PyTorch port of the project's TATE model, layer for layer as the Java network builds it, for the benchmark's
same-architecture timing (not a reimplementation of the paper or of JaydenZeng/TATE where the project differs: see
the deviations listed in TateCore's and TateLoss's Javadoc -- padding masked, no attention dropout, M - 1 pair
matrices per modality, per-sample means in the loss).

The case is a step of the main (student) phase: the minibatch has the missing patterns and the KL switch on, and the
teacher -- a second copy of the encoder with its own token embeddings -- runs inside the network on the complete
sample with frozen parameters. Java freezes them by a zero learning rate (Sgd(0): DL4J still computes their
gradients); here they do not require gradients (what a PyTorch user writes), so autograd does not go back through the
teacher. Both sides count the teacher's parameters (net.params() in Java; common.Bench's counted_state here).

Mirrors (training/src/main/java/dev/mmspark/training/):
  models/tate/TateBatchBuilder.java  per modality in_m [B, C, T] (zeros where missing), full_m [B, C, T] (the
                                     complete sample), mask_m [B, 2, T] (real positions of in_m | of full_m); then
                                     tag [B, 2(M+1) + 1] (input's tag | complete sample's tag | KL switch)
  models/tate/TateNetwork.java       token embeddings (no bias; the teacher's own frozen copy for full_m), the core,
                                     head: Dense(dim, no bias) -> Dense(classes) with L2 1e-4 on weight and bias
  models/tate/TateCore.java          per-modality projection + post-norm block, shared pair matrices into the common
                                     space, missing tag appended to every token, encoder block, decoder block,
                                     sigmoid-attention pooling over the slots; the teacher's encoder on full_m
  models/tate/TateLoss.java          CE + kl * switch * symmetric KL(e, e') + recon * symmetric KL(r, u) + tag * MAE,
                                     each a per-sample mean over the real positions / slots
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

LN_EPS = 1e-8           # TateCore.LN_EPS
MASKED = 1e4            # TateCore.MASKED


def joint_heads(p, heads):
    """TateCore.jointHeads: the largest divisor of P up to heads."""
    for h in range(min(heads, p), 1, -1):
        if p % h == 0:
            return h
    return 1


def _xavier(linear):
    """TateCore.initializeParameters (XavierInit): Xavier-uniform weights, zero biases."""
    nn.init.xavier_uniform_(linear.weight)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)
    return linear


class Block(nn.Module):
    """TateCore.block: the official post-norm Transformer block. a = LN(x + MHA(x)) with Q/K/V projections without
    bias and no output projection; y = LN(a + W2 relu(W1 a + b1) + b2); LayerNorm eps 1e-8 (biased variance)."""

    def __init__(self, e, heads):
        super().__init__()
        self.e, self.heads = e, heads
        self.q, self.k, self.v = (_xavier(nn.Linear(e, e, bias=False)) for _ in range(3))
        self.lna = nn.LayerNorm(e, eps=LN_EPS)
        self.ff1 = _xavier(nn.Linear(e, 4 * e))
        self.ff2 = _xavier(nn.Linear(4 * e, e))
        self.lnf = nn.LayerNorm(e, eps=LN_EPS)

    def forward(self, x, key_bias):
        b, n, e = x.shape
        h = self.heads
        dh = e // h
        query = self.q(x).reshape(b, n, h, dh).permute(0, 2, 1, 3)
        key = self.k(x).reshape(b, n, h, dh).permute(0, 2, 1, 3)
        value = self.v(x).reshape(b, n, h, dh).permute(0, 2, 1, 3)
        scores = torch.matmul(query, key.transpose(2, 3)) / math.sqrt(dh) + key_bias    # [B, H, n, n]
        # SdMath.softmax: max subtracted, as torch.softmax computes it
        attended = torch.matmul(torch.softmax(scores, 3), value).permute(0, 2, 1, 3).reshape(b, n, e)
        a = self.lna(attended + x)
        return self.lnf(self.ff2(F.relu(self.ff1(a))) + a)


def key_bias(real):
    """TateCore.keyBias: 0 for real keys, -1e4 for the others, [B, 1, 1, n]."""
    return ((real - 1.0) * MASKED).reshape(real.shape[0], 1, 1, -1)


class Encoder(nn.Module):
    """TateCore.defineEncoder / encode: one of the student's or the teacher's parameter sets."""

    def __init__(self, dims, steps, dim, heads):
        super().__init__()
        mods = len(dims)
        self.dims, self.steps, self.dim = dims, steps, dim
        width = dim + mods + 1
        self.project = nn.ModuleList(_xavier(nn.Linear(d, dim, bias=False)) for d in dims)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in dims)
        # W_mn = W_nm: one matrix per pair m < n, dim -> dim / (M - 1)
        self.pairs = nn.ModuleDict()
        for m in range(mods):
            for n in range(m + 1, mods):
                self.pairs["%dx%d" % (m, n)] = _xavier(nn.Linear(dim, dim // (mods - 1), bias=False))
        self.joint = Block(width, joint_heads(width, heads))

    def pair(self, m, n):
        return self.pairs["%dx%d" % (min(m, n), max(m, n))]

    def forward(self, xs, real, tag):
        """xs: per modality [B, T, D]; real: per modality [B, T]; tag [B, M+1]. Returns e and u, each [B, N, P]."""
        mods = len(xs)
        h = []
        for m in range(mods):
            encoded = self.blocks[m](self.project[m](xs[m]), key_bias(real[m]))
            h.append(encoded * real[m].unsqueeze(2))
        common_space = []
        for m in range(mods):
            parts = [self.pair(m, o)(h[m]) for o in range(mods) if o != m]
            common_space.append(parts[0] if len(parts) == 1 else torch.cat(parts, 2))
        tokens = torch.cat(common_space, 1)                                             # [B, N, d]
        tags = tag.unsqueeze(1).expand(-1, tokens.shape[1], -1)                         # [B, N, M+1]
        tagged = torch.cat([tokens, tags], 2)
        return self.joint(tagged, key_bias(torch.cat(real, 1))), tagged


class Core(nn.Module):
    """TateCore (one SameDiff vertex in Java): the student's encoder, the decoder, the pooling and the teacher."""

    def __init__(self, dims, steps, dim, heads):
        super().__init__()
        mods = len(dims)
        self.dims, self.steps, self.dim = dims, steps, dim
        width = dim + mods + 1
        self.student = Encoder(dims, steps, dim, heads)
        self.decoder = Block(width, joint_heads(width, heads))
        self.att_u = _xavier(nn.Linear(width, width, bias=False))
        self.att_m = _xavier(nn.Linear(width, width, bias=False))
        self.att_r = _xavier(nn.Linear(width, 1, bias=False))
        self.teacher = Encoder(dims, steps, dim, heads)

    def forward(self, xs, cs, ks, g):
        mods = len(self.dims)
        real_s = [k[:, 0, :] for k in ks]
        real_t = [k[:, 1, :] for k in ks]
        tag_s = g[:, :mods + 1]
        tag_t = g[:, mods + 1:2 * mods + 2]
        kl_switch = g[:, 2 * mods + 2:2 * mods + 3]
        enc, tagged = self.student(xs, real_s, tag_s)
        enc_t = self.teacher(cs, real_t, tag_t)[0]
        dec = self.decoder(enc, key_bias(torch.cat(real_s, 1)))
        # slots: the real positions, and every position of a missing modality (tag bit 1 + m)
        slots = []
        for m in range(mods):
            bit = tag_s[:, 1 + m:2 + m]
            slots.append(real_s[m] + bit - real_s[m] * bit)
        q_slots = torch.cat(slots, 1)                                                   # [B, N]
        # SigmoidAtt over the slots
        hot = self.att_u(enc) * torch.sigmoid(self.att_m(enc))
        scores = self.att_r(hot).squeeze(2) + (q_slots - 1.0) * MASKED
        pooled = (enc * torch.softmax(scores, 1).unsqueeze(2)).sum(1)                  # [B, P]
        aux = {"tag_logits": pooled[:, self.dim:], "enc": enc, "teacher": enc_t, "dec": dec, "tagged": tagged,
               "q_teacher": torch.cat(real_t, 1), "q_slots": q_slots, "tag": tag_s, "kl_switch": kl_switch}
        return pooled, aux


class Tate(nn.Module):
    def __init__(self, spec):
        super().__init__()
        p = spec["params"]
        self.inputs = spec["inputs"]
        mods = len(self.inputs)
        dims = [i["dim"] for i in self.inputs]
        steps = [i["steps"] for i in self.inputs]
        width = p["dim"] + mods + 1
        self.embeddings = nn.ModuleDict()
        self.teacher_embeddings = nn.ModuleDict()
        for i in self.inputs:
            if i["source"] == "TOKENS":
                # EmbeddingSequenceLayer: no bias, identity, XAVIER (the table's word vectors in Java when
                # pretrained: values only, the timing does not depend on them); the teacher's copy is another layer
                for table in (self.embeddings, self.teacher_embeddings):
                    e = nn.Embedding(i["vocabSize"], i["dim"])
                    with torch.no_grad():
                        e.weight.normal_(0.0, math.sqrt(2.0 / (i["vocabSize"] + i["dim"])))
                    table[i["modality"]] = e
        self.core = Core(dims, steps, p["dim"], p["heads"])
        self.head_fc = nn.Linear(width, p["dim"], bias=False)
        self.head_out = nn.Linear(p["dim"], len(spec["classes"]))
        for lin in (self.head_fc, self.head_out):
            with torch.no_grad():   # DL4J WeightInit.XAVIER (the graph's): N(0, 2 / (fan_in + fan_out)), zero bias
                lin.weight.normal_(0.0, math.sqrt(2.0 / (lin.in_features + lin.out_features)))
                if lin.bias is not None:
                    lin.bias.zero_()
        # the frozen teacher: TateCore's "t..." parameters and TateNetwork's teacher_<m>_embedding layers
        for module in (self.core.teacher, self.teacher_embeddings):
            module.requires_grad_(False)

    def frozen_parameters(self):
        return sum(p.numel() for m in (self.core.teacher, self.teacher_embeddings) for p in m.parameters())

    def sequence(self, i, x, table):
        if i["source"] == "TOKENS":
            # ids [B, 1, T] -> [B, T, D] (Java: NCW [B, D, T], which the core permutes to [B, T, D])
            return table[i["modality"]](x.reshape(x.shape[0], -1).long())
        return x.permute(0, 2, 1)

    def forward(self, feats):
        mods = len(self.inputs)
        xs, cs, ks = [], [], []
        for m, i in enumerate(self.inputs):
            xs.append(self.sequence(i, feats[3 * m], self.embeddings))
            cs.append(self.sequence(i, feats[3 * m + 1], self.teacher_embeddings))
            ks.append(feats[3 * m + 2])
        pooled, aux = self.core(xs, cs, ks, feats[3 * mods])
        return self.head_out(self.head_fc(pooled)), aux


def kl(a, b):
    """TateLoss.kl: KL(softmax(a) || softmax(b)) along the last axis of [B, N, P] logits: [B, N]."""
    la = F.log_softmax(a, 2)
    lb = F.log_softmax(b, 2)
    return (la.exp() * (la - lb)).sum(2)


def symmetric_kl(a, b):
    return kl(a, b) + kl(b, a)


def masked_mean(v, q):
    """TateLoss.maskedMean: sum_t q_t v_t / max(1, sum_t q_t) per row: [B]."""
    return (v * q).sum(1) / q.sum(1).clamp(min=1.0)


def tate_loss(z, aux, labels, weights, l2, head_out):
    """TateLoss.defineLayer (B x L, which DL4J divides by B) plus DL4J's L2 on head_out's weight and bias
    (score + 0.5 * l2 * ||W||^2, gradient + l2 * W)."""
    per = -(F.log_softmax(z, 1) * labels).sum(1)
    if weights["kl"] > 0:
        per = per + masked_mean(symmetric_kl(aux["enc"], aux["teacher"]), aux["q_teacher"]) \
            * aux["kl_switch"].squeeze(1) * weights["kl"]
    if weights["recon"] > 0:
        per = per + masked_mean(symmetric_kl(aux["dec"], aux["tagged"]), aux["q_slots"]) * weights["recon"]
    if weights["tag"] > 0:
        per = per + (aux["tag"] - torch.sigmoid(aux["tag_logits"])).abs().mean(1) * weights["tag"]
    loss = per.mean()
    if l2 > 0:
        loss = loss + 0.5 * l2 * (head_out.weight.pow(2).sum() + head_out.bias.pow(2).sum())
    return loss


def functional_flops(spec, batch):
    """FLOPs of one forward pass that the Linear hooks do not see: the attention products QK' and AV
    (2 * 2 * B * n * n * e per block: over heads, h * dh = e), for the student's and the teacher's per-modality and
    encoder blocks and the decoder block."""
    p = spec["params"]
    steps = [i["steps"] for i in spec["inputs"]]
    d = p["dim"]
    width = d + len(steps) + 1
    n = sum(steps)
    encoder = sum(4 * batch * t * t * d for t in steps) + 4 * batch * n * n * width
    return 2 * encoder + 4 * batch * n * n * width


def build(case, arrays):
    spec = case["spec"]
    p = spec["params"]
    model = Tate(spec)
    feats = arrays["features"]
    labels = arrays["labels"][0]

    def loss():
        z, aux = model(feats)
        return tate_loss(z, aux, labels, p["loss"], p["l2"], model.head_out)

    def infer():
        # the network's one output, TateLoss's activations; the Java graph computes the whole core (the teacher and
        # the decoder included: they are part of the vertex's output) at inference too, and so does this forward
        return torch.softmax(model(feats)[0], 1)

    return common.Bench(model, loss, infer, functional_flops(spec, labels.shape[0]),
                        counted_state=model.frozen_parameters())
