"""Train the bundled NAS-Bench-201 supernet on Fashion-MNIST and export it.

Single-path one-shot training (SPOS, Guo et al. 2020): every step samples
one architecture uniformly from the 15,625 cells and updates only the
weights of that subnet. The script then writes, for the TypeScript ONNX
evaluator:

- ``<out>/supernet.onnx``: the supernet with inputs ``images`` and ``arch``;
- ``<out>/{val,test}_{images,labels}.npy.gz``: held-out data as uint8;
- ``<out>/meta.json``: the contract (normalization, batch size, splits);
- ``<out>/train_report.json``: training time, losses, subnet accuracies;
- ``<fixtures>/supernet_torch_top1.json``: PyTorch top-1 of three subnets
  on the first 500 validation images, for the evaluator's tests.

Run with Debian's interpreter, which has python3-torch (1.13)::

    /usr/bin/python3 supernet/train_supernet.py
"""

import argparse
import gzip
import io
import json
import logging
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export_onnx import count_ops, export_supernet, load_weights_from_onnx  # noqa: E402
from nb201_supernet import OPS, Nb201Supernet, arch_tensor, format_arch  # noqa: E402

log = logging.getLogger("train_supernet")

CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# Pixel statistics of the 55,000 training images after the validation
# hold-out with seed 0, scaled to [0, 1] and rounded to four digits. The
# script recomputes them and stops if the data gives different values.
PIXEL_MEAN = 0.2862
PIXEL_STD = 0.3531

# Subnets recorded in the test fixture, and in the report with a few more.
FIXTURE_ARCHS = {
    "all_conv3x3": ["nor_conv_3x3"] * 6,
    "skip_pool_mix": [
        "nor_conv_3x3",
        "skip_connect",
        "avg_pool_3x3",
        "nor_conv_1x1",
        "skip_connect",
        "nor_conv_3x3",
    ],
    "with_none": [
        "nor_conv_1x1",
        "none",
        "nor_conv_3x3",
        "none",
        "avg_pool_3x3",
        "skip_connect",
    ],
}
REPORT_ARCHS = {
    **FIXTURE_ARCHS,
    # The best CIFAR-10 cell of NAS-Bench-201.
    "nb201_cifar10_best": [
        "nor_conv_3x3",
        "nor_conv_3x3",
        "nor_conv_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "nor_conv_3x3",
    ],
    "all_conv1x1": ["nor_conv_1x1"] * 6,
    "all_skip": ["skip_connect"] * 6,
    "all_pool": ["avg_pool_3x3"] * 6,
}


def parse_args(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        default="/usr/share/datasets/fashion-mnist",
        help="folder with the four Fashion-MNIST idx .gz files",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(root, "examples", "fmnist-nb201"),
        help="folder for the model, data and meta.json",
    )
    parser.add_argument(
        "--fixtures",
        default=os.path.join(root, "test", "fixtures"),
        help="folder for supernet_torch_top1.json",
    )
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--channels", type=int, default=8, help="first-stage channels")
    parser.add_argument("--cells", type=int, default=2, help="cells per stage")
    parser.add_argument("--batch-size", type=int, default=128, help="training batch")
    parser.add_argument("--lr", type=float, default=0.1, help="initial SGD learning rate")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-size", type=int, default=5000, help="held-out training images")
    parser.add_argument("--search-size", type=int, default=1000, help="first validation images used by the search")
    parser.add_argument("--eval-batch", type=int, default=250, help="fixed evaluation batch size")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="only re-export <out>/supernet.onnx with the weights it contains, after a change to the exporter",
    )
    parser.add_argument(
        "--train-limit",
        type=int,
        default=0,
        help="use only this many training images (0: all); for smoke runs",
    )
    return parser.parse_args(argv)


