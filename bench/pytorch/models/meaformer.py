"""MEAformer (Chen et al., ACM MM 2023) as the project implements it, for the alignment benchmark cases.

Mirrors training/src/main/java/dev/mmspark/training/:
  models/meaformer/MEAformerGraph  every modality encoded to dim (300; structure = the GAT output), the tokens
                                   [B, M, dim] through `layers` BERT layers: Q, K, V, output projections, scores
                                   / sqrt(dh) + key bias (-LARGE for absent modalities), softmax, dropout on the
                                   probabilities, residual + LayerNorm(eps 1e-12), exact-GELU feed-forward of
                                   `intermediate`, dropout on both outputs, residual + LayerNorm; meta weights
                                   w = softmax(sum_heads sum_queries probs / sqrt(M * heads) + key bias) from the last
                                   layer's (dropped-out) probabilities; joint = [w_m * l2n(e_m)]_m; late-fusion
                                   outputs h_m = l2n(H_m)
  models/meaformer/MEAformerLoss   L = ICL(joint) + sum_m exp(-s_m) ICL(e_m) + s_m + sum_m exp(-s_m) ICL(h_m) + s_m,
                                   one set of log-variances s for both sums
  alignment/*                      the GAT, inputs, losses and the step/embed split: see mclea.py, shared from there
The optimiser is AdamW at the case's rate and decay with global-norm clipping at spec.gradClip (1.0), as
AlignmentTrainer.Worker.run (AdamW.clip, AdamW.step).

Where the port computes the same function with other primitives (all the usual PyTorch ones): nn.LayerNorm and
F.gelu (Java: composed from mean/sub/sqrt and erf), F.dropout (Java: masks drawn in Java and fed in), token i's
weight and output by slicing (Java: products with one-hot constants and sums).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from models import mclea
from models.mclea import LARGE, icl, l2n, uncertainty_weighted, any_present

LN_EPS = 1e-12


class BertLayer(nn.Module):
    """MEAformerGraph.bertLayer."""

    def __init__(self, dim, heads, intermediate, dropout):
        super().__init__()
        self.heads, self.dh, self.p = heads, dim // heads, dropout
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.attn_out = nn.Linear(dim, dim)
        self.attn_norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.ffn_in = nn.Linear(dim, intermediate)
        self.ffn_out = nn.Linear(intermediate, dim)
        self.out_norm = nn.LayerNorm(dim, eps=LN_EPS)

    def split(self, x):
        b, m, _ = x.shape
        return x.reshape(b, m, self.heads, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, key_bias):
        b, m, d = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh) + key_bias, dim=-1)
        probs = F.dropout(probs, self.p, self.training)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(b, m, d)
        h = self.attn_norm(F.dropout(self.attn_out(ctx), self.p, self.training) + x)
        ff = F.dropout(self.ffn_out(F.gelu(self.ffn_in(h))), self.p, self.training)
        return self.out_norm(ff + h), probs


class MEAformer(mclea.AlignmentBase):
    def __init__(self, case, kg):
        spec = case["spec"]
        dim = int(spec["gat"]["dim"])
        super().__init__(case, kg, dim)
        self.dim, self.heads = dim, int(spec["heads"])
        self.layers = nn.ModuleList([BertLayer(dim, self.heads, int(spec["intermediate"]), float(spec["dropout"]))
                                     for _ in range(int(spec["layers"]))])
        self.log_vars = nn.Parameter(torch.zeros(len(self.modalities)))
        self.tau, self.ab = float(spec["tau"]), float(spec["abWeight"])

    def fuse(self, memo, emb, mask):
        """MEAformerGraph.side: (joint, {m: h_m})."""
        ms = self.modalities
        m = len(ms)
        tokens = torch.stack([emb[x] for x in ms], 1)
        present = torch.stack([mask[x] for x in ms], 1)
        key_bias = (1 - present) * -LARGE
        x, probs = tokens, None
        for layer in self.layers:
            x, probs = layer(x, key_bias.reshape(-1, 1, 1, m))
        received = probs.sum(1).sum(1) / math.sqrt(m * self.heads)
        weights = torch.softmax(received + key_bias, dim=1)
        joint = torch.cat([l2n(memo, emb[mod]) * weights[:, i:i + 1] for i, mod in enumerate(ms)], 1)
        hidden = {mod: l2n(memo, x[:, i, :]) for i, mod in enumerate(ms)}
        return joint, hidden

    def head_joint(self, memo, emb, mask):
        return self.fuse(memo, emb, mask)[0]

    def head_loss(self, memo, emb_l, mask_l, emb_r, mask_r):
        ms = self.modalities
        joint_l, hid_l = self.fuse(memo, emb_l, mask_l)
        joint_r, hid_r = self.fuse(memo, emb_r, mask_r)
        loss = icl(memo, joint_l, joint_r, any_present([mask_l[m] for m in ms]), any_present([mask_r[m] for m in ms]),
                   self.tau, self.ab)
        inner = [icl(memo, emb_l[m], emb_r[m], mask_l[m], mask_r[m], self.tau, self.ab) for m in ms]
        outer = [icl(memo, hid_l[m], hid_r[m], mask_l[m], mask_r[m], self.tau, self.ab) for m in ms]
        return loss + uncertainty_weighted(self.log_vars, inner) + uncertainty_weighted(self.log_vars, outer)

    def extra_flops(self):
        """The GAT, plus the attention products (QK^T and probs.V) of every inference batch."""
        m = len(self.modalities)
        return super().extra_flops() + len(self.layers) * self.kg.n * 2 * (2 * m * m * self.dim)


def build(case, arrays):
    return mclea.build_model(case, MEAformer)
