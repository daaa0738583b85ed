"""The emit stage's file writers: `translate.py` (the EmitC modules to C with mlir-translate --mlir-to-cpp) and
`files.py` (model.h and model_kernels.h from what the IR says, Makefile, CMakeLists.txt, README, model.io.json,
the runtime copy). The IR is built by passes (sunway-emitc-kernel-entries, sunway-host-to-emitc, ...); the memory
plan and the weights layout are analyses in swmlir/analysis/."""
