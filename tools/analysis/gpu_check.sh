#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a CUDA build of torch:
#   bash tools/analysis/gpu_check.sh [CONFIG] [OUT_DIR]
# 1. builds the fused attention op (torch.utils.cpp_extension, cached in TORCH_EXTENSIONS_DIR)
#    and runs its tests against the reference math (tests/test_ops),
# 2. times it against SDPA and the explicit math on the spatial and temporal attention shapes
#    of the model (default: the B model, T 243), batch 1 and 16, fp32 and bf16,
# 3. measures end-to-end inference and training throughput with attn_impl sdpa and fused.
# Everything lands in OUT_DIR (default work_dirs/gpu_check) as .txt and .json.
# PYTHON picks the interpreter; BATCH (16) the end-to-end batch size.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
CONFIG=${1:-configs/dualpose/h36m/dualpose-b_h36m-243f.py}
OUT=${2:-work_dirs/gpu_check}
BATCH=${BATCH:-16}
mkdir -p "$OUT"

"$PY" - <<'EOF'
import sys
import torch
if not torch.cuda.is_available():
    sys.exit(f'gpu_check: torch {torch.__version__} sees no CUDA GPU; install a CUDA build '
             'of torch on a machine with an NVIDIA GPU')
print(f'torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}')
EOF

echo "== 1. build the fused attention op and check it against the reference"
"$PY" - <<'EOF' 2>&1 | tee "$OUT/build.txt"
import time
t0 = time.time()
from dualpose.ops import fused_attention_status
ok, msg = fused_attention_status('cuda')
print(f'fused attention: {msg} ({time.time() - t0:.0f} s including the build)')
raise SystemExit(0 if ok else 1)
EOF
"$PY" -m pytest -q -p no:cacheprovider tests/test_ops 2>&1 | tee "$OUT/test_ops.txt"

echo "== 2. attention alone: fused vs SDPA vs explicit math"
for b in 1 "$BATCH"; do
  "$PY" tools/analysis/bench_attention.py "$CONFIG" --device cuda --batch-size "$b" \
      --impls fused sdpa math --dtypes fp32 bf16 --json "$OUT/attention_b$b.json" \
      2>&1 | tee "$OUT/attention_b$b.txt"
done

echo "== 3. end to end: inference and training step"
for impl in sdpa fused; do
  "$PY" tools/analysis/benchmark.py "$CONFIG" --device cuda --batch-size "$BATCH" \
      --modes infer train --precision fp32 bf16 --attn-impl "$impl" --warmup 5 \
      --repeats 20 --profile 15 --json "$OUT/e2e_$impl.json" 2>&1 | tee "$OUT/e2e_$impl.txt"
done
echo "gpu_check: results in $OUT"
