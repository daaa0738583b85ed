#!/usr/bin/env bash
# Create .venv (CPython 3.11) with swmlir installed in editable mode and the test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_mpi.sh   # Open MPI (swmlir run --ranks): apt-get as root when missing, else a note
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "setup: CPython 3.11 is required (the MLIR wheels are cp311)" >&2; exit 1; }
stamp=.venv/.swmlir-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
echo "$want" > "$stamp"
