"""PyTorch port of the project's TFR-Net model, layer for layer as the Java network builds it, for the benchmark's
same-architecture timing (not a reimplementation of the paper or of thuiar/MMSA where the project differs: see the
deviations listed in TfrNetCore's Javadoc -- per-position projection, padded keys masked, no GRU in the C-GATE, no
dropout inside the core, final-Transformer heads the largest divisor of T up to 25).

Mirrors (training/src/main/java/dev/mmspark/training/):
  models/tfrnet/TfrNetBatchBuilder.java  inputs per modality: x [B, C, 2T] (complete | damaged copy, C = 1 token
                                          id or D values) and k [B, 2, T] (real positions | dropped positions);
                                          the frame drop is already in the case's arrays
  models/tfrnet/TfrNetNetwork.java       token embedding (no bias, over both halves), the core, head: dropout
                                          fusion_dropout -> BatchNorm -> Dense cls_hidden LeakyReLU(0.01) ->
                                          [dropout cls_dropout] -> Dense O
  models/tfrnet/TfrNetCore.java          projection * sqrt(d) + sinusoids, intra- and cross-modal pre-norm
                                          Transformers (padded keys get -1e4), per-modality final Transformer over
                                          the M*d feature channels (tokens of width T), linear generator, C-GATE
                                          (width-3 gate convolution, tanh, masked max pooling)
  models/tfrnet/TfrNetLoss.java          cross-entropy (or L1) + sum_m w_m [SmoothL1 on dropped positions
                                          (+ lambda CMD)] / (D_m * dropped + 1e-4)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import common
from models.misa import cmd as central_moment_discrepancy

LN_EPS = 1e-5           # TfrNetCore.LN_EPS
MASKED = 1e4            # TfrNetCore.MASKED
COUNT_EPSILON = 1e-4    # TfrNetLoss.COUNT_EPSILON
CMD_MOMENTS = 3         # TfrNetLoss.CMD_MOMENTS
BN_EPS = 1e-5           # DL4J BatchNormalization defaults: eps 1e-5, decay 0.9
BN_DECAY = 0.9


def final_heads(t):
    """TfrNetCore.finalHeads: the largest divisor of T up to 25."""
    for h in range(min(25, t), 1, -1):
        if t % h == 0:
            return h
    return 1


def positions(t, e):
    """TfrNetCore.positions: fairseq's sinusoids for positions 1..t (sin half, cos half, odd e: last channel 0)."""
    half = e // 2
    step = math.log(10000) / (half - 1) if half > 1 else 0.0
    out = torch.zeros(t, e)
    for pos in range(1, t + 1):
        for i in range(half):
            w = math.exp(-i * step)
            out[pos - 1, i] = math.sin(pos * w)
            out[pos - 1, half + i] = math.cos(pos * w)
    return out


def _xavier(linear):
    """MulT's initialisation (TfrNetCore.initializeParameters): Xavier-uniform weights, zero biases."""
    nn.init.xavier_uniform_(linear.weight)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)
    return linear


class EncoderLayer(nn.Module):
    def __init__(self, e, heads):
        super().__init__()
        self.e, self.heads = e, heads
        self.ln0 = nn.LayerNorm(e, eps=LN_EPS)
        self.q, self.k, self.v, self.o = (_xavier(nn.Linear(e, e)) for _ in range(4))
        self.ln1 = nn.LayerNorm(e, eps=LN_EPS)
        self.ff1 = _xavier(nn.Linear(e, 4 * e))
        self.ff2 = _xavier(nn.Linear(4 * e, e))

    def attention(self, xn, kn, key_bias):
        b, n, e = xn.shape
        nk = kn.shape[1]
        h = self.heads
        dh = e // h
        query = self.q(xn).reshape(b, n, h, dh).permute(0, 2, 1, 3)
        key = self.k(kn).reshape(b, nk, h, dh).permute(0, 2, 1, 3)
        value = self.v(kn).reshape(b, nk, h, dh).permute(0, 2, 1, 3)
        scores = torch.matmul(query, key.transpose(2, 3)) / math.sqrt(dh)     # [B, H, n, nk]
        if key_bias is not None:
            scores = scores + key_bias
        # the Java core writes the softmax out (max subtracted), which is what torch.softmax computes
        weights = torch.softmax(scores, 3)
        attended = torch.matmul(weights, value).permute(0, 2, 1, 3).reshape(b, n, e)
        return self.o(attended)

    def forward(self, x, kv, key_bias):
        xn = self.ln0(x)
        kn = xn if kv is None else self.ln0(kv)          # keys/values normalised by the same LayerNorm
        x = x + self.attention(xn, kn, key_bias)
        return x + self.ff2(F.relu(self.ff1(self.ln1(x))))


