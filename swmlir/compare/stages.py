"""The stages compare runs, each writing every kept value into a Store, each in a child process of its own.

  onnx-graph  the model after swmlir's ONNX graph passes (BatchNorm folded, constants folded, CSE), on onnxruntime
  import      the imported IR (linalg on tensors) lowered with upstream passes and run on LLVM (ExecutionEngine)
  graph       the same after the graph stage (canonicalize, cse, unit dims folded)
  schedule    the scheduled IR (scf.forall over the CPEs, LDM tiles, packed weights), bufferized, on LLVM
  bufferize   the bufferized IR (memrefs, LDM = memory space 2), on LLVM
  c           the emitted C (host and 64 CPE kernels) built against the emulator and run
  fused       the same for the model as it is (no node output kept): kernels fused as `swmlir compile` fuses
              them, but only the model's outputs can be compared (the debug build keeps every value, so a
              value read twice is not fused into its reader there: a bug of fused kernels shows here only)

Why a child per stage: an MLIR assertion or a crash in a JIT-compiled kernel aborts the process it happens in; the
comparison survives it and reports the stage as failed with the crash's last line. The child is forked, so it
inherits the parent's converters and passes as they are (a test that swaps one in sees its effect), and its
memory (the compiler's IR, LLVM's module, the JIT's buffers) is gone when it ends.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import traceback

import numpy as np

from ..errors import CompileError
from .store import Store

STAGES = ("onnx-graph", "import", "graph", "schedule", "bufferize", "c", "fused")
DEFAULT_STAGES = ("onnx-graph", "import", "schedule", "c", "fused")
ALIASES = {"linalg": "import", "tiled": "schedule", "memref": "bufferize", "emit": "c"}
NOT_RUNNABLE = {"sunway": "its IR has DMA and LDM ops that only the emitted C runs",
                "split": "its IR has DMA and LDM ops that only the emitted C runs"}


def parse_stages(text) -> list[str]:
    """`import,schedule,c` (or a list) -> canonical stage names, in pipeline order; one-line CompileError."""
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    if not items:
        raise CompileError(f"no stages given; stages: {', '.join(STAGES)}", stage="compare")
    out = []
    for s in items:
        name = ALIASES.get(s, s)
        if name in NOT_RUNNABLE:
            raise CompileError(f"stage '{s}' cannot be run by itself: {NOT_RUNNABLE[name]} (use stage c)",
                               stage="compare")
        if name not in STAGES:
            raise CompileError(f"unknown stage '{s}'; stages: {', '.join(STAGES)}", stage="compare")
        if name not in out:
            out.append(name)
    return sorted(out, key=STAGES.index)


# ---------------------------------------------------------------------------------------------- isolation


def one_line(e: BaseException, limit: int = 400) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = "; ".join(lines) if lines else type(e).__name__
    return text if len(text) <= limit else text[:limit] + "..."


STATUS = "status.json"
LOG = "log.txt"


def _child(fn, folder: str) -> None:
    import faulthandler
    import gc
    # Objects inherited from the parent are never collected here: destroying an MLIR context (or an onnxruntime
    # session) joins its thread pool, whose threads were not forked, and would wait forever.
    gc.freeze()
    log = os.open(os.path.join(folder, LOG), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if faulthandler.is_enabled():   # a crash's Python traceback into the log too, not the parent's terminal
        faulthandler.enable(file=2)
    status = {"ok": True}
    try:
        fn()
    except BaseException as e:  # reported, never raised: the parent reads the status
        if not isinstance(e, CompileError):
            traceback.print_exc()
        status = {"ok": False, "error": one_line(e) if isinstance(e, CompileError)
                  else f"{type(e).__name__}: {one_line(e)}"}
    with open(os.path.join(folder, STATUS), "w") as f:
        json.dump(status, f)
    sys.stdout.flush()
    sys.stderr.flush()


def _crash_line(folder: str) -> str:
    """The last informative line a crashed child printed (an assertion, an LLVM ERROR)."""
    try:
        with open(os.path.join(folder, LOG), errors="replace") as f:
            lines = [ln.strip() for ln in f.read()[-20000:].splitlines() if ln.strip()]
    except OSError:
        return ""
    for ln in reversed(lines):
        if any(k in ln for k in ("Assertion", "LLVM ERROR", "error:", "Error")):
            return ln[:300]
    return lines[-1][:300] if lines else ""


def isolated(fn, folder: str, timeout: float | None = None) -> str | None:
    """Run fn() in a forked child whose output goes to folder/log.txt; None when it succeeded, else why not."""
    return run_parallel([(None, fn, folder)], 1, timeout, lambda key, err, seconds: None)[None]


def run_parallel(jobs, width: int, timeout: float | None, done) -> dict:
    """Run each (key, fn, folder) of `jobs` in a forked child, at most `width` at a time, in order; done(key,
    error or None, seconds) is called in this process as each ends (comparing a stage overlaps the next run).
    Returns {key: error or None}. Without fork (not Linux) they run here, one by one, crashes and all."""
    import multiprocessing as mp
    import time
    from multiprocessing.connection import wait
    results: dict = {}
    if "fork" not in mp.get_all_start_methods():
        for key, fn, _ in jobs:
            t0 = time.monotonic()
            try:
                fn()
                results[key] = None
            except Exception as e:
                results[key] = one_line(e)
            done(key, results[key], time.monotonic() - t0)
        return results
    import gc
    pending, running = list(jobs), {}
    while pending or running:
        while pending and len(running) < max(1, width):
            key, fn, folder = pending.pop(0)
            gc.collect()   # garbage with threads of its own (an MLIR context) goes here, where its threads are
            p = mp.get_context("fork").Process(target=_child, args=(fn, folder), daemon=True)
            p.start()
            running[p.sentinel] = (key, p, folder, time.monotonic())
        left = None if timeout is None else \
            max(0.0, min(t0 + timeout for _, _, _, t0 in running.values()) - time.monotonic())
        ready = wait(list(running), left)
        now = time.monotonic()
        for sentinel in list(running):
            key, p, folder, t0 = running[sentinel]
            if sentinel in ready:
                p.join()
                err = _status(p, folder)
            elif timeout is not None and now - t0 >= timeout:
                p.kill()
                p.join()
                err = f"timed out after {timeout:g} s"
            else:
                continue
            del running[sentinel]
            results[key] = err
            done(key, err, now - t0)
    return results


def _status(p, folder: str) -> str | None:
    try:
        with open(os.path.join(folder, STATUS)) as f:
            status = json.load(f)
    except (OSError, ValueError):
        code = p.exitcode
        what = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exited with status {code}"
        last = _crash_line(folder)
        return f"the stage crashed ({what})" + (f": {last}" if last else "")
    return None if status.get("ok") else status.get("error", "failed")


# ---------------------------------------------------------------------------------------------- onnxruntime


def run_onnxruntime(model, feeds: dict, names: list[str], store: Store) -> None:
    """onnxruntime's value of each of `names` (graph outputs of `model` or not) into `store`: one session, one
    run (a graph output is kept to the end of a run whether it is fetched or not, so groups would not save
    memory), each value written as soon as it is fetched."""
    import onnxruntime as ort

    from .model import with_all_outputs
    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    try:
        sess = ort.InferenceSession(with_all_outputs(model, names).SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        values = sess.run(names, feeds)
    except Exception as e:
        raise CompileError(f"onnxruntime cannot run the model: {one_line(e, 300)}", stage="compare") from None
    del sess
    for i, n in enumerate(names):
        store.put(n, np.asarray(values[i]))
        values[i] = None
    store.save()


# ---------------------------------------------------------------------------------------------- the stages


def run_stage(stage: str, debug, feeds: dict, store: Store, *, target, schedule: str = "model",
              input_shapes=None, tuning_db=None) -> None:
    """Compute every graph output of the debug model at `stage` into `store` (in the child process)."""
    if stage == "onnx-graph":
        run_onnxruntime(debug.proto, feeds, list(debug.outputs), store)
    elif stage in ("c", "fused"):
        _run_emulator(debug.proto if stage == "c" else debug.original, feeds, store, target=target,
                      schedule=schedule, input_shapes=input_shapes, tuning_db=tuning_db)
    else:
        _run_jit(stage, debug, feeds, store, target=target, schedule=schedule, input_shapes=input_shapes,
                 tuning_db=tuning_db)


def _run_emulator(proto, feeds, store: Store, *, target, schedule, input_shapes, tuning_db,
                  same_kernels=None) -> None:
    """The emitted C of `proto` on the emulator; its kernels (name, group) into the store's folder. same_kernels:
    the build must have exactly these kernels (else a CompileError saying how they differ)."""
    from .. import compiler
    from .. import io as swio
    from ..runtime import run_emulated
    from . import kernels
    m = compiler.compile(proto, target, input_shapes=input_shapes, schedule=schedule, tuning_db=tuning_db)
    built = kernels.of_build(m)
    kernels.save(store.folder, built)
    if same_kernels is not None and not kernels.same_kernels(same_kernels, built):
        extra = [g for _, g in built if g not in {g for _, g in same_kernels}]
        gone = [g for _, g in same_kernels if g not in {g for _, g in built}]
        raise CompileError(f"keeping every kernel's result changed the kernels ({len(same_kernels)} -> {len(built)};"
                           f" groups gone: {', '.join(gone[:4]) or '-'}; new: {', '.join(extra[:4]) or '-'})",
                           stage="compare")
    with m:
        exe = m.build()
        ins = swio.specs(m.info.inputs, "in")
        outs = swio.specs(m.info.outputs, "out")
        in_files = swio.write_inputs(ins, _arrays(m.info, feeds), store.folder)
        try:
            run_emulated(exe, os.path.join(os.path.dirname(exe), "model.weights.bin"), in_files,
                         [os.path.join(store.folder, s.file) for s in outs], timeout=3600)
        except RuntimeError as e:
            raise CompileError(one_line(e, 300), stage="run") from None
    for s in outs:
        store.add(s.name, s.dtype.newbyteorder("<"), s.shape, s.file)
    store.save()


def kernel_results(debug, normal_kernels) -> list[str]:
    """The values of the user's model that are the results of the normal build's kernels, its outputs excepted."""
    from . import kernels
    outputs = [o.name for o in debug.original.graph.output]
    found = kernels.attribute(debug.proto.graph, normal_kernels, outputs)
    produced = {o for n in debug.original.graph.node for o in n.output if o}
    return [v for k in found for v in k.results if v in produced and v not in outputs]


def run_kernel_results(debug, feeds: dict, store: Store, normal_kernels, *, target, schedule: str = "model",
                       input_shapes=None, tuning_db=None) -> None:
    """Stage fused again, with the result of every kernel of the normal build (`normal_kernels`, its (name,
    group) list) made a graph output: the same kernels (checked), each one's result written into `store`."""
    from .model import with_all_outputs
    proto = with_all_outputs(debug.original, kernel_results(debug, normal_kernels))
    _run_emulator(proto, feeds, store, target=target, schedule=schedule, input_shapes=input_shapes,
                  tuning_db=tuning_db, same_kernels=normal_kernels)


