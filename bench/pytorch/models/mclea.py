"""MCLEA (Lin et al., COLING 2022) as the project implements it, for the alignment benchmark cases.

Mirrors, class by class (training/src/main/java/dev/mmspark/training/...):
  alignment/GraphAttention    structure encoder: entity embeddings N(0, 1/N), 2 layers x 2 heads, diagonal weight w
                              (ones) and attention vector a = [a1; a2] (U(+-1/sqrt(2d))) per head, self-loop first,
                              e_ij = softmax_j(-LeakyReLU_0.2(a1.(x_i*w) + a2.(x_j*w))), heads averaged, ELU between
                              layers; a training step runs it on the 2-hop "blocks" of the batch entities only
                              (GraphAttention.blocks, recomputed every step), inference on the whole graph
  alignment/EntityFeatures    modality inputs: relation counts (columns < relation_top), char bigram counts / L2,
                              name vector / L2; an entity with an empty row is absent for that modality
  alignment/HeadBuilder       one nn.Linear per non-structure modality (U(+-1/sqrt(in)) weight and bias)
  alignment/Losses            l2 normalisation x / sqrt(max(|x|^2, 1e-24)); ICL (NT-Xent over [ab, aa - LARGE*I] and
                              [ba, bb - LARGE*I], masked, both directions weighted ab_weight); IAL (KL of the modality's
                              in-batch distribution to the detached joint one, torch kl_div "mean" over B x 2B);
                              uncertainty weighting sum(exp(-s) L + s). Gram matrices are shared the way Losses
                              memoises them (per pair of normalised tensors), so the matmuls are the Java's
  models/mclea/MCLEAGraph     joint = [softmax(omega)_m * l2n(e_m) * present_m]_m
  models/mclea/MCLEALoss      L = ICL(joint) + sum exp(-s) ICL_m + s + zoom * sum(exp(-s') zoom IAL_m + s')
  alignment/AlignmentNetwork  step (blocks GAT + head on the batch's left/right rows) and embed (full-graph GAT,
                              head in batches of embedBatch)

The step's optimiser is AdamW at the case's rate and decay (common.optimizer), as alignment/AdamW.
This module also holds what meaformer.py shares (KG inputs, the GAT, the losses).

Checked against the Java on the same parameters (loss, every gradient's norm, the embeddings agree to float32
rounding). Where the work differs: the Java GAT runs single-threaded in double precision (float32 here;
MMSPARK_BENCH_GAT_DOUBLE=1 for double); the Java step also copies the head parameters into SameDiff, densifies the
batch rows from sparse bags and copies gradients out, which a PyTorch model does not need; the block rows come in
sorted order rather than first-occurrence order (same outputs). Like the Java graph, IAL recomputes the detached
joint embedding's normalisation and Gram matrices once per modality (nothing shares them there).
"""
import math
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

# scatter_reduce (the row maxima of the attention softmax) is "beta" in torch 1.13 and says so on every call
warnings.filterwarnings("ignore", message="scatter_reduce\\(\\) is in beta")

LARGE = 1e9
NORM_EPS = 1e-12
SLOPE = 0.2
# alignment/Modality declaration order
MODALITY_ORDER = ["structure", "relation", "attribute", "image", "name", "char"]


# ---------------------------------------------------------------------------------------------- KG inputs

