"""sunway-stage-whole-rows: an LDM input tile made of short rows is fetched as whole rows and sliced in LDM.

A tile that takes 14 of the 16 columns of a conv's vector-width output, or the 31 of 32 columns a stride-2 gather
reads, is a DMA block per row: 56 or 124 bytes, where the core group's DMA gives a few GB/s. Taking the rows
whole makes the tile one contiguous block (or a few), and the op reads its slice of the LDM tile instead (a view:
no copy). This pass widens the innermost cut dimensions of a staged input (`bufferization.materialize_in_destination`
of a `tensor.extract_slice` into an LDM tile, directly in a work item) while the DMA curve says the wider box
arrives sooner and the work item's LDM tiles still fit the budget.

Only inputs are widened (the extra bytes are read, never written back), and only for ops that read the tile
through an affine map: elementwise ops, gathers, pools and pads, not the contractions, whose micro-kernels
want dense tiles (sunway-vectorize-contractions). A tile a copy kernel puts back as it is gets a dense LDM
copy of its slice first (DMA reads and writes LDM contiguously).
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import bufferization as bz
from mlir.dialects import linalg, tensor

from swmlir.schedule.fusion import parallel_loops
from swmlir.schedule.loop_nest import elem_bytes
from swmlir.sim.constants import cpe_constants
from swmlir.sim.dma import bandwidth, curve_of
from swmlir.targets import get_target

from . import register_pass
from ._util import as_operation, defining_op, funcs, static_ints
from .schedule import tile_budget

_DYNAMIC = ir.ShapedType.get_dynamic_stride_or_offset()


def contiguous_run(full: list[int], sizes: list[int]) -> int:
    """Elements in each contiguous block of a box of `sizes` in a row-major tensor of shape `full`."""
    run = 1
    for n, s in zip(reversed(full), reversed(sizes)):
        run *= s
        if s != n:
            break
    return run


def widened_sizes(full: list[int], sizes: list[int], elem: int, curve, room: int, *, cpes: int = 64,
                  copy_seconds: float = 0.0) -> list[int] | None:
    """The box with its innermost cut dimensions taken whole, as long as each widening makes the work item faster
    (its bytes over the core group's bandwidth at its block size, shared by `cpes` work items at once, plus
    `copy_seconds` for the LDM copy a put needs) and the extra bytes stay within `room`; None if none pays."""
    best, cur = None, list(sizes)

    def seconds(box):
        dma = math.prod(box) * elem * cpes / bandwidth(contiguous_run(full, box) * elem, curve)
        return dma + (copy_seconds if box != sizes else 0.0)

    while True:
        cut = [d for d in range(len(full)) if cur[d] != full[d]]
        if not cut:
            return best
        d = cut[-1]
        wide = cur[:d] + [full[d]] + cur[d + 1:]
        if (math.prod(wide) - math.prod(sizes)) * elem > room or seconds(wide) >= 0.95 * seconds(cur):
            return best
        best = cur = wide


def _uses(v: ir.Value) -> list[tuple[ir.Operation, int]] | None:
    """The uses of the staged tile when each reads it (an input of a non-contraction linalg.generic, a pad's
    source) or puts it back whole (tensor.parallel_insert_slice: a copy kernel); None otherwise."""
    found = []
    for use in v.uses:
        op = as_operation(use.owner)
        found.append((op, use.operand_number))
        if op.name == "tensor.parallel_insert_slice" and use.operand_number == 0:
            continue
        if op.name == "tensor.pad" and use.operand_number == 0:
            continue
        if op.name != "linalg.generic" or use.operand_number >= len(op.operands) - len(op.results):
            return None
        body = [o.operation.name for o in op.regions[0].blocks[0].operations]
        if "arith.mulf" in body and not all(parallel_loops(op)):
            return None
    return found


def _ldm_bytes(loop: ir.Operation) -> int:
    total = 0

    def visit(op):
        nonlocal total
        if op.name == "bufferization.alloc_tensor" and "memory_space" in op.attributes:
            t = op.results[0].type
            total += math.prod(t.shape) * elem_bytes(t.element_type)
        return ir.WalkResult.ADVANCE
    loop.walk(visit)
    return total


def _offsets(op: ir.Operation) -> tuple[list[int], list[ir.Value | None]]:
    """Static offsets (_DYNAMIC where dynamic) and, per dimension, the dynamic offset value."""
    static = static_ints(op, "static_offsets")
    dyn = iter(list(op.operands)[1:])
    return static, [next(dyn) if s == _DYNAMIC else None for s in static]


def _through_outer_slices(x: ir.Value, static: list[int], dyn: list):
    """A slice of a static, unit-stride slice of T is a slice of T (the cut of a conv's vector width, taken
    outside the work item): the tensor and the offsets in it; (None, ..) where an offset would need an add."""
    while True:
        outer = defining_op(x)
        if outer is None or outer.name != "tensor.extract_slice" or len(outer.operands) != 1:
            return x, static, dyn
        strides = static_ints(outer, "static_strides")
        base = outer.operands[0]
        if any(s != 1 for s in strides) or base.type.rank != x.type.rank or not base.type.has_static_shape:
            return x, static, dyn
        offs = static_ints(outer, "static_offsets")
        if any(o != 0 and s == _DYNAMIC for o, s in zip(offs, static)):
            return None, static, dyn
        static = [s if s == _DYNAMIC else s + o for s, o in zip(static, offs)]
        x = base


def _widen(mat: ir.Operation, budget: int, curve, cpes: int, cpe) -> bool:
    src = defining_op(mat.operands[0])
    dest = defining_op(mat.operands[1])
    if src is None or src.name != "tensor.extract_slice" or dest is None \
            or dest.name != "bufferization.alloc_tensor" or len(list(dest.results[0].uses)) != 1:
        return False
    x = src.operands[0]
    sizes, strides = static_ints(src, "static_sizes"), static_ints(src, "static_strides")
    if not x.type.has_static_shape or any(s != 1 for s in strides) or ir.ShapedType.get_dynamic_size() in sizes \
            or len(sizes) != x.type.rank or list(mat.results[0].type.shape) != sizes:
        return False
    uses = _uses(mat.results[0])
    if uses is None:
        return False
    puts = [u for u in uses if u[0].name == "tensor.parallel_insert_slice"]
    static, dyn = _offsets(src)
    x, static, dyn = _through_outer_slices(x, static, dyn)
    if x is None:
        return False
    full, elem = list(x.type.shape), elem_bytes(x.type.element_type)
    room = budget - _ldm_bytes(mat.parent) - (math.prod(sizes) * elem if puts else 0)
    # the copy of a put: about a load and a store per element on the CPE (swmlir.sim.mix counts it exactly)
    copy = 2 * math.prod(sizes) / cpe.clock_hz if puts else 0.0
    wide = widened_sizes(full, sizes, elem, curve, room, cpes=cpes, copy_seconds=copy)
    if wide is None:
        return False
    grown = [d for d in range(len(full)) if wide[d] != sizes[d]]
    t = ir.RankedTensorType.get(wide, x.type.element_type)
    with ir.InsertionPoint(mat), mat.location:
        box = tensor.ExtractSliceOp(t, x, [v for d, v in enumerate(dyn) if v is not None and d not in grown], [], [],
                                    [0 if d in grown else s for d, s in enumerate(static)], wide,
                                    [1] * len(full)).result
        ldm = bz.AllocTensorOp(t, [], memory_space=dest.attributes["memory_space"]).result
        staged = bz.MaterializeInDestinationOp(t, box, ldm).result
        view = tensor.ExtractSliceOp(mat.results[0].type, staged,
                                     [v for d, v in enumerate(dyn) if v is not None and d in grown], [], [],
                                     [s if d in grown else 0 for d, s in enumerate(static)], sizes,
                                     [1] * len(full)).result
    for op, i in puts:   # a DMA put needs a dense LDM tile: the view is copied into one on the CPE
        with ir.InsertionPoint(mat), mat.location:
            dense = bz.AllocTensorOp(view.type, [], memory_space=dest.attributes["memory_space"]).result
            op.operands[i] = linalg.copy(view, outs=[dense])
    mat.results[0].replace_all_uses_with(view)
    mat.erase()
    dest.erase()
    if not len(list(src.results[0].uses)):
        src.erase()
    return True


@register_pass("sunway-stage-whole-rows",
               "Fetch LDM input tiles of short rows as whole rows (one DMA block) and slice them in LDM",
               options={"target": ("sw26010", "target whose DMA curve and LDM size decide")})
def stage_whole_rows(module: ir.Operation, *, target: str = "sw26010") -> None:
    tgt = get_target(target)
    budget, curve = tile_budget(tgt), curve_of(tgt)
    cpe = cpe_constants(tgt)
    for f in funcs(module, kernels=False):
        for o in list(f.regions[0].blocks[0].operations):
            loop = o.operation
            if loop.name != "scf.forall":
                continue
            for m in list(loop.regions[0].blocks[0].operations):
                if m.operation.name == "bufferization.materialize_in_destination":
                    _widen(m.operation, budget, curve, tgt.cpes_per_cg, cpe)
