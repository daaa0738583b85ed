"""Many nodes through MPI (issue 11, item 3): data parallel over the batch.

`swmlir compile MODEL --ranks N` (`swmlir.compile(model, ranks=N)`) compiles the model for one rank's slice of
the batch, B/N samples (B: the first dim of every graph input), and makes its package an MPI package:
`runtime/driver_mpi.c` is the program's `main` (rank 0 reads the whole batch and scatters the slices, every rank
runs its slice on its own core group, the output slices are gathered on rank 0, which writes them); the Makefile
gets an `mpi` variant (`make mpi`: `mpicc -host` / `mpicc -hybrid` on SW26010, `make run-mpi`: `bsub -n N`, a rank
per core group), CMakeLists.txt builds `model_mpi` against Open MPI when CMake finds MPI, the README says how to
run it. `model.io.json` and the README's table describe the files of the MPI program: the whole batch.
`swmlir run MODEL --ranks N [--check]` builds that program against the emulator with mpicc and runs it with
mpirun (`launcher`), then compares with onnxruntime on the whole batch.

The rules:
- every graph input and output is split along its first axis, which is the batch: B must be known (declared or
  given with --input-shape) and the same for all inputs, and N must divide it. Remainders are not handled (a
  rank with a smaller slice would need a second compiled model): B % N != 0 is an error naming B and N.
- the samples of a batch must be independent (as in inference: no op mixes samples). A model that reshapes with
  a constant batch (Reshape to [B, -1]) fails to compile for B/N, and the error says so; one that reduces over
  the batch compiles and gives wrong results, which `run --check` reports (onnxruntime runs the whole batch).
- without --ranks nothing changes: the package is byte for byte the single-rank one.

The compiled slice does not fix N in the program: `model_mpi` on M ranks reads files of M slices.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess

from .codegen import files as cfiles
from .errors import CompileError

DRIVER = f"{cfiles.RUNTIME_DIR}/driver_mpi.c"   # in the package
PROGRAM = "model_mpi"


def _check_ranks(ranks) -> int:
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise CompileError(f"--ranks must be a positive number of MPI ranks, got {ranks!r}", stage="mpi")
    return ranks


def per_rank_model(model, ranks: int, input_shapes=None, base_dir=None):
    """(the model for one rank's slice: an onnx.ModelProto, the per-rank input shapes, the batch B, the whole
    batch's output shapes where known: name -> dims).

    The graph inputs get B/N as their first dim (their other dims from `input_shapes` or the declaration); the
    graph outputs' declared first dims, which must be B where they are static, become B/N; the shapes recorded
    for intermediate values are dropped (inferred again for the slice)."""
    from .frontend.onnx.validate import load_model
    ranks = _check_ranks(ranks)
    proto = load_model(model, base_dir=base_dir, verb="read")   # a copy, external data read
    import onnx
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    g = m.graph
    inits = {t.name for t in g.initializer} | {t.values.name for t in g.sparse_initializer}
    given = dict(input_shapes or {})
    batch, first = None, None
    shapes: dict[str, list[int]] = {}
    for vi in g.input:
        if vi.name in inits or not vi.type.HasField("tensor_type"):
            continue
        t = vi.type.tensor_type
        declared = ([d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim]
                    if t.HasField("shape") else None)
        dims = list(given[vi.name]) if vi.name in given else declared
        if dims is None or not dims:
            raise CompileError(f"--ranks {ranks}: input '{vi.name}' has no first axis to split (the batch is the "
                               f"first dim of every input)", stage="mpi")
        b = dims[0]
        if b is None:
            raise CompileError(f"--ranks {ranks}: the batch (first dim) of input '{vi.name}' is symbolic: give it "
                               f"with --input-shape {vi.name}=B,... (input_shapes=)", stage="mpi")
        b = int(b)
        if batch is None:
            batch, first = b, vi.name
        elif b != batch:
            raise CompileError(f"--ranks {ranks}: inputs '{first}' and '{vi.name}' have different first dims "
                               f"({batch} and {b}): the batch is split along the first dim of every input",
                               stage="mpi")
        if b % ranks:
            raise CompileError(f"--ranks {ranks}: the batch of input '{vi.name}' is {b}, which {ranks} ranks "
                               f"cannot split evenly (each rank runs batch/ranks samples; remainders are not "
                               f"handled): use a batch that is a multiple of {ranks}, or "
                               f"{_divisors_hint(b)}", stage="mpi")
        slice_dims = [b // ranks, *dims[1:]]
        if vi.name in given or (declared is not None and None not in declared):
            if None not in slice_dims:
                shapes[vi.name] = [int(d) for d in slice_dims]
        d0 = t.shape.dim[0]
        d0.Clear()
        d0.dim_value = b // ranks
    if batch is None:
        raise CompileError(f"--ranks {ranks}: the model has no graph input to split", stage="mpi")
    whole = _whole_output_shapes(proto, given)
    for vi in g.output:
        t = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not t.HasField("shape"):
            continue
        if not t.shape.dim:
            raise CompileError(f"--ranks {ranks}: output '{vi.name}' is a scalar; the outputs are gathered "
                               f"along their first axis (the batch)", stage="mpi")
        d0 = t.shape.dim[0]
        if d0.HasField("dim_value") and d0.dim_value > 0 and d0.dim_value != batch:
            raise CompileError(f"--ranks {ranks}: output '{vi.name}' has first dim {d0.dim_value}, not the batch "
                               f"{batch}: the outputs are gathered along their first axis (the batch)",
                               stage="mpi")
        for d in t.shape.dim:
            d.Clear()
    for vi in g.value_info:
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    return m, (shapes or None), batch, whole


def _whole_output_shapes(proto, given) -> dict[str, list[int]]:
    """The static output shapes of the whole batch: declared, else inferred by ONNX (best effort)."""
    import onnx

    def static(vi):
        t = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not t.HasField("shape"):
            return None
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim]
        return None if None in dims else dims

    out = {vi.name: static(vi) for vi in proto.graph.output}
    if None in out.values():
        try:
            from .graph.shapes import fix_input_shapes
            m = onnx.ModelProto()
            m.CopyFrom(proto)
            inferred = onnx.shape_inference.infer_shapes(fix_input_shapes(m, given or None), data_prop=True)
            for vi in inferred.graph.output:
                if out.get(vi.name) is None:
                    out[vi.name] = static(vi)
        except Exception:   # noqa: BLE001 - only a check: run --check still compares with onnxruntime
            pass
    return {k: v for k, v in out.items() if v is not None}


def _divisors_hint(b: int) -> str:
    ds = [d for d in range(1, min(b, 64) + 1) if b % d == 0]
    return f"a number of ranks that divides {b} ({', '.join(map(str, ds))})"


def whole_batch(info, ranks: int):
    """The model's info with the first dim of every input and output multiplied by `ranks`: what the MPI
    program reads and writes (and what CompiledModel.run takes and gives)."""
    def scale(t):
        return dataclasses.replace(t, shape=(int(t.shape[0]) * ranks, *t.shape[1:]))
    return dataclasses.replace(info, inputs=[scale(t) for t in info.inputs], outputs=[scale(t) for t in info.outputs])


def compile(model, ranks: int, target, *, input_shapes=None, base_dir=None, **kw):
    """swmlir.compile(model, target, ranks=N): the slice compiled, its package made an MPI package."""
    from . import compiler
    ranks = _check_ranks(ranks)
    if kw.get("llvm"):
        raise CompileError("--ranks with the LLVM IR output is not supported: the MPI variant is built from the C",
                           stage="mpi")
    proto, shapes, batch, whole = per_rank_model(model, ranks, input_shapes, base_dir)
    try:
        m = compiler.compile(proto, target, input_shapes=shapes, **kw)
    except CompileError as e:   # the same error, said to be the slice's
        hint = (f" (a shape fixed to the batch, as Reshape to [{batch}, -1], cannot be split)"
                if e.stage in ("import", "graph") else "")
        e.args = (f"--ranks {ranks}: compiling the model for one rank's slice of the batch ({batch // ranks} of "
                  f"{batch} samples) failed{hint}: {e.args[0] if e.args else e.reason}",) + e.args[1:]
        raise
    for t in m.info.outputs:
        if not t.shape:
            raise CompileError(f"--ranks {ranks}: output '{t.name}' is a scalar for one slice; the outputs are "
                               "gathered along their first axis (the batch)", stage="mpi")
        want = whole.get(t.name)
        if want is not None and [int(t.shape[0]) * ranks, *map(int, t.shape[1:])] != list(want):
            raise CompileError(f"--ranks {ranks}: output '{t.name}' of one slice ({batch // ranks} of {batch} "
                               f"samples) has shape {list(t.shape)}, the whole batch's is {list(want)}: the model "
                               f"does not split along the batch (a shape fixed to the batch inside it, as Reshape "
                               f"to [{batch}, -1], or an op across samples)", stage="mpi")
    slice_info = m.info
    m.info = whole_batch(slice_info, ranks)
    m.ranks = ranks
    m.files.update(package_files(m.target, slice_info, m.info, ranks, m.files))
    return m


# ----------------------------------------------------------------------------------------------- the package

def _mpicc(target, cc: str) -> str:
    """The MPI wrapper of the Sunway compiler `cc` ("sw5cc -host" -> "mpicc -host", "swgcc -mhybrid" -> "mpicc
    -mhybrid"): the same role flag, the wrapper adds MPI's headers and library."""
    return " ".join(["mpicc", *cc.split()[1:]])


def _bsub_mpi(target) -> str:
    return cfiles.bsub_flags(target).replace("-n 1", "-n $(RANKS)")


def makefile_section(target, info, ranks: int) -> str:
    if not cfiles._cross_compiled(target):
        return f"""
# MPI variant (swmlir compile --ranks {ranks}): data parallel over the batch, one rank per core group.
#   make mpi          the CMake build's {PROGRAM} (CMake finds MPI: Open MPI's mpicc)
#   make run-mpi      mpirun -n $(RANKS) ./build/{PROGRAM} $(WEIGHTS) $(INPUTS) $(OUTPUTS)
MPIRUN ?= mpirun
RANKS  ?= {ranks}
mpi: all

run-mpi: mpi $(INPUTS)
\t$(MPIRUN) -n $(RANKS) ./build/{PROGRAM} $(WEIGHTS) $(INPUTS) $(OUTPUTS) $(ARGS)
.PHONY: mpi run-mpi
"""
    per_rank = info.inputs[0].shape[0] // ranks
    return f"""
# MPI variant (swmlir compile --ranks {ranks}): data parallel over the batch, one MPI rank per core group. Rank 0
# reads the whole batch and scatters it, each rank runs a slice of {per_rank} samples, rank 0 gathers and writes
# the outputs.
#   make mpi          build ./{PROGRAM}: its main ($(RUNTIME)/driver_mpi.c) with $(MPICC_HOST), linked with
#                     $(MPICC_LINK) (host objects as above, kernels with $(CC_SLAVE))
#   make run-mpi      run it on $(RANKS) core groups: bsub -n $(RANKS) ... ./{PROGRAM} (make run-mpi RANKS=8
#                     reads files of 8 slices)
MPICC_HOST ?= {_mpicc(target, target.cc_host)}
MPICC_LINK ?= {_mpicc(target, target.cc_link)}
RANKS ?= {ranks}
BSUB_FLAGS_MPI ?= {_bsub_mpi(target)}

mpi: {PROGRAM}

driver_mpi.o: $(RUNTIME)/driver_mpi.c model.h $(RUNTIME)/include/swmlir_runtime.h
\t$(MPICC_HOST) $(CFLAGS_HOST) -c $< -o $@

{PROGRAM}: model_host.o model_slave.o swmlir_runtime.o driver_mpi.o
\t$(MPICC_LINK) $^ -o $@ $(LDFLAGS)

run-mpi: {PROGRAM} $(INPUTS)
\t$(BSUB) $(BSUB_FLAGS_MPI) ./{PROGRAM} $(WEIGHTS) $(INPUTS) $(OUTPUTS) $(ARGS)

clean-mpi:
\trm -f driver_mpi.o {PROGRAM}
.PHONY: mpi run-mpi clean-mpi
"""


def cmake_section(target, info, ranks: int) -> str:
    ins, outs = cfiles._io_files(info)
    run_args = " ".join(["model.weights.bin", *ins, *outs])
    return f"""
# MPI variant (swmlir compile --ranks {ranks}): {PROGRAM}, the batch split over the ranks (runtime/driver_mpi.c),
# built when CMake finds MPI (Debian: apt-get install openmpi-bin libopenmpi-dev).
#   mpirun -n {ranks} ./build/{PROGRAM} {run_args}      (or: cmake --build build --target run-mpi)
find_package(MPI COMPONENTS C)
if(MPI_C_FOUND)
  add_executable({PROGRAM} model_host.c {cfiles.RUNTIME_DIR}/driver_mpi.c $<TARGET_OBJECTS:model_slave>)
  target_compile_definitions({PROGRAM} PRIVATE SWMLIR_HOST)
  target_include_directories({PROGRAM} PRIVATE ${{CMAKE_CURRENT_SOURCE_DIR}})
  target_link_libraries({PROGRAM} PRIVATE swmlir_emulator m MPI::MPI_C)
  set(SWMLIR_RANKS {ranks} CACHE STRING "MPI ranks of the run-mpi target")
  add_custom_target(run-mpi COMMAND ${{MPIEXEC_EXECUTABLE}} ${{MPIEXEC_NUMPROC_FLAG}} ${{SWMLIR_RANKS}}
                    ${{MPIEXEC_PREFLAGS}} $<TARGET_FILE:{PROGRAM}> ${{MPIEXEC_POSTFLAGS}} {run_args}
                    DEPENDS {PROGRAM} WORKING_DIRECTORY ${{CMAKE_CURRENT_SOURCE_DIR}} USES_TERMINAL)
else()
  message(STATUS "MPI not found: {PROGRAM} (the MPI variant) is not built")
endif()
"""


def readme_section(target, slice_info, info, ranks: int) -> str:
    ins, outs = cfiles._io_files(info)
    run_args = " ".join(["model.weights.bin", *ins, *outs])
    b = info.inputs[0].shape[0]
    s = slice_info.inputs[0].shape[0]
    if cfiles._cross_compiled(target):
        bsub = _bsub_mpi(target).replace("$(QUEUE)", cfiles.DEFAULT_QUEUE).replace("$(RANKS)", str(ranks))
        sunway = f"""On a Sunway login node: `make mpi` builds `./{PROGRAM}`, its `main` (`{DRIVER}`) compiled with
`{_mpicc(target, target.cc_host)}` and linked with `{_mpicc(target, target.cc_link)}` (the other host objects as
for `make`, the kernels with `{target.cc_slave}`); `make run-mpi` submits it to {ranks} core groups, one MPI rank
each:

    bsub {bsub} ./{PROGRAM} {run_args}

(`make run-mpi RANKS=8 QUEUE=<queue>`; `MPICC_HOST`, `MPICC_LINK` and `BSUB_FLAGS_MPI` can be set too.) A rank
drives one core group (`-cgsp 64`): a node of {target.name} has {target.cgs_per_chip} core groups, so k nodes take
{target.cgs_per_chip}k ranks.
"""
    else:
        sunway = "`make mpi` builds it (the CMake build below), `make run-mpi` runs it with mpirun.\n"
    return f"""
## Many nodes: the MPI variant (data parallel over the batch)

This package was compiled with `--ranks {ranks}`: the model is compiled for one rank's slice of the batch
({s} of {b} samples); the program `{PROGRAM}` runs it on every MPI rank. Rank 0 reads the input files, which hold the
whole batch ({b} samples on {ranks} ranks: the table above), and scatters the slices (`MPI_Scatter`, along the
first axis); every rank reads the weights file itself, runs its slice on its core group and the output slices
are gathered on rank 0 (`MPI_Gather`), which writes the output files. With M ranks the files hold M slices
(`{PROGRAM}` takes the number of ranks from MPI). `./model` (`make`) is the single-rank program of one slice.

{sunway}
On a laptop (Open MPI, the emulator): the CMake build makes `build/{PROGRAM}` when CMake finds MPI,

    cmake -S . -B build && cmake --build build
    mpirun -n {ranks} ./build/{PROGRAM} {run_args}

(as root add `--allow-run-as-root`; with more ranks than cores `--oversubscribe`). `swmlir run MODEL --ranks
{ranks} --check` does all of this and compares with onnxruntime.
"""


def package_files(target, slice_info, info, ranks: int, files: dict) -> dict[str, str]:
    """The files an MPI package has instead of (or besides) the single-rank one's."""
    from . import io as swio
    from .runtime.build import driver_mpi_source
    out = {DRIVER: open(driver_mpi_source()).read(),
           "Makefile": files["Makefile"] + makefile_section(target, info, ranks),
           "CMakeLists.txt": files["CMakeLists.txt"] + cmake_section(target, info, ranks),
           swio.METADATA: swio.metadata_text(info, target.name)}
    names = [*files, *out]
    out["README.md"] = cfiles.readme(target, info, names) + readme_section(target, slice_info, info, ranks)
    return out


# ---------------------------------------------------------------------------------------------------- running

@functools.lru_cache(maxsize=None)
def _flavour(mpirun: str) -> str:
    try:
        text = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return "openmpi" if "Open MPI" in text or "OpenRTE" in text else "other"


def mpirun_path() -> str | None:
    return os.environ.get("SWMLIR_MPIRUN") or shutil.which("mpirun")


def launcher(ranks: int) -> list[str]:
    """mpirun -n N and, for Open MPI, what a laptop or CI machine needs: --allow-run-as-root as root,
    --oversubscribe with more ranks than cores, --bind-to none (each rank runs 64 CPE threads of the emulator)."""
    mpirun = mpirun_path()
    if not mpirun:
        raise CompileError("--ranks needs mpirun (Open MPI: apt-get install openmpi-bin libopenmpi-dev; "
                           "scripts/setup.sh installs it as root)", stage="run")
    cmd = [mpirun, "-n", str(_check_ranks(ranks))]
    if _flavour(mpirun) == "openmpi":
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        if ranks > (os.cpu_count() or 1):
            cmd.append("--oversubscribe")
        cmd += ["--bind-to", "none"]
    return cmd
