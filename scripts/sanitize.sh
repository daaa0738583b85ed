#!/usr/bin/env bash
# The sanitizer job: the emulator, the runtime and the emitted C of the end-to-end models (LeNet, the MLP, conv,
# matmul, the transformer block, LeNet for SW26010-Pro's CRTS API, a matmul on 4 core groups) built with
# -fsanitize=address,undefined and, apart, with -fsanitize=thread (through $SWMLIR_EMU_CFLAGS, read by
# swmlir/runtime/build.py), run with the sanitizers' default options and matched with onnxruntime
# (swmlir/testing/sanitize.py). About a minute on 2 cores; CI runs two models of it (test/python/test_sanitize.py).
# Arguments go to `python -m swmlir.testing.sanitize`: --sanitizer asan|tsan|all, --model NAME (repeatable).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m swmlir.testing.sanitize "$@"
