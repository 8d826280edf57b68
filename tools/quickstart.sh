#!/usr/bin/env bash
# Fresh machine to a scored model, on the bundled SYNTHETIC Human3.6M-style data, with the
# paper's two stages: install, generate the data, CRL pre-training on the 2D of the training
# subjects, fine-tuning from the pre-trained student, test, and the per-action table.
#   bash tools/quickstart.sh [PRETRAIN_CONFIG FINETUNE_CONFIG]
# (10 min 39 s measured on 2 CPU cores from a fresh clone, install included; README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PRETRAIN=${1:-configs/dualpose/synthetic/dualpose-tiny-crl-pretrain_synthetic-27f.py}
FINETUNE=${2:-configs/dualpose/synthetic/dualpose-tiny-crl-finetune_synthetic-27f.py}
PRE_DIR=work_dirs/$(basename "$PRETRAIN" .py)
WORK_DIR=work_dirs/$(basename "$FINETUNE" .py)
start=$(date +%s)

# the checkpoint a work dir's last_checkpoint names (a path relative to the work dir)
last_ckpt() {
    local ckpt
    ckpt=$(cat "$1/last_checkpoint")
    case "$ckpt" in /*) echo "$ckpt" ;; *) echo "$1/$ckpt" ;; esac
}

bash tools/install.sh .venv
PY=.venv/bin/python
$PY tools/dataset_converters/make_synthetic_h36m.py
echo "== stage 1: CRL pre-training on 2D only ($PRETRAIN)"
$PY tools/train.py "$PRETRAIN" --work-dir "$PRE_DIR"
PRE_CKPT=$(last_ckpt "$PRE_DIR")
echo "== stage 2: fine-tuning from $PRE_CKPT ($FINETUNE)"
$PY tools/train.py "$FINETUNE" --work-dir "$WORK_DIR" \
    --cfg-options "model.backbone.init_cfg.checkpoint=$PRE_CKPT"
# the epoch chosen on the held-out training recordings (validation), else the last one
CKPT=$(ls -t "$WORK_DIR"/best_*.pth 2>/dev/null | head -1 || true)
[ -n "$CKPT" ] || CKPT=$(last_ckpt "$WORK_DIR")
echo "== test: $CKPT"
$PY tools/test.py "$FINETUNE" "$CKPT" --work-dir "$WORK_DIR" --dump "$WORK_DIR/predictions.pkl"
echo "quickstart finished in $(( $(date +%s) - start )) s; per-action table above, logs in $PRE_DIR and $WORK_DIR"