class Encoder(nn.Module):
    """MulT's pre-norm Transformer encoder (TfrNetCore.encoder): layers, then a final LayerNorm."""

    def __init__(self, e, heads, layers):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(e, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(e, eps=LN_EPS)

    def forward(self, x, kv=None, key_bias=None):
        for layer in self.layers:
            x = layer(x, kv, key_bias)
        return self.lnf(x)


class Core(nn.Module):
    """TfrNetCore (one SameDiff vertex in Java)."""

    def __init__(self, dims, steps, dim, heads, layers, hidden):
        super().__init__()
        self.dims, self.steps, self.dim, self.hidden = dims, steps, dim, hidden
        mods = len(dims)
        a = mods * dim
        self.project = nn.ModuleList(_xavier(nn.Linear(d, dim, bias=False)) for d in dims)
        self.intra = nn.ModuleList(Encoder(dim, heads, layers) for _ in range(mods))
        self.cross = nn.ModuleList(
            nn.ModuleList(Encoder(dim, heads, layers) for n in range(mods) if n != m) for m in range(mods))
        self.final = nn.ModuleList(Encoder(t, final_heads(t), layers) for t in steps)
        self.generate = nn.ModuleList(_xavier(nn.Linear(a, d)) for d in dims)
        self.gate = nn.ModuleList(_xavier(nn.Linear(3 * a, 1)) for _ in range(mods))
        self.fuse = nn.ModuleList(_xavier(nn.Linear(2 * a, hidden)) for _ in range(mods))
        for m, t in enumerate(steps):
            self.register_buffer("pos%d" % m, positions(t, dim).unsqueeze(0))

    def forward(self, xs, ks):
        mods = len(self.dims)
        z, key_bias, real, drop, target = [], [], [], [], []
        for m in range(mods):
            t = self.steps[m]
            x, k = xs[m], ks[m]
            complete = x[:, :, :t].permute(0, 2, 1)                          # [B, T, D]
            damaged = x[:, :, t:].permute(0, 2, 1)
            real.append(k[:, 0, :])
            drop.append(k[:, 1, :])
            target.append(complete.reshape(x.shape[0], -1))
            z.append(self.project[m](damaged) * math.sqrt(self.dim) + getattr(self, "pos%d" % m))
            key_bias.append(((real[m] - 1.0) * MASKED).reshape(-1, 1, 1, t))
        reps, aux = [], []
        for m in range(mods):
            t = self.steps[m]
            streams = [self.intra[m](z[m], None, key_bias[m])]
            j = 0
            for n in range(mods):
                if n != m:
                    streams.append(self.cross[m][j](z[m], z[n], key_bias[n]))
                    j += 1
            h = torch.cat(streams, 2)                                         # [B, T, a]
            # generator: the final Transformer over the feature channels, then a position-wise linear map
            f = self.final[m](h.permute(0, 2, 1) * math.sqrt(t)).permute(0, 2, 1)
            rec = self.generate[m](f).reshape(h.shape[0], -1)
            # C-GATE: width-3 convolution over time (zero padding) -> sigmoid gate per position
            zero = torch.zeros_like(h[:, :1, :])
            prev = torch.cat([zero, h[:, :-1, :]], 1)
            nxt = torch.cat([h[:, 1:, :], zero], 1)
            gate = torch.sigmoid(self.gate[m](torch.cat([prev, h, nxt], 2)))  # [B, T, 1]
            gated = torch.tanh(h) * gate
            u = torch.tanh(self.fuse[m](torch.cat([h, gated], 2)))            # [B, T, hidden]
            r3 = real[m].unsqueeze(2)
            pooled = (u * r3 + (r3 - 1.0) * 2.0).max(1).values
            reps.append(pooled * real[m].max(1, keepdim=True).values)
            aux.append((rec, target[m], drop[m]))
        return torch.cat(reps, 1), aux


class BatchNorm(nn.Module):
    """DL4J's BatchNormalization on [B, N] (gamma, beta; eps 1e-5; global statistics with decay 0.9). DL4J keeps
    the global mean and variance in the network's parameter vector (net.params() counts them); here they are
    buffers, counted through common.Bench's counted_state."""

    def __init__(self, n):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(n))
        self.beta = nn.Parameter(torch.zeros(n))
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("var", torch.ones(n))

    def forward(self, x):
        return F.batch_norm(x, self.mean, self.var, self.gamma, self.beta, self.training, 1.0 - BN_DECAY, BN_EPS)


