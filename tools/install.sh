#!/usr/bin/env bash
# Create (or reuse) a virtual environment and install dualpose with exact CPU pins.
#   bash tools/install.sh [VENV_DIR]      (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -U pip
# torch first, from its exact pin (an unpinned torch pulls a multi-GB CUDA build)
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements/cpu.txt
# setuptools' "Editable installation ... folders in your working directory" note says what an
# editable install is (the package is read from this tree); expected here, so not printed
PYTHONWARNINGS="ignore:Editable installation" \
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
"$VENV/bin/python" -c "import dualpose, torch, mmengine, mmcv; print('dualpose', dualpose.__version__, '| torch', torch.__version__, '| mmengine', mmengine.__version__, '| mmcv', mmcv.__version__)"