def read_idx(path):
    """Read a gzipped idx file (the MNIST format) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header shape {shape} does not match {data.size} bytes")
    return data.reshape(shape)


def load_splits(data_dir, val_size, seed):
    """Split the 60,000 training images into train and validation."""
    train_images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    train_labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    test_images = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))
    order = np.random.default_rng(seed).permutation(len(train_images))
    val_index, train_index = order[:val_size], order[val_size:]
    return {
        "train": (train_images[train_index], train_labels[train_index]),
        "val": (train_images[val_index], train_labels[val_index]),
        "test": (test_images, test_labels),
    }


def pixel_table():
    """Map each uint8 pixel value to its normalized float32 input.

    Computed in float64 and rounded once, so that any reader that computes
    (pixel / 255 - mean) / std in double precision gets the same floats.
    """
    return ((np.arange(256) / 255.0 - PIXEL_MEAN) / PIXEL_STD).astype(np.float32)


def to_input(images_u8):
    """Convert uint8 [N, 28, 28] images to the normalized [N, 1, 28, 28] input."""
    return torch.from_numpy(pixel_table()[images_u8]).unsqueeze(1)


def augment(x, generator):
    """Random 28x28 crop of the image padded by 2, and horizontal flip."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2), value=-PIXEL_MEAN / PIXEL_STD)
    offsets = torch.randint(0, 5, (n, 2), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        crop = padded[i, :, dy : dy + 28, dx : dx + 28]
        out[i] = crop.flip(-1) if flips[i] else crop
    return out


@torch.no_grad()
def evaluate(model, images_u8, labels, arch, batch_size):
    """Return (top-1 correct, top-5 correct, images) in fixed batches."""
    n = len(images_u8)
    if n % batch_size != 0:
        raise ValueError(f"{n} images is not a multiple of the batch size {batch_size}")
    model.eval()
    arch_t = arch_tensor(arch)
    correct = 0
    correct5 = 0
    for start in range(0, n, batch_size):
        x = to_input(images_u8[start : start + batch_size])
        y = torch.from_numpy(labels[start : start + batch_size].astype(np.int64))
        logits = model(x, arch_t)
        top5 = logits.topk(5, dim=1).indices
        correct += int((top5[:, 0] == y).sum())
        correct5 += int((top5 == y[:, None]).any(dim=1).sum())
    return correct, correct5, n


def train(model, images_u8, labels, args, probe):
    """SPOS training loop; returns a list of per-epoch log records."""
    generator = torch.Generator().manual_seed(args.seed)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=args.lr,
        momentum=0.9,
        nesterov=True,
        weight_decay=args.weight_decay,
    )
    steps_per_epoch = len(images_u8) // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + np.cos(np.pi * step / total_steps))
    )
    x_all = to_input(images_u8)
    y_all = torch.from_numpy(labels.astype(np.int64))
    history = []
    for epoch in range(args.epochs):
        model.train()
        started = time.time()
        cpu_started = time.process_time()
        order = torch.randperm(len(x_all), generator=generator)
        loss_sum = 0.0
        correct = 0
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = augment(x_all[index], generator)
            y = y_all[index]
            arch = torch.randint(0, len(OPS), (6,), generator=generator)
            logits = model(x, arch)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss)
            correct += int((logits.argmax(1) == y).sum())
        seen = steps_per_epoch * args.batch_size
        record = {
            "epoch": epoch + 1,
            "loss": round(loss_sum / steps_per_epoch, 4),
            "train_top1_sampled": round(100.0 * correct / seen, 2),
            "seconds": round(time.time() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu_started, 1),
        }
        for name, (images, lab, arch) in probe.items():
            c, _, n = evaluate(model, images, lab, arch, args.eval_batch)
            record[f"search_top1_{name}"] = round(100.0 * c / n, 2)
        history.append(record)
        log.info("epoch %s", json.dumps(record))
    return history


def save_npy_gz(path, array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array))
    # mtime=0 keeps the gzip bytes identical across runs.
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        f.write(buffer.getvalue())


def accuracy_record(model, splits, search_size, arch, batch_size):
    val_images, val_labels = splits["val"]
    test_images, test_labels = splits["test"]
    record = {"arch": format_arch(arch), "ops": [OPS.index(op) for op in arch]}
    for label, (images, labels) in {
        "search": (val_images[:search_size], val_labels[:search_size]),
        "val": (val_images, val_labels),
        "test": (test_images, test_labels),
    }.items():
        correct, correct5, n = evaluate(model, images, labels, arch, batch_size)
        record[f"{label}_top1"] = round(100.0 * correct / n, 2)
        record[f"{label}_top5"] = round(100.0 * correct5 / n, 2)
    return record