def _jit_pipelines(stage: str) -> tuple[str, str]:
    """(passes to memrefs with out-params, passes from there to LLVM) for `stage`'s IR."""
    from ..pass_pipeline import split_top_level
    from ..testing.jit import LOWER_TO_LLVM
    steps = split_top_level(LOWER_TO_LLVM)
    cut = steps.index("buffer-deallocation-pipeline")
    tail = steps[cut:]
    # math ops without an LLVM intrinsic (erf, a GELU's) call libm, which the JIT finds in this process
    tail.insert(tail.index("finalize-memref-to-llvm"), "convert-math-to-libm")
    # foralls on memrefs become scf.for loops (scf-forall-to-for asserts on foralls with tensor outputs)
    tail = ",".join(["func.func(scf-forall-to-for)", *tail])
    return ("" if stage == "bufferize" else ",".join(steps[:cut])), tail


MIN_ARGUMENT_ELEMENTS = 256


def weights_as_arguments(main, resources) -> list[np.ndarray]:
    """Constants of `resources` (the importer's dense_resource blobs, by key) with at least
    MIN_ARGUMENT_ELEMENTS elements become arguments of @main, appended (arith.constant on tensors, or
    memref.get_global once bufferized); returns their arrays, in argument order.

    Why: LLVM would otherwise hold the weights as constant data several times over while it compiles (ResNet-50:
    100 MB of weights took 5 GB and most of a minute), and they are already in memory as arrays."""
    from mlir import ir

    block = main.regions[0].blocks[0]
    args: dict = {}
    arrays: list[np.ndarray] = []
    found = []

    def visit(op):
        text = str(op.attributes["value"]) if op.name == "arith.constant" else ""   # (not downcast: by text)
        if text.startswith("dense_resource<"):
            key = text[len("dense_resource<"):].split(">", 1)[0]
            if key in resources and np.asarray(resources[key]).size >= MIN_ARGUMENT_ELEMENTS:
                found.append((op, key))
        return ir.WalkResult.ADVANCE

    globals_ = {}
    if main.parent is not None:   # bufferized: memref.get_global of a memref.global holding the resource
        for g in main.parent.regions[0].blocks[0].operations:
            g = g.operation
            if g.name == "memref.global" and "initial_value" in g.attributes:
                text = str(g.attributes["initial_value"])
                if text.startswith("dense_resource<"):
                    globals_[ir.StringAttr(g.attributes["sym_name"]).value] = (
                        g, text[len("dense_resource<"):].split(">", 1)[0])

    def visit_global(op):
        if op.name == "memref.get_global":
            entry = globals_.get(ir.FlatSymbolRefAttr(op.attributes["name"]).value)
            if entry and entry[1] in resources and np.asarray(resources[entry[1]]).size >= MIN_ARGUMENT_ELEMENTS:
                found.append((op, entry[1]))
        return ir.WalkResult.ADVANCE

    main.walk(visit)
    if globals_:
        main.walk(visit_global)
    for op, key in found:
        if key not in args:
            args[key] = block.add_argument(op.results[0].type, op.location)
            arrays.append(np.ascontiguousarray(resources[key]))
        op.results[0].replace_all_uses_with(args[key])
        op.erase()
    for g, key in globals_.values():
        if key in args:
            g.erase()   # every reader is an argument now
    if found:
        fn_type = ir.FunctionType(ir.TypeAttr(main.attributes["function_type"]).value)
        main.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(
            [a.type for a in block.arguments], fn_type.results))
    return arrays


