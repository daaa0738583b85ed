#!/usr/bin/env bash
# All nine light-zoo architectures (random weights) through the full path, matched with onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SWMLIR_ZOO=all exec .venv/bin/python -m pytest -n "${SWMLIR_TEST_JOBS:-2}" -v test/python/test_zoo.py "$@"