class Kg:
    """The case's KG: CSR adjacency with the self-loop first in every row, dense modality inputs and presence masks
    (as EntityFeatures builds them), the step's pairs."""

    def __init__(self, case):
        spec = case["spec"]
        kg = spec["kg"]
        inputs = case["inputs"]
        self.n = n = int(kg["entities"])
        self.modalities = [m.lower() for m in spec["modalities"]]
        # adjacency (GraphAttention's constructor): row i = [i, sorted distinct neighbours != i]
        e = common.array(case, inputs["edges"]).long()
        src = torch.cat([e[:, 0], e[:, 1]])
        dst = torch.cat([e[:, 1], e[:, 0]])
        keep = src != dst
        key = torch.unique(src[keep] * n + dst[keep])  # sorted: by row, then column
        src, dst = key // n, key % n
        ar = torch.arange(n)
        key = torch.cat([ar * (n + 1), src * (n + 1) + 1 + dst])  # the self-loop sorts first in its row
        order = torch.argsort(key)
        rows = torch.cat([ar, src])[order]
        self.cols = torch.cat([ar, dst])[order].contiguous()
        self.rows = rows.contiguous()
        self.degree = torch.bincount(rows, minlength=n)
        self.offsets = torch.zeros(n + 1, dtype=torch.long)
        self.offsets[1:] = torch.cumsum(self.degree, 0)
        # modality inputs
        self.x = {}
        self.present = {"structure": torch.ones(n)}
        top = int(spec.get("relationTop", 1000))
        if "relation" in self.modalities:
            t = common.array(case, inputs["relation"])
            dim = max(1, min(top, int(kg["relationVocab"])))
            t = t[t[:, 1] < dim]
            x = torch.zeros(n, dim)
            x.index_put_((t[:, 0].long(), t[:, 1].long()), t[:, 2], accumulate=True)
            self.x["relation"] = x
        if "char" in self.modalities:
            t = common.array(case, inputs["char"])
            x = torch.zeros(n, int(kg["charVocab"]), dtype=torch.float64)
            x.index_put_((t[:, 0].long(), t[:, 1].long()), t[:, 2].double(), accumulate=True)
            norm = x.norm(dim=1, keepdim=True)
            self.x["char"] = torch.where(norm > 0, x / norm.clamp_min(1e-300), x).float()
        if "name" in self.modalities:
            x = common.array(case, inputs["name"]).double()
            norm = x.norm(dim=1, keepdim=True)
            self.x["name"] = torch.where(norm > 0, x / norm.clamp_min(1e-300), x).float()
        for m, x in self.x.items():
            self.present[m] = (x != 0).any(dim=1).float()
        for m in self.modalities:
            if m not in self.present:
                raise ValueError("the case has no inputs for modality %s" % m)
        p = common.array(case, inputs["pairs"]).long()
        self.left = p[:, 0].contiguous()
        self.right = p[:, 1].contiguous()

    def input_dim(self, m):
        return self.x[m].shape[1]

    def blocks(self, targets, layers):
        """GraphAttention.blocks: the rows each layer computes for the outputs of `targets`. Returns the entity ids
        of level 0, per layer (rows, cols, n_out) with rows = output positions and cols = positions in the level
        below, and the output row of every target."""
        level, target_rows = torch.unique(targets, return_inverse=True)
        n = self.n
        pos = torch.full((n,), -1, dtype=torch.long)
        per_layer = [None] * layers
        for l in range(layers, 0, -1):
            counts = self.degree[level]
            total = int(counts.sum())
            rows = torch.repeat_interleave(torch.arange(level.numel()), counts)
            first = self.offsets[level] - (torch.cumsum(counts, 0) - counts)
            ents = self.cols[torch.repeat_interleave(first, counts) + torch.arange(total)]
            pos[level] = torch.arange(level.numel())
            new = torch.unique(ents[pos[ents] < 0])
            pos[new] = level.numel() + torch.arange(new.numel())
            per_layer[l - 1] = (rows, pos[ents], level.numel())
            level = torch.cat([level, new])
            pos.fill_(-1)
        return level, per_layer, target_rows