def no_alias_arguments(main) -> None:
    """Every argument of @main marked llvm.noalias (each is an array of its own: an input, a weight, an
    output), so that LLVM can keep a reduction's accumulator in a register instead of storing it every step."""
    from mlir import ir
    n = len(main.regions[0].blocks[0].arguments)
    attr = ir.DictAttr.get({"llvm.noalias": ir.UnitAttr.get()})
    main.attributes["arg_attrs"] = ir.ArrayAttr.get([attr] * n)


def drop_memory_spaces(module) -> int:
    """LDM tiles (memory space 2) become plain memrefs: on LLVM they are heap buffers like the rest (the
    upstream lowering would free an addrspace(2) pointer through a call that takes address space 0)."""
    from mlir import ir

    from ..testing.jit import retype_values

    count = 0

    def plain(t):
        if isinstance(t, ir.MemRefType) and t.memory_space is not None:
            return ir.MemRefType.get(t.shape, t.element_type, t.layout, None)
        return None

    def visit(op):
        nonlocal count
        count += retype_values(op, plain)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return count


def _run_jit(stage, debug, feeds, store: Store, *, target, schedule, input_shapes, tuning_db) -> None:
    import ctypes

    from mlir import ir
    from mlir.execution_engine import ExecutionEngine
    from mlir.passmanager import PassManager
    from mlir.runtime import get_ranked_memref_descriptor

    from .. import compiler
    from ..testing.jit import _find_main, _runtime_libs, ops_not_llvm, run_to_llvm
    ctx, module, info = compiler.lower_to_stage(debug.proto, stage, target=target, input_shapes=input_shapes,
                                                schedule=schedule, tuning_db=tuning_db)
    before, after = _jit_pipelines(stage)
    with ctx, ir.Location.unknown():
        main = _find_main(module)
        main.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
        weights = weights_as_arguments(main, info.weights)
        try:
            if before:
                PassManager.parse(f"builtin.module({before})").run(module.operation)
            drop_memory_spaces(module)
            no_alias_arguments(main)
            module.operation.verify()
            run_to_llvm(module, after)
            left = ops_not_llvm(module)
            if left:   # translating them would fail with nothing said: say which
                raise CompileError(f"lowering the {stage} IR to LLVM left ops {', '.join(left)}", stage="compare")
        except ir.MLIRError as e:
            raise CompileError(f"lowering the {stage} IR to LLVM failed: {one_line(e, 300)}",
                               stage="compare") from None
        args = [np.require(a, requirements="C") for a in _arrays(info, feeds)]
        outs = [store.create(t.name, t.dtype, tuple(t.shape)) for t in info.outputs]
        engine = ExecutionEngine(module, opt_level=2, shared_libs=_runtime_libs())
        # @main's arguments: inputs, weights, outputs (buffer-results-to-out-params after the weights); at
        # stage bufferize the out-params were there before the weights
        order = args + outs + weights if stage == "bufferize" else args + weights + outs
        keep = [get_ranked_memref_descriptor(a) for a in order]
        engine.invoke("main", *[ctypes.pointer(ctypes.pointer(d)) for d in keep])
    for t, a in zip(info.outputs, outs):
        store.flush(t.name, a)
    store.save()


def _arrays(info, feeds: dict) -> list[np.ndarray]:
    """The (already checked) feeds in the order of the compiled model's inputs, in its element types."""
    return [np.asarray(feeds[t.name]).astype(t.dtype, copy=False) for t in info.inputs]