class TfrNet(nn.Module):
    def __init__(self, spec):
        super().__init__()
        p = spec["params"]
        self.inputs = spec["inputs"]
        self.regression = spec["task"] == "REGRESSION"
        outputs = 1 if self.regression else len(spec["classes"])
        dims = [i["dim"] for i in self.inputs]
        steps = [i["steps"] for i in self.inputs]
        self.embeddings = nn.ModuleDict()
        for i in self.inputs:
            if i["source"] == "TOKENS":
                # EmbeddingSequenceLayer: no bias, identity, XAVIER (the table's word vectors in Java when
                # pretrained: values only, the timing does not depend on them)
                e = nn.Embedding(i["vocabSize"], i["dim"])
                with torch.no_grad():
                    e.weight.normal_(0.0, math.sqrt(2.0 / (i["vocabSize"] + i["dim"])))
                self.embeddings[i["modality"]] = e
        self.core = Core(dims, steps, p["dim"], p["heads"], p["layers"], p["fusionHidden"])
        reps = len(dims) * p["fusionHidden"]
        # head_norm: dropOut(1 - fusion_dropout) on its input (DL4J inverted dropout), BatchNorm
        self.fusion_dropout = nn.Dropout(p["fusionDropout"]) if p["fusionDropout"] > 0 else nn.Identity()
        self.head_norm = BatchNorm(reps)
        self.head_fc = nn.Linear(reps, p["clsHidden"])
        self.cls_dropout = nn.Dropout(p["clsDropout"]) if p["clsDropout"] > 0 else nn.Identity()
        self.head_out = nn.Linear(p["clsHidden"], outputs)
        for lin in (self.head_fc, self.head_out):
            with torch.no_grad():   # DL4J WeightInit.XAVIER (the graph's): N(0, 2 / (fan_in + fan_out)), zero bias
                lin.weight.normal_(0.0, math.sqrt(2.0 / (lin.in_features + lin.out_features)))
                lin.bias.zero_()

    def forward(self, xs, ks):
        seqs = []
        for i, x in zip(self.inputs, xs):
            if i["source"] == "TOKENS":
                # ids [B, 1, 2T] -> [B, 2T, D] -> NCW [B, D, 2T] (complete and damaged halves, one embedding)
                x = self.embeddings[i["modality"]](x.reshape(x.shape[0], -1).long()).transpose(1, 2)
            seqs.append(x)
        gated, aux = self.core(seqs, ks)
        z = self.head_out(self.cls_dropout(F.leaky_relu(self.head_fc(self.head_norm(self.fusion_dropout(gated))),
                                                        0.01)))
        return z, aux


def smooth_l1(e):
    """TfrNetLoss.smoothL1 (PyTorch's, beta 1, elementwise)."""
    return F.smooth_l1_loss(e, torch.zeros_like(e), reduction="none", beta=1.0)


def tfrnet_loss(z, aux, labels, regression, dims, steps, recon_weights, cmd_weight, task_weight=1.0):
    """TfrNetLoss.defineLayer: the Java loss variable is B x L and DL4J divides by B, so the objective is L."""
    batch = z.shape[0]
    if regression:
        task = (z - labels).abs().sum() / batch
    else:
        task = -(F.log_softmax(z, 1) * labels).sum() / batch
    loss = task * task_weight
    for m, (rec, target, drop) in enumerate(aux):
        if recon_weights[m] == 0:
            continue
        t, d = steps[m], dims[m]
        q = drop.reshape(-1, t, 1)
        qr = rec.reshape(-1, t, d) * q
        qx = target.reshape(-1, t, d) * q
        count = q.sum() * d + COUNT_EPSILON
        total = smooth_l1(qr - qx).sum()
        if cmd_weight > 0:
            total = total + central_moment_discrepancy(qr.reshape(-1, d), qx.reshape(-1, d), CMD_MOMENTS) * cmd_weight
        loss = loss + total / count * recon_weights[m]
    return loss


def functional_flops(spec, batch):
    """FLOPs of one forward pass that the Linear hooks do not see: the attention products QK' and AV
    (2 * 2 * B * n * nk * e per encoder layer: over heads, h * dh = e)."""
    p = spec["params"]
    steps = [i["steps"] for i in spec["inputs"]]
    mods = len(steps)
    d, layers = p["dim"], p["layers"]
    a = mods * d
    total = 0
    for m in range(mods):
        total += 4 * batch * steps[m] * steps[m] * d                      # intra
        for n in range(mods):
            if n != m:
                total += 4 * batch * steps[m] * steps[n] * d              # cross
        total += 4 * batch * a * a * steps[m]                             # final: a tokens of width T
    return layers * total


def build(case, arrays):
    spec = case["spec"]
    p = spec["params"]
    model = TfrNet(spec)
    feats = arrays["features"]
    xs = feats[0::2]
    ks = feats[1::2]
    labels = arrays["labels"][0]
    dims = [i["dim"] for i in spec["inputs"]]
    steps = [i["steps"] for i in spec["inputs"]]
    recon = p["loss"]["recon"] or [1.0] * len(dims)

    def loss():
        z, aux = model(xs, ks)
        return tfrnet_loss(z, aux, labels, model.regression, dims, steps, recon, p["loss"]["cmd"])

    def infer():
        # the network's one output, TfrNetLoss's activations; the Java graph computes the whole core (generators
        # included, they are part of the vertex's output) at inference too, and so does this forward
        z = model(xs, ks)[0]
        return z if model.regression else torch.softmax(z, 1)

    return common.Bench(model, loss, infer, functional_flops(spec, labels.shape[0]),
                        counted_state=model.head_norm.mean.numel() + model.head_norm.var.numel())
