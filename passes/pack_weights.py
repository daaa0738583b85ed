"""Constant weights stored tile-major, so that the tile a work item fetches is one contiguous DMA block.

A conv's filter [F, C, KH, KW] read in tiles [tf, tc, KH, KW] with tc < C, or a MatMul's B [K, N] in tiles
[tk, tn] with tn < N, is fetched as tf (tk) rows of a few hundred bytes: on the DMA curve of a core group,
short blocks get a fraction of the bandwidth. The weights are constants, so the compiler can store them in the
order the kernels read them: P[d0/s0, .., dr/sr, s0, .., sr] holds tile (i0, .., ir) contiguously, and the
tile read at offsets (o0, .., or) becomes the rank-reducing slice P[o0/s0, .., or/sr, 0, ..][1, .., s0, ..].

The pass `sunway-pack-weights` runs on the tiled tensor IR (after sunway-schedule): every read of the constant must
be a chain of static-size extract_slices (the work item's slice, then the reduction step's) whose leaves all
have the same sizes, dividing the constant's shape, at offsets provably multiples of those sizes (constants,
`iv * size` of a forall, the induction variable of a loop of step `size`); otherwise the constant is left as
it is. The packed array is a new constant; the original disappears when nothing else reads it.
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import affine, tensor

from . import register_pass
from ._util import as_operation, funcs, static_ints


def _users(v: ir.Value) -> list[ir.Operation]:
    return [as_operation(u.owner) for u in v.uses]


def known_divisor(v: ir.Value) -> int:
    """A number that provably divides the index `v` (0 for the constant 0, which every number divides)."""
    owner = v.owner
    if isinstance(owner, ir.Block):
        parent = owner.owner.operation if owner.owner is not None else None
        if parent is not None and parent.name == "scf.for" and v == owner.arguments[0]:
            lb, step = parent.operands[0], parent.operands[2]
            return math.gcd(known_divisor(lb), known_divisor(step))
        return 1
    op = owner.operation
    if op.name == "arith.constant":
        return abs(ir.IntegerAttr(op.attributes["value"]).value)
    if op.name == "affine.apply":
        m = ir.AffineMapAttr(op.attributes["map"]).value
        if len(m.results) != 1 or m.n_symbols:
            return 1
        return _expr_divisor(m.results[0], [known_divisor(x) for x in op.operands])
    if op.name == "arith.muli":
        return known_divisor(op.operands[0]) * known_divisor(op.operands[1])
    if op.name == "arith.addi":
        return math.gcd(known_divisor(op.operands[0]), known_divisor(op.operands[1]))
    return 1


def _expr_divisor(expr: ir.AffineExpr, dims: list[int]) -> int:
    e = expr.maybe_downcast()
    if isinstance(e, ir.AffineConstantExpr):
        return abs(e.value)
    if isinstance(e, ir.AffineDimExpr):
        return dims[e.position]
    if isinstance(e, ir.AffineAddExpr):
        return math.gcd(_expr_divisor(e.lhs, dims), _expr_divisor(e.rhs, dims))
    if isinstance(e, ir.AffineMulExpr):
        return _expr_divisor(e.lhs, dims) * _expr_divisor(e.rhs, dims)
    return 1


class _Offset:
    """One dimension's offset of a tile in the constant: a static part plus index values."""

    def __init__(self, static: int = 0, values: tuple = ()):
        self.static, self.values = static, values

    def plus(self, static: int, values: tuple) -> "_Offset":
        return _Offset(self.static + static, self.values + values)

    def multiple_of(self, n: int) -> bool:
        return self.static % n == 0 and all(known_divisor(v) % n == 0 for v in self.values)


def _tiles(value: ir.Value, offsets: list[_Offset]) -> list[tuple[ir.Operation, list[_Offset]]] | None:
    """(leaf slice, its offsets in the constant) for every read of `value`; None if a read is not a chain of
    static unit-stride extract_slices."""
    leaves = []
    for user in _users(value):
        if user.name != "tensor.extract_slice" or user.operands[0] != value:
            return None
        if any(s != 1 for s in static_ints(user, "static_strides")) or user.results[0].type.rank != value.type.rank:
            return None
        dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
        if any(s == ir.ShapedType.get_dynamic_size() for s in static_ints(user, "static_sizes")):
            return None
        dyn = iter(list(user.operands)[1:])
        here = [o.plus(0, (next(dyn),)) if s == dynamic else o.plus(s, ())
                for o, s in zip(offsets, static_ints(user, "static_offsets"))]
        below = _users(user.results[0])
        if below and all(b.name == "tensor.extract_slice" for b in below):
            sub = _tiles(user.results[0], here)
            if sub is None:
                return None
            leaves += sub
        elif any(b.name == "tensor.extract_slice" for b in below):
            return None
        else:
            leaves.append((user, here))
    return leaves


