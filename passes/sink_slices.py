"""sunway-sink-slices: elementwise ops run on the whole tensor a slice was cut from; the slice moves after them.

A 2-D Conv computes a width of whole vectors (14 -> 16 columns, swmlir.frontend.onnx.ops.conv.padded_width) and
slices the extra columns off. Every elementwise consumer of that slice (bias, ReLU, a residual add) then reads
and writes rows of 14 floats inside rows of 16: 56-byte DMA blocks, a few GB/s. And a bias or ReLU whose input is
a slice is not fused into the conv's tiles (fusion wants the op's own result). Computed on the 16-wide tensor,
the same op reads whole planes, fuses, and the slice is taken once, later: by the pad in front of the next conv
(which stages whole planes, swmlir.schedule.pads), or where the values leave the function.

An all-parallel linalg.generic that does not read its init qualifies when every input that indexes a sliced
dimension is a slice (static offsets, unit strides, identity map) with the same offsets and sizes of a tensor of
the same shape; other inputs (a per-channel bias) must not index the sliced dimensions. The extra elements it
computes are sliced off, never read: their values do not matter. The slice must keep most of the tensor
(MIN_KEPT): sinking a real crop would compute mostly discarded values.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import tensor

from . import register_pass
from swmlir.schedule.fusion import is_leading_identity, parallel_loops
from swmlir.schedule.loop_nest import static_slice

from ._util import defining_op, rewrite_to_fixpoint


# the slice must keep at least this share of the tensor: a conv's vector width keeps 14 of 16 or 7 of 8 columns
MIN_KEPT = 0.75


def _identity(m: ir.AffineMap) -> bool:
    return is_leading_identity(m, m.n_dims)


def _dims_of(m: ir.AffineMap) -> set[int]:
    """Loop dimensions a map reads (its results are dims or constants in the elementwise ops considered)."""
    found = set()
    for e in m.results:
        if isinstance(e, ir.AffineDimExpr):
            found.add(e.position)
        elif not isinstance(e, ir.AffineConstantExpr):
            return {-1}
    return found


def sink_one(op: ir.Operation) -> bool:
    """Sink the slices of `op`'s inputs past it; False when it does not qualify."""
    if op.name != "linalg.generic" or len(op.results) != 1:
        return False
    if not all(parallel_loops(op)):
        return False
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    n_in = len(op.operands) - 1
    out_t = op.results[0].type
    if not _identity(maps[-1]) or not out_t.has_static_shape:
        return False
    if len(list(op.regions[0].blocks[0].arguments[n_in].uses)):
        return False    # reads its init
    box = None
    for i in range(n_in):
        s = static_slice(op.operands[i]) if _identity(maps[i]) else None
        if s is None:
            continue
        src, offs, sizes = s
        key = (list(src.type.shape), offs, sizes)
        if key[0] == sizes:
            continue
        if box is None:
            box = key
        elif box != key:
            return False
    if box is None:
        return False
    full, offs, sizes = box
    if math.prod(sizes) < MIN_KEPT * math.prod(full):
        return False   # a real slice (a crop, one row of many): the op would compute mostly discarded values
    cut = {d for d, (a, b) in enumerate(zip(full, sizes)) if a != b}
    sources = {}
    for i in range(n_in):
        v = op.operands[i]
        if not isinstance(v.type, ir.RankedTensorType):
            continue
        s = static_slice(v) if _identity(maps[i]) else None
        if s is not None and (list(s[0].type.shape), s[1], s[2]) == box:
            sources[i] = s[0]
        elif _dims_of(maps[i]) & cut:
            return False   # an input that indexes a cut dimension and is not the same slice
    with ir.InsertionPoint(op), op.location:
        init = tensor.EmptyOp(full, out_t.element_type).result
    dead = []
    for i, src in sources.items():
        dead.append(defining_op(op.operands[i]))
        op.operands[i] = src
    op.operands[n_in] = init
    result = op.results[0]
    result.set_type(ir.RankedTensorType.get(full, out_t.element_type))
    with ir.InsertionPoint.after(op), op.location:
        cut_result = tensor.ExtractSliceOp(out_t, result, [], [], [], offs, sizes, [1] * len(full)).result
    result.replace_all_uses_except(cut_result, defining_op(cut_result))
    unique = []
    for d in dead:
        if d is not None and not any(d == u for u in unique):
            unique.append(d)
    for d in unique:   # the input slices, when this op was their only reader (fusion counts uses)
        if not len(list(d.results[0].uses)):
            d.erase()
    return True


@register_pass("sunway-sink-slices",
               "Run elementwise ops on the tensor a static slice was cut from and slice their result instead",
               nestable=True)
def sink_slices(module: ir.Operation) -> None:
    rewrite_to_fixpoint(module, sink_one)
