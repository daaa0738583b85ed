"""Reference executor for the importer alone: upstream passes to LLVM, then MLIR's ExecutionEngine.

This checks what `import_onnx` builds without the Sunway pipeline (tiling, DMA, emitted C): bufferize with
function boundaries, turn results into out-params, lower linalg to loops and everything to LLVM, JIT, call.
"""
from __future__ import annotations

import ctypes
import os
from typing import Sequence

import numpy as np
from mlir import ir
from mlir.passmanager import PassManager

from ..frontend.onnx.dtypes import mlir_to_numpy

LOWER_TO_LLVM = ",".join([
    "one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}",
    "buffer-results-to-out-params{modify-public-functions}",
    "buffer-deallocation-pipeline",
    "convert-bufferization-to-memref",
    "convert-linalg-to-loops",
    "fold-memref-alias-ops",
    "expand-strided-metadata",  # before lower-affine, or affine.apply ops remain
    "lower-affine",
    "convert-scf-to-cf",
    "finalize-memref-to-llvm",
    "convert-func-to-llvm",
    "convert-to-llvm",
    "reconcile-unrealized-casts",
])


def _runtime_libs() -> list[str]:
    import mlir
    lib = os.path.join(os.path.dirname(mlir.__path__[0]), "mlir", "lib")
    return [os.path.join(lib, "libmlir_c_runner_utils.so")]


def _find_main(module: ir.Module) -> ir.Operation:
    for op in module.body.operations:
        if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == "main":
            return op.operation
    raise ValueError("the module has no func.func @main")


def lower_to_llvm(module: ir.Module) -> tuple[ir.Module, list[ir.RankedTensorType], list[ir.RankedTensorType]]:
    """A lowered copy of `module` (the original is untouched) and @main's argument and result types."""
    with module.context:
        fn_type = ir.FunctionType(ir.TypeAttr(_find_main(module).attributes["function_type"]).value)
        ins = [ir.RankedTensorType(t) for t in fn_type.inputs]
        outs = [ir.RankedTensorType(t) for t in fn_type.results]
        with ir.Location.unknown():
            lowered = ir.Module.create()
        for op in module.body.operations:  # a deep copy; resource blobs live in the context and are shared
            op.operation.clone(ip=ir.InsertionPoint(lowered.body))
        _find_main(lowered).attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
        PassManager.parse(f"builtin.module({LOWER_TO_LLVM})").run(lowered.operation)
        leftover = ops_not_llvm(lowered)
        if leftover:  # translating these would crash the process: refuse in Python
            raise RuntimeError(f"ops left after lowering to LLVM: {leftover}")
    return lowered, ins, outs


def ops_not_llvm(module: ir.Module) -> list[str]:
    """Names of the ops of `module` that are not LLVM dialect (the execution engine would crash on them)."""
    left = set()

    def visit(op):
        if op.name != "builtin.module" and not op.name.startswith("llvm."):
            left.add(op.name)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return sorted(left)


def run_linalg(module: ir.Module, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run @main of an imported (tensor-level) module on numpy inputs; returns its results."""
    from mlir.execution_engine import ExecutionEngine
    from mlir.runtime import get_ranked_memref_descriptor

    lowered, in_types, out_types = lower_to_llvm(module)
    if len(inputs) != len(in_types):
        raise ValueError(f"@main takes {len(in_types)} inputs, got {len(inputs)}")
    with module.context:
        args = []
        for i, (x, t) in enumerate(zip(inputs, in_types)):
            dtype = mlir_to_numpy(t.element_type)
            x = np.asarray(x)
            if not (x.dtype.kind == "u" and dtype.kind == "i" and x.dtype.itemsize == dtype.itemsize):
                x = x.astype(dtype, copy=False)  # unsigned data passes as is: MLIR integers are signless
            x = np.require(x, requirements="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
            if tuple(x.shape) != tuple(t.shape):
                raise ValueError(f"input #{i} has shape {x.shape}, @main expects {tuple(t.shape)}")
            args.append(x)
        outs = [np.zeros(tuple(t.shape), dtype=mlir_to_numpy(t.element_type)) for t in out_types]
        engine = ExecutionEngine(lowered, opt_level=2, shared_libs=_runtime_libs())
        keep = [get_ranked_memref_descriptor(a) for a in args + outs]
        engine.invoke("main", *[ctypes.pointer(ctypes.pointer(d)) for d in keep])
    return outs
