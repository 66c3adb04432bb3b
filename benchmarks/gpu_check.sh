#!/usr/bin/env bash
# Issue 5's GPU checks in one run, for a machine with a CUDA GPU, PyTorch and Triton (about 5 minutes):
#   1. the Triton kernels equal the reference on the GPU: every optimizer and option, fp32 and fp64, 100 steps
#      (tests/engine/test_fused_parity.py with OPTIMLAB_TEST_DEVICE=cuda);
#   2. `optimlab bench step --device cuda`: optimlab (Triton) against torch's foreach and fused paths and the
#      streaming roofline on the same GPU, CUDA-event timing.
# Runs from a checkout without installing anything (PYTHONPATH=src; needs torch, triton, numpy, pytest).
# Logs and JSON go to $OUT (default: out/). Exit status: non-zero if either part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out}
mkdir -p "$out"
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
py=${PYTHON:-python3}

$py - <<'PY' || exit 2
import torch, triton
if not torch.cuda.is_available():
    raise SystemExit(f"gpu_check: no CUDA GPU visible to torch {torch.__version__}")
print(f"torch {torch.__version__}, triton {triton.__version__}, {torch.cuda.get_device_name()}")
PY

OPTIMLAB_TEST_DEVICE=cuda $py -m pytest -q -p no:cacheprovider tests/engine/test_fused_parity.py -k triton \
    2>&1 | tee "$out/gpu-parity.log"
parity=${PIPESTATUS[0]}

OMP_NUM_THREADS=1 $py benchmarks/step.py --device cuda --reps "${REPS:-50}" --json "$out/bench-step-cuda.json" \
    2>&1 | tee "$out/bench-step-cuda.log"
bench=${PIPESTATUS[0]}

echo "gpu_check: parity exit $parity, bench exit $bench"
[ "$parity" -eq 0 ] && [ "$bench" -eq 0 ]
