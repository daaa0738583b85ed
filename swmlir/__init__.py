"""swmlir: an ONNX compiler for the Sunway many-core processors, built on upstream MLIR.

    import swmlir
    m = swmlir.compile("model.onnx", target="sw26010")   # import, schedule, lower, emit C
    m.save("out/")                                        # host C, kernel C, headers, weights, Makefile, CMake
    outputs = m.run({"x": x})                             # built and run on the host emulator of athread
    swmlir.compare("model.onnx", {"x": x}).table()       # every node against onnxruntime at every stage
"""
from .errors import CompileError, InvalidModelError, ScheduleError, UnsupportedOpsError  # noqa: F401
from .targets import TARGETS, get_target  # noqa: F401
from .compare import compare  # noqa: F401,E402  (the function; the package is swmlir.compare in sys.modules)


def compile(model, target="sw26010", *, input_shapes=None, optimize=True, schedule="model", base_dir=None,
            tuning_db=None, llvm=False, ranks=None, cgs=1):
    """Compile an ONNX model (a path or an onnx.ModelProto) for `target`; returns a CompiledModel.
    schedule="baseline" keeps the first round's kernels (greedy tiles, scalar loops), for comparisons.
    base_dir: the folder of a ModelProto's external data (required when it has some; see compiler.compile).
    tuning_db: a tuning database written by `swmlir tune` (docs/tuning.md), applied where it has entries.
    llvm: also emit the LLVM IR output beside the C (run(via="llvm") runs it; swmlir.llvmir).
    ranks: data parallel over that many MPI ranks (swmlir.mpi): each runs batch/ranks; run() uses mpirun.
    cgs: the core groups every kernel is spread over (1..the target's CGs per chip, or "all"; swmlir.targets)."""
    from .compiler import compile as _compile
    return _compile(model, target, input_shapes=input_shapes, optimize=optimize, schedule=schedule,
                    base_dir=base_dir, tuning_db=tuning_db, llvm=llvm, ranks=ranks, cgs=cgs)


__all__ = ["compile", "compare", "CompileError", "InvalidModelError", "ScheduleError", "UnsupportedOpsError",
           "TARGETS", "get_target"]
