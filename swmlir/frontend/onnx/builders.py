"""IR building blocks shared by the converters, so that each converter reads like the ONNX spec of its op.

Everything here is static-shaped and builds at the current insertion point and location. Shapes are checked by
the callers (converters) before they get here: MLIR builders do not validate, and a bad op found later by the
verifier (or an assertion inside MLIR) is much harder to attribute to a node.
"""
from __future__ import annotations


import math
import re
from typing import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ...analysis.weights import recording_table
from .dtypes import is_float, numpy_to_mlir

#: Constants with more elements than this become `dense_resource` blobs instead of inline numbers.
INLINE_CONSTANT_LIMIT = 16

Shape = tuple[int, ...]


# ----------------------------------------------------------------------------------------------- types, scalars
class ShapeOutOfRange(ValueError):
    """A static shape with a dimension MLIR cannot hold (outside int64, or negative): the converter's arithmetic
    on attribute or initializer values overflowed. The importer reports it naming the node."""


_INT64_MAX = (1 << 63) - 1


def ranked(shape: Sequence[int], elem: ir.Type) -> ir.RankedTensorType:
    shape = list(shape)
    dynamic = ir.ShapedType.get_dynamic_size()
    if any(not isinstance(d, (int, np.integer)) or (d < 0 and d != dynamic) or d > _INT64_MAX for d in shape):
        raise ShapeOutOfRange(f"a result would have shape {shape}: dimensions must be sizes from 0 to 2^63-1")
    return ir.RankedTensorType.get(shape, elem)


def shape_of(v: ir.Value) -> Shape:
    return tuple(ir.RankedTensorType(v.type).shape)


def elem_of(v: ir.Value) -> ir.Type:
    return ir.RankedTensorType(v.type).element_type


def scalar_attr(elem: ir.Type, value) -> ir.Attribute:
    if is_float(elem):
        return ir.FloatAttr.get(elem, float(value))
    if isinstance(elem, ir.IntegerType) and elem.width == 1:
        return ir.IntegerAttr.get(elem, 1 if value else 0)
    return ir.IntegerAttr.get(elem, int(value))


def scalar(elem: ir.Type, value) -> ir.Value:
    """An `arith.constant` scalar (inside region bodies too)."""
    return arith.ConstantOp(elem, scalar_attr(elem, value)).result


# ----------------------------------------------------------------------------------------------- constants
def _resource_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.]", "_", name) or "cst"
    return name if (name[0].isalpha() or name[0] == "_") else "_" + name


