#!/usr/bin/env bash
# Long mutation-fuzzer runs (swmlir/testing/fuzz.py): SWMLIR_FUZZ_SEED (default: the time) and
# SWMLIR_FUZZ_COUNT (default 5000); extra arguments go to `python -m swmlir.testing.fuzz` (--jobs, --timeout,
# --run-every, --import-every, --show, --save DIR to keep the model of every failure). Exit status 1 on any
# crash, hang, traceback or wrapped internal exception; each is printed with the seed and index that rebuild it.
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${SWMLIR_FUZZ_SEED:-$(date +%s)}"
count="${SWMLIR_FUZZ_COUNT:-5000}"
echo "fuzz: seed $seed, $count mutants"
exec .venv/bin/python -m swmlir.testing.fuzz --seed "$seed" --count "$count" "$@"
