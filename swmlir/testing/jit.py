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
        run_to_llvm(lowered, LOWER_TO_LLVM)
        leftover = ops_not_llvm(lowered)
        if leftover:  # translating these would crash the process: refuse in Python
            raise RuntimeError(f"ops left after lowering to LLVM: {leftover}")
    return lowered, ins, outs


def run_to_llvm(module: ir.Module, pipeline: str) -> None:
    """Run `pipeline` (a comma-separated pass list that contains finalize-memref-to-llvm) on `module`, with the
    memrefs of i1 widened to i8 (widen_i1_memrefs) just before that pass."""
    from ..pass_pipeline import split_top_level
    steps = split_top_level(pipeline)
    cut = steps.index("finalize-memref-to-llvm")
    if cut:
        PassManager.parse(f"builtin.module({','.join(steps[:cut])})").run(module.operation)
    with module.context, ir.Location.unknown():
        if widen_i1_memrefs(module):
            module.operation.verify()
    PassManager.parse(f"builtin.module({','.join(steps[cut:])})").run(module.operation)


def _widened(t: ir.Type) -> ir.Type | None:
    """memref<...xi1> -> memref<...xi8> (shape, layout and memory space kept); None for any other type."""
    if isinstance(t, ir.MemRefType) and isinstance(t.element_type, ir.IntegerType) \
            and ir.IntegerType(t.element_type).width == 1:
        return ir.MemRefType.get(t.shape, ir.IntegerType.get_signless(8), t.layout, t.memory_space)
    return None


def _widened_function_type(ft: ir.FunctionType) -> ir.FunctionType:
    def each(ts):
        return [_widened(t) or t for t in ts]
    return ir.FunctionType.get(each(ft.inputs), each(ft.results))


def _widened_bools(attr: ir.Attribute, t: ir.MemRefType) -> ir.Attribute:
    """A memref.global's initial value of i1 as i8 (0 / 1 a byte)."""
    tensor_t = ir.RankedTensorType.get(t.shape, ir.IntegerType.get_signless(8))
    dense = ir.DenseIntElementsAttr(attr)
    if dense.is_splat:
        return ir.DenseElementsAttr.get_splat(tensor_t, ir.IntegerAttr.get(tensor_t.element_type,
                                                                           int(bool(dense.get_splat_value()))))
    values = np.array([bool(dense[i]) for i in range(len(dense))], np.int8).reshape(t.shape)
    return ir.DenseElementsAttr.get(values, type=tensor_t)


def retype_values(op, new_type) -> int:
    """The results of `op` and the arguments of its regions' blocks take `new_type(type)` where that is not None
    (a walk over a module retypes every value so); returns how many changed."""
    values = list(op.results) + [a for region in op.regions for block in region.blocks for a in block.arguments]
    changed = 0
    for v in values:
        t = new_type(v.type)
        if t is not None:
            v.set_type(t)
            changed += 1
    return changed


def widen_i1_memrefs(module: ir.Module) -> int:
    """Every memref of i1 becomes a memref of i8 (one byte per boolean, numpy's bool layout): loads truncate to i1,
    stores extend from it; values, block arguments, function types and globals follow. Why: upstream's
    finalize-memref-to-llvm of MLIR 22 asserts (`integralElementType.getWidth() >= 8`, aborting the process) on
    a load or store of i1, which any model with a boolean tensor (a Where's condition, an Equal) has once
    bufferized. Returns how many values changed type."""
    from mlir.dialects import arith
    i1, i8 = ir.IntegerType.get_signless(1), ir.IntegerType.get_signless(8)
    changed = 0
    loads, stores, funcs, globals_ = [], [], [], []

    def visit(op):
        nonlocal changed
        changed += retype_values(op, _widened)
        if op.name == "memref.load" and op.results[0].type == i1:
            loads.append(op)
        elif op.name == "memref.store" and op.operands[0].type == i1:
            stores.append(op)
        elif op.name in ("func.func", "llvm.func") and "function_type" in op.attributes:
            funcs.append(op)
        elif op.name == "memref.global":
            globals_.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    for op in loads:
        r = op.results[0]
        r.set_type(i8)
        narrow = arith.TruncIOp(i1, r, ip=ir.InsertionPoint.after(op), loc=op.location)
        r.replace_all_uses_except(narrow.result, narrow.operation)
    for op in stores:
        op.operands[0] = arith.ExtUIOp(i8, op.operands[0], ip=ir.InsertionPoint(op), loc=op.location).result
    for op in funcs:
        attr = op.attributes["function_type"]
        if isinstance(ir.TypeAttr(attr).value, ir.FunctionType):
            ft = ir.FunctionType(ir.TypeAttr(attr).value)
            new = _widened_function_type(ft)
            if new != ft:
                op.attributes["function_type"] = ir.TypeAttr.get(new)
    for op in globals_:
        t = ir.MemRefType(ir.TypeAttr(op.attributes["type"]).value)
        wide = _widened(t)
        if wide is None:
            continue
        op.attributes["type"] = ir.TypeAttr.get(wide)
        if "initial_value" in op.attributes and not isinstance(op.attributes["initial_value"], ir.UnitAttr):
            op.attributes["initial_value"] = _widened_bools(op.attributes["initial_value"], t)
        changed += 1
    return changed


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
