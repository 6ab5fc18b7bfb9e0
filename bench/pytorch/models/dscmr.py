"""PyTorch port of the project's DSCMR model, layer for layer as the Java network builds it, for the benchmark's
same-architecture timing (not the reference penghu-cs/DSCMR code where the project differs).

Mirrors (training/src/main/java/dev/mmspark/training/):
  models/dscmr/DscmrNetwork.java  two subnetworks (encoder by input kind, then FC + ReLU layers), the shared linear
                                  layer `common` applied once to both branches stacked along the minibatch
                                  (StackVertex / UnstackVertex)
  layers/SmallImageCnn.java       pixels: per entry 3x3 "same" conv + ReLU, 2x2/2 max-pool; global average pool
  layers/MaskedGlobalPooling*     tokens: embedding averaged over the real tokens (zeros for an all-zero mask)
  models/dscmr/DscmrLoss.java     shared linear classifier + J1 (label space) + alpha J2 (common space) + beta J3
  models/dscmr/DscmrBatchBuilder.java  inputs image, text, pair flag [B, 1]; token ids [B, 1, L] + mask [B, L]
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

NORM_EPSILON = 1e-12       # DscmrLoss.NORM_EPSILON
COSINE_FLOOR = 1e-6        # DscmrLoss.COSINE_FLOOR


def _dl4j_uniform_init(module, fan_in):
    # DscmrNetwork's graph default WeightInit.UNIFORM: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); DL4J biases start at 0
    a = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        module.weight.uniform_(-a, a)
        if getattr(module, "bias", None) is not None:
            module.bias.zero_()


class Branch(nn.Module):
    """One subnetwork (DscmrNetwork.branch): the encoder of its input kind, then <role>_fc1.. (Dense + ReLU)."""

    def __init__(self, inp, params):
        super().__init__()
        self.source = inp["source"]
        if self.source == "PIXELS":
            convs = []
            prev = inp["channels"]
            for ch in params["cnnChannels"]:
                conv = nn.Conv2d(prev, ch, kernel_size=3, padding=1)   # ConvolutionMode.Same, stride 1
                _dl4j_uniform_init(conv, prev * 9)
                convs.append(conv)
                prev = ch
            self.convs = nn.ModuleList(convs)
            width = prev
        elif self.source == "TOKENS":
            # EmbeddingSequenceLayer, no bias (the table's word vectors in Java when pretrained: values only)
            self.embedding = nn.Embedding(inp["vocabSize"], inp["embeddingDim"])
            _dl4j_uniform_init(self.embedding, inp["vocabSize"])
            width = inp["embeddingDim"]
        else:                                                          # VECTOR, EMBEDDING: straight into the FCs
            width = inp["dim"]
        fcs = []
        for size in params["hidden"]:
            fc = nn.Linear(width, size)
            _dl4j_uniform_init(fc, width)
            fcs.append(fc)
            width = size
        self.fcs = nn.ModuleList(fcs)

    def forward(self, x, mask):
        if self.source == "PIXELS":
            for conv in self.convs:
                x = F.max_pool2d(F.relu(conv(x)), 2, 2)
            x = x.mean((2, 3))                                         # GlobalPoolingLayer AVG, no mask
        elif self.source == "TOKENS":
            # EmbeddingSequenceLayer multiplies its output by the mask; MaskedGlobalPooling AVG divides by the count
            # of real tokens, or by 1 for an empty row
            e = self.embedding(x) * mask.unsqueeze(2)                  # [B, L, E]
            count = mask.sum(1, keepdim=True)
            any_ = (count > 0).to(e.dtype)
            x = (e * mask.unsqueeze(2)).sum(1) / (count + 1.0 - any_)
        for fc in self.fcs:
            x = F.relu(fc(x))
        return x


class Dscmr(nn.Module):
    def __init__(self, spec):
        super().__init__()
        p = spec["params"]
        self.image = Branch(spec["image"], p["image"])
        self.text = Branch(spec["text"], p["text"])
        d = p["commonDim"]
        h = p["image"]["hidden"][-1]
        self.common = nn.Linear(h, d)                                  # `common`: Dense, identity, shared
        _dl4j_uniform_init(self.common, h)
        # DscmrLoss's parameters W [d, C] and b [1, C]: U(-1/sqrt(d), 1/sqrt(d)) both (initializeParameters)
        self.classifier = nn.Linear(d, len(spec["classes"]))
        a = 1.0 / math.sqrt(d)
        with torch.no_grad():
            self.classifier.weight.uniform_(-a, a)
            self.classifier.bias.uniform_(-a, a)

    def forward(self, image, image_mask, text, text_mask):
        i = self.image(image, image_mask)
        t = self.text(text, text_mask)
        # StackVertex -> one `common` layer over [2B, H] -> UnstackVertex 0 and 1
        both = self.common(torch.cat([i, t], 0))
        u, v = both.split(i.shape[0], 0)
        return u, v, self.classifier(u), self.classifier(v)


def _row_norm(x):
    """DscmrLoss.rowNorm: sqrt(sum_k x_ik^2 + 1e-12), [B, 1]."""
    return torch.sqrt((x * x).sum(1, keepdim=True) + NORM_EPSILON)


def _pair_loss(a, b, same, pairs):
    """DscmrLoss.pairLoss: sum_ij m_i m_j [softplus(t_ij) - S_ij t_ij], t = cos(a_i, b_j) / 2 (norm product >= 1e-6)."""
    norms = torch.matmul(_row_norm(a), _row_norm(b).t())
    theta = torch.matmul(a, b.t()) / torch.clamp(norms, min=COSINE_FLOOR) * 0.5
    return ((F.softplus(theta) - same * theta) * pairs).sum()


def dscmr_loss(u, v, pu, pv, labels, m, alpha, beta, label_weight=1.0):
    """DscmrLoss.defineLayer. The Java SameDiff loss variable is B x L and DL4J divides an output layer's score and
    gradients by the minibatch size B, so the objective is L. A SameDiffOutputLayer never reads label masks: unpaired
    rows are left out through the pair flag m (which equals the label mask, DscmrBatchBuilder)."""
    n = torch.clamp(m.sum(), min=1.0)                                  # max(n, 1)
    pairs = torch.matmul(m, m.t())
    j1 = ((_row_norm(pu - labels) + _row_norm(pv - labels)) * m).sum() / n
    same = torch.matmul(labels, labels.t())
    nn_ = n * n
    j2 = (_pair_loss(u, u, same, pairs) / nn_ + _pair_loss(u, v, same, pairs) / nn_
          + _pair_loss(v, v, same, pairs) / nn_)
    j3 = (_row_norm(u - v) * m).sum() / n
    return label_weight * j1 + alpha * j2 + beta * j3


def functional_flops(spec, batch):
    """FLOPs of one training forward pass that the Linear/Conv hooks do not see: the loss's B x B products (three
    a b' similarity matrices over d, their norm outer products, S = Y Y' and m m')."""
    d = spec["params"]["commonDim"]
    c = len(spec["classes"])
    return 3 * (2 * batch * batch * d + 2 * batch * batch) + 2 * batch * batch * c + 2 * batch * batch


