"""The Python API: compile an ONNX model for a Sunway target, save the emitted code, run it on the emulator."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field

import numpy as np
from mlir import ir

from . import pipeline, progress
from .codegen import files as cfiles
from .codegen.translate import mlir_to_c
from .analysis.weights import recording, weights_file
from .dialects import load_sunway_dialect
from .attrs import ARENA_BYTES_ATTR, INTERMEDIATE_BYTES_ATTR, NUM_INPUTS_ATTR
from .errors import CompileError, RuntimeFailure
from .pass_pipeline import run_pipeline
from .passes.emitc_kernel_entries import kernel_entries
from .passes.host_to_emitc import run_signature
from .targets import TARGET_ATTR, Target, get_target, with_cgs


@dataclass
class CompiledModel:
    """The emitted files of one model for one target, and how to run them on the host emulator.

    run() builds the emitted C once, in a temporary folder `/tmp/swmlir-*`; the folder is removed by close(), at
    the end of a `with` block, when the object is garbage-collected, or at interpreter exit, whichever comes
    first (a closed model can still be saved, and run() builds it again)."""
    info: object                      # frontend.onnx.ModelInfo
    target: Target
    files: dict[str, str | bytes]     # file name -> contents, as written by save()
    kernels: list[tuple[str, int]]
    timings: dict[str, float] = field(default_factory=dict)
    arena_bytes: int = 0
    weights_bytes: int = 0
    intermediate_bytes: int = 0       # sum of all intermediate buffers; the arena shares them by lifetime
    kernel_stats: list = field(default_factory=list)   # swmlir.stats.KernelStats, static, per kernel
    last_time_ms: float | None = None   # mean wall time per run of the last run(repeat>1), on the emulator
    kernel_mix: dict = field(default_factory=dict)   # kernel -> swmlir.sim.mix.Mix as a dict (static)
    ranks: int | None = None          # compile(ranks=N): an MPI package; info is the whole batch (swmlir/mpi.py)
    _exe: str | None = None
    _llvm_exe: str | None = None      # the build of the LLVM IR output (compile(llvm=True), run(via="llvm"))
    _workdir: str | None = None
    _cleanup: weakref.finalize | None = field(default=None, repr=False, compare=False)

    def save(self, out_dir: str) -> list[str]:
        """Write the emitted sources, headers, weights and build files into `out_dir`."""
        os.makedirs(out_dir, exist_ok=True)
        paths = []
        for name, data in self.files.items():
            p = os.path.join(out_dir, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)   # runtime/include/... (codegen/files.py)
            with open(p, "wb") as f:
                _write(f, data if isinstance(data, bytes) else data.encode(), name)
            paths.append(p)
        return paths

    def build(self) -> str:
        """Build the emitted C against the host emulator (once) and return the executable."""
        if self._exe:
            return self._exe
        from .runtime import build_emulated_executable
        self.close()
        self._workdir = tempfile.mkdtemp(prefix="swmlir-")
        # the finalizer holds the path, not the object: it runs at close(), garbage collection or exit
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._workdir, True)
        try:
            self.save(self._workdir)
            self._exe = build_emulated_executable(
                self._workdir, [os.path.join(self._workdir, "model_host.c")],
                [os.path.join(self._workdir, "model_slave.c")], ldm_bytes=self.target.ldm_bytes,
                mpi=self.ranks is not None)
        except RuntimeError as e:
            self.close()
            raise RuntimeFailure(f"building the emitted C failed: {e}") from None
        except BaseException:
            self.close()
            raise
        return self._exe

    def build_llvm(self) -> str:
        """Build the LLVM IR output (model_host.ll, model_slave.ll: compile(llvm=True)) with the wheels' llc
        against the host emulator (once; in the folder of build() when there is one) and return the executable."""
        if self._llvm_exe:
            return self._llvm_exe
        from . import llvmir
        if llvmir.HOST_LL not in self.files:
            raise CompileError("this model was compiled without its LLVM IR: compile it with llvm=True "
                               "(swmlir run --via llvm)", stage="run")
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="swmlir-")
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._workdir, True)
        try:
            self.save(self._workdir)
            self._llvm_exe = llvmir.build_emulated_executable(
                self._workdir, ldm_bytes=self.target.ldm_bytes, helpers_dir=os.path.join(self._workdir, "runtime"),
                crts=self.target.runtime_api == "crts", cgs=self.target.cgs)
        except RuntimeError as e:
            self.close()
            raise RuntimeFailure(f"building the emitted LLVM IR failed: {e}") from None
        except BaseException:
            self.close()
            raise
        return self._llvm_exe

    def close(self) -> None:
        """Remove the build folder of run() (if any)."""
        if self._cleanup is not None:
            self._cleanup()
        self._cleanup = self._exe = self._llvm_exe = self._workdir = None

    def __enter__(self) -> "CompiledModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, inputs, *, stats_json: str | None = None, repeat: int = 1, via: str = "c") -> list[np.ndarray]:
        """Run on the host emulator. `inputs`: a dict keyed by input name, or a list in graph order.
        `stats_json`: where the emulator writes its DMA/LDM counters; `repeat`: runs (timed by the driver)."""
        from .runtime import run_emulated
        arrays = self._input_list(inputs)
        if via not in ("c", "llvm"):
            raise CompileError(f"unknown output to run '{via}' (c or llvm)", stage="run")
        exe = self.build_llvm() if via == "llvm" else self.build()
        from . import io as swio
        outputs = swio.specs(self.info.outputs, "out")
        with tempfile.TemporaryDirectory(prefix="swmlir-run-") as d:
            in_files = swio.write_inputs(swio.specs(self.info.inputs, "in"), arrays, d)
            out_files = [os.path.join(d, s.file) for s in outputs]
            try:
                proc = run_emulated(exe, os.path.join(self._workdir, "model.weights.bin"), in_files, out_files,
                                    stats_json=stats_json, repeat=repeat, launcher=self._launcher(via, stats_json))
            except RuntimeError as e:
                raise RuntimeFailure(str(e)) from None
            from .runtime.build import parse_time_ms
            self.last_time_ms = parse_time_ms(proc.stderr)
            return swio.read_outputs(outputs, d)

    def _launcher(self, via: str, stats_json) -> list[str]:
        """mpirun and its flags for an MPI package (compile(ranks=N)), else nothing."""
        if self.ranks is None:
            return []
        if via != "c" or stats_json:
            raise CompileError("a run on MPI ranks takes the C output and writes no counters file "
                               "(via='c', no stats_json)", stage="run")
        from .mpi import launcher
        return launcher(self.ranks)

    def _input_list(self, inputs) -> list[np.ndarray]:
        specs = self.info.inputs
        if isinstance(inputs, dict):
            missing = [t.name for t in specs if t.name not in inputs]
            if missing:
                raise CompileError(f"missing inputs {missing}; the model takes {[t.name for t in specs]}",
                                   stage="run")
            inputs = [inputs[t.name] for t in specs]
        inputs = list(inputs)
        if len(inputs) != len(specs):
            raise CompileError(f"expected {len(specs)} inputs, got {len(inputs)}", stage="run")
        out = []
        for t, a in zip(specs, inputs):
            given = isinstance(a, np.ndarray) or np.isscalar(a) and isinstance(a, np.generic)
            a = np.asarray(a)
            if tuple(a.shape) != tuple(t.shape):
                raise CompileError(f"input '{t.name}' has shape {list(a.shape)}, the model expects "
                                   f"{list(t.shape)}", stage="run")
            # a numpy array is converted only where nothing is lost (int32 -> int64, float32 -> float64), as
            # onnxruntime would not convert it at all; Python lists and numbers take the model's type
            if given and a.dtype != t.dtype and not np.can_cast(a.dtype, t.dtype, "safe"):
                raise CompileError(f"input '{t.name}' is {a.dtype}, the model expects {np.dtype(t.dtype)} (convert "
                                   f"it with .astype(np.{np.dtype(t.dtype).name}) if the loss is intended)",
                                   stage="run")
            out.append(a.astype(t.dtype, copy=False))
        return out


def _write(f, data: bytes, name: str) -> None:
    """Write a file's bytes; a large one (the weights of a large model) in pieces, with a progress display."""
    from .analysis.weights import LARGE_WEIGHTS
    if len(data) < LARGE_WEIGHTS or not progress.enabled():
        f.write(data)
        return
    view, step = memoryview(data), 16 << 20
    with progress.bar(len(data), f"writing {name}", "B", unit_scale=True, delay=0.5, leave=False) as shown:
        for i in range(0, len(data), step):
            f.write(view[i:i + step])
            shown.update(len(view[i:i + step]))


