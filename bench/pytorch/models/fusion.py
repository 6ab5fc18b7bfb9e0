"""PyTorch ports of the project's fusion operators, for the `fusion-<name>` benchmark cases.

The network timed is the one `Targets.fusionNetwork` (bench/src/main/java/dev/mmspark/bench/Targets.java)
builds: the N inputs -> the operator (at the settings of the case's `spec.settings`, Java defaults otherwise)
-> DL4J OutputLayer (dense with bias, softmax) with MCXENT loss averaged over the minibatch.

Every operator mirrors its Java class in training/src/main/java/dev/mmspark/training/fusion/ (named in each
class below): the same parameters under the same names and shapes ([in, out] weights used as x W + b, [1, n]
biases), the same ranks, chunking, rank-major reshapes, activations and normalisations, and the same
initialisation (FusionVertex.initializeParameters: Glorot normal N(0, 2 / (fan_in + fan_out)) with fan_in =
rows, biases ("b...") at 0, plus each subclass's overrides). No operator has dropout. The operators are written
as explicit parameters and matrix products rather than nn.Linear so that they line up one to one with the Java
SameDiff graphs (and with training/src/test/resources/fusion/reference.py, against which they are checked);
their matrix products are counted by `_mm` into `extra_forward_flops`, as the module hooks of
common.forward_flops do not see them (the output layer is an nn.Linear and is counted by the hooks).

FLOPs counted in extra_forward_flops (one forward pass over the batch): every matrix product, 2 per
multiply-add; TFN's outer products (1 per multiply: they are the operator); MCB's FFTs at 5 n log2 n per
transform and its complex spectrum products at 6 per element. Other element-wise ops (bias adds, activations,
Hadamard products of the bilinear family, normalisations, softmax, MCB's twiddle factors) are not counted:
each is O(batch x width), at most a few percent of the products next to them.

MCB: the Java vertex (McbVertex) computes the DFT with a Cooley-Tukey four-step DFT by matrix products and the
count sketch as a product with a dense sign matrix, because ND4J 1.0.0-M2.1 has no differentiable FFT. The same
function is computed here by default with torch.fft (rfft / irfft) and an index_add count sketch, which is what
a PyTorch implementation would do. Set MMSPARK_BENCH_MCB=fourstep to time instead a literal port of the Java
algorithm (dense sketch matrix, four-step DFT by matmuls, in the same order of steps).
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

# ---------------------------------------------------------------------------------------------- FLOP counting


class _Flops:
    """Counts the FLOPs of the functional ops while `active` (one forward pass in build())."""
    active = False
    total = 0

    @classmethod
    def add(cls, n):
        if cls.active:
            cls.total += int(n)


def _mm(a, b):
    """a @ b (batched or not), counted as 2 FLOPs per multiply-add."""
    y = torch.matmul(a, b)
    _Flops.add(2 * y.numel() * a.shape[-1])
    return y


def _linear(x, w, b=None):
    """x W + b (FusionVertex.linear)."""
    y = _mm(x, w)
    return y if b is None else y + b


def _power_l2(z):
    """FusionVertex.powerL2Normalise: z / sqrt(|z| + 1e-12), then divided by sqrt(sum of squares + 1e-24)."""
    root = z / torch.sqrt(z.abs() + 1e-12)
    norm = torch.sqrt((root * root).sum(dim=1, keepdim=True) + 1e-24)
    return root / norm


def _product(vs):
    """FusionVertex.product: the element-wise product of all vs, left to right."""
    p = vs[0]
    for v in vs[1:]:
        p = p * v
    return p


# ---------------------------------------------------------------------------------------------- base vertex


class FusionVertex(nn.Module):
    """FusionVertex.java: N inputs [batch, d_m] -> [batch, output_size]; parameters named as in Java."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = list(sizes)
        self.p = nn.ParameterDict()

    def weight(self, name, rows, cols):
        self.p[name] = nn.Parameter(torch.empty(rows, cols))

    bias = weight  # same shape convention; the name ("b...") decides the initialisation

    def init_java(self):
        """FusionVertex.initializeParameters: names starting with "b" -> 0, the rest Glorot normal."""
        with torch.no_grad():
            for name, p in self.p.items():
                if name.startswith("b"):
                    p.zero_()
                else:
                    fan_in = p.shape[0] if p.dim() >= 2 else 1
                    fan_out = p.numel() // fan_in
                    p.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))

    def output_size(self):
        raise NotImplementedError


