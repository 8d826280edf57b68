#!/usr/bin/env bash
# Compile the fused attention op's sources without a GPU (and with a CPU build of torch):
# catches compile errors and prints the kernel's register, spill and shared-memory use.
# Nothing is linked or run; the kernel's results are checked by tools/analysis/gpu_check.sh on
# a machine with a GPU.
#
#   bash tools/analysis/cuda_compile_check.sh [ARCH]        # ARCH: 90 (default), 80, ...
#
# Needs nvcc and the CUDA headers. Without a CUDA toolkit, pip has them (about 200 MB, into a
# scratch environment, not the project's):
#   python -m venv /tmp/cuda && /tmp/cuda/bin/pip install nvidia-cuda-nvcc \
#       nvidia-cuda-runtime nvidia-cuda-cccl
#   CUDA_ROOT=/tmp/cuda/lib/python3.11/site-packages/nvidia/cu13 \
#       bash tools/analysis/cuda_compile_check.sh
# CUDA_ROOT (default: the directory above nvcc on PATH) holds bin/nvcc and include/;
# PYTHON picks the interpreter whose torch headers are used.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
ARCH=${1:-90}
if [ -z "${CUDA_ROOT:-}" ]; then
  NVCC_PATH=$(command -v nvcc || true)
  if [ -z "$NVCC_PATH" ]; then
    echo "cuda_compile_check: nvcc not found; set CUDA_ROOT (see the top of this script)" >&2
    exit 2
  fi
  CUDA_ROOT=$(dirname "$(dirname "$NVCC_PATH")")
fi
NVCC="$CUDA_ROOT/bin/nvcc"
[ -x "$NVCC" ] || { echo "cuda_compile_check: no nvcc at $NVCC" >&2; exit 2; }

TORCH_DIR=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
PY_INC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
CXX11_ABI=$("$PY" -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# CPU wheels of torch lack this header, generated when torch is built with CUDA
if [ ! -f "$TORCH_DIR/include/c10/cuda/impl/cuda_cmake_macros.h" ]; then
  mkdir -p "$WORK/include/c10/cuda/impl"
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' \
    > "$WORK/include/c10/cuda/impl/cuda_cmake_macros.h"
fi
INCLUDES=(-I"$WORK/include" -I"$TORCH_DIR/include"
          -I"$TORCH_DIR/include/torch/csrc/api/include" -I"$CUDA_ROOT/include")
[ -d "$CUDA_ROOT/include/cccl" ] && INCLUDES+=(-I"$CUDA_ROOT/include/cccl")
DEFINES=(-DTORCH_EXTENSION_NAME=dualpose_fused_attention -D_GLIBCXX_USE_CXX11_ABI="$CXX11_ABI")

echo "== nvcc $("$NVCC" --version | tail -n 2 | head -n 1), sm_$ARCH, torch headers of $TORCH_DIR"
"$NVCC" -c dualpose/ops/csrc/fused_attention_kernel.cu -o "$WORK/kernel.o" "${INCLUDES[@]}" \
  "${DEFINES[@]}" -std=c++20 --expt-relaxed-constexpr \
  -gencode "arch=compute_$ARCH,code=sm_$ARCH" -Xptxas -v 2>&1 \
  | grep -E 'error|ptxas info    : (Used|Compiling)|spill' || true
[ -s "$WORK/kernel.o" ] || { echo "cuda_compile_check: the kernel did not compile" >&2; exit 1; }
echo "== binding (C++)"
"${CXX:-c++}" -c dualpose/ops/csrc/fused_attention.cpp -o "$WORK/binding.o" -fPIC -std=c++20 \
  "${INCLUDES[@]}" -I"$PY_INC" "${DEFINES[@]}" 2>&1 | grep -E 'error' || true
[ -s "$WORK/binding.o" ] || { echo "cuda_compile_check: the binding did not compile" >&2; exit 1; }
echo "cuda_compile_check: kernel and binding compile for sm_$ARCH"
