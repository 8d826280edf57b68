#!/usr/bin/env bash
# Fresh machine to a scored model, on the bundled SYNTHETIC Human3.6M-style data:
# install, generate the data, train the default config, test it and print the per-action table.
#   bash tools/quickstart.sh [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py}
NAME=$(basename "$CONFIG" .py)
WORK_DIR=work_dirs/$NAME
start=$(date +%s)

bash tools/install.sh .venv
PY=.venv/bin/python
$PY tools/dataset_converters/make_synthetic_h36m.py
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
# the epoch chosen on the held-out training recordings (validation), else the last one
CKPT=$(ls -t "$WORK_DIR"/best_*.pth 2>/dev/null | head -1 || true)
if [ -z "$CKPT" ]; then   # last_checkpoint names a path relative to the work dir
    CKPT=$(cat "$WORK_DIR/last_checkpoint")
    case "$CKPT" in /*) ;; *) CKPT="$WORK_DIR/$CKPT" ;; esac
fi
$PY tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" --dump "$WORK_DIR/predictions.pkl"
echo "quickstart finished in $(( $(date +%s) - start )) s; per-action table above, logs in $WORK_DIR"