def _input(inp, x):
    # token ids arrive as floats [B, 1, L] (DscmrBatchBuilder.tokens)
    return x.reshape(x.shape[0], -1).long() if inp["source"] == "TOKENS" else x


def build(case, arrays):
    spec = case["spec"]
    p = spec["params"]
    model = Dscmr(spec)
    feats, fmasks = arrays["features"], arrays["featureMasks"]
    fmasks = fmasks + [None] * (3 - len(fmasks))
    image, text = _input(spec["image"], feats[0]), _input(spec["text"], feats[1])
    image_mask, text_mask = fmasks[0], fmasks[1]
    if spec["text"]["source"] == "TOKENS" and text_mask is None:
        text_mask = torch.ones(text.shape)
    if spec["image"]["source"] == "TOKENS" and image_mask is None:
        image_mask = torch.ones(image.shape)
    flag = feats[2]                                                    # pair flag [B, 1]
    labels = arrays["labels"][0]

    def loss():
        u, v, pu, pv = model(image, image_mask, text, text_mask)
        return dscmr_loss(u, v, pu, pv, labels, flag, p["alpha"], p["beta"])

    def infer():
        # the network's one output, DscmrLoss's activations: (P'u + c + P'v + c) / 2
        _, _, pu, pv = model(image, image_mask, text, text_mask)
        return (pu + pv) * 0.5

    return common.Bench(model, loss, infer, functional_flops(spec, labels.shape[0]))