class ConcatFusion(nn.Module):
    """ConcatFusion.java: a DL4J MergeVertex, [x_1; ...; x_N], no parameters."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = list(sizes)

    def output_size(self):
        return sum(self.sizes)

    def forward(self, xs):
        return torch.cat(xs, dim=1)


class WeightedSumVertex(FusionVertex):
    """WeightedSumVertex.java: y = sum_m a_m (x_m W_m + b_m), a_m [1, 1] starting at 1."""

    def __init__(self, sizes, dim):
        super().__init__(sizes)
        self.dim = dim
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, dim)
            self.bias("b%d" % m, 1, dim)
            self.weight("a%d" % m, 1, 1)
        self.init_java()
        with torch.no_grad():
            for m in range(len(sizes)):
                self.p["a%d" % m].fill_(1.0)

    def output_size(self):
        return self.dim

    def forward(self, xs):
        y = None
        for m, x in enumerate(xs):
            h = _linear(x, self.p["W%d" % m], self.p["b%d" % m]) * self.p["a%d" % m]
            y = h if y is None else y + h
        return y


class AttentionVertex(FusionVertex):
    """AttentionVertex.java: h_m = tanh(x_m W_m + b_m), alpha = softmax_m(h_m Wv), y = sum_m alpha_m h_m."""

    def __init__(self, sizes, dim):
        super().__init__(sizes)
        self.dim = dim
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, dim)
            self.bias("b%d" % m, 1, dim)
        self.weight("Wv", dim, 1)
        self.init_java()

    def output_size(self):
        return self.dim

    def forward(self, xs):
        hs = [torch.tanh(_linear(x, self.p["W%d" % m], self.p["b%d" % m])) for m, x in enumerate(xs)]
        scores = torch.cat([_mm(h, self.p["Wv"]) for h in hs], dim=1)        # [B, N]
        alpha = torch.softmax(scores, dim=1)
        y = None
        for m, h in enumerate(hs):
            t = h * alpha[:, m:m + 1]
            y = t if y is None else y + t
        return y


class GmuVertex(FusionVertex):
    """GmuVertex.java: h_m = tanh(x_m W_m) (no biases); N = 2: z = sigmoid([x] Wz), y = z h_1 + (1 - z) h_2;
    N > 2: one gate per modality, Wz [sum d, dim N], y = sum_m sigmoid([x] Wz)[m-th block] h_m."""

    def __init__(self, sizes, dim):
        super().__init__(sizes)
        self.dim = dim
        self.gates = 1 if len(sizes) == 2 else len(sizes)
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, dim)
        self.weight("Wz", sum(sizes), dim * self.gates)
        self.init_java()

    def output_size(self):
        return self.dim

    def forward(self, xs):
        z = torch.sigmoid(_mm(torch.cat(xs, dim=1), self.p["Wz"]))
        hs = [torch.tanh(_mm(x, self.p["W%d" % m])) for m, x in enumerate(xs)]
        if len(xs) == 2:
            return z * hs[0] + (1.0 - z) * hs[1]
        y = None
        for m, h in enumerate(hs):
            t = z[:, m * self.dim:(m + 1) * self.dim] * h
            y = t if y is None else y + t
        return y


class TfnVertex(FusionVertex):
    """TfnVertex.java: y = vec([1; z_1] (x) ... (x) [1; z_N]) (first modality slowest, the 1 first),
    z_m = x_m W_m + b_m of size dim (dim = 0: z_m = x_m)."""

    def __init__(self, sizes, dim):
        super().__init__(sizes)
        self.dim = dim
        if dim > 0:
            for m, d in enumerate(sizes):
                self.weight("W%d" % m, d, dim)
                self.bias("b%d" % m, 1, dim)
        self.init_java()

    def _size(self, m):
        return self.dim if self.dim > 0 else self.sizes[m]

    def output_size(self):
        n = 1
        for m in range(len(self.sizes)):
            n *= self._size(m) + 1
        return n

    def forward(self, xs):
        t = None
        width = 1
        for m, x in enumerate(xs):
            z = _linear(x, self.p["W%d" % m], self.p["b%d" % m]) if self.dim > 0 else x
            ext = torch.cat([torch.ones_like(z[:, 0:1]), z], dim=1)
            s = self._size(m) + 1
            if t is None:
                t, width = ext, s
            else:
                t = (t.reshape(-1, width, 1) * ext.reshape(-1, 1, s)).reshape(-1, width * s)
                width *= s
                _Flops.add(t.numel())  # the outer product, one multiply per element
        return t


class LmfVertex(FusionVertex):
    """LmfVertex.java: f_m = [1; x_m] W_m ([d_m + 1, R out], rank-major), y = sum_r Wr_r prod_m f_m,r + b,
    the sum over r as a product with Wr [R, 1]."""

    def __init__(self, sizes, rank, output_dim):
        super().__init__(sizes)
        self.rank, self.output_dim = rank, output_dim
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d + 1, rank * output_dim)
        self.weight("Wr", rank, 1)
        self.bias("b", 1, output_dim)
        self.init_java()

    def output_size(self):
        return self.output_dim

    def forward(self, xs):
        prod = None
        for m, x in enumerate(xs):
            ext = torch.cat([torch.ones_like(x[:, 0:1]), x], dim=1)
            f = _mm(ext, self.p["W%d" % m])                                     # [B, R out]
            prod = f if prod is None else prod * f
        by_rank = prod.reshape(-1, self.rank, self.output_dim).transpose(1, 2)  # [B, out, R]
        return _mm(by_rank, self.p["Wr"]).reshape(-1, self.output_dim) + self.p["b"]


class _JavaRandom:
    """java.util.Random (the documented 48-bit LCG), so that MCB's hash functions are the Java vertex's."""
    _MULT = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed):
        self.seed = (seed ^ self._MULT) & self._MASK

    def _next(self, bits):
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        r = self.seed >> (48 - bits)
        return r - (1 << 32) if r >= (1 << 31) else r

    def next_int(self, bound):
        r = self._next(31)
        if bound & (bound - 1) == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + (bound - 1) < (1 << 31):  # Java: the int sum does not overflow
                return r
            u = self._next(31)

    def next_boolean(self):
        return self._next(1) != 0


def _split_factor(n):
    """McbVertex.splitFactor: the largest factor of n not above sqrt(n) (1 for a prime)."""
    for p in range(int(math.floor(math.sqrt(n))), 1, -1):
        if n % p == 0:
            return p
    return 1


def _trig(cos, rows, cols, n):
    """McbVertex.trig: cos or sin of 2 pi ((a b) mod n) / n, computed in double, cast to float."""
    a = torch.arange(rows, dtype=torch.int64).reshape(-1, 1)
    b = torch.arange(cols, dtype=torch.int64).reshape(1, -1)
    angle = 2 * math.pi * ((a * b) % n).to(torch.float64) / n
    return (torch.cos(angle) if cos else torch.sin(angle)).to(torch.float32)


class McbVertex(FusionVertex):
    """McbVertex.java: psi_m = count sketch of x_m into mm_dim bins (hashes drawn from java.util.Random(seed),
    bins then sign per input element, modality after modality), z = IFFT(prod_m FFT(psi_m)) (real part),
    y = relu(z Wo + bo). The DFT: torch.fft by default, the Java four-step DFT by matmuls with
    MMSPARK_BENCH_MCB=fourstep (see the module docstring)."""

    def __init__(self, sizes, mm_dim, output_dim, seed=1, bins=None, signs=None, mode=None):
        super().__init__(sizes)
        self.mm_dim, self.output_dim = mm_dim, output_dim
        self.mode = mode or os.environ.get("MMSPARK_BENCH_MCB", "fft")
        if self.mode not in ("fft", "fourstep"):
            raise ValueError("MMSPARK_BENCH_MCB must be fft or fourstep, got %r" % self.mode)
        if bins is None:
            rng = _JavaRandom(seed)
            bins, signs = [], []
            for d in sizes:
                bm, sm = [], []
                for _ in range(d):
                    bm.append(rng.next_int(mm_dim))
                    sm.append(1 if rng.next_boolean() else -1)
                bins.append(bm)
                signs.append(sm)
        self.bins_list, self.signs_list = bins, signs
        for m in range(len(sizes)):
            self.register_buffer("bins%d" % m, torch.tensor(bins[m], dtype=torch.int64))
            self.register_buffer("signs%d" % m, torch.tensor(signs[m], dtype=torch.float32))
        self.weight("Wo", mm_dim, output_dim)
        self.bias("bo", 1, output_dim)
        self.init_java()
        if self.mode == "fourstep":
            self._fourstep_constants()

    def output_size(self):
        return self.output_dim

    # -- torch.fft version
    def _sketch(self, m, x):
        psi = torch.zeros(x.shape[0], self.mm_dim, dtype=x.dtype)
        return psi.index_add(1, getattr(self, "bins%d" % m), x * getattr(self, "signs%d" % m))

    def _fft_forward(self, xs):
        n = self.mm_dim
        spec = None
        for m, x in enumerate(xs):
            f = torch.fft.rfft(self._sketch(m, x), n=n, dim=1)
            spec = f if spec is None else spec * f
            if m > 0:
                _Flops.add(6 * f.numel())
        z = torch.fft.irfft(spec, n=n, dim=1)
        # (N forward transforms + 1 inverse) per sample, 5 n log2 n each
        _Flops.add((len(xs) + 1) * xs[0].shape[0] * 5 * n * math.log2(n))
        return z

    # -- literal port of McbVertex.fuse (four-step DFT by matrix products)
    def _fourstep_constants(self):
        n = self.mm_dim
        pp = _split_factor(n)
        q = n // pp
        self.pp, self.q = pp, q
        consts = {
            "cp": _trig(True, pp, pp, pp), "sp": _trig(False, pp, pp, pp),
            "cq": _trig(True, q, q, q), "sq": _trig(False, q, q, q),
            "tr": _trig(True, q, pp, n).reshape(1, q, pp), "ti": _trig(False, q, pp, n).reshape(1, q, pp),
            "trT": _trig(True, pp, q, n).reshape(1, pp, q), "tiT": _trig(False, pp, q, n).reshape(1, pp, q),
            "cpInv": (_trig(True, pp, pp, pp).double() / n).float(),
            "spInv": (_trig(False, pp, pp, pp).double() / n).float(),
        }
        # Java: _trig(...).divi(mmDim) on the float array; the division above is done in double then rounded,
        # a difference of at most 1 ulp per entry
        for k, v in consts.items():
            self.register_buffer("c_" + k, v)
        for m, d in enumerate(self.sizes):
            s = torch.zeros(d, n)
            s[torch.arange(d), torch.tensor(self.bins_list[m])] = torch.tensor(self.signs_list[m],
                                                                                dtype=torch.float32)
            self.register_buffer("sketch%d" % m, s)

    def _fourstep_forward(self, xs):
        c = lambda k: getattr(self, "c_" + k)
        n, pp, q = self.mm_dim, self.pp, self.q
        pre = pim = None
        for m, x in enumerate(xs):
            psi = _mm(x, getattr(self, "sketch%d" % m))                                   # [B, D]
            a = psi.reshape(-1, pp, q).permute(0, 2, 1).reshape(-1, pp)                   # [B q, n1]
            yr = _mm(a, c("cp")).reshape(-1, q, pp)                                       # [B, n2, k1]
            yi = (-_mm(a, c("sp"))).reshape(-1, q, pp)
            ur = yr * c("tr") + yi * c("ti")
            ui = yi * c("tr") - yr * c("ti")
            vr = ur.permute(0, 2, 1).reshape(-1, q)                                       # [B p, n2]
            vi = ui.permute(0, 2, 1).reshape(-1, q)
            fr = (_mm(vr, c("cq")) + _mm(vi, c("sq"))).reshape(-1, n)                     # [B, (k1, k2)]
            fi = (_mm(vi, c("cq")) - _mm(vr, c("sq"))).reshape(-1, n)
            if pre is None:
                pre, pim = fr, fi
            else:
                re = pre * fr - pim * fi
                pim = pre * fi + pim * fr
                pre = re
                _Flops.add(6 * fr.numel())
        xr = pre.reshape(-1, q)                                                           # [B p, k2]
        xi = pim.reshape(-1, q)
        gr = (_mm(xr, c("cq")) - _mm(xi, c("sq"))).reshape(-1, pp, q)                    # [B, k1, n2]
        gi = (_mm(xr, c("sq")) + _mm(xi, c("cq"))).reshape(-1, pp, q)
        hr = gr * c("trT") - gi * c("tiT")
        hi = gr * c("tiT") + gi * c("trT")
        wr = hr.permute(0, 2, 1).reshape(-1, pp)                                         # [B q, k1]
        wi = hi.permute(0, 2, 1).reshape(-1, pp)
        return (_mm(wr, c("cpInv")) - _mm(wi, c("spInv"))).reshape(-1, q, pp).permute(0, 2, 1).reshape(-1, n)

    def forward(self, xs):
        z = self._fft_forward(xs) if self.mode == "fft" else self._fourstep_forward(xs)
        return torch.relu(_linear(z, self.p["Wo"], self.p["bo"]))


class MlbVertex(FusionVertex):
    """MlbVertex.java: z = prod_m relu(x_m W_m + b_m) (mm_dim), y = relu(norm(z) Wo + bo), norm optional."""

    def __init__(self, sizes, mm_dim, output_dim, normalize):
        super().__init__(sizes)
        self.mm_dim, self.output_dim, self.normalize = mm_dim, output_dim, normalize
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, mm_dim)
            self.bias("b%d" % m, 1, mm_dim)
        self.weight("Wo", mm_dim, output_dim)
        self.bias("bo", 1, output_dim)
        self.init_java()

    def output_size(self):
        return self.output_dim

    def forward(self, xs):
        z = _product([torch.relu(_linear(x, self.p["W%d" % m], self.p["b%d" % m])) for m, x in enumerate(xs)])
        if self.normalize:
            z = _power_l2(z)
        return torch.relu(_linear(z, self.p["Wo"], self.p["bo"]))


class MfbVertex(FusionVertex):
    """MfbVertex.java (MFB: stages = 1; MFH: stages >= 2): e_s = prod_m relu(x_m W_m^s + b_m^s) (mm_dim factor),
    e_s *= e_{s-1}, z_s = sum over consecutive windows of `factor` (optionally normalised),
    y = relu([z_1; ...; z_S] Wo + bo)."""

    def __init__(self, sizes, mm_dim, factor, stages, output_dim, normalize):
        super().__init__(sizes)
        self.mm_dim, self.factor, self.stages = mm_dim, factor, stages
        self.output_dim, self.normalize = output_dim, normalize
        for s in range(stages):
            for m, d in enumerate(sizes):
                self.weight("W%dm%d" % (s, m), d, mm_dim * factor)
                self.bias("b%dm%d" % (s, m), 1, mm_dim * factor)
        self.weight("Wo", mm_dim * stages, output_dim)
        self.bias("bo", 1, output_dim)
        self.init_java()

    def output_size(self):
        return self.output_dim

    def forward(self, xs):
        previous = None
        pooled = []
        for s in range(self.stages):
            e = _product([torch.relu(_linear(x, self.p["W%dm%d" % (s, m)], self.p["b%dm%d" % (s, m)]))
                          for m, x in enumerate(xs)])
            if previous is not None:
                e = e * previous
            previous = e
            z = e.reshape(-1, self.mm_dim, self.factor).sum(dim=2)
            pooled.append(_power_l2(z) if self.normalize else z)
        z = pooled[0] if self.stages == 1 else torch.cat(pooled, dim=1)
        return torch.relu(_linear(z, self.p["Wo"], self.p["bo"]))


class MutanVertex(FusionVertex):
    """MutanVertex.java: q_m = x_m W_m + b_m (mm_dim), z = sum_r prod_m (q_m M_m + c_m)[r-th block of mm_dim]
    (M_m [mm_dim, mm_dim R], rank-major), y = norm(z) Wo + bo (no activations; norm optional; c_m start at 0)."""

    def __init__(self, sizes, mm_dim, rank, output_dim, normalize):
        super().__init__(sizes)
        self.mm_dim, self.rank, self.output_dim, self.normalize = mm_dim, rank, output_dim, normalize
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, mm_dim)
            self.bias("b%d" % m, 1, mm_dim)
            self.weight("M%d" % m, mm_dim, mm_dim * rank)
            self.weight("c%d" % m, 1, mm_dim * rank)
        self.weight("Wo", mm_dim, output_dim)
        self.bias("bo", 1, output_dim)
        self.init_java()
        with torch.no_grad():
            for m in range(len(sizes)):
                self.p["c%d" % m].zero_()

    def output_size(self):
        return self.output_dim

    def forward(self, xs):
        ms = []
        for m, x in enumerate(xs):
            q = _linear(x, self.p["W%d" % m], self.p["b%d" % m])
            ms.append(_linear(q, self.p["M%d" % m], self.p["c%d" % m]))
        z = _product(ms).reshape(-1, self.rank, self.mm_dim).sum(dim=1)
        if self.normalize:
            z = _power_l2(z)
        return _linear(z, self.p["Wo"], self.p["bo"])


def _chunk_sizes(dim, chunks):
    """BlockVertex.chunkSizes: ceil(dim / chunks) each, the last ones shortened so that they sum to dim."""
    split = (dim + chunks - 1) // chunks
    sizes = [split] * chunks
    sizes[-1] -= split * chunks - dim
    if sizes[-1] < 0:
        missing = sizes[-2] - sizes[-1]
        sizes[-1] = sizes[-2]
        for j in range(missing):
            sizes[-1 - j] -= 1
    if any(s <= 0 for s in sizes) or sum(sizes) != dim:
        raise ValueError("BLOCK: mm_dim %d cannot be cut into %d non-empty chunks" % (dim, chunks))
    return sizes


class BlockVertex(FusionVertex):
    """BlockVertex.java: q_m = x_m W_m + b_m (mm_dim) cut into `chunks` chunks; chunk c:
    z_c = sum_r prod_m (q_m[c] M_m^c + bc_m^c)[r-th block], signed sqrt + L2 per chunk (always on);
    y = [z_1; ...; z_C] Wo + bo (no activation)."""

    def __init__(self, sizes, mm_dim, chunks, rank, output_dim):
        super().__init__(sizes)
        self.mm_dim, self.chunks, self.rank, self.output_dim = mm_dim, chunks, rank, output_dim
        self.chunk_sizes = _chunk_sizes(mm_dim, chunks)
        for m, d in enumerate(sizes):
            self.weight("W%d" % m, d, mm_dim)
            self.bias("b%d" % m, 1, mm_dim)
            for c, size in enumerate(self.chunk_sizes):
                self.weight("M%dm%d" % (c, m), size, size * rank)
                self.bias("bc%dm%d" % (c, m), 1, size * rank)
        self.weight("Wo", mm_dim, output_dim)
        self.bias("bo", 1, output_dim)
        self.init_java()

    def output_size(self):
        return self.output_dim

    def forward(self, xs):
        qs = [_linear(x, self.p["W%d" % m], self.p["b%d" % m]) for m, x in enumerate(xs)]
        zs = []
        begin = 0
        for c, size in enumerate(self.chunk_sizes):
            ms = [_linear(q[:, begin:begin + size], self.p["M%dm%d" % (c, m)], self.p["bc%dm%d" % (c, m)])
                  for m, q in enumerate(qs)]
            z = _product(ms).reshape(-1, self.rank, size).sum(dim=1)
            zs.append(_power_l2(z))
            begin += size
        z = zs[0] if self.chunks == 1 else torch.cat(zs, dim=1)
        return _linear(z, self.p["Wo"], self.p["bo"])


# ---------------------------------------------------------------------------------------------- registry


def operator(name, sizes, settings=None):
    """The vertex of Fusions.java's factory for `name` with `settings` (absent keys at the Java defaults)."""
    s = dict(settings or {})
    g = lambda key, default: s.get(key, default)
    if name == "concat":
        return ConcatFusion(sizes)
    if name == "sum":
        return WeightedSumVertex(sizes, g("dim", 300))
    if name == "attention":
        return AttentionVertex(sizes, g("dim", 300))
    if name == "gmu":
        return GmuVertex(sizes, g("dim", 300))
    if name == "tfn":
        return TfnVertex(sizes, g("dim", 16))
    if name == "lmf":
        return LmfVertex(sizes, g("rank", 4), g("output_dim", 300))
    if name == "mcb":
        return McbVertex(sizes, g("mm_dim", 16000), g("output_dim", 300), int(g("seed", 1)),
                         bins=s.get("bins"), signs=s.get("signs"))
    if name == "mlb":
        return MlbVertex(sizes, g("mm_dim", 1200), g("output_dim", 300), bool(g("normalize", False)))
    if name in ("mfb", "mfh"):
        stages = 1 if name == "mfb" else g("stages", 2)
        return MfbVertex(sizes, g("mm_dim", 1200), g("factor", 2), stages, g("output_dim", 300),
                         bool(g("normalize", False)))
    if name == "mutan":
        return MutanVertex(sizes, g("mm_dim", 1600), g("rank", 15), g("output_dim", 300),
                           bool(g("normalize", False)))
    if name == "block":
        return BlockVertex(sizes, g("mm_dim", 1600), g("chunks", 20), g("rank", 15), g("output_dim", 300))
    raise ValueError("fusion '%s' is not ported to the PyTorch side" % name)


