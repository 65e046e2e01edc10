"""Export fixed subnets of the trained supernet as standalone ONNX models.

Each standalone model has only the chosen operations, no ``If`` nodes and
no ``arch`` input, with the supernet's weights. The subnet-cost benchmark
compares them with the supernet on the same images. Writes one
``<name>.onnx`` per subnet and ``subnets.json`` listing them.

    /usr/bin/python3 supernet/export_subnets.py --out /tmp/collm-nas-subnets
"""

import argparse
import json
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export_onnx import export_subnet, load_weights_from_onnx  # noqa: E402
from nb201_supernet import OPS, Nb201Supernet, format_arch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BENCHMARK_SUBNETS = {
    "all_conv3x3": [3, 3, 3, 3, 3, 3],
    "skip_pool_mix": [3, 1, 4, 2, 1, 3],
    "with_none": [2, 0, 3, 0, 4, 1],
    "nb201_cifar10_best": [3, 3, 3, 1, 3, 3],
    "all_skip": [1, 1, 1, 1, 1, 1],
}


def benchmark_subnets(random_count, seed):
    """Return the named subnets plus `random_count` uniform random ones."""
    subnets = dict(BENCHMARK_SUBNETS)
    rng = np.random.default_rng(seed)
    for i in range(random_count):
        subnets[f"random_{i}"] = rng.integers(0, len(OPS), 6).tolist()
    return subnets


def load_supernet(bundle):
    with open(os.path.join(bundle, "meta.json")) as f:
        meta = json.load(f)
    network = meta["network"]
    model = Nb201Supernet(network["channels"], network["cellsPerStage"], len(meta["classNames"]), 1)
    load_weights_from_onnx(model, os.path.join(bundle, meta["model"]))
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=os.path.join(ROOT, "examples", "fmnist-nb201"), help="folder with supernet.onnx and meta.json")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--random", type=int, default=5, help="number of random subnets")
    parser.add_argument("--seed", type=int, default=7, help="seed of the random subnets")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    os.makedirs(args.out, exist_ok=True)
    model = load_supernet(args.bundle)
    listing = []
    for name, ops in benchmark_subnets(args.random, args.seed).items():
        path = os.path.join(args.out, f"{name}.onnx")
        export_subnet(model, path, (1, 28, 28), ops)
        listing.append({"name": name, "ops": ops, "arch": format_arch(ops), "file": f"{name}.onnx"})
        logging.info("exported %s %s", name, format_arch(ops))
    with open(os.path.join(args.out, "subnets.json"), "w") as f:
        json.dump(listing, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
