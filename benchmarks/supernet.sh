#!/usr/bin/env bash
# Supernet benchmarks: subnet cost (supernet against standalone subnets)
# and throughput (onnxruntime-node against PyTorch), on the bundled
# Fashion-MNIST supernet. Prints Markdown for docs/benchmarks-supernet.md.
#
# Usage: benchmarks/supernet.sh [WORK_DIR] [THREADS]
# Needs Debian's python3-torch and python3-onnx under /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
work_dir="${1:-/tmp/collm-nas-supernet-bench}"
threads="${2:-2}"
python="${PYTHON:-/usr/bin/python3}"

"$python" supernet/export_subnets.py --out "$work_dir"
"$python" benchmarks/supernet-torch.py --subnets "$work_dir/subnets.json" \
  --out "$work_dir/torch.json" --threads "$threads"
node --import tsx benchmarks/supernet-ort.ts --subnets "$work_dir" \
  --torch "$work_dir/torch.json" --threads "$threads"
