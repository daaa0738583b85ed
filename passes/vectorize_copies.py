"""sunway-vectorize-copies: fills and copies of f32 LDM tiles in CPE kernels move whole vectors.

A pad kernel builds its padded planes in LDM: a fill of the tile and a copy of the source into its interior
(swmlir.schedule.pads); a copy kernel that staged whole rows copies its slice into a dense tile before the put
(sunway-stage-whole-rows). As scalar loops these are a load and a store per float, on the CPE's one load/store
pipe. Along the innermost dimension, contiguous in both views, they are vector loads and stores of 4 floats
(SW26010; 8 on SW26010-Pro), unaligned where the interior starts off a vector boundary, with a scalar tail:

  for the outer dims:
    for j in [0, n - n % lanes) step lanes:  vector.store(vector.load(src[.., j]) or splat(value), dst[.., j])
    for j in [n - n % lanes, n):            memref.store(memref.load(src[.., j]) or value, dst[.., j])

The performance model counts these as vector memory operations, unaligned (two slots each, swmlir.sim.mix).
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import memref, scf, vector

from swmlir.schedule.fusion import is_leading_identity, parallel_loops
from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, index_const, is_ldm_type


def _unit_innermost(t: ir.Type) -> bool:
    if not isinstance(t, ir.MemRefType) or not is_ldm_type(t) or not t.has_static_shape or t.rank == 0:
        return False
    if not isinstance(t.element_type, ir.F32Type):
        return False
    strides, _ = t.get_strides_and_offset()
    return strides[-1] == 1


def _identity(m: ir.AffineMap) -> bool:
    return is_leading_identity(m, m.n_dims)


def match(op: ir.Operation) -> tuple[ir.Value, ir.Value | None, ir.Value] | None:
    """(destination, source or None, fill value or None) of a fill or copy this pass rewrites."""
    if op.name == "linalg.fill":
        value, dst = op.operands[0], op.operands[1]
        return (dst, None, value) if _unit_innermost(dst.type) and isinstance(value.type, ir.F32Type) else None
    if op.name == "linalg.copy":
        src, dst = op.operands[0], op.operands[1]
        ok = _unit_innermost(src.type) and _unit_innermost(dst.type) and list(src.type.shape) == list(dst.type.shape)
        return (dst, src, None) if ok else None
    if op.name == "linalg.map" and not len(op.results):
        body = op.regions[0].blocks[0]
        ops = list(body.operations)
        dst = op.operands[len(op.operands) - 1]
        if len(ops) != 1 or not _unit_innermost(dst.type):
            return None
        yielded = ops[0].operation.operands[0]
        if len(op.operands) == 1 and isinstance(yielded.type, ir.F32Type) and not any(
                yielded == a for a in body.arguments):
            owner = yielded.owner
            if isinstance(owner, ir.Block) or not owner.operation.parent == body.owner:   # defined outside
                return dst, None, yielded                                        # a fill (a pad's padding)
        if len(op.operands) == 2 and yielded == body.arguments[0] and _unit_innermost(op.operands[0].type) \
                and list(op.operands[0].type.shape) == list(dst.type.shape):
            return dst, op.operands[0], None
        return None
    if op.name != "linalg.generic" or len(op.results) or len(op.operands) != 2:
        return None
    if not all(parallel_loops(op)):
        return None
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    body = op.regions[0].blocks[0]
    ops = list(body.operations)
    if len(ops) != 1 or ops[0].operation.name != "linalg.yield":
        return None
    yielded = ops[0].operation.operands[0]
    src, dst = op.operands
    if not _identity(maps[1]) or not _unit_innermost(dst.type):
        return None
    if yielded == body.arguments[0] and isinstance(src.type, ir.MemRefType) and _identity(maps[0]) \
            and _unit_innermost(src.type) and list(src.type.shape) == list(dst.type.shape):
        return dst, src, None                         # a copy
    if yielded == body.arguments[0] and isinstance(src.type, ir.F32Type) and len(list(maps[0].results)) == 0:
        return dst, None, src                         # a fill (generalized)
    return None


def _rewrite(op: ir.Operation, dst: ir.Value, src: ir.Value | None, value: ir.Value | None, lanes: int) -> None:
    shape = list(dst.type.shape)
    n = shape[-1]
    main = n - n % lanes
    vt = ir.VectorType.get([lanes], ir.F32Type.get())
    with ir.InsertionPoint(op), op.location:
        splat = vector.BroadcastOp(vt, value).result if value is not None and main else None
        ivs, points = [], []
        for d in shape[:-1]:
            loop = scf.ForOp(index_const(0), index_const(d), index_const(1))
            ivs.append(loop.induction_variable)
            points.append(ir.InsertionPoint(loop.body))
            points[-1].__enter__()

        def inner(lo, hi, step, vec):
            loop = scf.ForOp(index_const(lo), index_const(hi), index_const(step))
            with ir.InsertionPoint(loop.body):
                idx = ivs + [loop.induction_variable]
                if vec:
                    v = vector.LoadOp(vt, src, idx).result if src is not None else splat
                    vector.StoreOp(v, dst, idx)
                else:
                    v = memref.LoadOp(src, idx).result if src is not None else value
                    memref.StoreOp(v, dst, idx)
                scf.YieldOp([])

        if main:
            inner(0, main, lanes, True)
        if main < n:
            inner(main, n, 1, False)
        for point in reversed(points):
            scf.YieldOp([])
            point.__exit__(None, None, None)
    op.erase()


@register_pass("sunway-vectorize-copies",
               "Rewrite fills and copies of f32 LDM tiles in CPE kernels into vector loads and stores",
               options={"target": ("sw26010", "target whose SIMD width sets the vector length")})
def vectorize_copies(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    lanes = get_target(target).simd_f32_lanes
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, ("linalg.fill", "linalg.copy", "linalg.generic", "linalg.map")):
            found = match(op)
            if found is not None and found[0].type.shape[-1] >= lanes:
                _rewrite(op, *found, lanes)
