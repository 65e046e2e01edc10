#!/usr/bin/env bash
# Checks the ONNX supernet evaluator on the CUDA and WebGPU execution
# providers, with the CPU as reference, on the bundled Fashion-MNIST
# supernet. Needs no network. Prints what each provider gave and always
# exits 0, so it can run unattended; read the output for failures.
#
# Usage: scripts/gpu-check.sh [BUNDLE_DIR]
set -u
cd "$(dirname "$0")/.." || exit 0
bundle="${1:-examples/fmnist-nb201}"

echo "== machine"
uname -srm
node --version
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
    || echo "nvidia-smi failed"
else
  echo "nvidia-smi not found"
fi
ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ 2>/dev/null \
  | sed 's/^/onnxruntime-node library: /'

for device in cuda webgpu cpu; do
  echo "== --device $device"
  # Five minutes per provider: a hung driver must not stall the check.
  timeout 300 node --import tsx scripts/gpu-check.ts --device "$device" --bundle "$bundle"
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "[$device] exited with status $status"
  fi
done
exit 0
