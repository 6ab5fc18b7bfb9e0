"""PyTorch port of the project's MISA model, layer for layer as the Java network builds it, for the benchmark's
same-architecture timing (not a reimplementation of the paper or of declare-lab/MISA where the project differs).

Mirrors (training/src/main/java/dev/mmspark/training/):
  models/misa/MisaNetwork.java   per-modality encoder (embedding, 1-wide Conv1D + ReLU, masked max+avg pooling,
                                 Dense + ReLU), head (Dense 2Mh->3h ReLU, dropout, Dense 3h->O)
  models/misa/MisaCore.java      LayerNorm, shared/private sigmoid encoders, decoders, one post-norm Transformer
                                 encoder layer over the 2M vectors (no internal dropout)
  models/misa/MisaLoss.java      task + sim * CMD + diff * soft orthogonality + recon * MSE
  models/misa/MisaBatchBuilder.java  inputs: token ids [B, 1, L] or vectors [B, D, T], each with a mask [B, T]
  layers/MaskedGlobalPooling(Layer).java  max / avg over the real positions, zeros for an all-zero mask
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

# MisaCore.LN_EPS, MisaLoss.NORM_EPSILON, MisaLoss.DIFF_EPSILON, MaskedGlobalPoolingLayer.PADDING_OFFSET
LN_EPS = 1e-5
NORM_EPSILON = 1e-12
DIFF_EPSILON = 1e-6
PADDING_OFFSET = 1e9


def _dl4j_relu_init(weight, fan_in):
    # DL4J WeightInit.RELU (the graph default in MisaNetwork): N(0, 2 / fan_in); biases start at 0
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / fan_in))


def _dl4j_xavier_init(weight, fan_in, fan_out):
    # DL4J WeightInit.XAVIER: N(0, 2 / (fan_in + fan_out))
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def masked_pool(x, mask):
    """MaskedGlobalPoolingLayer with statistics [MAX, AVG] on x [B, C, T] and mask [B, T]: [B, 2C].

    max = any * max_t(x + (m - 1) * 1e9), avg = sum_t(m x) / (count + 1 - any), exactly the Java forward."""
    count = mask.sum(1, keepdim=True)                                   # [B, 1]
    any_ = (count > 0).to(x.dtype)
    offset = (mask - 1.0) * PADDING_OFFSET                              # 0 real, -1e9 padding
    mx = (x + offset.unsqueeze(1)).max(2).values * any_
    avg = (x * mask.unsqueeze(1)).sum(2) / (count + 1.0 - any_)
    return torch.cat([mx, avg], 1)


class Encoder(nn.Module):
    """One modality's utterance encoder (MisaNetwork.build, per input): <m>_embedding (tokens only),
    <m>_encoder, <m>_pool, <m>_project."""

    def __init__(self, inp, encoder_dim, hidden):
        super().__init__()
        self.tokens = inp["source"] == "TOKENS"
        dim = inp["dim"]
        if self.tokens:
            # EmbeddingSequenceLayer: no bias, identity, XAVIER (the table's word vectors in Java when pretrained:
            # values only, the timing does not depend on them)
            self.embedding = nn.Embedding(inp["vocabSize"], dim)
            _dl4j_xavier_init(self.embedding.weight, inp["vocabSize"], dim)
        # Convolution1DLayer kernel 1, ConvolutionMode.Same, NCW, ReLU
        self.encoder = nn.Conv1d(dim, encoder_dim, kernel_size=1)
        _dl4j_relu_init(self.encoder.weight, dim)
        nn.init.zeros_(self.encoder.bias)
        # DenseLayer nOut hidden, ReLU, over [max | avg]
        self.project = nn.Linear(2 * encoder_dim, hidden)
        _dl4j_relu_init(self.project.weight, 2 * encoder_dim)
        nn.init.zeros_(self.project.bias)

    def forward(self, x, mask):
        if self.tokens:
            # ids [B, L] -> [B, L, dim] -> NCW [B, dim, L]; DL4J's EmbeddingSequenceLayer multiplies by the mask
            x = (self.embedding(x) * mask.unsqueeze(2)).transpose(1, 2)
        # DL4J's Convolution1DLayer multiplies its activations by the (kernel-1, so unchanged) mask
        h = F.relu(self.encoder(x)) * mask.unsqueeze(1)
        return F.relu(self.project(masked_pool(h, mask)))


class Core(nn.Module):
    """MisaCore (a SameDiff vertex in Java): utterance LN, shared/private encoders, decoders, Transformer layer."""

    def __init__(self, modalities, hidden, heads, feed_forward):
        super().__init__()
        self.m, self.h, self.heads = modalities, hidden, heads
        # lng<m>/lnb<m>: gain 1, bias 0 (nn.LayerNorm's defaults; eps 1e-5, biased variance, as MisaCore.layerNorm)
        self.ln = nn.ModuleList(nn.LayerNorm(hidden, eps=LN_EPS) for _ in range(modalities))
        # Wp<m>/bp<m>, Wr<m>/br<m>, Wc/bc, Wq..Wo, W1/b1, W2/b2: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
        # biases (MisaCore.initializeParameters), which is nn.Linear's default initialisation
        self.private = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(modalities))
        self.recon = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(modalities))
        self.shared = nn.Linear(hidden, hidden)
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=LN_EPS)
        self.ff1 = nn.Linear(hidden, feed_forward)
        self.ff2 = nn.Linear(feed_forward, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=LN_EPS)

    def forward(self, xs):
        u, hc, hp, r = [], [], [], []
        for m, x in enumerate(xs):
            um = self.ln[m](x)
            c = torch.sigmoid(self.shared(um))
            q = torch.sigmoid(self.private[m](um))
            u.append(um)
            hc.append(c)
            hp.append(q)
            r.append(self.recon[m](c + q))
        t = 2 * self.m
        h = self.h
        dh = h // self.heads
        s = torch.stack(hp + hc, 1).reshape(-1, h)                     # [B*T, h], tokens hp_1..hp_M, hc_1..hc_M

        def split(z):                                                  # [B*T, h] -> [B, heads, T, dh]
            return z.reshape(-1, t, self.heads, dh).permute(0, 2, 1, 3)

        query, key, value = split(self.q(s)), split(self.k(s)), split(self.v(s))
        weights = torch.softmax(torch.matmul(query, key.transpose(2, 3)) / math.sqrt(dh), 3)
        attended = torch.matmul(weights, value).permute(0, 2, 1, 3).reshape(-1, h)
        a = self.ln1(s + self.o(attended))
        f = self.ln2(a + self.ff2(F.relu(self.ff1(a)))).reshape(-1, t * h)
        return f, u, hc, hp, r


class Misa(nn.Module):
    def __init__(self, spec):
        super().__init__()
        p = spec["params"]
        h = p["hidden"]
        self.regression = spec["task"] == "REGRESSION"
        outputs = 1 if self.regression else len(spec["classes"])
        self.encoders = nn.ModuleList(Encoder(inp, p["encoderDim"], h) for inp in spec["inputs"])
        mods = len(spec["inputs"])
        self.core = Core(mods, h, p["heads"], p["feedForward"])
        # head_fc: Dense 2Mh -> 3h, ReLU (WeightInit.RELU)
        self.head_fc = nn.Linear(2 * mods * h, 3 * h)
        _dl4j_relu_init(self.head_fc.weight, 2 * mods * h)
        nn.init.zeros_(self.head_fc.bias)
        # head_out: dropOut(1 - dropout) on its input (DL4J inverted dropout, training only), Dense 3h -> O, XAVIER
        self.dropout = nn.Dropout(p["dropout"]) if p["dropout"] > 0 else nn.Identity()
        self.head_out = nn.Linear(3 * h, outputs)
        _dl4j_xavier_init(self.head_out.weight, 3 * h, outputs)
        nn.init.zeros_(self.head_out.bias)

    def forward(self, xs, masks):
        projected = [enc(x, m) for enc, x, m in zip(self.encoders, xs, masks)]
        f, u, hc, hp, r = self.core(projected)
        z = self.head_out(self.dropout(F.relu(self.head_fc(f))))
        return z, u, hc, hp, r


def _norm(x):
    """MisaLoss.norm: sqrt(sum of squares + 1e-12) of all elements."""
    return torch.sqrt((x * x).sum() + NORM_EPSILON)


def cmd(a, b, moments):
    """MisaLoss.cmd: ||E a - E b|| + sum_{k=2..K} ||E (a - E a)^k - E (b - E b)^k|| (E over the batch)."""
    ma, mb = a.mean(0, keepdim=True), b.mean(0, keepdim=True)
    sa, sb = a - ma, b - mb
    total = _norm(ma - mb)
    pa, pb = sa, sb
    for _ in range(2, moments + 1):
        pa = pa * sa
        pb = pb * sb
        total = total + _norm(pa.mean(0, keepdim=True) - pb.mean(0, keepdim=True))
    return total


def _row_normalise(x):
    n = torch.sqrt((x * x).sum(1, keepdim=True) + NORM_EPSILON)
    return x / (n + DIFF_EPSILON)


def difference(a, b):
    """MisaLoss.difference: mean_jk ((A' B)_jk)^2 of the centred, row-normalised representations (gradient through
    the norms too, as the Java layer)."""
    na = _row_normalise(a - a.mean(0, keepdim=True))
    nb = _row_normalise(b - b.mean(0, keepdim=True))
    c = torch.matmul(na.t(), nb)
    return (c * c).mean()


def misa_loss(z, u, hc, hp, r, labels, regression, moments, w_sim, w_diff, w_recon, w_task=1.0):
    """MisaLoss.defineLayer. The Java SameDiff loss variable is B x L and DL4J divides an output layer's score and
    gradients by the minibatch size B (SameDiffOutputLayer.computeScore, the updater), so the objective is L. A
    SameDiffOutputLayer never reads label masks (and MISA's are all ones: its output requires no modality)."""
    batch = z.shape[0]
    if regression:
        task = ((z - labels) ** 2).sum() / batch
    else:
        task = -(F.log_softmax(z, 1) * labels).sum() / batch
    mods = len(u)
    sim, diff = 0.0, 0.0
    for m in range(mods):
        diff = diff + difference(hp[m], hc[m])
        for n in range(m + 1, mods):
            sim = sim + cmd(hc[m], hc[n], moments)
            diff = diff + difference(hp[m], hp[n])
    sim = sim / (mods * (mods - 1) // 2)
    recon = 0.0
    for m in range(mods):
        e = r[m] - u[m]
        recon = recon + (e * e).mean()
    recon = recon / mods
    return w_task * task + w_sim * sim + w_diff * diff + w_recon * recon


def functional_flops(spec, batch):
    """FLOPs of one training forward pass that the Linear/Conv hooks do not see: the attention products QK' and
    AV, and the loss (CMD moments: power and mean per side and moment; the difference loss's h x h products)."""
    p = spec["params"]
    h, heads, k = p["hidden"], p["heads"], p["cmdMoments"]
    mods = len(spec["inputs"])
    t = 2 * mods
    attention = 2 * (2 * batch * heads * t * t * (h // heads))
    pairs = mods * (mods - 1) // 2
    cmd_flops = pairs * 2 * (2 * batch * h + (k - 1) * 2 * batch * h)   # centring + (power, mean) per moment
    diff_flops = (mods + pairs) * 2 * batch * h * h
    return attention + cmd_flops + diff_flops


def build(case, arrays):
    spec = case["spec"]
    p = spec["params"]
    model = Misa(spec)
    xs = []
    for inp, x in zip(spec["inputs"], arrays["features"]):
        # token ids arrive as floats [B, 1, L] (MisaBatchBuilder.tokens)
        xs.append(x.reshape(x.shape[0], -1).long() if inp["source"] == "TOKENS" else x)
    masks = []
    for x, m in zip(xs, arrays["featureMasks"]):
        # MisaBatchBuilder always writes a mask; all ones if one were absent (MaskedGlobalPoolingLayer.prepare)
        masks.append(m if m is not None else torch.ones(x.shape[0], x.shape[-1]))
    labels = arrays["labels"][0]
    regression = model.regression

    def loss():
        z, u, hc, hp, r = model(xs, masks)
        return misa_loss(z, u, hc, hp, r, labels, regression, p["cmdMoments"], p["loss"]["sim"], p["loss"]["diff"],
                         p["loss"]["recon"])

    def infer():
        # the network's one output, MisaLoss's activations: softmax(z) (classification) or z (regression)
        z = model(xs, masks)[0]
        return z if regression else torch.softmax(z, 1)

    return common.Bench(model, loss, infer, functional_flops(spec, labels.shape[0]))