def _load(model, base_dir=None):
    """The model validated, with its external data read from inside its folder (frontend.onnx.validate)."""
    from .frontend.onnx.validate import load_model
    return load_model(model, base_dir=base_dir, verb="read")


def onnx_copy(model):
    import onnx
    m = onnx.ModelProto()
    m.CopyFrom(model)
    return m


def new_context() -> ir.Context:
    ctx = ir.Context()
    load_sunway_dialect(ctx)
    return ctx


def _graph_stage(proto, optimize: bool, timings: dict | None, input_shapes=None):
    """The ONNX-level passes (swmlir.graph) on a copy of the validated model. They work on protobufs: an
    exception there on a model that passed validation is reported as a CompileError of the graph stage."""
    from .graph import expand_functions, shapes
    try:
        proto = shapes.fix_input_shapes(onnx_copy(proto), input_shapes)  # --input-shape first
        # ops we lack a converter for but ONNX defines as functions are replaced by their bodies, and the shape
        # arithmetic of dynamic-axis exports is folded (always: this decides what is supported, not how fast)
        proto = shapes.run(expand_functions.run(proto))
        if optimize:
            from . import graph
            def timing(name, seconds):
                if timings is not None:
                    timings[name] = seconds
                progress.current().note(f"onnx {name}")
            proto = graph.optimize(proto, timing=timing)
    except (CompileError, KeyboardInterrupt):
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise CompileError(f"the ONNX graph passes failed on this model: {type(e).__name__}: {first}",
                           stage="graph") from e
    return proto


