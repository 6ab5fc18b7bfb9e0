#!/usr/bin/env python3
"""Reference outputs of the fusion operators, computed with numpy from the papers' definitions (and, for the
bilinear family, the conventions of Cadene/block.bootstrap.pytorch), independently of the Java code.

FusionReferenceTest fills every parameter and input with the same deterministic values as below and compares
the vertex output with reference.json. MCB uses numpy's FFT (the Java code uses a four-step DFT by matrix
products). Regenerate with:  python3 reference.py > reference.json
"""
import json
import numpy as np

BATCH = 2


def param(name, shape):
    seed = sum((i + 1) * ord(ch) for i, ch in enumerate(name))
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (0.5 * np.sin(0.61 * j + 0.1 * seed)).reshape(shape)


def inputs(sizes):
    return [np.array([[np.cos(0.5 * b + 0.3 * i + m) for i in range(d)] for b in range(BATCH)])
            for m, d in enumerate(sizes)]


relu = lambda v: np.maximum(v, 0.0)
sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))


def power_l2(z):
    r = np.sign(z) * np.sqrt(np.abs(z))
    return r / np.linalg.norm(r, axis=1, keepdims=True)


def lin(x, w, b=None):
    y = x @ w
    return y if b is None else y + b


def weighted_sum(xs, s):
    d = s["dim"]
    return sum(param("a%d" % m, (1, 1)) * lin(x, param("W%d" % m, (x.shape[1], d)), param("b%d" % m, (1, d)))
               for m, x in enumerate(xs))