class GraphAttention(nn.Module):
    """alignment/GraphAttention (forward; its backward is autograd's)."""

    def __init__(self, n, dim, layers, heads, double=False):
        super().__init__()
        self.dim, self.layers, self.heads, self.f64 = dim, layers, heads, double
        self.entity = nn.Parameter(torch.randn(n, dim) / math.sqrt(n))
        self.w = nn.ParameterList([nn.Parameter(torch.ones(dim)) for _ in range(layers * heads)])
        bound = 1 / math.sqrt(2.0 * dim)
        self.a = nn.ParameterList([nn.Parameter(torch.empty(2 * dim).uniform_(-bound, bound))
                                   for _ in range(layers * heads)])

    def forward(self, level0, per_layer):
        d = self.dim
        x = self.entity if level0 is None else self.entity.index_select(0, level0)
        if self.f64:
            x = x.double()
        for l in range(self.layers):
            rows, cols, n_out = per_layer[l]
            y = None
            for h in range(self.heads):
                w = self.w[l * self.heads + h]
                a = self.a[l * self.heads + h]
                if self.f64:
                    w, a = w.double(), a.double()
                s1 = torch.mv(x[:n_out], w * a[:d])
                s2 = torch.mv(x, w * a[d:])
                g = -F.leaky_relu(s1.index_select(0, rows) + s2.index_select(0, cols), SLOPE)
                mx = torch.full((n_out,), -math.inf, dtype=g.dtype).scatter_reduce(0, rows, g.detach(), "amax")
                ex = torch.exp(g - mx.index_select(0, rows))
                alpha = ex / torch.zeros(n_out, dtype=g.dtype).index_add(0, rows, ex).index_select(0, rows)
                agg = torch.zeros(n_out, d, dtype=x.dtype).index_add(0, rows, alpha.unsqueeze(1) * x.index_select(0, cols))
                term = agg * (w / self.heads)
                y = term if y is None else y + term
            x = F.elu(y) if l + 1 < self.layers else y
        return x.float() if self.f64 else x

    def flops(self, edges, n_out, n_in):
        """Forward FLOPs of one layer and head pass summed over layers (scores, aggregation, output)."""
        return self.layers * self.heads * (2 * self.dim * (n_out + n_in) + 2 * edges * self.dim + 2 * n_out * self.dim)


def linear(in_dim, out_dim):
    """HeadBuilder / ParamSet.linear: torch's nn.Linear initialisation is the same U(+-1/sqrt(in))."""
    return nn.Linear(in_dim, out_dim)


# ---------------------------------------------------------------------------------------------- losses

class Memo:
    """Losses' memoisation (per graph, keyed by variable): here keyed by the tensors' identities, which are kept
    alive by the memo itself."""

    def __init__(self):
        self.values = {}

    def get(self, key, make):
        k = tuple(id(t) if isinstance(t, torch.Tensor) else t for t in key)
        hit = self.values.get(k)
        if hit is None:
            hit = (key, make())
            self.values[k] = hit
        return hit[1]


def l2n(memo, x):
    return memo.get(("l2n", x), lambda: x / torch.sqrt(torch.clamp_min((x * x).sum(1, keepdim=True),
                                                                          NORM_EPS * NORM_EPS)))


def log_sum_exp(x):
    mx = x.max(1, keepdim=True).values.detach()
    return torch.log(torch.exp(x - mx).sum(1)) + mx.reshape(-1)


def masked_mean(per_row, w):
    return (per_row * w).sum() / torch.clamp_min(w.sum(), 1.0)


def gram(memo, x, y):
    return memo.get(("gram", x, y), lambda: x @ y.t())


def logits(memo, za, zb, pa, pb, tau):
    """Losses.logits: {[ab, aa - LARGE*I], [ba, bb - LARGE*I]} / tau, minus LARGE for absent candidates."""
    self_ = memo.get(("self", za), lambda: torch.eye(za.shape[0], dtype=za.dtype) * LARGE)
    g = gram(memo, za, zb)
    ab = g / tau
    ba = memo.get(("gramT", za, zb), lambda: g.t().contiguous()) / tau
    aa = gram(memo, za, za) / tau - self_
    bb = gram(memo, zb, zb) / tau - self_
    off_a = memo.get(("excluded", pa), lambda: ((1 - pa) * LARGE).reshape(1, -1))
    off_b = memo.get(("excluded", pb), lambda: ((1 - pb) * LARGE).reshape(1, -1))
    ab = ab - off_b
    bb = bb - off_b
    ba = ba - off_a
    aa = aa - off_a
    return torch.cat([ab, aa], 1), torch.cat([ba, bb], 1)


