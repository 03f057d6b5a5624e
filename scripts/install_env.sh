#!/usr/bin/env bash
# Creates the Python 3.11 virtual environment from the lock file, installs Redes into it, fetches the demo
# imagery. Usage: scripts/install_env.sh VENV_DIR. Idempotent: a finished install is recorded by a stamp file.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${1:?usage: install_env.sh VENV_DIR}
LOCK="$ROOT/requirements/requirements.lock"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 "$(pyenv root 2>/dev/null)/versions/3.11.7/bin/python3.11" /usr/bin/python3.11; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q 'uv==0.13.9'
# The lock pins every package; --no-deps installs exactly that set (the lock was resolved with overrides).
"$VENV/bin/uv" pip install --python "$VENV/bin/python" --no-deps -r "$LOCK"
# TFDV 1.16.1 imports tfx_bsl.arrow.sql_util, which tfx-bsl 1.21 no longer ships.
SP=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$ROOT/requirements/sql_util_stub.py" "$SP/tfx_bsl/arrow/sql_util.py"
"$VENV/bin/uv" pip install --python "$VENV/bin/python" --no-deps -e "$ROOT"
echo "installed Redes into $VENV"
