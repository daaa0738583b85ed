"""The pipeline: named stages, each a textual pass pipeline over the module (upstream passes and ours).

  import    ONNX -> func.func @main on tensors (linalg, tensor, arith)         swmlir.frontend.onnx
  graph     simplification: canonicalize, cse; unit dims folded                upstream, passes/fold_unit_dims.py
  schedule  elementwise ops past a conv's width cut                           passes/sink_slices.py
            scf.forall over the CPEs, LDM tiles promoted to memory space 2     passes/schedule.py
            padded inputs fetched unpadded, with their halo, padded in LDM     passes/fetch_halos.py
            weights stored tile-major (one DMA block per tile)                 passes/pack_weights.py
            input tiles of short rows fetched as whole rows                    passes/stage_whole_rows.py
  bufferize memrefs; main memory = space 0, LDM = space 2                      upstream one-shot-bufferize
  sunway    LDM buffers, DMA, kernels outlined and mapped to CPE ids            passes/lower_ldm.py ...
  split     host module (MPE) and kernel module (CPE)                          split_host_and_kernels
  emit      C for the athread API through EmitC                                passes/lower_to_athread.py,
                                                                               passes/host_to_emitc.py
            or LLVM IR through the LLVM dialect (--emit llvm)                  passes/lower_to_athread_calls.py,
                                                                               passes/host_to_athread_calls.py,
                                                                               swmlir/llvmir/
"""
from __future__ import annotations

from mlir import ir

from .pass_pipeline import run_pipeline
from .passes._util import KERNEL_ATTR

STAGES = ("import", "graph", "schedule", "bufferize", "sunway", "split", "emit")
STAGE_ALIASES = {"linalg": "import", "onnx": "import", "tiled": "schedule", "memref": "bufferize",
                 "c": "emit", "kernels": "split", "host": "split"}


SCHEDULES = ("model", "baseline")   # baseline: greedy tiles and scalar kernels, the first round's schedule


def stage_pipelines(target: str, optimize: bool = True, schedule: str = "model") -> dict[str, list[str]]:
    tiles = "model" if schedule == "model" else "greedy"
    reuse = ["sunway-hoist-invariant-dma", "sunway-hoist-fills", f"sunway-double-buffer{{target={target}}}",
             f"sunway-share-tiles{{target={target}}}", f"sunway-gather-put-rows{{target={target}}}"] if schedule == "model" else []
    return {
        # unit dims dropped: a bias add of [1, S, N] then reads a [S, N] matmul directly and fuses
        "graph": (["canonicalize", "cse", *(["sunway-fold-unit-dims", "sunway-fold-transposes", "sunway-fold-add-into-init", "canonicalize", "cse"]
                                              if schedule == "model" else [])] if optimize else []),
        "schedule": [*(["sunway-sink-slices"] if schedule == "model" else []),
                     f"sunway-schedule{{target={target} fuse={int(optimize)} tiles={tiles}}}",
                     *(["sunway-fetch-halos", "sunway-pack-weights", "canonicalize",
                        f"sunway-stage-whole-rows{{target={target}}}"]
                       if schedule == "model" else [])],
        "bufferize": ["one-shot-bufferize{bufferize-function-boundaries "
                      "function-boundary-type-conversion=identity-layout-map}",
                      "canonicalize", "cse",
                      "buffer-results-to-out-params{modify-public-functions hoist-static-allocs}",
                      "canonicalize"],
        "sunway": ["sunway-outline-kernels", "sunway-lower-ldm", "sunway-lower-dma",
                   f"sunway-map-cpes{{target={target}}}", *reuse, f"sunway-check-ldm{{target={target}}}",
                   "canonicalize", "cse"],
    }


