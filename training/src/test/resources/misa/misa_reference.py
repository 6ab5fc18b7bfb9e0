"""Reference values for MisaCoreTest and MisaLossTest, written with NumPy from the formulas of
declare-lab/MISA (models.py: project/LayerNorm, shared/private encoders, recon, nn.TransformerEncoderLayer
in post-norm form without dropout; utils/functions.py: CMD, DiffLoss, MSE; solver.py: the weighted sum).

Run:  python3 misa_reference.py   (writes core_output.csv and loss_terms.csv beside this file)

Parameters and inputs are filled deterministically, element by element in C order, with
value(k) = 0.5 * sin(1.3 * k + offset), k counting across the listed arrays; the Java tests fill theirs the same
way, so the two compute the same function of the same numbers.
"""
import os
import numpy as np

B, M, H, HEADS, FF, C = 3, 3, 4, 2, 5, 3
HERE = os.path.dirname(os.path.abspath(__file__))


def fill(shapes, offset):
    out, k = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append((0.5 * np.sin(1.3 * (k + np.arange(n)) + offset)).reshape(shape))
        k += n
    return out


def core_params():
    names = []
    for m in range(M):
        names += [(f"lng{m}", (1, H)), (f"lnb{m}", (1, H)), (f"Wp{m}", (H, H)), (f"bp{m}", (1, H)),
                  (f"Wr{m}", (H, H)), (f"br{m}", (1, H))]
    names += [("Wc", (H, H)), ("bc", (1, H))]
    for p in "qkvo":
        names += [(f"W{p}", (H, H)), (f"b{p}", (1, H))]
    names += [("ln1g", (1, H)), ("ln1b", (1, H)), ("W1", (H, FF)), ("b1", (1, FF)), ("W2", (FF, H)), ("b2", (1, H)),
              ("ln2g", (1, H)), ("ln2b", (1, H))]
    values = fill([s for _, s in names], 0.2)
    return names, dict(zip([n for n, _ in names], values))


def layer_norm(x, g, b):
    c = x - x.mean(axis=-1, keepdims=True)
    return c / np.sqrt((c * c).mean(axis=-1, keepdims=True) + 1e-5) * g + b


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def core(xs, p):
    u, hc, hp, r = [], [], [], []
    for m in range(M):
        um = layer_norm(xs[m], p[f"lng{m}"], p[f"lnb{m}"])
        c = sigmoid(um @ p["Wc"] + p["bc"])
        q = sigmoid(um @ p[f"Wp{m}"] + p[f"bp{m}"])
        u.append(um); hc.append(c); hp.append(q)
        r.append((c + q) @ p[f"Wr{m}"] + p[f"br{m}"])
    s = np.stack(hp + hc, axis=1)                       # [B, T, H]
    t, dh = s.shape[1], H // HEADS

    def heads(x):                                       # [B, T, H] -> [B, heads, T, dh]
        return x.reshape(B, t, HEADS, dh).transpose(0, 2, 1, 3)

    q, k, v = (heads(s @ p[f"W{n}"] + p[f"b{n}"]) for n in "qkv")
    w = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh), axis=3)
    att = (w @ v).transpose(0, 2, 1, 3).reshape(B, t, H) @ p["Wo"] + p["bo"]
    a = layer_norm(s + att, p["ln1g"], p["ln1b"])
    f = layer_norm(a + np.maximum(a @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"], p["ln2g"], p["ln2b"])
    return np.concatenate([f.reshape(B, t * H)] + u + hc + hp + r, axis=1)


def norm(x):
    return np.sqrt((x * x).sum() + 1e-12)


def cmd(a, b, k):
    ma, mb = a.mean(0), b.mean(0)
    sa, sb = a - ma, b - mb
    total = norm(ma - mb)
    for i in range(2, k + 1):
        total += norm((sa ** i).mean(0) - (sb ** i).mean(0))
    return total


def diff(a, b):
    def normalise(x):
        x = x - x.mean(0, keepdims=True)
        return x / (np.sqrt((x * x).sum(1, keepdims=True) + 1e-12) + 1e-6)
    c = normalise(a).T @ normalise(b)
    return (c * c).mean()


def loss_terms(inp, labels, moments=5):
    z = inp[:, :C]
    blocks = [[inp[:, C + (k * M + m) * H: C + (k * M + m + 1) * H] for m in range(M)] for k in range(4)]
    u, hc, hp, r = blocks
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    task = -(logp * labels).sum() / B
    pairs = [(m, n) for m in range(M) for n in range(m + 1, M)]
    sim = sum(cmd(hc[m], hc[n], moments) for m, n in pairs) / len(pairs)
    dif = sum(diff(hp[m], hc[m]) for m in range(M)) + sum(diff(hp[m], hp[n]) for m, n in pairs)
    rec = sum(((r[m] - u[m]) ** 2).mean() for m in range(M)) / M
    return task, sim, dif, rec


if __name__ == "__main__":
    names, p = core_params()
    xs = fill([(B, H)] * M, 0.9)
    np.savetxt(os.path.join(HERE, "core_output.csv"), core(xs, p), delimiter=",", fmt="%.17g")
    inp = fill([(B, C + 4 * M * H)], 0.4)[0]
    labels = np.eye(C)[[0, 2, 1]]
    terms = loss_terms(inp, labels)
    np.savetxt(os.path.join(HERE, "loss_terms.csv"), np.array([terms]), delimiter=",", fmt="%.17g")
    print("task, sim, diff, recon =", terms)