def _is_contiguous(sizes: list[int], shape: list[int]) -> bool:
    first = next((i for i, s in enumerate(sizes) if s > 1), len(sizes))
    return all(s == d for s, d in zip(sizes[first + 1:], shape[first + 1:]))


def _array_of(cst: ir.Operation, blobs) -> np.ndarray | None:
    from swmlir.analysis.weights import _np_dtype
    attr = cst.attributes["value"]
    t = ir.RankedTensorType(cst.results[0].type)
    dt = _np_dtype(t.element_type)
    if dt == np.bool_:
        return None
    text = str(attr)
    if text.startswith("dense_resource<"):
        key = text[len("dense_resource<"):text.index(">")]
        data = blobs(key)
        if data is None:
            return None
        return np.frombuffer(data, dtype=dt).reshape(t.shape)
    dense = ir.DenseElementsAttr(attr)
    if dense.is_splat:
        return None      # every tile of a splat is the same: nothing to gain
    return np.array(dense).astype(dt).reshape(t.shape)


def _resource_reader(module: ir.Operation):
    """key -> bytes of a dense resource: from the WeightTable being recorded (swmlir.compile: the importer's),
    else, for IR that no importer made (swmlir-opt on a .mlir file), from the printed module (read once)."""
    from swmlir.analysis.weights import WeightTable, recording_table
    table = recording_table()
    printed: list = []

    def read(key):
        if table is not None and key in table:
            return table.raw(key)
        if not printed:
            printed.append(WeightTable.from_module(module))
        return printed[0].raw(key) if key in printed[0] else None
    return read


def _packed_slice(packed: ir.Value, leaf: ir.Operation, offsets: list[_Offset], sizes: list[int]) -> ir.Value:
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    static, values = [], []
    with ir.InsertionPoint(leaf), leaf.location:
        for o, s in zip(offsets, sizes):
            if not o.values:
                static.append(o.static // s)
                continue
            n = len(o.values)
            expr = sum((ir.AffineDimExpr.get(i) for i in range(1, n)), ir.AffineDimExpr.get(0))
            if o.static:
                expr = ir.AffineAddExpr.get(expr, ir.AffineConstantExpr.get(o.static))
            m = ir.AffineMap.get(n, 0, [ir.AffineFloorDivExpr.get(expr, ir.AffineConstantExpr.get(s))])
            values.append(affine.AffineApplyOp(m, list(o.values)).result)
            static.append(dynamic)
        r = len(sizes)
        return tensor.ExtractSliceOp(leaf.results[0].type, packed, values, [], [], static + [0] * r,
                                     [1] * r + sizes, [1] * (2 * r)).result


@register_pass("sunway-pack-weights",
               "Store constant weights tile-major, so that each tile a work item reads is one contiguous DMA block")
def pack_weights(module: ir.Operation) -> None:
    pack_weight_tiles(module)


def pack_weight_tiles(module: ir.Operation) -> int:
    """Store every suitable constant tile-major and read its tiles from there; returns how many were packed."""
    from swmlir.frontend.onnx.builders import constant
    blobs = _resource_reader(module)
    count = 0
    for f in funcs(module, kernels=False):
        if not f.regions[0].blocks:
            continue
        for o in list(f.regions[0].blocks[0].operations):
            cst = o.operation
            if cst.name != "arith.constant" or not isinstance(cst.results[0].type, ir.RankedTensorType):
                continue
            shape = list(cst.results[0].type.shape)
            if len(shape) < 2 or not _users(cst.results[0]):
                continue
            leaves = _tiles(cst.results[0], [_Offset() for _ in shape])
            if not leaves:
                continue
            sizes = list(leaves[0][0].results[0].type.shape)
            if any(list(leaf.results[0].type.shape) != sizes for leaf, _ in leaves):
                continue
            if _is_contiguous(sizes, shape) or any(d % s for d, s in zip(shape, sizes)):
                continue
            if not all(off.multiple_of(s) for _, offs in leaves for off, s in zip(offs, sizes)):
                continue
            array = _array_of(cst, blobs)
            if array is None:
                continue
            r = len(shape)
            split = array.reshape([x for d, s in zip(shape, sizes) for x in (d // s, s)])
            tiled = np.ascontiguousarray(split.transpose(list(range(0, 2 * r, 2)) + list(range(1, 2 * r, 2))))
            key = str(cst.attributes["value"])
            name = key[len("dense_resource<"):key.index(">")] + "_tiles" if key.startswith("dense_resource<") \
                else "weight_tiles"
            with ir.InsertionPoint.after(cst), cst.location:
                packed = constant(tiled, name)
            for leaf, offsets in leaves:
                leaf.results[0].replace_all_uses_with(_packed_slice(packed, leaf, offsets, sizes))
            count += 1
    return count
