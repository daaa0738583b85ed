#!/usr/bin/env bash
# All tests: lit/FileCheck tests of every lowering and the pytest suite (importer vs onnxruntime, emulator,
# end to end). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n "${SWMLIR_TEST_JOBS:-2}" -q test "$@"