class FusionNetwork(nn.Module):
    """Targets.fusionNetwork: inputs -> operator -> OutputLayer (dense + bias, softmax; MCXENT loss)."""

    def __init__(self, name, sizes, classes, settings=None):
        super().__init__()
        self.fusion = operator(name, sizes, settings)
        self.out = nn.Linear(self.fusion.output_size(), classes)
        # DL4J's default weight init (XAVIER): N(0, 2 / (fan_in + fan_out)); biases 0
        with torch.no_grad():
            fan_in, fan_out = self.out.in_features, self.out.out_features
            self.out.weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))
            self.out.bias.zero_()

    def forward(self, xs):
        """The logits (pre-softmax activations of the output layer)."""
        return self.out(self.fusion(xs))


def build(case, arrays):
    spec = case["spec"]
    xs = list(arrays["features"])
    labels = arrays["labels"][0]
    model = FusionNetwork(spec["name"], [int(d) for d in spec["inputSizes"]], int(spec["classes"]),
                          spec.get("settings"))

    def loss():
        # DL4J MCXENT: -sum_c y_c log softmax(z)_c per example, averaged over the minibatch
        return -(labels * F.log_softmax(model(xs), dim=1)).sum(dim=1).mean()

    def infer():
        # ComputationGraph.output: the softmax probabilities
        return torch.softmax(model(xs), dim=1)

    _Flops.total = 0
    _Flops.active = True
    try:
        with torch.no_grad():
            model(xs)
    finally:
        _Flops.active = False
    return common.Bench(model, loss, infer, extra_forward_flops=_Flops.total)
