#!/usr/bin/env bash
# The main job: compile the bundled LeNet example for SW26010, run the emitted C on the host emulator,
# and check the result against onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/python examples/make_examples.py out
.venv/bin/swmlir compile out/lenet.onnx --target sw26010 -o out/lenet-sw26010
.venv/bin/swmlir run out/lenet.onnx --target sw26010 --check