def attention(xs, s):
    d = s["dim"]
    hs = [np.tanh(lin(x, param("W%d" % m, (x.shape[1], d)), param("b%d" % m, (1, d)))) for m, x in enumerate(xs)]
    scores = np.concatenate([h @ param("Wv", (d, 1)) for h in hs], axis=1)
    a = np.exp(scores - scores.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    return sum(a[:, m:m + 1] * h for m, h in enumerate(hs))


def gmu(xs, s):
    d = s["dim"]
    cat = np.concatenate(xs, axis=1)
    hs = [np.tanh(x @ param("W%d" % m, (x.shape[1], d))) for m, x in enumerate(xs)]
    if len(xs) == 2:
        z = sigmoid(cat @ param("Wz", (cat.shape[1], d)))
        return z * hs[0] + (1 - z) * hs[1]
    z = sigmoid(cat @ param("Wz", (cat.shape[1], d * len(xs))))
    return sum(z[:, m * d:(m + 1) * d] * h for m, h in enumerate(hs))


def tfn(xs, s):
    d = s["dim"]
    out = []
    for b in range(BATCH):
        t = np.ones(())
        for m, x in enumerate(xs):
            z = lin(x[b:b + 1], param("W%d" % m, (x.shape[1], d)), param("b%d" % m, (1, d)))[0] if d else x[b]
            t = np.multiply.outer(t, np.concatenate([[1.0], z]))
        out.append(t.reshape(-1))
    return np.array(out)


def lmf(xs, s):
    r, o = s["rank"], s["output_dim"]
    y = np.zeros((BATCH, o))
    w = param("Wr", (r, 1)).T
    for k in range(r):
        term = np.ones((BATCH, o))
        for m, x in enumerate(xs):
            ext = np.concatenate([np.ones((BATCH, 1)), x], axis=1)
            term = term * (ext @ param("W%d" % m, (x.shape[1] + 1, r * o))[:, k * o:(k + 1) * o])
        y += w[0, k] * term
    return y + param("b", (1, o))


def mcb(xs, s):
    dim, o = s["mm_dim"], s["output_dim"]
    spec = np.ones((BATCH, dim), dtype=complex)
    for x, h, sg in zip(xs, s["bins"], s["signs"]):
        psi = np.zeros((BATCH, dim))
        for i in range(x.shape[1]):
            psi[:, h[i]] += sg[i] * x[:, i]
        spec = spec * np.fft.fft(psi, axis=1)
    z = np.real(np.fft.ifft(spec, axis=1))
    return relu(lin(z, param("Wo", (dim, o)), param("bo", (1, o))))


def mlb(xs, s):
    mm, o = s["mm_dim"], s["output_dim"]
    z = np.ones((BATCH, mm))
    for m, x in enumerate(xs):
        z = z * relu(lin(x, param("W%d" % m, (x.shape[1], mm)), param("b%d" % m, (1, mm))))
    if s.get("normalize"):
        z = power_l2(z)
    return relu(lin(z, param("Wo", (mm, o)), param("bo", (1, o))))


def mfh(xs, s, stages):
    mm, f, o = s["mm_dim"], s["factor"], s["output_dim"]
    prev, pooled = None, []
    for st in range(stages):
        e = np.ones((BATCH, mm * f))
        for m, x in enumerate(xs):
            e = e * relu(lin(x, param("W%dm%d" % (st, m), (x.shape[1], mm * f)), param("b%dm%d" % (st, m), (1, mm * f))))
        if prev is not None:
            e = e * prev
        prev = e
        z = e.reshape(BATCH, mm, f).sum(axis=2)
        pooled.append(power_l2(z) if s.get("normalize") else z)
    z = np.concatenate(pooled, axis=1)
    return relu(lin(z, param("Wo", (mm * stages, o)), param("bo", (1, o))))


def mutan(xs, s):
    mm, r, o = s["mm_dim"], s["rank"], s["output_dim"]
    prod = np.ones((BATCH, mm * r))
    for m, x in enumerate(xs):
        q = lin(x, param("W%d" % m, (x.shape[1], mm)), param("b%d" % m, (1, mm)))
        prod = prod * lin(q, param("M%d" % m, (mm, mm * r)), param("c%d" % m, (1, mm * r)))
    z = prod.reshape(BATCH, r, mm).sum(axis=1)
    if s.get("normalize"):
        z = power_l2(z)
    return lin(z, param("Wo", (mm, o)), param("bo", (1, o)))


def chunk_sizes(dim, chunks):
    split = (dim + chunks - 1) // chunks
    sizes = [split] * chunks
    sizes[-1] -= sum(sizes) - dim
    if sizes[-1] < 0:
        miss = sizes[-2] - sizes[-1]
        sizes[-1] = sizes[-2]
        for j in range(miss):
            sizes[-j - 1] -= 1
    return sizes


def block(xs, s):
    mm, c, r, o = s["mm_dim"], s["chunks"], s["rank"], s["output_dim"]
    qs = [lin(x, param("W%d" % m, (x.shape[1], mm)), param("b%d" % m, (1, mm))) for m, x in enumerate(xs)]
    zs, begin = [], 0
    for k, size in enumerate(chunk_sizes(mm, c)):
        prod = np.ones((BATCH, size * r))
        for m, q in enumerate(qs):
            prod = prod * lin(q[:, begin:begin + size], param("M%dm%d" % (k, m), (size, size * r)),
                              param("bc%dm%d" % (k, m), (1, size * r)))
        zs.append(power_l2(prod.reshape(BATCH, r, size).sum(axis=1)))
        begin += size
    return lin(np.concatenate(zs, axis=1), param("Wo", (mm, o)), param("bo", (1, o)))


CASES = [
    ("sum", {"dim": 3}, weighted_sum),
    ("attention", {"dim": 3}, attention),
    ("gmu", {"dim": 3}, gmu),
    ("tfn", {"dim": 2}, tfn),
    ("tfn", {"dim": 0}, tfn),
    ("lmf", {"rank": 2, "output_dim": 3}, lmf),
    ("mcb", {"mm_dim": 6, "output_dim": 3, "bins": [[0, 5, 2], [4, 4, 1, 3], [2, 0]],
             "signs": [[1, -1, 1], [-1, 1, 1, -1], [1, -1]]}, mcb),
    ("mcb", {"mm_dim": 7, "output_dim": 2, "bins": [[6, 1, 3], [0, 2, 2, 5], [4, 1]],
             "signs": [[-1, 1, 1], [1, 1, -1, -1], [1, 1]]}, mcb),
    ("mlb", {"mm_dim": 4, "output_dim": 3}, mlb),
    ("mlb", {"mm_dim": 4, "output_dim": 3, "normalize": True}, mlb),
    ("mfb", {"mm_dim": 3, "factor": 2, "output_dim": 3, "normalize": True}, lambda xs, s: mfh(xs, s, 1)),
    ("mfh", {"mm_dim": 3, "factor": 2, "stages": 2, "output_dim": 3}, lambda xs, s: mfh(xs, s, 2)),
    ("mutan", {"mm_dim": 3, "rank": 2, "output_dim": 3}, mutan),
    ("block", {"mm_dim": 5, "chunks": 2, "rank": 2, "output_dim": 3}, block),
]

if __name__ == "__main__":
    out = []
    for name, settings, fn in CASES:
        for sizes in ([3, 4], [3, 4, 2]):
            s = dict(settings)
            if name == "mcb":
                s["bins"], s["signs"] = s["bins"][:len(sizes)], s["signs"][:len(sizes)]
            out.append({"name": name, "settings": s, "sizes": sizes,
                        "output": fn(inputs(sizes), s).tolist()})
    print(json.dumps(out, indent=1))
