"""The `swmlir` command: compile a model, run it on the host emulator, check it against onnxruntime."""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from .errors import CompileError
from .targets import TARGETS


def _shapes(items: list[str] | None) -> dict[str, list[int]] | None:
    """--input-shape x=1,3,224,224 (repeatable)."""
    if not items:
        return None
    out = {}
    for it in items:
        name, _, dims = it.partition("=")
        try:
            out[name] = [int(d) for d in dims.split(",") if d]
        except ValueError:
            raise CompileError(f"bad --input-shape '{it}' (expected name=1,3,224,224)", stage="cli") from None
    return out


def _mlir_text(module) -> str:
    return module.operation.get_asm(large_elements_limit=16, large_resource_limit=64)


def _out_dir_check(path: str) -> None:
    """An output folder that cannot be created or written is reported before compiling, in one line."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CompileError(f"-o '{path}' exists and is not a folder", stage="cli")
    parent = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise CompileError(f"cannot write to -o '{path}': '{parent}' is not a writable folder", stage="cli")


def _out_file_check(path: str, flag: str) -> None:
    """An output file that cannot be written is reported before compiling, in one line."""
    if os.path.isdir(path):
        raise CompileError(f"{flag} '{path}' is a folder, expected a file name", stage="cli")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CompileError(f"cannot write {flag} '{path}': the folder '{parent}' does not exist", stage="cli")
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CompileError(f"cannot write {flag} '{path}': permission denied", stage="cli")


LLVM_EMITS = ("llvm", "ll")   # --emit llvm: the LLVM IR output (swmlir.llvmir), the C package beside it with -o


def _llvm_text(m) -> str:
    from .llvmir import HOST_LL, SLAVE_LL
    return f"; ===== {HOST_LL} =====\n" + m.files[HOST_LL] + f"\n; ===== {SLAVE_LL} =====\n" + m.files[SLAVE_LL]


def cmd_compile(a) -> int:
    from . import compiler
    llvm = a.emit in LLVM_EMITS
    if a.output and llvm:   # -o x.ll: the two modules in one file; -o folder: the package with the .ll files
        if a.output.endswith(".ll") and not os.path.isdir(a.output):
            _out_file_check(a.output, "-o")
        else:
            _out_dir_check(a.output)
    elif a.output:
        if a.emit and (a.emit not in ("c", "emit") or a.output.endswith(".c")) and not os.path.isdir(a.output):
            _out_file_check(a.output, "-o")
        else:
            _out_dir_check(a.output)
    if a.emit and a.emit not in ("c", "emit") and not llvm:
        ctx, result, info = compiler.lower_to_stage(a.model, a.emit, target=a.target,
                                                   input_shapes=_shapes(a.input_shape), tuning_db=a.tuning_db,
                                                   cgs=a.cgs)
        with ctx:
            if isinstance(result, tuple):
                text = "// ----- host module (MPE)\n" + _mlir_text(result[0]) + \
                       "\n// ----- kernel module (CPE)\n" + _mlir_text(result[1])
            else:
                text = _mlir_text(result)
        _write_or_print(text, a.output)
        return 0
    t0 = time.perf_counter()
    m = compiler.compile(a.model, a.target, input_shapes=_shapes(a.input_shape), tuning_db=a.tuning_db,
                         llvm=llvm, ranks=a.ranks, cgs=a.cgs)
    if llvm:
        if not a.output or (a.output.endswith(".ll") and not os.path.isdir(a.output)):
            _write_or_print(_llvm_text(m), a.output)
            return 0
    elif a.emit:  # --emit=c: print or write the C sources only
        text = "/* ===== model_host.c ===== */\n" + m.files["model_host.c"] + \
               "\n/* ===== model_slave.c ===== */\n" + m.files["model_slave.c"]
        if a.output and not os.path.isdir(a.output) and a.output.endswith(".c"):
            _write_or_print(text, a.output)
            return 0
        if not a.output:
            _write_or_print(text, None)
            return 0
    out = a.output or "swmlir-out"
    try:
        m.save(out)
    except OSError as e:
        raise CompileError(f"cannot write the emitted files to '{out}': {e.strerror or e}", stage="cli") from None
    print(f"swmlir: compiled {a.model} for {m.target.name} in {time.perf_counter() - t0:.2f} s -> {out}/")
    print(f"  {len(m.kernels)} CPE kernels, weights {m.weights_bytes} bytes, work arena {m.arena_bytes} bytes "
          f"(intermediates {m.intermediate_bytes} bytes, shared by lifetime)")
    print(f"  files: {', '.join(sorted(m.files))}")
    if m.ranks:
        b = m.info.inputs[0].shape[0]
        print(f"  MPI package: {m.ranks} ranks of {b // m.ranks} of the {b} samples each (make mpi, make run-mpi = "
              f"bsub -n {m.ranks}; README.md)")
    if a.timing:
        print(f"  {'stage / pass':<60} {'ms':>9}")
        for k, v in m.timings.items():
            print(f"  {k[:60]:<60} {v * 1000:9.1f}")
        print(f"  {'total':<60} {sum(m.timings.values()) * 1000:9.1f}")
    if a.stats:
        _print_stats(a, m)
    return 0


def _print_stats(a, m) -> None:
    """Kernels launched and DMA bytes planned without and with the graph optimizations."""
    from . import compiler
    from .stats import kernel_stats, summarize
    ctx, module, _ = compiler.lower_to_stage(a.model, "sunway", target=a.target,
                                             input_shapes=_shapes(a.input_shape), optimize=False)
    with ctx:
        before = summarize(kernel_stats(module))
    after = summarize(m.kernel_stats)
    print(f"  {'':<28}{'before':>16}{'after':>16}")
    for key, label in (("kernels", "kernel launches"), ("dma_bytes", "DMA bytes planned"),
                       ("dma_get_bytes", "  main -> LDM"), ("dma_put_bytes", "  LDM -> main"), ("flops", "flops")):
        print(f"  {label:<28}{before[key]:>16,}{after[key]:>16,}")
    print(f"  {'arena bytes (planned)':<28}{'':>16}{m.arena_bytes:>16,}")
    print(f"  {'intermediates (sum)':<28}{'':>16}{m.intermediate_bytes:>16,}")


def _write_or_print(text: str, path: str | None) -> None:
    if path:
        try:
            with open(path, "w") as f:
                f.write(text)
        except OSError as e:
            raise CompileError(f"cannot write '{path}': {e.strerror or e}", stage="cli") from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _random_inputs(info, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for t in info.inputs:
        if np.issubdtype(t.dtype, np.floating):
            out[t.name] = rng.standard_normal(t.shape).astype(t.dtype)
        elif t.dtype == np.bool_:
            out[t.name] = rng.integers(0, 2, t.shape).astype(np.bool_)
        else:
            out[t.name] = rng.integers(0, 5, t.shape).astype(t.dtype)
    return out


def _first_line(e: BaseException, limit: int = 300) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def onnxruntime_outputs(model_path_or_proto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime's outputs; CompileError (one line, stage "check") when it is missing or refuses the model."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise CompileError("--check needs onnxruntime, which is not installed (pip install onnxruntime)",
                           stage="check") from None
    proto = model_path_or_proto
    if not isinstance(proto, (str, os.PathLike)):
        proto = proto.SerializeToString()
    elif isinstance(proto, os.PathLike):
        proto = os.fspath(proto)
    so = ort.SessionOptions()
    so.log_severity_level = 4   # fatal only: a refusal is reported below, in one line
    try:
        sess = ort.InferenceSession(proto, so, providers=["CPUExecutionProvider"])
        return sess.run(None, feeds)
    except Exception as e:  # onnxruntime's refusals are long, multi-line, and not ours to show as a traceback
        raise CompileError(f"onnxruntime cannot run the model: {_first_line(e)}", stage="check") from None


def _graph_input_specs(model_path: str) -> list:
    """(name, numpy dtype or None, declared dims with None for unknown) of the graph inputs, without weights."""
    import onnx
    from .frontend.onnx.dtypes import onnx_to_numpy, onnx_type_name
    try:
        m = onnx.load(model_path, load_external_data=False)
    except Exception as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else _first_line(e)
        raise CompileError(f"cannot read ONNX model '{model_path}': {reason}", stage="import") from None
    inits = {t.name for t in m.graph.initializer} | {t.values.name for t in m.graph.sparse_initializer}
    out = []
    for i in m.graph.input:
        if i.name in inits or not i.type.HasField("tensor_type"):
            continue
        t = i.type.tensor_type
        dims = None if not t.HasField("shape") else [
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim]
        out.append((i.name, onnx_to_numpy(t.elem_type), onnx_type_name(t.elem_type), dims))
    return out


def _read_inputs(path: str, specs: list) -> dict[str, np.ndarray]:
    """The arrays of an .npz, checked against the graph inputs: names (missing and extra), dtypes, shapes."""
    import zipfile
    if not os.path.exists(path):
        raise CompileError(f"--inputs '{path}' does not exist", stage="run")
    if os.path.isdir(path):
        raise CompileError(f"--inputs '{path}' is a folder, expected an .npz file", stage="run")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise CompileError(f"cannot read --inputs '{path}': {e.strerror or e}", stage="run") from None
    if not zipfile.is_zipfile(path):
        what = "it holds one array (.npy), not named arrays" if magic == b"\x93NUMPY" else "it is not a zip file"
        raise CompileError(f"--inputs '{path}' is not an .npz archive: {what}; save the inputs with "
                           "numpy.savez(path, name=array, ...)", stage="run")
    try:
        with np.load(path, allow_pickle=False) as z:
            feeds = {k: np.asarray(z[k]) for k in z.files}
    except Exception as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else _first_line(e, 160)
        raise CompileError(f"cannot read --inputs '{path}' as an .npz archive (numpy.savez): {reason}",
                           stage="run") from None
    names = [s[0] for s in specs]
    missing = [n for n in names if n not in feeds]
    extra = sorted(k for k in feeds if k not in names)
    problems = []
    if missing:
        problems.append(f"no array for input(s) {missing}")
    if extra:
        problems.append(f"array(s) {extra} name no graph input")
    for name, dtype, type_name, dims in specs:
        a = feeds.get(name)
        if a is None:
            continue
        if dtype is not None and a.dtype != dtype:
            problems.append(f"'{name}' is {a.dtype}, the model takes {dtype} (no implicit casts)")
        if dims is not None and (a.ndim != len(dims) or any(d is not None and d != s for d, s in zip(dims, a.shape))):
            shown = ["?" if d is None else d for d in dims]
            problems.append(f"'{name}' has shape {list(a.shape)}, the model declares {shown}")
    if problems:
        raise CompileError(f"--inputs '{path}' does not match the model (inputs {names}): " + "; ".join(problems),
                           stage="run")
    return feeds


def _save_npz(path: str, names: list[str], arrays: list[np.ndarray]) -> None:
    """What numpy.savez(path, **dict(zip(names, arrays))) writes, for any output name (savez's own keyword
    arguments, `file` and `allow_pickle`, are names an output may have too); an output listed twice once."""
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for n, a in dict(zip(names, arrays)).items():
            with zf.open(n + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)


def _npz_name(path: str) -> str:
    return path if path.endswith(".npz") else path + ".npz"   # numpy.savez appends the extension


def cmd_run(a) -> int:
    from . import compiler
    if a.output:
        _out_file_check(a.output, "--output")
        _out_file_check(_npz_name(a.output), "--output")
    feeds = None
    shapes = _shapes(a.input_shape)
    if a.inputs:
        specs = _graph_input_specs(a.model)
        feeds = _read_inputs(a.inputs, specs)
        if shapes is None:  # the data fixes the shapes of inputs declared with symbolic dims
            symbolic = {n for n, _, _, dims in specs if dims is None or None in dims}
            shapes = {k: list(v.shape) for k, v in feeds.items() if k in symbolic} or None
    m = compiler.compile(a.model, a.target, input_shapes=shapes, tuning_db=a.tuning_db, llvm=a.via == "llvm",
                         ranks=a.ranks, cgs=a.cgs)
    with m:  # the build folder goes when the command ends
        if feeds is None:
            feeds = _random_inputs(m.info, a.seed)
            print(f"swmlir: no --inputs given: random inputs (seed {a.seed})")
        outs = m.run(feeds, via=a.via)
        if a.via == "llvm":
            print("swmlir: ran the LLVM IR output (model_host.ll, model_slave.ll built with llc) on the emulator")
        if a.ranks:
            print(f"swmlir: ran on {a.ranks} MPI ranks (mpirun), {m.info.inputs[0].shape[0] // a.ranks} of "
                  f"{m.info.inputs[0].shape[0]} samples each")
    names = [t.name for t in m.info.outputs]
    if a.output:
        try:
            _save_npz(_npz_name(a.output), names, outs)
        except OSError as e:
            raise CompileError(f"cannot write --output '{_npz_name(a.output)}': {e.strerror or e}",
                               stage="run") from None
        print(f"swmlir: wrote {', '.join(names)} to {_npz_name(a.output)}")
    for n, o in zip(names, outs):
        print(f"  {n}: {o.dtype} {list(o.shape)}")
    if not a.check:
        return 0
    ref = onnxruntime_outputs(a.model, {t.name: np.asarray(feeds[t.name]).astype(t.dtype)
                                        for t in m.info.inputs})
    if len(ref) != len(outs):
        raise CompileError(f"onnxruntime gives {len(ref)} outputs, swmlir {len(outs)}", stage="check")
    ok = True
    for n, o, r in zip(names, outs, ref):
        diff = np.abs(o.astype(np.float64) - r.astype(np.float64))
        worst = float(diff.max()) if diff.size else 0.0
        from .compare.metrics import type_tolerance   # float16 outputs: at least 2 ulps of float16
        rtol, atol = type_tolerance(r.dtype, a.rtol, a.atol)
        atol = _scaled_atol(atol, r)
        close = np.allclose(o, r, rtol=rtol, atol=atol, equal_nan=True)
        ok &= bool(close)
        print(f"  check {n}: max |swmlir - onnxruntime| = {worst:.3g} "
              f"({'OK' if close else 'MISMATCH'} at rtol={rtol:g}, atol={atol:.3g})")
    return 0 if ok else 1


def _scaled_atol(atol: float, ref) -> float:
    """--atol in units of the output's largest magnitude (at least 1) for floating outputs: a float32 sum of K
    terms differs between summation orders by a few ulps of its largest terms, so an element near zero in an
    output of magnitude 100 may differ by 1e-5 from onnxruntime without either being wrong."""
    import numpy as np
    ref = np.asarray(ref)
    if not np.issubdtype(ref.dtype, np.floating) or not ref.size:
        return atol
    finite = np.abs(ref[np.isfinite(ref)])
    return atol * max(1.0, float(finite.max()) if finite.size else 1.0)


def cmd_bench(a) -> int:
    from .bench import bench, print_table
    from .tune.hook import using
    tuner = None
    if a.tuning_db:
        from .tune.db import TuningDB
        from .tune.driver import DBTuner
        tuner = DBTuner(TuningDB.open(a.tuning_db))
    with using(tuner):
        r = bench(a.model, target=a.target, repeat=a.repeat, input_shapes=_shapes(a.input_shape),
                  schedule=a.schedule, cgs=a.cgs)
    print_table(r)
    if a.json:
        import json
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)
    if a.plot:
        from .sim.roofline import plot_roofline
        from .targets import get_target
        plot_roofline(r, get_target(a.target), a.plot)
    return 0


def _progress_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress display on stderr (default: on when stderr is a terminal; SWMLIR_PROGRESS=1/0)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="swmlir", description="ONNX -> Sunway compiler built on MLIR")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile", help="compile an ONNX model to C for a Sunway target")
    c.add_argument("model")
    c.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    c.add_argument("--cgs", default="1", metavar="N|all",
                   help="core groups every kernel is distributed over: 1 (default) to the target's CGs per chip "
                        "(4 on sw26010, 6 on sw26010pro), or 'all'")
    c.add_argument("-o", "--output", help="output directory (or file with --emit)")
    c.add_argument("--emit", help="stop after a stage and print it: import|linalg, graph, schedule, bufferize, "
                                  "sunway, split, c; or llvm: the LLVM IR output (printed, or with -o FOLDER "
                                  "written beside the C package as model_host.ll, model_slave.ll)")
    c.add_argument("--input-shape", action="append", help="name=d0,d1,... for inputs with unknown dims")
    c.add_argument("--timing", action="store_true", help="print the time of each stage and pass")
    c.add_argument("--stats", action="store_true",
                   help="kernel launches and DMA bytes planned, without and with the graph optimizations")
    c.add_argument("--tuning-db", help="tiles from this tuning database (swmlir tune) where it has them")
    c.add_argument("--ranks", type=int, help="MPI package: data parallel over N ranks (a core group each), the "
                                             "model compiled for batch/N; make mpi, make run-mpi (bsub -n N)")
    _progress_flag(c)
    c.set_defaults(fn=cmd_compile)
    r = sub.add_parser("run", help="compile, run the emitted C on the host emulator, optionally check it")
    r.add_argument("model")
    r.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    r.add_argument("--cgs", default="1", metavar="N|all",
                   help="core groups every kernel is distributed over: 1 (default) to the target's CGs per chip "
                        "(4 on sw26010, 6 on sw26010pro), or 'all'")
    r.add_argument("--inputs", help=".npz keyed by graph input names (default: random inputs)")
    r.add_argument("-o", "--output", help=".npz to write the outputs to, keyed by output names")
    r.add_argument("--check", action="store_true", help="compare with onnxruntime")
    r.add_argument("--via", default="c", choices=("c", "llvm"),
                   help="which output runs on the emulator: the emitted C (default) or the LLVM IR output "
                        "(compile --emit llvm), built with the wheels' llc")
    r.add_argument("--rtol", type=float, default=1e-4)
    r.add_argument("--atol", type=float, default=1e-5,
                   help="absolute tolerance in units of the output's largest magnitude (at least 1)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--input-shape", action="append")
    r.add_argument("--tuning-db", help="tiles from this tuning database (swmlir tune) where it has them")
    r.add_argument("--ranks", type=int, help="run on N MPI ranks with mpirun: the batch split over them, each "
                                             "rank a slice of batch/N (the batch must divide by N)")
    _progress_flag(r)
    r.set_defaults(fn=cmd_run)
    b = sub.add_parser("bench", help="per-kernel DMA, flops and LDM counters of a model run on the emulator, and its modeled Sunway time")
    b.add_argument("model")
    b.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    b.add_argument("--cgs", default="1", metavar="N|all",
                   help="core groups every kernel is distributed over: 1 (default) to the target's CGs per chip "
                        "(4 on sw26010, 6 on sw26010pro), or 'all'")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--json", help="write the report as JSON")
    b.add_argument("--schedule", default="model", choices=("model", "baseline"),
                   help="baseline: the first round's kernels (greedy tiles, scalar loops), for comparison")
    b.add_argument("--plot", help="draw the roofline of the target with one point per kernel (PNG, matplotlib)")
    b.add_argument("--input-shape", action="append")
    b.add_argument("--tuning-db", help="tiles from this tuning database (swmlir tune) where it has them")
    _progress_flag(b)
    b.set_defaults(fn=cmd_bench)
    o = sub.add_parser("ops", help="the supported-ops table, from the converters and a conformance run")
    o.add_argument("--results", default="docs/conformance.json", help="JSON written by swmlir conformance --json")
    o.add_argument("-o", "--output", help="markdown file to write (default: print)")
    o.set_defaults(fn=lambda a: __import__("swmlir.ops_table", fromlist=["main"]).main(a))
    k = sub.add_parser("conformance", help="run the ONNX backend node tests through the full Sunway path")
    k.add_argument("--filter", help="regular expression on test names (e.g. '^test_(relu|add)')")
    k.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    k.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    k.add_argument("--json", help="write every test's name, status and reason to this file")
    k.add_argument("--timeout", type=float, default=300.0, help="seconds per test")
    k.add_argument("--quiet", action="store_true",
                   help="no line per failure during the run: the comparison with the expected passes and the "
                        "closing line only")
    k.add_argument("--expected", metavar="FILE|none",
                   help="the expected-pass list to compare with (default: the committed "
                        "swmlir/testing/conformance_expected.txt, for its target); exit status 1 when a test of "
                        "it does not pass")
    from .conformance import EXPECTED
    k.add_argument("--write-expected", nargs="?", metavar="FILE", const=str(EXPECTED),
                   help="write the tests that passed as the expected-pass list (default: the committed one); "
                        "with --filter only the matching names of the list change; exit status 0")
    _progress_flag(k)
    k.set_defaults(fn=lambda a: __import__("swmlir.conformance", fromlist=["main"]).main(a))
    from .io import add_parser as add_io_parser
    add_io_parser(sub)   # swmlir io pack|unpack: .npz <-> the input/output files of an emitted program
    from .compare.command import add_parser as add_compare_parser
    add_compare_parser(sub)   # swmlir compare: every node output against onnxruntime, at each stage
    from .tune.command import add_parser as add_tune_parser
    add_tune_parser(sub)   # swmlir tune: search the tiles of every group of a model (docs/tuning.md)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import progress
    progress.configure(getattr(args, "progress", None))
    try:
        return args.fn(args)
    except CompileError as e:
        hint = "\n  (on the command line: --input-shape NAME=d0,d1,...)" if "input_shapes=" in str(e) else ""
        print(f"swmlir: error: {e}{hint}", file=sys.stderr)
        return 1
    except OSError as e:  # a file we were asked to read or write: one line, not a traceback
        where = f"'{e.filename}': " if e.filename else ""
        print(f"swmlir: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
