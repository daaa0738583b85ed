"""swmlir compare: every node output of a model checked against onnxruntime at every stage, to find where
results diverge.

    import swmlir
    report = swmlir.compare("model.onnx", {"x": x}, stages="import,schedule,c")
    print(report.table())                  # per node: op, name, shape, max |diff|, cosine, status per stage
    report.first_divergence()              # (Row, stage) or None
    report.ok, report.to_json(), Report.from_json(text)

onnxruntime computes every value of the user's model; swmlir compiles a debug build of it in which every node
output of the optimized graph is a graph output (model.py), runs it at each stage (stages.py), and each value is
compared with onnxruntime's as soon as a stage has written it (metrics.py), one value in memory at a time.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np

from ..errors import CompileError
from .metrics import compare as compare_values, max_abs
from .model import debug_model
from .report import (DEAD, DIVERGE, EXCEPTED, FAILED, FUSED, INHERITED, MATCH, MISSING, NOT_KEPT,  # noqa: F401
                     Cell, Report, Row)
from . import kernels
from .stages import (DEFAULT_STAGES, STAGES, isolated, kernel_results, parse_stages, run_kernel_results,
                     run_onnxruntime, run_parallel, run_stage)
from .store import Store

__all__ = ["compare", "Report", "Row", "Cell", "STAGES", "DEFAULT_STAGES"]


def compare(model, inputs=None, *, stages=DEFAULT_STAGES, target: str = "sw26010", rtol: float = 1e-4,
            atol: float = 1e-5, excepts=(), input_shapes: dict | None = None, schedule: str = "model",
            base_dir=None, seed: int = 0, jobs: int = 1, timeout: float | None = 3600, tuning_db=None,
            progress=None) -> Report:
    """Compare every node output of `model` (a path or a ModelProto) with onnxruntime at each of `stages`.

    inputs: a dict by graph input name, a list in graph order, or None for seeded random inputs. excepts: node
    names or value names whose differences are shown but never count as a divergence. rtol/atol: as
    `swmlir run --check` (atol in units of max(1, max |ref|) of each value). jobs: stages run at once (each in
    a child process: memory adds up). timeout: seconds per stage. tuning_db: tiles from it (swmlir.compile).
    progress(text): told of each step.
    Raises CompileError when the model cannot be read, fixed in shape, or run by onnxruntime; a stage that
    fails is reported in the Report (stage_errors), not raised."""
    from .. import compiler
    from ..targets import get_target
    stage_list = parse_stages(stages)
    tgt = get_target(target)
    if isinstance(excepts, str):
        excepts = [e.strip() for e in excepts.split(",") if e.strip()]
    say = progress or (lambda text: None)
    proto = compiler._load(model, base_dir)
    feeds, source = _feeds(proto, inputs, seed)
    if input_shapes is None and inputs is not None:
        input_shapes = {k: list(np.shape(v)) for k, v in feeds.items()}
    optimized = compiler._graph_stage(proto, True, None, input_shapes)
    if feeds is None:
        feeds = _random_feeds(optimized, seed)
    debug = debug_model(proto, optimized)
    rows = [Row(i, v.node, v.op, v.name, kind=v.kind, fused_into=v.fused_into, where=v.where,
                excepted=bool({v.node, v.name} & set(excepts))) for i, v in enumerate(debug.values)]
    unknown = sorted(set(excepts) - {r.node for r in rows} - {r.value for r in rows})
    if unknown:
        raise CompileError(f"--excepts names no node or value of the model: {', '.join(unknown)}", stage="compare")
    name = model if isinstance(model, (str, os.PathLike)) else (proto.graph.name or "model")
    report = Report(os.fspath(name), tgt.name, stage_list, rtol, atol, rows, inputs=source)
    compared = [r for r in rows if r.compared]
    inputs_of = {v.name: v.inputs for v in debug.values}
    work = tempfile.mkdtemp(prefix="swmlir-compare-")
    try:
        ref = Store(_folder(work, "reference"))
        t0 = time.perf_counter()
        say("onnxruntime: every value of the model")
        err = isolated(lambda: run_onnxruntime(proto, feeds, [r.value for r in compared], ref),
                       ref.folder, timeout)
        if err:
            msg = err.removeprefix("[compare]: ")
            raise CompileError(msg if msg != err else f"the onnxruntime reference failed: {err}", stage="compare")
        ref = Store(ref.folder)
        report.stage_seconds["onnxruntime"] = time.perf_counter() - t0
        ref_max: dict[str, float] = {}

        def job(stage):
            store = Store(_folder(work, stage))
            return stage, lambda: run_stage(stage, debug, feeds, store, target=tgt, schedule=schedule,
                                            input_shapes=input_shapes, tuning_db=tuning_db), store.folder

        built: dict[str, list] = {}     # stage c / fused -> its kernels (name, group)
        model_outputs = [o.name for o in proto.graph.output]

        def done(stage, err, seconds):
            folder = os.path.join(work, stage)
            report.stage_seconds[stage] = seconds
            if err:
                report.stage_errors[stage] = err
                for r in compared:
                    r.cells[stage] = Cell(FAILED)
            else:
                ks = kernels.load(folder)
                found = kernels.attribute(debug.proto.graph, ks, debug.outputs if stage == "c" else model_outputs) \
                    if ks is not None else []
                if ks is not None:
                    built[stage] = ks
                _compare_stage(stage, compared, [Store(folder)], ref, ref_max, inputs_of, rtol, atol, found)
            if stage != "fused" or err:
                shutil.rmtree(folder, ignore_errors=True)   # this stage's values are no longer needed
            say(f"stage {stage}: {'failed: ' + err if err else 'compared'} ({seconds:.1f} s)")

        say(f"stages {', '.join(stage_list)}: running, {max(1, jobs)} at a time")
        run_parallel([job(s) for s in stage_list], jobs, timeout, done)
        report.stage_errors = {s: report.stage_errors[s] for s in stage_list if s in report.stage_errors}
        report.stage_seconds = {s: report.stage_seconds[s] for s in ["onnxruntime", *stage_list]
                                if s in report.stage_seconds}
        if "fused" in built and _only_fused_diverges(compared):
            folder = _folder(work, "fused-kernels")
            if kernel_results(debug, built["fused"]):
                say("stage fused diverges alone: the normal build again, the result of each of its kernels kept")
                t0 = time.perf_counter()
                err = isolated(lambda: run_kernel_results(debug, feeds, Store(folder), built["fused"], target=tgt,
                                                          schedule=schedule, input_shapes=input_shapes,
                                                          tuning_db=tuning_db), folder, timeout)
                report.stage_seconds["fused (kernel results)"] = time.perf_counter() - t0
            else:    # every kernel's result is an output of the model: the normal build keeps them all
                folder, err = os.path.join(work, "fused"), None
            if err:
                report.notes.append(f"stage fused: the kernel at fault was not located: {err}")
            else:
                found = kernels.attribute(debug.proto.graph, built["fused"], model_outputs)
                # the verdict from that build alone; the table keeps the normal build's outputs
                _compare_stage("fused", compared, [Store(folder)], ref, ref_max, inputs_of, rtol, atol, found,
                               located=True)
                verdict, at_fault = _fused_verdict(compared, found)
                _compare_stage("fused", compared, [Store(os.path.join(work, "fused")), Store(folder)], ref, ref_max,
                               inputs_of, rtol, atol, found, located=True)
                report.notes.append(verdict)
                if at_fault is None:
                    for r in compared:
                        c = r.cells["fused"]
                        if c.status in (DIVERGE, INHERITED):
                            c.kernel = ""
                            c.note = "its kernel's result matches where every kernel's result is kept"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _only_fused_diverges(rows) -> bool:
    """Stage fused has a divergence and no other stage has any."""
    def bad(c):
        return c.status in (DIVERGE, INHERITED, MISSING)
    return any(bad(r.cells["fused"]) for r in rows if "fused" in r.cells) and \
        not any(bad(c) for r in rows for s, c in r.cells.items() if s != "fused")


def _fused_verdict(rows, found) -> tuple[str, str | None]:
    """The finding of the build that keeps every kernel's result (its cells at stage fused), and the kernel at
    fault (None: none of its kernels)."""
    groups = {k.name: k.group for k in found}
    for r in rows:
        c = r.cells.get("fused")
        if c is not None and c.status == DIVERGE and c.kernel:
            return (f"stage fused: kernel {c.kernel} ({groups.get(c.kernel, '?')}) is the first whose result "
                    f"diverges while its inputs match (value {r.value} of node {r.node}): the kernel at fault",
                    c.kernel)
    if any(r.cells.get("fused") is not None and r.cells["fused"].status in (DIVERGE, INHERITED) for r in rows):
        return ("stage fused: the build that keeps every kernel's result diverges, but at no kernel's result "
                "(see the table)", None)
    return ("stage fused: every kernel's result matches in a build that keeps them all (the same kernels): the "
            "normal build differs outside its kernels (the arena's sharing of intermediates, the host code)", None)


def _compare_stage(stage, rows, stores: list[Store], ref: Store, ref_max, inputs_of, rtol, atol, found=(),
                   located: bool = False) -> None:
    """Every row's cell at `stage`, its value taken from the first of `stores` that has it. found: the build's
    kernels (swmlir.compare.kernels.attribute): each value's kernel, and a kernel result inherits a difference of
    any input of its kernel. located: stage fused with the build that keeps every kernel's result."""
    diverged: set[str] = set()
    kernel_of = kernels.value_kernels(found)
    kernel_inputs = {v: tuple(k.inputs) for k in found for v in k.results}
    for r in rows:
        want = ref.get(r.value)
        r.shape, r.dtype = list(want.shape), want.dtype.name
        store = next((s for s in stores if r.value in s), None)
        if store is not None:
            ours = store.get(r.value)
        elif stage == "fused":      # an intermediate of the normal build: not a graph output there
            r.cells[stage] = Cell(NOT_KEPT)
            continue
        else:
            r.cells[stage] = Cell(MISSING, note=f"{stage} did not write it")
            diverged.add(r.value)
            continue
        if r.value not in ref_max:
            ref_max[r.value] = max_abs(want) if np.issubdtype(want.dtype, np.floating) else 0.0
        m = compare_values(ours, want, rtol=rtol, atol=atol, ref_max=ref_max[r.value])
        if m.ok:
            status = MATCH
        elif r.excepted:
            status = EXCEPTED
        else:
            upstream = (*inputs_of.get(r.value, ()), *kernel_inputs.get(r.value, ()))
            status = INHERITED if any(i in diverged for i in upstream) else DIVERGE
        if not m.ok:
            diverged.add(r.value)
        note = m.problem or ("in the normal build only the model's outputs are kept: the cause may be in any fused "
                             "kernel before" if stage == "fused" and not m.ok and not located else "")
        r.cells[stage] = Cell(status, None if m.problem else m.max_diff, None if m.problem else m.cosine,
                              m.mismatched, note, kernel_of.get(r.value, ""))


