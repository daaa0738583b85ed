"""Graph-level optimizations on the ONNX model, before import: one module per pass, each `run(model) -> model`.

They need whole-graph facts that are cheap at the ONNX level (which values are constant, which have one use),
and they shrink what the MLIR pipeline has to schedule. After import, upstream canonicalize/cse and the fusion
of the schedule stage finish the job. `expand_functions` is not an optimization and always runs (in
swmlir.compiler): it replaces ops we have no converter for by their ONNX function bodies. Nor is
`resolve-shapes` (shapes.py, always run, after the input shapes are fixed): it folds the shape arithmetic of
dynamic-axis exports to a fixed point.
"""
from __future__ import annotations

from typing import Callable  # each pass mutates the model it is given and returns it

import onnx

from . import batchnorm_fold, constant_fold, cse, dead_code, expand_functions, shapes  # noqa: F401

PASSES: dict[str, Callable[[onnx.ModelProto], onnx.ModelProto]] = {
    "resolve-shapes": shapes.run,
    "fold-constants": constant_fold.run,
    "fold-batchnorm-into-conv": batchnorm_fold.run,
    "eliminate-common-subexpressions": cse.run,
    "eliminate-dead-code": dead_code.run,
}

DEFAULT_PIPELINE = ["fold-constants", "fold-batchnorm-into-conv", "eliminate-common-subexpressions",
                    "eliminate-dead-code"]


def optimize(model: onnx.ModelProto, passes: list[str] | None = None, timing=None) -> onnx.ModelProto:
    """Run the passes (in place) on a copy of `model`."""
    import time
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for name in passes or DEFAULT_PIPELINE:
        t0 = time.perf_counter()
        model = PASSES[name](model)
        if timing:
            timing(f"graph: {name}", time.perf_counter() - t0)
    return model
