"""PyTorch side of the supernet benchmark: forward time per subnet.

Runs the bundled supernet in PyTorch on the search split with the
contract's batch size, batch-statistics normalization and the given
threads, under ``torch.no_grad``. Writes per-subnet times and top-1 to a
JSON file read by benchmarks/supernet-ort.ts.

    /usr/bin/python3 benchmarks/supernet-torch.py --subnets DIR/subnets.json --out DIR/torch.json
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "supernet"))

from export_subnets import load_supernet  # noqa: E402


def load_npy(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return np.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=os.path.join(ROOT, "examples", "fmnist-nb201"))
    parser.add_argument("--subnets", required=True, help="subnets.json from supernet/export_subnets.py")
    parser.add_argument("--out", required=True, help="output JSON file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per subnet; the median is kept")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with open(os.path.join(args.bundle, "meta.json")) as f:
        meta = json.load(f)
    split = meta["splits"]["search"]
    count = split["count"]
    batch = meta["batchSize"]
    pixels = load_npy(os.path.join(args.bundle, split["images"]))[:count]
    labels = load_npy(os.path.join(args.bundle, split["labels"]))[:count].astype(np.int64)
    table = ((np.arange(256) / 255.0 - meta["pixelMean"]) / meta["pixelStd"]).astype(np.float32)
    images = torch.from_numpy(table[pixels]).unsqueeze(1)
    batches = [images[i : i + batch] for i in range(0, count, batch)]

    model = load_supernet(args.bundle)
    with open(args.subnets) as f:
        subnets = json.load(f)

    results = {}
    with torch.no_grad():
        for subnet in subnets:
            arch = torch.tensor(subnet["ops"], dtype=torch.int64)
            logits = torch.cat([model(x, arch) for x in batches])
            correct = int((logits.argmax(1).numpy() == labels).sum())
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                for x in batches:
                    model(x, arch)
                times.append((time.perf_counter() - started) * 1000)
            median = statistics.median(times)
            results[subnet["name"]] = {
                "ms": round(median, 2),
                "imagesPerSecond": round(count / median * 1000, 1),
                "top1": round(100 * correct / count, 2),
            }
            print(subnet["name"], json.dumps(results[subnet["name"]]), flush=True)

    with open(args.out, "w") as f:
        json.dump(
            {
                "torch": torch.__version__,
                "threads": args.threads,
                "images": count,
                "batchSize": batch,
                "subnets": results,
            },
            f,
            indent=2,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
