#!/usr/bin/env bash
# Multi-process training with torchrun:
#   bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# Several nodes: NNODES, NODE_RANK, MASTER_ADDR and PORT from the environment.
# Without CUDA, processes train on the CPU with the gloo backend.
# Interpreter: $PYTHON, else the active virtual environment's, else the repository's
# .venv/bin/python (made by tools/install.sh), else python3.
set -euo pipefail
if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]" >&2
    echo "  e.g. bash tools/dist_train.sh configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py 2" >&2
    exit 2
fi
source "$(dirname "$0")/python_env.sh"  # ROOT and PYTHON
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
