"""Reference values for TateLayersTest, written with NumPy from the formulas of JaydenZeng/TATE (network.py):
KLDivergence of softmax distributions over the feature axis in both directions (kl_loss: encoder output vs the
pretrained model's; de_loss: decoder output vs the tagged input), MAE between the tag and the sigmoid of the last
M + 1 pooled channels, softmax cross-entropy. Here every term is a per-sample mean over the batch, and the KL terms
average over masked positions (see TateLoss for these deviations).

Run:  /usr/bin/python3 tate_reference.py   (writes loss_terms.csv beside this file)

The loss layer's input is [B, O + (M+1) + 4 N P + 2 N + (M+1) + 1]: logits z, tag logits l, then e, e', r, u
(each [N, P] position-major), the teacher's real positions q', the slots q, the tag and the KL switch s. With
B = 4, O = 3, T = (2, 1) (M = 2, N = 3), d = 2 (P = 5) it is filled deterministically: value(k) = 2 sin(1.3 k + 0.4)
over the whole row-major array, then q'[i, t] = (i + t) % 3 != 0, q[i, t] = (i + 2 t + 1) % 3 != 0,
tag[i, k] = (i + k) % 2, s[i] = i % 2; the Java test does the same.
"""
import os
import numpy as np

B, O, M, N, D = 4, 3, 2, 3, 2
P = D + M + 1
HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=float)


def layout():
    sizes = [("z", O), ("l", M + 1), ("e", N * P), ("t", N * P), ("r", N * P), ("u", N * P), ("qt", N), ("qs", N),
             ("tag", M + 1), ("s", 1)]
    out, pos = {}, 0
    for name, size in sizes:
        out[name] = (pos, pos + size)
        pos += size
    return out, pos


def reference_input():
    lay, width = layout()
    v = 2 * np.sin(1.3 * np.arange(B * width) + 0.4).reshape(B, width)
    for i in range(B):
        for t in range(N):
            v[i, lay["qt"][0] + t] = 1.0 if (i + t) % 3 != 0 else 0.0
            v[i, lay["qs"][0] + t] = 1.0 if (i + 2 * t + 1) % 3 != 0 else 0.0
        for k in range(M + 1):
            v[i, lay["tag"][0] + k] = (i + k) % 2
        v[i, lay["s"][0]] = i % 2
    return v


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def kl(a, b):
    """keras KLDivergence(softmax(a), softmax(b)) per token (without its 1e-7 clipping)."""
    p, q = softmax(a), softmax(b)
    return (p * np.log(p / q)).sum(-1)


def masked_mean(v, q):
    return (v * q).sum(-1) / np.maximum(q.sum(-1), 1.0)


def terms():
    lay, _ = layout()
    x = reference_input()
    get = lambda name: x[:, lay[name][0]:lay[name][1]]
    z = get("z")
    logp = np.log(softmax(z))
    ce = -(logp * LABELS).sum(-1)
    e, t, r, u = (get(n).reshape(B, N, P) for n in ("e", "t", "r", "u"))
    qt, qs, tag, s = get("qt"), get("qs"), get("tag"), get("s")[:, 0]
    kl_fwd = masked_mean(kl(e, t), qt)
    kl_bwd = masked_mean(kl(t, e), qt)
    rec_fwd = masked_mean(kl(r, u), qs)
    rec_bwd = masked_mean(kl(u, r), qs)
    mae = np.abs(tag - 1 / (1 + np.exp(-get("l")))).mean(-1)
    total = ce + 0.1 * s * (kl_fwd + kl_bwd) + 0.1 * (rec_fwd + rec_bwd) + 0.1 * mae
    return [ce.mean(), kl_fwd.mean(), kl_bwd.mean(), (s * (kl_fwd + kl_bwd)).mean(), rec_fwd.mean(), rec_bwd.mean(),
            mae.mean(), total.mean()]


if __name__ == "__main__":
    values = terms()
    with open(os.path.join(HERE, "loss_terms.csv"), "w") as f:
        f.write(",".join(repr(float(v)) for v in values) + "\n")
    print("ce, kl_fwd, kl_bwd, kl_switched, rec_fwd, rec_bwd, tag_mae, total:", values)
