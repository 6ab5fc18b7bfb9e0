"""Shared harness of the PyTorch side of the benchmark: reads a case, builds the model through its module,
times training steps and inference exactly as the Java side does, counts FLOPs and peak memory."""
import json
import os
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn


class Bench:
    """What a model module hands back.

    model:   the torch.nn.Module (its parameters are what the optimiser updates and what is counted)
    loss:    loss() -> scalar tensor, the full training objective on the case's batch
    infer:   infer() -> anything, a forward pass at inference (called under torch.no_grad, eval mode)
    extra_forward_flops: FLOPs of functional ops the module hooks cannot see (matmuls written as
             torch.matmul / einsum / bmm, attention, FFTs) for ONE forward pass over the batch
    counted_state: values DL4J keeps in the network's parameter vector without training them (a BatchNorm's
             global mean and variance, TATE's frozen teacher), added to the parameter count so that both sides
             count alike
    """

    def __init__(self, model, loss, infer, extra_forward_flops=0, extra_train_forward_flops=None, counted_state=0):
        self.model = model
        self.counted_state = counted_state
        self.loss = loss
        self.infer = infer
        self.extra_forward_flops = extra_forward_flops
        # the training forward may differ from inference (alignment models: a batch of pairs on a
        # neighbourhood vs embedding every entity); defaults to the inference figure
        self.extra_train_forward_flops = extra_forward_flops if extra_train_forward_flops is None \
            else extra_train_forward_flops


def load_case(case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    case["dir"] = case_dir
    return case


def array(case, entry):
    """A float32 tensor from a case's array entry ({"file", "shape"}); None for a null entry."""
    if entry is None:
        return None
    data = np.fromfile(os.path.join(case["dir"], entry["file"]), dtype="<f4")
    return torch.from_numpy(data.reshape(entry["shape"]).copy())


def arrays(case):
    """All of a case's arrays as a dict of lists of tensors (None where the Java side had no mask)."""
    return {key: [array(case, e) for e in case.get(key, [])]
            for key in ("features", "featureMasks", "labels", "labelMasks")}


def optimizer(case, params):
    opt = case.get("optimisation", {})
    name = opt.get("optimizer", "ADAM").upper()
    lr = opt.get("learningRate", 1e-3)
    wd = opt.get("weightDecay", 0.0)
    if name == "ADAM":
        # DL4J's weightDecay(coeff, applyLR=true) is decoupled (AdamW-like), scaled by the learning rate
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd) if wd > 0 else torch.optim.Adam(params, lr=lr)
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    raise ValueError("optimiser %s is not ported to the PyTorch side" % name)


_FLOP_MODULES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Bilinear, nn.LSTM, nn.GRU)


def forward_flops(model, call, grad=False):
    """Multiply-add FLOPs (2 per MAC) of the dense/conv/recurrent modules' forward passes during one call()
    (backward passes do not trigger forward hooks)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Linear):
            rows = inp[0].numel() // inp[0].shape[-1]
            total[0] += 2 * rows * mod.in_features * mod.out_features
        elif isinstance(mod, nn.Bilinear):
            rows = inp[0].numel() // inp[0].shape[-1]
            total[0] += 2 * rows * mod.in1_features * mod.in2_features * mod.out_features
        elif isinstance(mod, (nn.Conv1d, nn.Conv2d)):
            o = out if isinstance(out, torch.Tensor) else out[0]
            k = 1
            for s in mod.kernel_size:
                k *= s
            total[0] += 2 * o.numel() * (mod.in_channels // mod.groups) * k
        elif isinstance(mod, (nn.LSTM, nn.GRU)):
            x = inp[0]
            gates = 4 if isinstance(mod, nn.LSTM) else 3
            steps = x.numel() // x.shape[-1]
            dirs = 2 if mod.bidirectional else 1
            size_in = mod.input_size
            for layer in range(mod.num_layers):
                total[0] += 2 * steps * dirs * gates * mod.hidden_size * (size_in + mod.hidden_size)
                size_in = mod.hidden_size * dirs

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _FLOP_MODULES)]
    try:
        if grad:
            call()
        else:
            with torch.no_grad():
                call()
    finally:
        for h in handles:
            h.remove()
    return total[0]


def peak_rss_mb():
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that over from the parent
    across exec, so a child of the (large) harness JVM would report the JVM's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(step, warmup, runs, steps):
    for _ in range(warmup):
        step()
    per_run = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        per_run.append((time.perf_counter() - t0) * 1000.0 / steps)
    return statistics.median(per_run), per_run


def run(case, module):
    threads = int(case.get("threads", 2))
    torch.set_num_threads(threads)
    torch.manual_seed(int(case.get("seed", 1)))
    timing = case.get("timing", {})
    warmup, runs, steps = timing.get("warmup", 3), timing.get("runs", 5), timing.get("steps", 3)

    bench = module.build(case, arrays(case))
    model = bench.model
    params = sum(p.numel() for p in model.parameters() if p.requires_grad) + int(bench.counted_state)
    opt = optimizer(case, [p for p in model.parameters() if p.requires_grad])

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = bench.loss()
        loss.backward()
        opt.step()

    model.train()
    train_ms, train_runs = _timed(train_step, warmup, runs, steps)

    model.eval()

    def infer_step():
        with torch.no_grad():
            bench.infer()

    infer_ms, infer_runs = _timed(infer_step, warmup, runs, steps)
    flops = forward_flops(model, bench.infer) + int(bench.extra_forward_flops)
    model.train()
    # -1: the port cannot count its training forward (functional ops it does not tally)
    train_flops = -1 if bench.extra_train_forward_flops < 0 \
        else forward_flops(model, train_step, grad=True) + int(bench.extra_train_forward_flops)
    return {
        "case": case["name"],
        "train_ms": train_ms,
        "train_ms_runs": train_runs,
        "infer_ms": infer_ms,
        "infer_ms_runs": infer_runs,
        "params": params,
        "forward_flops": flops,
        "train_forward_flops": train_flops,
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
