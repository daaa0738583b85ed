"""sunway-gather-put-rows: output tiles that a mesh row puts side by side are regrouped into whole rows first.

A GEMM's CPE (r, p) ends with the tile C[R rows, W columns] at columns p*W of the rows its mesh row r owns: its
put is R blocks of W elements (256 bytes for a 64x64 f32 tile), where the DMA curve gives a quarter of its
plateau. The 8 tiles of a mesh row together are R rows of 8*W contiguous elements. This pass proves that layout
(the put's view offsets evaluated over every work item, exactly, as sunway-share-tiles does for gets), then has
the CPE at position p take rows p*R/8 .. (p+1)*R/8 of all 8 tiles by register communication
(`sunway.mesh_gather_rows`) and put them as rows of 8*W: one contiguous block per strip when W*8 is the whole
row of the destination. The strip holds as many of those rows as the kernel's free LDM allows (chunks, each
gathered, put and waited for in turn).

It rewrites only where the performance model says it pays: the put's bytes at the curve's bandwidth for the
longer blocks plus the register communication (sim.mix.gather_rows_cycles) against the put as it was.
Conditions, else the put is left alone: the target has register communication (SW26010, the athread API; a
CRTS target has no RMA form of the op yet); one core group; the put
is in a work-item loop of a static item count that is a multiple of 8, or before it, and a wait for it alone
follows it; the LDM tile is a whole buffer of shape [1.., R, W] with R a multiple of 8 and W*element size a
multiple of 32 bytes; its destination is a subview whose offsets are the same within every mesh row but the last,
which is the row's first one + p*W.
"""
from __future__ import annotations


import numpy as np
from mlir import ir
from mlir.dialects import arith

from swmlir.schedule.loop_nest import elem_bytes
from swmlir.sim.constants import cpe_constants
from swmlir.sim.dma import bandwidth, curve_of
from swmlir.sim.mix import gather_rows_cycles
from swmlir.targets import get_target

from . import register_pass
from ._util import constant_int, ensure_sunway, funcs, index_const
from .check_ldm import kernel_ldm_bytes
from .share_tiles import _work_item_loop, evaluate

_MESH = 8


def _offsets(view_op: ir.Operation, env: dict) -> list | None:
    """The subview's offsets over the work items (numpy arrays or ints); None where not computable."""
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    dyn = iter(view_op.operands[1:])
    out = []
    for o in ir.DenseI64ArrayAttr(view_op.attributes["static_offsets"]):
        x = evaluate(next(dyn), env) if o == dynamic else np.int64(o)
        if x is None:
            return None
        out.append(np.asarray(x, dtype=np.int64))
    return out


def _side_by_side(offsets: list, width: int, items: int) -> bool:
    """Within every group of 8 consecutive items (a mesh row), all offsets but the last are equal and the last
    is the group's first + p * width."""
    groups = []
    for o in offsets:
        g = np.broadcast_to(o.reshape(o.shape or (1,)), (items,)).reshape(-1, _MESH)
        groups.append(g)
    for g in groups[:-1]:
        if not np.all(g == g[:, :1]):
            return False
    last = groups[-1]
    return bool(np.all(last == last[:, :1] + np.arange(_MESH) * width))


def _pays(tile_bytes: int, width_bytes: int, strip_rows: int, row_stride: int, width: int, tgt) -> bool:
    """The modeled put of all 64 tiles before and after (a CPE's register communication is its own time)."""
    curve = curve_of(tgt)
    before = 64 * tile_bytes / bandwidth(width_bytes, curve)
    block = strip_rows * 8 * width_bytes if row_stride == 8 * width else 8 * width_bytes
    rows = tile_bytes // width_bytes
    chunks = rows // 8 // strip_rows
    c = cpe_constants(tgt)
    after = 64 * tile_bytes / bandwidth(block, curve) \
        + chunks * gather_rows_cycles(strip_rows, width_bytes, c)[0] / c.clock_hz
    return after < before


def _rewrite(put: ir.Operation, wait: ir.Operation, view_op: ir.Operation, strip_rows: int) -> None:
    tile, dst, reply = put.operands
    tshape = list(tile.type.shape)
    rows, width = tshape[-2], tshape[-1]
    per = rows // _MESH
    parent = view_op.operands[0]
    strides, _ = parent.type.get_strides_and_offset()
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    strip_shape = tshape[:-2] + [strip_rows, _MESH * width]
    with ir.InsertionPoint(put), put.location:
        strip = ir.Operation.create(
            "sunway.ldm_alloc", results=[ir.MemRefType.get(strip_shape, tile.type.element_type,
                                                            memory_space=tile.type.memory_space)]).results[0]
        pos = ir.Operation.create("sunway.cpe_col", results=[ir.IndexType.get()]).results[0]
        dyn = iter(view_op.operands[1:])
        base = [next(dyn) if o == dynamic else index_const(o)
                for o in ir.DenseI64ArrayAttr(view_op.attributes["static_offsets"])]
        row0 = arith.AddIOp(base[-2], arith.MulIOp(pos, index_const(per)).result).result
        col0 = arith.SubIOp(base[-1], arith.MulIOp(pos, index_const(width)).result).result
        out_type = ir.MemRefType.get(strip_shape, tile.type.element_type,
                                     ir.StridedLayoutAttr.get(dynamic, strides), parent.type.memory_space)
        i64 = ir.IntegerType.get_signless(64)
        for first in range(0, per, strip_rows):
            ir.Operation.create("sunway.mesh_gather_rows", operands=[tile, strip],
                                attributes={"first": ir.IntegerAttr.get(i64, first)})
            row = arith.AddIOp(row0, index_const(first)).result if first else row0
            offsets = base[:-2] + [row, col0]
            view = ir.Operation.create(
                "memref.subview", results=[out_type], operands=[parent, *offsets],
                attributes={"static_offsets": ir.DenseI64ArrayAttr.get([dynamic] * len(offsets)),
                            "static_sizes": ir.DenseI64ArrayAttr.get(strip_shape),
                            "static_strides": ir.DenseI64ArrayAttr.get([1] * len(offsets)),
                            "operandSegmentSizes": ir.DenseI32ArrayAttr.get([1, len(offsets), 0, 0])}).results[0]
            ir.Operation.create("sunway.dma_put", operands=[strip, view, reply])
            ir.Operation.create("sunway.dma_wait", operands=[reply, index_const(1)])
    wait.erase()
    put.erase()


