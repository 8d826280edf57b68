#!/usr/bin/env bash
# Training on a Slurm cluster, one task per GPU:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]
# GPUS=16 GPUS_PER_NODE=8 spans two nodes. Without GPUs (GPUS_PER_NODE=0 and GPUS = the number
# of processes) the tasks train on CPUs with the gloo backend.
# Interpreter: $PYTHON, else the active virtual environment's, else the repository's
# .venv/bin/python (made by tools/install.sh), else python3.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]" >&2
    exit 2
fi
source "$(dirname "$0")/python_env.sh"  # ROOT and PYTHON
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=${4:-}
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=("${@:5}")
if [ -n "$WORK_DIR" ]; then PY_ARGS=(--work-dir "$WORK_DIR" "${PY_ARGS[@]}"); fi
TASKS_PER_NODE=$GPUS_PER_NODE
GRES=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then GRES=(--gres=gpu:"$GPUS_PER_NODE"); else TASKS_PER_NODE=$GPUS; fi

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${GRES[@]}" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$TASKS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "${PY_ARGS[@]}"
