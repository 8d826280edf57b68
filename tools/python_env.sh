# Sourced by the launchers (dist_*.sh, slurm_*.sh): ROOT, the repository, and PYTHON, the
# interpreter: $PYTHON, else the active virtual environment's, else the repository's
# .venv/bin/python (made by tools/install.sh), else python3.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then PYTHON="$VIRTUAL_ENV/bin/python"
    elif [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"
    else PYTHON=python3; fi
fi