def _next(op: ir.Operation) -> ir.Operation | None:
    """The op after `op` in its block, constants skipped."""
    block_ops = [o.operation for o in op.block.operations]
    for later in block_ops[block_ops.index(op) + 1:]:
        if later.name != "arith.constant":
            return later
    return None


def _candidate(put: ir.Operation, items: int, env: dict, free: int, tgt) -> tuple | None:
    """(wait, view op, strip rows) where `put` can be rewritten and it pays, else None."""
    tile, dst, reply = put.operands
    nxt = _next(put)
    if isinstance(tile.owner, ir.Block) or tile.owner.operation.name != "sunway.ldm_alloc":
        return None
    if nxt is None or nxt.name != "sunway.dma_wait" or nxt.operands[0] != reply \
            or constant_int(nxt.operands[1]) != 1:
        return None
    if isinstance(dst.owner, ir.Block) or dst.owner.operation.name != "memref.subview":
        return None
    view_op = dst.owner.operation
    shape = list(tile.type.shape)
    if len(shape) < 2 or any(n != 1 for n in shape[:-2]) or shape[-2] % _MESH:
        return None
    rows, width = shape[-2], shape[-1]
    eb = elem_bytes(tile.type.element_type)
    if width * eb % 32 or list(ir.DenseI64ArrayAttr(view_op.attributes["static_strides"])) != [1] * len(shape):
        return None
    parent = view_op.operands[0]
    strides, _ = parent.type.get_strides_and_offset()
    if strides[-1] != 1 or strides[-2] < _MESH * width or parent.type.rank != len(shape):
        return None
    if parent.type.shape[-1] != ir.ShapedType.get_dynamic_size() and parent.type.shape[-1] < _MESH * width:
        return None
    offsets = _offsets(view_op, dict(env))
    if offsets is None or not _side_by_side(offsets, width, items):
        return None
    per = rows // _MESH
    fits = [r for r in range(per, 0, -1) if per % r == 0 and r * _MESH * width * eb <= free]
    if not fits or not _pays(rows * width * eb, width * eb, fits[0], strides[-2], width, tgt):
        return None
    return nxt, view_op, fits[0]


def gather_kernel(kfn: ir.Operation, tgt) -> int:
    entry = kfn.regions[0].blocks[0]
    ids = [o.operation for o in entry.operations if o.operation.name == "sunway.cpe_id"]
    if len(ids) != 1 or any(o.operation.name == "sunway.cg_id" for o in entry.operations):
        return 0
    cpe = ids[0].results[0]
    found = []
    free = tgt.ldm_budget - kernel_ldm_bytes(kfn)
    cpes = np.arange(64, dtype=np.int64)
    for put in [o.operation for o in entry.operations if o.operation.name == "sunway.dma_put"]:
        c = _candidate(put, 64, {cpe: cpes, "cpe": cpes}, free, tgt)
        if c:
            found.append((put, *c))
    loop = _work_item_loop(kfn, cpe)
    items = constant_int(loop.operands[1]) if loop is not None else None
    if items and items % _MESH == 0 and items <= 1 << 22:
        t = np.arange(items, dtype=np.int64)
        env = {loop.regions[0].blocks[0].arguments[0]: t, cpe: t % 64, "cpe": t % 64}
        for put in [o.operation for o in loop.regions[0].blocks[0].operations
                    if o.operation.name == "sunway.dma_put"]:
            c = _candidate(put, items, env, free, tgt)
            if c:
                found.append((put, *c))
    done = 0
    for put, wait, view_op, strip_rows in found:
        need = strip_rows * _MESH * put.operands[0].type.shape[-1] * elem_bytes(put.operands[0].type.element_type)
        if need > free:
            continue
        free -= need
        _rewrite(put, wait, view_op, strip_rows)
        done += 1
    return done


@register_pass("sunway-gather-put-rows",
               "Regroup the output tiles of a mesh row into whole rows by register communication before the put",
               options={"target": ("sw26010", "only targets with register communication are rewritten")},
               nestable=True)
def gather_put_rows(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    if tgt.mesh_comm != "rlc" or tgt.runtime_api == "crts":   # register communication: the athread API only
        return
    for kfn in funcs(module, kernels=True):
        n = gather_kernel(kfn, tgt)
        if n:
            kfn.attributes["sunway.gathered_puts"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), n)