def icl(memo, a, b, pa, pb, tau, alpha):
    za, zb = l2n(memo, a), l2n(memo, b)
    la, lb = logits(memo, za, zb, pa, pb, tau)
    positive = memo.get(("positive", za, zb), lambda: (za * zb).sum(1)) / tau
    w = pa * pb
    return masked_mean(log_sum_exp(la) - positive, w) * alpha + masked_mean(log_sum_exp(lb) - positive, w) * (1 - alpha)


def log_softmax(x):
    return x - log_sum_exp(x).reshape(-1, 1)


def kl(q_logits, p_logits, w):
    log_q = log_softmax(q_logits)
    log_p = log_softmax(p_logits)
    per_row = (torch.exp(log_q) * (log_q - log_p)).sum(1)
    return masked_mean(per_row, w) / q_logits.shape[1]


def ial(memo, src_a, src_b, tar_a, tar_b, pa, pb, tau2, alpha):
    """Losses.ial. The teacher is normalised and its logits computed again for every call, as in the Java graph
    (each call's stop-gradient is a new variable, so nothing is shared across modalities)."""
    sa, sb = l2n(memo, src_a), l2n(memo, src_b)
    ta, tb = l2n(memo, tar_a.detach()), l2n(memo, tar_b.detach())
    p = logits(memo, sa, sb, pa, pb, tau2)
    q = logits(memo, ta, tb, pa, pb, tau2)
    w = pa * pb
    return kl(q[0], p[0], w) * alpha + kl(q[1], p[1], w) * (1 - alpha)


def uncertainty_weighted(log_vars, losses):
    return (torch.exp(-log_vars) * torch.stack(losses) + log_vars).sum()


def any_present(masks):
    absent = None
    for m in masks:
        a = 1 - m
        absent = a if absent is None else absent * a
    return 1 - absent


# ---------------------------------------------------------------------------------------------- the model

class AlignmentBase(nn.Module):
    """AlignmentNetwork: the GAT feeding a head; subclasses define init_head / head_loss / head_joint."""

    def __init__(self, case, kg, encoder_dim):
        super().__init__()
        spec = case["spec"]
        self.spec, self.kg = spec, kg
        self.modalities = [m for m in MODALITY_ORDER if m in kg.modalities]
        g = spec["gat"]
        self.gat_dim, self.gat_layers = int(g["dim"]), int(g["layers"])
        # the Java encoder computes in double precision (for its finite-difference checks); float32 here unless
        # MMSPARK_BENCH_GAT_DOUBLE=1
        double = os.environ.get("MMSPARK_BENCH_GAT_DOUBLE", "0") == "1"
        self.gat = GraphAttention(kg.n, self.gat_dim, self.gat_layers, int(g["heads"]), double) \
            if "structure" in self.modalities else None
        self.encoders = nn.ModuleDict({m: linear(kg.input_dim(m), encoder_dim)
                                       for m in self.modalities if m != "structure"})
        self.embed_batch = int(spec.get("embedBatch", 4096))
        self.full = (None, [(kg.rows, kg.cols, kg.n)] * self.gat_layers) if self.gat is not None else None

    def side(self, rows, structure):
        """Encoded modality embeddings and masks of one side's entities (HeadBuilder.encode / masks)."""
        emb, mask = {}, {}
        for m in self.modalities:
            emb[m] = structure if m == "structure" else self.encoders[m](self.kg.x[m].index_select(0, rows))
            mask[m] = self.kg.present[m].index_select(0, rows)
        return emb, mask

    def loss(self):
        kg = self.kg
        b = kg.left.numel()
        s_l = s_r = None
        if self.gat is not None:
            targets = torch.cat([kg.left, kg.right])
            level0, per_layer, target_rows = kg.blocks(targets, self.gat_layers)
            out = self.gat(level0, per_layer).index_select(0, target_rows)
            s_l, s_r = out[:b], out[b:]
        memo = Memo()
        emb_l, mask_l = self.side(kg.left, s_l)
        emb_r, mask_r = self.side(kg.right, s_r)
        return self.head_loss(memo, emb_l, mask_l, emb_r, mask_r)

    def embed(self):
        structure = self.gat(*self.full) if self.gat is not None else None
        out = []
        for start in range(0, self.kg.n, self.embed_batch):
            rows = torch.arange(start, min(self.kg.n, start + self.embed_batch))
            emb, mask = self.side(rows, None if structure is None else structure[start:start + rows.numel()])
            out.append(self.head_joint(Memo(), emb, mask))
        return torch.cat(out)

    def extra_flops(self):
        """Forward FLOPs of one inference pass that the module hooks miss: the full-graph GAT."""
        if self.gat is None:
            return 0
        return self.gat.flops(self.kg.cols.numel(), self.kg.n, self.kg.n)