def kernel_loops(target: str, schedule: str = "model") -> list[str]:
    """Kernels to loops, contractions to SIMD micro-kernels: the IR the performance model reads its instruction
    mix from (swmlir.sim.mix)."""
    simd = [f"sunway-vectorize-contractions{{target={target}}}", f"sunway-vectorize-copies{{target={target}}}",
            "sunway-interchange-reductions"] if schedule == "model" else []
    # fold-memref-alias-ops: loads and stores through a view of an LDM buffer (a pad built in LDM) index the
    # buffer itself, which is a plain C array once in the kernel
    unroll = ["sunway-stream-puts", "sunway-fast-math", "canonicalize", "loop-invariant-code-motion",
              f"sunway-unroll-latency-bound{{target={target}}}", f"sunway-unroll-microkernel{{target={target}}}",
              "canonicalize"] if schedule == "model" else []
    return simd + ["func.func(convert-linalg-to-loops)", "fold-memref-alias-ops", "lower-affine", "arith-expand",
                   "canonicalize", "cse", "loop-invariant-code-motion", *unroll]


KERNEL_EMIT = ["sunway-lower-to-athread", "sunway-vector-to-simd", "convert-math-to-emitc{language-target=c99}", "convert-to-emitc", "reconcile-unrealized-casts", "canonicalize",
               "sunway-emitc-kernel-entries"]
# (no form-expressions: on some kernels its expressions make mlir-to-cpp fail with "region entry argument
#  already in use"; the C is only more verbose without it)
HOST_EMIT = ["sunway-host-to-emitc"]

# The LLVM IR output (swmlir.llvmir), from the same split modules: the sunway ops become calls of the athread API
# (declared external functions), then the upstream conversions to the LLVM dialect. Memrefs are passed as bare
# pointers (static shapes): a kernel is `void k(float *, ...)` as in C; vector<4xf32> stays an LLVM vector.
_TO_LLVM = ["convert-vector-to-scf", "convert-vector-to-llvm", "expand-strided-metadata", "lower-affine",
            "convert-math-to-llvm", "convert-math-to-libm", "convert-scf-to-cf", "convert-cf-to-llvm",
            "finalize-memref-to-llvm", "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}",
            "convert-arith-to-llvm", "convert-index-to-llvm", "convert-ub-to-llvm", "reconcile-unrealized-casts"]
KERNEL_LLVM = ["sunway-lower-to-athread-calls", "canonicalize", "cse", *_TO_LLVM, "sunway-athread-kernel-entries",
               "canonicalize"]
HOST_LLVM = ["sunway-host-to-athread-calls", "canonicalize", *_TO_LLVM]


def canonical_stage(name: str) -> str:
    name = STAGE_ALIASES.get(name, name)
    if name not in STAGES:
        from .errors import CompileError
        raise CompileError(f"unknown stage '{name}'; stages: {', '.join(STAGES)} "
                           f"(aliases: {', '.join(STAGE_ALIASES)})", stage="pipeline")
    return name


def run_stages(module: ir.Module, target: str, *, first: str = "graph", last: str = "sunway",
               timing=None, print_ir_after_all: bool = False, optimize: bool = True, schedule: str = "model") -> None:
    """Run the stages from `first` to `last` (inclusive) of graph..sunway on `module` in place."""
    pipes = stage_pipelines(target, optimize, schedule)
    order = [s for s in STAGES if s in pipes]
    for stage in order[order.index(first):order.index(last) + 1]:
        if pipes[stage]:
            tick = (lambda name, sec, _s=stage: timing(f"{_s}: {name}", sec)) if timing else None
            run_pipeline(module, pipes[stage], timing=tick, print_ir_after_all=print_ir_after_all)


def split_host_and_kernels(module: ir.Module) -> tuple[ir.Module, ir.Module]:
    """Move the kernel functions into a module of their own; what stays is the host module."""
    with module.context, ir.Location.unknown():
        kernels = ir.Module.create()
    for op in list(module.body.operations):
        op = op.operation
        if op.name == "func.func" and KERNEL_ATTR in op.attributes:
            op.clone(ir.InsertionPoint(kernels.body))
            op.erase()
    return module, kernels