def lower_to_stage(model, stage: str, *, target="sw26010", input_shapes=None, timings=None, optimize=True,
                   schedule: str = "model", base_dir=None, tuning_db=None, cgs: int | str = 1):
    """Import and run the stages up to `stage`; returns (context, module or (host, kernels), info).
    `base_dir`: where the external data of a ModelProto is (see compile); `tuning_db`, `cgs`: see compile."""
    if cgs != 1:
        target = with_cgs(target, cgs)
    if tuning_db is not None:
        from .tune.db import TuningDB
        from .tune.driver import DBTuner
        from .tune.hook import using
        with using(DBTuner(TuningDB.open(tuning_db))):
            return lower_to_stage(model, stage, target=target, input_shapes=input_shapes, timings=timings,
                                  optimize=optimize, schedule=schedule, base_dir=base_dir)
    stage = pipeline.canonical_stage(stage)
    tgt = get_target(target)
    ctx = new_context()
    with ctx, ir.Location.unknown():
        t0 = time.perf_counter()
        from .frontend.onnx import import_onnx
        shown = progress.current()   # the compile's display, when compile() runs this (progress.py)
        shown.begin("load")
        proto = _load(model, base_dir)
        shown.begin("onnx graph")
        proto = _graph_stage(proto, optimize, timings, input_shapes)
        shown.begin("import")
        # info.weights: the arrays of the constants made while importing; the weights file is written from them,
        # not from the printed module's hex
        module, info = import_onnx(proto, input_shapes=input_shapes, kn_weights=tgt.kn_weights)
        main = [op for op in module.body.operations if op.operation.name == "func.func"][0]
        main.operation.attributes[NUM_INPUTS_ATTR] = ir.IntegerAttr.get(
            ir.IntegerType.get_signless(64), len(info.inputs))
        if timings is not None:
            timings["import"] = time.perf_counter() - t0
        if stage == "import":
            return ctx, module, info
        last = stage if stage in ("graph", "schedule", "bufferize", "sunway") else "sunway"

        def tick(name, seconds):
            if timings is not None:
                timings[name] = timings.get(name, 0.0) + seconds
            shown.note(name, stage=name.partition(":")[0])   # "schedule: sunway-schedule{...}"

        # sunway-pack-weights reads the constants' data from the table and adds its tile-major copies to it
        with recording(info.weights):
            pipeline.run_stages(module, tgt.name, last=last, timing=tick, optimize=optimize, schedule=schedule)
        if stage in ("graph", "schedule", "bufferize", "sunway"):
            return ctx, module, info
        host, kernels = pipeline.split_host_and_kernels(module)
        return ctx, (host, kernels), info