def write_onnx(model, args):
    """Export the supernet to <out>/supernet.onnx with contract metadata."""
    onnx_path = os.path.join(args.out, "supernet.onnx")
    exported = export_supernet(
        model,
        onnx_path,
        image_shape=(1, 28, 28),
        arch_length=6,
        metadata={
            "space": "nb201",
            "ops": ",".join(OPS),
            "batch_size": str(args.eval_batch),
            "normalization": "batch-statistics",
            "pixel_mean": str(PIXEL_MEAN),
            "pixel_std": str(PIXEL_STD),
        },
    )
    log.info("exported %s: %s", onnx_path, json.dumps(count_ops(exported)))


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    for size in (args.search_size, args.val_size, 10000, 500):
        if size % args.eval_batch != 0:
            raise SystemExit(f"subset size {size} is not a multiple of --eval-batch {args.eval_batch}")

    if args.export_only:
        model = Nb201Supernet(args.channels, args.cells, num_classes=10, in_channels=1)
        load_weights_from_onnx(model, os.path.join(args.out, "supernet.onnx"))
        write_onnx(model, args)
        return

    splits = load_splits(args.data_dir, args.val_size, args.seed)
    train_images, train_labels = splits["train"]
    mean = float(train_images.mean() / 255.0)
    std = float(train_images.std() / 255.0)
    log.info("train pixel mean %.5f std %.5f", mean, std)
    if args.train_limit == 0 and (round(mean, 4) != PIXEL_MEAN or round(std, 4) != PIXEL_STD):
        raise SystemExit(
            f"pixel statistics {mean:.4f}/{std:.4f} differ from the constants "
            f"{PIXEL_MEAN}/{PIXEL_STD}; update PIXEL_MEAN and PIXEL_STD"
        )
    if args.train_limit:
        train_images, train_labels = train_images[: args.train_limit], train_labels[: args.train_limit]

    val_images, val_labels = splits["val"]
    probe = {
        name: (val_images[: args.search_size], val_labels[: args.search_size], arch)
        for name, arch in FIXTURE_ARCHS.items()
    }
    model = Nb201Supernet(args.channels, args.cells, num_classes=10, in_channels=1)
    params = sum(p.numel() for p in model.parameters())
    log.info("supernet: %d parameters, %d training images", params, len(train_images))

    started = time.time()
    cpu_started = time.process_time()
    history = train(model, train_images, train_labels, args, probe)
    train_seconds = time.time() - started
    train_cpu_seconds = time.process_time() - cpu_started
    # CPU time is reported beside wall time because other processes on a
    # shared machine stretch the wall time but not the CPU time.
    log.info("training took %.0f s wall, %.0f s CPU", train_seconds, train_cpu_seconds)

    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.fixtures, exist_ok=True)

    accuracies = {
        name: accuracy_record(model, splits, args.search_size, arch, args.eval_batch)
        for name, arch in REPORT_ARCHS.items()
    }
    sample_rng = np.random.default_rng(args.seed + 1)
    random_archs = [sample_rng.integers(0, len(OPS), 6).tolist() for _ in range(10)]
    random_records = [
        accuracy_record(model, splits, args.search_size, [OPS[i] for i in arch], args.eval_batch)
        for arch in random_archs
    ]
    for name, record in accuracies.items():
        log.info("subnet %s %s", name, json.dumps(record))

    write_onnx(model, args)

    test_images, test_labels = splits["test"]
    save_npy_gz(os.path.join(args.out, "val_images.npy.gz"), val_images)
    save_npy_gz(os.path.join(args.out, "val_labels.npy.gz"), val_labels)
    save_npy_gz(os.path.join(args.out, "test_images.npy.gz"), test_images)
    save_npy_gz(os.path.join(args.out, "test_labels.npy.gz"), test_labels)

    meta = {
        "space": "nb201",
        "dataset": "fashion-mnist",
        "model": "supernet.onnx",
        "inputs": {
            "images": {"dtype": "float32", "shape": ["batch", 1, 28, 28]},
            "arch": {"dtype": "int64", "shape": [6]},
        },
        "outputs": {"logits": {"dtype": "float32", "shape": ["batch", 10]}},
        "ops": list(OPS),
        "edges": ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"],
        "normalization": "batch-statistics",
        "batchSize": args.eval_batch,
        "pixelMean": PIXEL_MEAN,
        "pixelStd": PIXEL_STD,
        "classNames": CLASS_NAMES,
        "splits": {
            "search": {"images": "val_images.npy.gz", "labels": "val_labels.npy.gz", "count": args.search_size},
            "val": {"images": "val_images.npy.gz", "labels": "val_labels.npy.gz", "count": len(val_images)},
            "test": {"images": "test_images.npy.gz", "labels": "test_labels.npy.gz", "count": len(test_images)},
        },
        "trainImages": len(train_images),
        "seed": args.seed,
        "network": {"channels": args.channels, "cellsPerStage": args.cells, "parameters": params},
        "training": {
            "method": "SPOS, one uniformly sampled subnet per step",
            "epochs": args.epochs,
            "batchSize": args.batch_size,
            "seconds": round(train_seconds),
            "cpuSeconds": round(train_cpu_seconds),
            "threads": args.threads,
            "torch": torch.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        },
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")

    fixture = {
        "description": "PyTorch top-1 of the bundled supernet on the first 500 validation images",
        "images": 500,
        "batchSize": args.eval_batch,
        "subnets": [],
    }
    for name, arch in FIXTURE_ARCHS.items():
        correct, correct5, n = evaluate(model, val_images[:500], val_labels[:500], arch, args.eval_batch)
        fixture["subnets"].append(
            {
                "name": name,
                "arch": arch,
                "ops": [OPS.index(op) for op in arch],
                "correct": correct,
                "top1": round(100.0 * correct / n, 2),
                "top5Correct": correct5,
            }
        )
    with open(os.path.join(args.fixtures, "supernet_torch_top1.json"), "w") as f:
        json.dump(fixture, f, indent=2)
        f.write("\n")

    report = {
        "trainSeconds": round(train_seconds),
        "trainCpuSeconds": round(train_cpu_seconds),
        "parameters": params,
        "history": history,
        "subnets": accuracies,
        "randomSubnets": random_records,
    }
    with open(os.path.join(args.out, "train_report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
