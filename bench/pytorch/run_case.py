#!/usr/bin/env python3
"""Times one benchmark case in PyTorch: the same architecture, sizes, batch and thread count as the
project's model, on the very batch the Java side wrote (see bench/README.md, "Case format").

    python3 bench/pytorch/run_case.py CASE_DIR

Prints one JSON object on stdout (and writes CASE_DIR/pytorch.json):
train_ms / infer_ms (median over runs of the mean step time), the per-run figures, parameter count,
forward FLOPs per batch (counted by module hooks, plus what the model reports for functional ops),
peak RSS and the torch version. A model is bench/pytorch/models/<case model>.py with
build(case, arrays) -> common.Bench.
"""
import importlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run_case.py CASE_DIR")
    case_dir = sys.argv[1]
    case = common.load_case(case_dir)
    module = importlib.import_module("models." + case["pytorch"])
    result = common.run(case, module)
    text = json.dumps(result)
    with open(os.path.join(case_dir, "pytorch.json"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