def compile(model, target: str | Target = "sw26010", *, input_shapes: dict | None = None,
            optimize: bool = True, schedule: str = "model", base_dir: str | os.PathLike | None = None,
            tuning_db=None, llvm: bool = False, ranks: int | None = None, cgs: int | str = 1) -> CompiledModel:
    """Compile an ONNX model (path or ModelProto) to C for `target`; see CompiledModel.
    optimize=False turns the graph-level optimizations (fusion, folding) off, for comparisons;
    schedule="baseline" takes the first round's kernels (greedy tiles, scalar loops) instead of the model's.

    The model is validated first (frontend.onnx.validate: onnx.checker, attribute types, sizes). External data
    is read only from inside the model's folder, symbolic links resolved: a path's own folder, or `base_dir`.
    A ModelProto whose tensors keep their data in external files (onnx.load(..., load_external_data=False))
    needs `base_dir`, the folder it was saved in; without it, it is refused rather than read from the current
    directory.

    `tuning_db`: a tuning database (path of the JSONL file `swmlir tune` writes, or a swmlir.tune.db.TuningDB):
    every group it has an entry for takes the entry's tiles instead of the heuristic's (docs/tuning.md).

    `llvm`: also emit the LLVM IR output (model_host.ll, model_slave.ll, swmlir.llvmir) beside the C, from the
    same split modules; run(via="llvm") builds and runs it.

    `ranks`: data parallel over MPI ranks (swmlir/mpi.py): the model compiled for a slice of batch/ranks, the
    package an MPI package (runtime/driver_mpi.c, make mpi); run() takes and gives the whole batch, on mpirun.

    `cgs`: the core groups every kernel is distributed over (1 to the target's cgs_per_chip, or "all"): work items
    dealt over cgs x 64 CPEs, the host spawning on every CG (athread_spawn_cgs); the target becomes
    `<name>:cgs<N>` (swmlir.targets.with_cgs). 1 (the default): the single-CG output."""
    if cgs != 1:
        target = with_cgs(target, cgs)
    if ranks is not None:
        from . import mpi
        return mpi.compile(model, ranks, target, input_shapes=input_shapes, optimize=optimize, schedule=schedule,
                           base_dir=base_dir, tuning_db=tuning_db, llvm=llvm)
    if schedule not in pipeline.SCHEDULES:
        raise CompileError(f"unknown schedule '{schedule}'; schedules: {', '.join(pipeline.SCHEDULES)}",
                           stage="schedule")
    tgt = get_target(target)
    name = os.path.basename(os.fspath(model)) if isinstance(model, (str, os.PathLike)) else "model"
    # a display by stage on a terminal, for compiles long enough to need one (2 s; progress.py)
    with progress.compiling(COMPILE_STAGES + (["emit llvm"] if llvm else []), f"compile {name}", delay=2.0,
                            leave=False):
        return _compile(model, tgt, input_shapes, optimize, schedule, base_dir, tuning_db, llvm)


# the stages of compile() as its progress display counts them
COMPILE_STAGES = ["load", "onnx graph", "import", "graph", "schedule", "bufferize", "sunway", "weights", "emit"]