def _folder(work: str, name: str) -> str:
    path = os.path.join(work, name)
    os.makedirs(path)
    return path


def _graph_inputs(proto) -> list:
    inits = {t.name for t in proto.graph.initializer} | {t.values.name for t in proto.graph.sparse_initializer}
    return [i for i in proto.graph.input if i.name not in inits]


def _feeds(proto, inputs, seed) -> tuple[dict | None, str]:
    """The given inputs as a dict by name, checked against the graph's inputs (None: random ones, later)."""
    from ..frontend.onnx.dtypes import onnx_to_numpy
    specs = _graph_inputs(proto)
    names = [i.name for i in specs]
    if inputs is None:
        return None, f"random (seed {seed})"
    if not isinstance(inputs, dict):
        inputs = list(inputs)
        if len(inputs) != len(names):
            raise CompileError(f"expected {len(names)} inputs ({', '.join(names)}), got {len(inputs)}",
                               stage="compare")
        inputs = dict(zip(names, inputs))
    missing = [n for n in names if n not in inputs]
    extra = sorted(k for k in inputs if k not in names)
    if missing or extra:
        raise CompileError(f"the inputs do not match the model's ({', '.join(names)}): "
                           + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                                   f"not inputs of the model {extra}" if extra else "") if p),
                           stage="compare")
    feeds = {}
    for i in specs:
        dt = onnx_to_numpy(i.type.tensor_type.elem_type)
        a = np.asarray(inputs[i.name])
        if dt is not None and a.dtype != dt:
            raise CompileError(f"input '{i.name}' is {a.dtype}, the model takes {np.dtype(dt)}", stage="compare")
        feeds[i.name] = a
    return feeds, "given"


def _random_feeds(optimized, seed: int) -> dict:
    """Seeded inputs of the shapes the graph stage fixed: standard normal floats, small integers, booleans."""
    from ..frontend.onnx.dtypes import onnx_to_numpy
    rng = np.random.default_rng(seed)
    out = {}
    for i in _graph_inputs(optimized):
        t = i.type.tensor_type
        dims = [d.dim_value for d in t.shape.dim]
        if any(not d.HasField("dim_value") or d.dim_value <= 0 for d in t.shape.dim):
            raise CompileError(f"input '{i.name}' has unknown dimensions: give --inputs, or --input-shape "
                               f"{i.name}=d0,d1,...", stage="compare")
        dt = np.dtype(onnx_to_numpy(t.elem_type))
        if np.issubdtype(dt, np.floating):
            out[i.name] = rng.standard_normal(dims).astype(dt)
        elif dt == np.bool_:
            out[i.name] = rng.integers(0, 2, dims).astype(dt)
        else:
            out[i.name] = rng.integers(0, 5, dims).astype(dt)
    return out