def _is_splat(flat: np.ndarray) -> bool:
    # a strided sample first: weights are almost never splats, and the full comparison of a big one is slow
    step = max(1, flat.size // 64)
    sample = np.ascontiguousarray(flat[::step]).view(np.uint8).reshape(-1, flat.itemsize)
    if not (sample == sample[0]).all():
        return False
    raw = flat.view(np.uint8).reshape(flat.size, flat.itemsize)
    return bool((raw == raw[0]).all())


def constant(array: np.ndarray, name: str = "cst") -> ir.Value:
    """A tensor constant. Splats and tiny tensors are inline; anything bigger is a `dense_resource` blob named
    after the ONNX value, so the printed IR never carries a weight's numbers in its body."""
    arr = np.require(np.asarray(array), requirements="C")  # (ascontiguousarray turns 0-d into 1-d)
    elem = numpy_to_mlir(arr.dtype)
    t = ranked(arr.shape, elem)
    flat = arr.reshape(-1)
    if arr.size > 0 and _is_splat(flat):
        attr = ir.DenseElementsAttr.get_splat(t, scalar_attr(elem, flat[0]))
    elif arr.dtype == np.bool_:
        attr = ir.DenseElementsAttr.get(arr)  # i1 is bit-packed in MLIR; let the binding do it
    elif arr.size <= INLINE_CONSTANT_LIMIT:
        signed = arr.view(f"i{arr.itemsize}") if arr.dtype.kind == "u" else arr
        attr = ir.DenseElementsAttr.get(signed, type=t)
    else:
        signed = arr.view(f"i{arr.itemsize}") if arr.dtype.kind == "u" else arr
        attr = ir.DenseResourceElementsAttr.get_from_buffer(signed, _resource_name(name), t)
        table = recording_table()   # the importer's WeightTable (swmlir.analysis.weights.recording)
        if table is not None:  # the weights file is written from these arrays, not from printed hex
            key = str(attr)[len("dense_resource<"):].split(">", 1)[0]
            table.add(key, signed)
    return arith.ConstantOp(t, attr).result


# ----------------------------------------------------------------------------------------------- inits
def empty(shape: Sequence[int], elem: ir.Type) -> ir.Value:
    return tensor.EmptyOp(list(shape), elem).result


def fill(shape: Sequence[int], elem: ir.Type, value) -> ir.Value:
    """`linalg.fill` of a `tensor.empty`: the init of every accumulation (matmul, conv, pooling, reduction)."""
    return linalg.fill(scalar(elem, value), outs=[empty(shape, elem)])


# ----------------------------------------------------------------------------------------------- generic
def dims(n: int) -> list[ir.AffineExpr]:
    return [ir.AffineDimExpr.get(i) for i in range(n)]


def identity_map(rank: int) -> ir.AffineMap:
    return ir.AffineMap.get_identity(rank)


def projection_map(rank: int, keep: Sequence[int]) -> ir.AffineMap:
    """(d0..d{rank-1}) -> (d_k for k in keep): reads a tensor that lacks the loop dims not in `keep`."""
    d = dims(rank)
    return ir.AffineMap.get(rank, 0, [d[k] for k in keep])


def _iterators(kinds: Sequence[str]) -> ir.ArrayAttr:
    return ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{k}>") for k in kinds])


def generic(inputs: Sequence[ir.Value], maps: Sequence[ir.AffineMap], init: ir.Value,
            body: Callable[..., ir.Value], iterators: Sequence[str] | None = None) -> ir.Value:
    """A one-result `linalg.generic`. `maps` covers inputs then the init; `body(*in_elems, out_elem)` returns
    the value to yield. Iterators default to all-parallel."""
    out_t = ir.RankedTensorType(init.type)
    kinds = list(iterators) if iterators is not None else ["parallel"] * maps[-1].n_dims
    op = linalg.GenericOp([out_t], list(inputs), [init],
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]), _iterators(kinds))
    block = op.regions[0].blocks.append(*[elem_of(v) for v in inputs], out_t.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([body(*block.arguments)])
    return op.result


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """numpy (multidirectional) broadcasting; ValueError when the shapes do not broadcast."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        sizes = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_map(in_shape: Sequence[int], out_shape: Sequence[int]) -> ir.AffineMap:
    """How a numpy-broadcast operand is read inside a loop nest over `out_shape`: missing leading dims are
    dropped, size-1 dims that are stretched read index 0 (`(d0, d1) -> (0, d1)`)."""
    rank = len(out_shape)
    d = dims(rank)
    lead = rank - len(in_shape)
    results = [ir.AffineConstantExpr.get(0) if (size == 1 and out_shape[lead + i] != 1) else d[lead + i]
               for i, size in enumerate(in_shape)]
    return ir.AffineMap.get(rank, 0, results)


def elementwise(inputs: Sequence[ir.Value], body: Callable[..., ir.Value], out_elem: ir.Type | None = None,
                out_shape: Sequence[int] | None = None) -> ir.Value:
    """One all-parallel generic over the broadcast shape of `inputs`; `body(*in_elems)` gets the scalars."""
    shape = tuple(out_shape) if out_shape is not None else broadcast_shapes(*[shape_of(v) for v in inputs])
    elem = out_elem if out_elem is not None else elem_of(inputs[0])
    maps = [broadcast_map(shape_of(v), shape) for v in inputs] + [identity_map(len(shape))]
    return generic(inputs, maps, empty(shape, elem), lambda *a: body(*a[:-1]))


def broadcast_to(v: ir.Value, shape: Sequence[int]) -> ir.Value:
    """Materialise numpy broadcasting (a copy generic); a no-op when the shape already matches."""
    if shape_of(v) == tuple(shape):
        return v
    return elementwise([v], lambda x: x, out_shape=shape)


# ----------------------------------------------------------------------------------------------- layout
def transpose(v: ir.Value, perm: Sequence[int]) -> ir.Value:
    s = shape_of(v)
    if list(perm) == list(range(len(s))):
        return v
    out = empty([s[p] for p in perm], elem_of(v))
    return linalg.transpose(v, outs=[out], permutation=list(perm)).results[0]


def pad(v: ir.Value, low: Sequence[int], high: Sequence[int], value) -> ir.Value:
    """`tensor.pad` with a constant; a no-op when nothing is padded."""
    if not any(low) and not any(high):
        return v
    s, elem = shape_of(v), elem_of(v)
    out_t = ranked([n + lo + hi for n, lo, hi in zip(s, low, high)], elem)
    op = tensor.PadOp(out_t, v, [], [], list(low), list(high))
    block = op.regions[0].blocks.append(*[ir.IndexType.get()] * len(s))
    with ir.InsertionPoint(block):
        tensor.YieldOp(scalar(elem, value))
    return op.result


def _group(src: Sequence[int], dst: Sequence[int]) -> list[list[int]] | None:
    """Reassociation that collapses `src` into `dst` (consecutive src dims multiply to each dst dim), or None."""
    if len(dst) == 0:
        return [] if all(n == 1 for n in src) else None
    groups, i = [], 0
    for j, d in enumerate(dst):
        g, p = [], 1
        while i < len(src) and (not g or p < d):
            g.append(i)
            p *= src[i]
            i += 1
        if not g or p != d:
            return None
        groups.append(g)
    if i < len(src):  # trailing size-1 dims join the last group
        if any(src[k] != 1 for k in range(i, len(src))):
            return None
        groups[-1].extend(range(i, len(src)))
    return groups


def reshape(v: ir.Value, new_shape: Sequence[int]) -> ir.Value:
    """Row-major reshape: nothing when the shape is unchanged, one collapse_shape or expand_shape when the
    dims only merge or only split, otherwise a collapse to rank 1 followed by an expand."""
    old, new = shape_of(v), tuple(new_shape)
    if math.prod(old) != math.prod(new):
        raise ValueError(f"cannot reshape {old} into {new}")
    if old == new:
        return v
    elem = elem_of(v)
    groups = _group(old, new)
    if groups is not None:
        return tensor.collapse_shape(ranked(new, elem), v, groups)
    groups = _group(new, old)
    if groups is not None:
        return tensor.expand_shape(ranked(new, elem), v, groups, [], list(new))
    flat = v if len(old) == 1 else tensor.collapse_shape(ranked([math.prod(old)], elem), v, [list(range(len(old)))])
    return tensor.expand_shape(ranked(new, elem), flat, [list(range(len(new)))], [], list(new))


# ----------------------------------------------------------------------------------------------- reductions
def reduce(v: ir.Value, axes: Sequence[int], init_value, combine: Callable[[ir.Value, ir.Value], ir.Value]) -> ir.Value:
    """Reduce `v` over `axes` (dropped from the result) with a generic whose init is filled with `init_value`;
    `combine(element, accumulator)` returns the new accumulator."""
    s, elem = shape_of(v), elem_of(v)
    axes = sorted(set(axes))
    keep = [i for i in range(len(s)) if i not in axes]
    init = fill([s[i] for i in keep], elem, init_value)
    kinds = ["reduction" if i in axes else "parallel" for i in range(len(s))]
    return generic([v], [identity_map(len(s)), projection_map(len(s), keep)], init, combine, kinds)