def _compile(model, tgt: Target, input_shapes, optimize: bool, schedule: str, base_dir, tuning_db,
             llvm: bool) -> CompiledModel:
    shown = progress.current()
    timings: dict[str, float] = {}
    ctx, module, info = lower_to_stage(model, "sunway", target=tgt, input_shapes=input_shapes, timings=timings,
                                       optimize=optimize, schedule=schedule, base_dir=base_dir,
                                       tuning_db=tuning_db)
    with ctx, ir.Location.unknown():
        from .stats import kernel_stats
        kstats = kernel_stats(module, tgt.cpes)
        host, kernels = pipeline.split_host_and_kernels(module)
        for m in (host, kernels):   # the emit passes and kernel entries read the target's runtime API from it
            m.operation.attributes[TARGET_ATTR] = ir.StringAttr.get(tgt.name)
        from . import llvmir
        llvm_split = (llvmir.clone_module(host), llvmir.clone_module(kernels)) if llvm else None
        t0 = time.perf_counter()
        shown.begin("weights")
        weights = weights_file(host, info.weights)
        from .analysis.weights import manifest
        weights_txt = manifest(host.operation)
        shown.begin("emit")
        def note(name, seconds):
            shown.note(f"emit: {name}")
        run_pipeline(kernels, pipeline.kernel_loops(tgt.name, schedule), timing=note)
        kmix = kernel_mixes(kernels, tgt)
        run_pipeline(kernels, pipeline.KERNEL_EMIT, timing=note)
        kernel_list = kernel_entries(kernels.operation)   # added by sunway-emitc-kernel-entries (KERNEL_EMIT)
        run_pipeline(host, pipeline.HOST_EMIT, timing=note)
        arena = ir.IntegerAttr(host.operation.attributes[ARENA_BYTES_ATTR]).value
        intermediates = ir.IntegerAttr(host.operation.attributes[INTERMEDIATE_BYTES_ATTR]).value
        slave_c = mlir_to_c(str(kernels))
        host_c = mlir_to_c(str(host))
        timings["emit"] = time.perf_counter() - t0
        if llvm_split:
            t0 = time.perf_counter()
            shown.begin("emit llvm")
            llvm_files = dict(zip((llvmir.HOST_LL, llvmir.SLAVE_LL), llvmir.emit(*llvm_split, tgt.name, schedule)))
            timings["emit llvm"] = time.perf_counter() - t0
    header = "/* Generated by swmlir for target {} ({}). */\n".format(tgt.name, tgt.description)
    files = {
        "model_host.c": header + host_c,
        "model_slave.c": header + slave_c,
        "model.h": cfiles.model_header(info, run_signature(host.operation)),
        "model_kernels.h": cfiles.kernels_header(kernel_list),
        "model.weights.bin": weights,
        "model.weights.txt": weights_txt,
        "Makefile": cfiles.makefile(tgt, info),
        "CMakeLists.txt": cfiles.cmakelists(tgt, info=info),
    }
    files.update(cfiles.package_files(tgt, info, files))   # model.io.json, runtime/, README.md
    if llvm_split:   # the LLVM IR beside the C, its C helpers with the runtime (swmlir/llvmir/__init__.py)
        files.update(llvm_files)
        files.update({f"{cfiles.RUNTIME_DIR}/{n}": t for n, t in llvmir.helper_files().items()})
        files["README.md"] += llvmir.readme_section(tgt)
    return CompiledModel(info, tgt, files, kernel_list, timings, arena, len(weights), intermediates, kstats,
                         kernel_mix=kmix)


def kernel_mixes(kernels: ir.Module, tgt: Target) -> dict[str, dict]:
    """Static instruction mix of each kernel (busiest CPE, one launch), for the performance model."""
    from .passes._util import funcs, sym_name
    from .sim.constants import cpe_constants
    from .sim.mix import kernel_mix
    from .passes.double_buffer import DOUBLE_BUFFERED_ATTR
    c = cpe_constants(tgt)
    out = {}
    for k in funcs(kernels.operation, kernels=True):
        d = kernel_mix(k, c, tgt.cpes_per_cg, tgt.simd_f32_lanes).as_dict()
        d["double_buffered_steps"] = (ir.IntegerAttr(k.attributes[DOUBLE_BUFFERED_ATTR]).value
                                      if DOUBLE_BUFFERED_ATTR in k.attributes else 0)
        out[sym_name(k)] = d
    return out
