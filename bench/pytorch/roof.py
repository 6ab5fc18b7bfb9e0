#!/usr/bin/env python3
"""fp32 matrix multiply GFLOP/s of PyTorch's BLAS (the system OpenBLAS with Debian's libopenblas0-pthread)
at the sizes of RoofRunner.java: python3 roof.py THREADS OUT.json SIZE..."""
import json
import statistics
import sys
import time

import torch


def main():
    threads, out, sizes = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    torch.set_num_threads(threads)
    result = {}
    for size in sizes:
        m, k, n = (int(x) for x in size.split("x"))
        a, b = torch.rand(m, k), torch.rand(k, n)
        c = torch.empty(m, n)
        flop = 2.0 * m * k * n
        reps = int(max(3, min(200, 2e9 / flop)))
        for _ in range(3):
            torch.mm(a, b, out=c)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            runs.append(flop * reps / (time.perf_counter() - t0) / 1e9)
        result[size] = statistics.median(runs)
    result["_blas"] = torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0] \
        if "BLAS_INFO=" in torch.__config__.show() else "unknown"
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
