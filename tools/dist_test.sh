#!/usr/bin/env bash
# Multi-process evaluation with torchrun:
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
# NNODES, NODE_RANK, MASTER_ADDR and PORT from the environment.
# Interpreter: $PYTHON, else the active virtual environment's, else the repository's
# .venv/bin/python (made by tools/install.sh), else python3.
set -euo pipefail
if [ $# -lt 3 ] || ! [[ "$3" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]" >&2
    exit 2
fi
source "$(dirname "$0")/python_env.sh"  # ROOT and PYTHON
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
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
    "$ROOT/tools/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