class MCLEA(AlignmentBase):
    def __init__(self, case, kg):
        spec = case["spec"]
        super().__init__(case, kg, int(spec["modalityDim"]))
        m = len(self.modalities)
        self.fusion = nn.Parameter(torch.ones(m))
        self.log_intra = nn.Parameter(torch.zeros(m))
        self.log_align = nn.Parameter(torch.zeros(m))
        self.tau, self.tau2 = float(spec["tau"]), float(spec["tau2"])
        self.ab, self.zoom = float(spec["abWeight"]), float(spec["zoom"])

    def joint(self, memo, emb, mask, weights):
        return torch.cat([l2n(memo, emb[m]) * weights[i] * mask[m].reshape(-1, 1)
                          for i, m in enumerate(self.modalities)], 1)

    def head_joint(self, memo, emb, mask):
        return self.joint(memo, emb, mask, torch.softmax(self.fusion, 0))

    def head_loss(self, memo, emb_l, mask_l, emb_r, mask_r):
        weights = torch.softmax(self.fusion, 0)
        joint_l = self.joint(memo, emb_l, mask_l, weights)
        joint_r = self.joint(memo, emb_r, mask_r, weights)
        ms = self.modalities
        loss = icl(memo, joint_l, joint_r, any_present([mask_l[m] for m in ms]),
                   any_present([mask_r[m] for m in ms]), self.tau, self.ab)
        intra, align = [], []
        for m in ms:
            intra.append(icl(memo, emb_l[m], emb_r[m], mask_l[m], mask_r[m], self.tau, self.ab))
            align.append(ial(memo, emb_l[m], emb_r[m], joint_l, joint_r, mask_l[m], mask_r[m], self.tau2,
                             self.ab) * self.zoom)
        return loss + uncertainty_weighted(self.log_intra, intra) + uncertainty_weighted(self.log_align, align) * self.zoom


def clipped(model, loss_fn, max_norm):
    """OptimizerSpec.gradClip (AdamW.clip = torch.nn.utils.clip_grad_norm_) between the backward pass and the
    update: common.run calls loss().backward() then the optimiser, so the backward pass and the clipping run here and
    the returned scalar is a fresh leaf whose backward() does nothing more."""
    if max_norm <= 0:
        return loss_fn

    def loss():
        value = loss_fn()
        value.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], max_norm)
        return value.detach().requires_grad_(True)

    return loss


def build_model(case, cls):
    torch.manual_seed(int(case.get("seed", 1)))
    kg = Kg(case)
    model = cls(case, kg)
    return common.Bench(model, clipped(model, model.loss, float(case["spec"].get("gradClip", 0))), model.embed,
                        extra_forward_flops=model.extra_flops(),
                        # the training step's neighbourhood GAT and contrastive similarity matrices are not
                        # tallied: no training FLOP figure (the inference pass is counted)
                        extra_train_forward_flops=-1)


def build(case, arrays):
    return build_model(case, MCLEA)
