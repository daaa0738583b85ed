"""Shape and data movement: Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Expand, Tile, Pad,
DepthToSpace, SpaceToDepth, Trilu, OneHot, and the ops that fold to constants at import (Shape, Size,
ConstantOfShape, Range, EyeLike, NonZero of a constant).

Shapes are static, so every op whose result depends only on shapes or constants is computed in numpy and stays a
constant (shape subgraphs such as Shape -> Gather -> Concat -> Reshape fold away). Otherwise:
  layout only (Squeeze, Unsqueeze, size-1 Transposes)   tensor.collapse_shape / expand_shape
  Transpose, DepthToSpace, SpaceToDepth                 linalg.transpose (a generic with a permuted input map)
  Slice, Split, Pad (reflect/edge/wrap)                 copies whose input map selects the slice (movement_util)
  Concat, Pad (constant)                                copies into slices of a fresh tensor (a fill for Pad)
  Expand, Tile                                          a broadcasting generic (Tile: over [repeat, dim] pairs)
Inputs that decide a shape (axes, starts, pads, repeats, ...) must be constants.
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import arith, tensor

from ....errors import ConstantInputRequired
from .. import builders as b
from .. import movement_util as mu
from ..dtypes import is_float, mlir_to_numpy, numpy_to_mlir, onnx_to_numpy, onnx_type_name
from ..registry import converter

_TYPE_VERSIONS_21 = (21, 23, 24, 25)


def _check_size(node, shape, dtype) -> None:
    """Constants computed here are numpy arrays: refuse a huge one before numpy allocates it."""
    from ..validate import size_problem
    msg = size_problem("the output", shape, itemsize=np.dtype(dtype).itemsize)
    if msg:
        raise node.error(msg)


# ----------------------------------------------------------------------------------------------- helpers
def data_input(node, i: int, what: str):
    """Input i as a numpy array when it is a constant, else as an SSA value."""
    c = node.constant(i)
    if c is not None:
        return c
    return node.require_input(i, what)


def shape_of(v) -> tuple[int, ...]:
    return tuple(v.shape) if isinstance(v, np.ndarray) else b.shape_of(v)


def input_dtype(node, i: int) -> np.dtype:
    """The numpy dtype of input i as ONNX declares it (keeps unsignedness, which MLIR types do not carry)."""
    c = node.constant(i)
    if c is not None:
        return c.dtype
    info = node.ctx.info.get(node.input_names[i])
    if info is not None and info.dtype is not None:
        return np.dtype(info.dtype)
    return mlir_to_numpy(b.elem_of(node.require_input(i, f"input #{i}")))


def as_value(v) -> ir.Value:
    if isinstance(v, np.ndarray):
        if v.size == 0:
            # the node compiles only if it folds: the backend may freeze inputs for that (the importer names the node)
            raise ConstantInputRequired("an empty constant cannot be an operand (zero-size tensors are not supported "
                                        "as operands)")
        return b.constant(np.asarray(v), "cst")
    return v


def _constant_input(node, i: int, what: str, required: bool):
    """The numpy value of constant input i; None when the optional input is absent. When it is not constant, a
    ConstantInputRequired names it: the backend specializes on the inputs it names."""
    if not node.has_input(i):
        if required:
            raise node.error(f"missing required input #{i} ({what})")
        return None
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"the {what} input '{node.input_names[i]}' must be a constant (initializer or Constant "
                         "node); values computed at run time are not supported")
    return c


def const_ints(node, i: int, what: str, *, required: bool = True) -> list[int] | None:
    """A 0-D or 1-D integer constant input as a list; None when the optional input is absent."""
    c = _constant_input(node, i, what, required)
    if c is None:
        return None
    if c.dtype.kind not in "iu" or c.ndim > 1:
        raise node.error(f"the {what} input must be a 0-D or 1-D integer tensor, got {c.dtype} of shape "
                         f"{list(c.shape)}")
    return [int(v) for v in c.reshape(-1)]


def const_scalar(node, i: int, what: str, *, required: bool = True):
    c = _constant_input(node, i, what, required)
    if c is None:
        return None
    if c.size != 1:
        raise node.error(f"{what} must be a scalar (one element), got shape {list(c.shape)}")
    return c.reshape(()).item()


def norm_axis(node, axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise node.error(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def norm_axes(node, axes, rank: int, what: str = "axes") -> list[int]:
    out = [norm_axis(node, int(a), rank, what) for a in axes]
    if len(set(out)) != len(out):
        raise node.error(f"{what} {list(axes)} has duplicates")
    return out


def _check_nonempty(node, shape, what="output"):
    if any(d == 0 for d in shape):
        raise node.error(f"the {what} would have the zero-size shape {list(shape)}; zero-size tensors are not "
                         "supported")


# ----------------------------------------------------------------------------------------------- Squeeze
@converter("Squeeze", since=(7, 11, 13) + _TYPE_VERSIONS_21)  # 11: negative axes; 13: axes is an input
def squeeze(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    axes = node.attr("axes", None) if node.opset < 13 else const_ints(node, 1, "axes", required=False)
    if axes is None:
        axes = [i for i, n in enumerate(s) if n == 1]
    axes = norm_axes(node, axes, len(s))
    for a in axes:
        if s[a] != 1:
            raise node.error(f"cannot squeeze axis {a} of size {s[a]} (input shape {list(s)})")
    out = tuple(n for i, n in enumerate(s) if i not in axes)
    return x.reshape(out) if isinstance(x, np.ndarray) else b.reshape(x, out)


@converter("Unsqueeze", since=(7, 11, 13) + _TYPE_VERSIONS_21)  # 11: negative axes; 13: axes is an input
def unsqueeze(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    if node.opset < 13:
        axes = node.attr("axes", None)
        if axes is None:
            raise node.error("missing required attribute 'axes'")
    else:
        axes = const_ints(node, 1, "axes")
    rank = len(s) + len(axes)
    axes = norm_axes(node, axes, rank)
    out, it = [], iter(s)
    for i in range(rank):
        out.append(1 if i in axes else next(it))
    return x.reshape(out) if isinstance(x, np.ndarray) else b.reshape(x, out)


# ----------------------------------------------------------------------------------------------- Transpose
def transpose_value(x: ir.Value, perm) -> ir.Value:
    """linalg.transpose, or a reshape when only size-1 dims move."""
    s = b.shape_of(x)
    moved = [p for p in perm if s[p] != 1]
    if moved == sorted(moved):
        return b.reshape(x, [s[p] for p in perm])
    return b.transpose(x, perm)


@converter("Transpose", since=(7, 13) + _TYPE_VERSIONS_21)
def transpose(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    perm = node.attr("perm", None)
    perm = list(range(len(s)))[::-1] if perm is None else [int(p) for p in perm]
    if sorted(perm) != list(range(len(s))):
        raise node.error(f"perm {perm} is not a permutation of the {len(s)} axes")
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(np.transpose(x, perm))
    return transpose_value(x, perm)


# ----------------------------------------------------------------------------------------------- Concat
@converter("Concat", since=(7, 11, 13))  # 11: negative axis
def concat(ctx, node):
    if not node.input_names:
        raise node.error("Concat needs at least one input")
    parts = [data_input(node, i, f"input #{i}") for i in range(len(node.input_names))]
    shapes = [shape_of(p) for p in parts]
    rank = len(shapes[0])
    if node.has_attr("axis"):
        axis = node.attr("axis")
    elif node.opset < 4:
        axis = 1
    else:
        raise node.error("missing required attribute 'axis'")
    if rank == 0:
        raise node.error("cannot concatenate rank-0 tensors")
    axis = norm_axis(node, axis, rank)
    for sh in shapes:
        if len(sh) != rank or any(a != c for i, (a, c) in enumerate(zip(sh, shapes[0])) if i != axis):
            raise node.error(f"input shapes {[list(x) for x in shapes]} do not agree off axis {axis}")
    dtypes = {p.dtype if isinstance(p, np.ndarray) else None for p in parts}
    elems = {str(numpy_to_mlir(p.dtype)) if isinstance(p, np.ndarray) else str(b.elem_of(p)) for p in parts}
    if len(elems) != 1:
        raise node.error(f"inputs have different element types {sorted(elems)}")
    if all(isinstance(p, np.ndarray) for p in parts) and len(dtypes) == 1:
        return np.concatenate(parts, axis=axis)
    parts = [p for p in parts if shape_of(p)[axis] != 0]
    out = list(shapes[0])
    out[axis] = sum(shape_of(p)[axis] for p in parts)
    _check_nonempty(node, out)
    values = [as_value(p) for p in parts]
    if len(values) == 1:
        return values[0]
    return mu.concat(values, axis)


# ----------------------------------------------------------------------------------------------- Slice / Split
def slice_value(x: ir.Value, index_lists: list[np.ndarray], *, materialize: bool = True) -> ir.Value:
    """x restricted to one arithmetic progression of indices per axis (any sign of step); a bare slice of x when
    that is all it is and `materialize` is false."""
    starts, steps, sizes, flip = [], [], [], []
    for axis, idx in enumerate(index_lists):
        n = len(idx)
        step = int(idx[1] - idx[0]) if n > 1 else 1
        if step < 0:
            starts.append(int(idx[-1]))
            steps.append(-step)
            flip.append(axis)
        else:
            starts.append(int(idx[0]))
            steps.append(step)
        sizes.append(n)
    y = mu.strided(x, starts, steps, sizes, materialize=materialize or bool(flip))
    for axis in flip:
        y = mu.reverse(y, axis)
    return y


def _slice_index_lists(node, s, starts, ends, axes, steps):
    rank = len(s)
    if axes is None:
        axes = list(range(len(starts)))
    if steps is None:
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise node.error(f"starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length")
    axes = norm_axes(node, axes, rank)
    lists = [np.arange(n) for n in s]
    for a, st, en, sp in zip(axes, starts, ends, steps):
        if sp == 0:
            raise node.error("slice step 0 is invalid")
        lists[a] = np.arange(s[a])[slice(st, en, sp)]  # Python's clamping is ONNX's clamping
    return lists


@converter("Slice", since=(7, 10, 11, 13))  # 10: starts/ends/axes/steps are inputs; 11: negative indices
def slice_(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    if node.opset < 10:
        starts, ends = node.attr("starts", None), node.attr("ends", None)
        if starts is None or ends is None:
            raise node.error("missing required attribute 'starts' or 'ends'")
        axes, steps = node.attr("axes", None), None
    else:
        starts, ends = const_ints(node, 1, "starts"), const_ints(node, 2, "ends")
        axes = const_ints(node, 3, "axes", required=False)
        steps = const_ints(node, 4, "steps", required=False)
    lists = _slice_index_lists(node, s, list(starts), list(ends), axes, steps)
    out = [len(i) for i in lists]
    if isinstance(x, np.ndarray):
        return x[np.ix_(*lists)] if x.ndim else x
    _check_nonempty(node, out)
    return slice_value(x, lists)


@converter("Split", since=(7, 11, 13, 18))  # 11: negative axis; 13: split is an input; 18: num_outputs
def split(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    axis = norm_axis(node, node.attr("axis", 0), len(s))
    n_out = len(node.output_names)
    if node.opset < 13:
        sizes = node.attr("split", None)
        if sizes is None and node.has_input(1):
            sizes = const_ints(node, 1, "split")
    else:
        sizes = const_ints(node, 1, "split", required=False)
    num = node.attr("num_outputs", None) if node.opset >= 18 else None
    if sizes is not None and num is not None:
        raise node.error("both the split input and the num_outputs attribute are given")
    dim = s[axis]
    if sizes is None:
        parts = num if num is not None else n_out
        if parts != n_out:
            raise node.error(f"num_outputs={parts} but the node has {n_out} outputs")
        if num is not None:
            chunk = -(-dim // parts)
            sizes = [min(chunk, dim - i * chunk) for i in range(parts)]
            if any(z <= 0 for z in sizes):
                raise node.error(f"cannot split {dim} into {parts} parts of {chunk}")
        else:
            if dim % parts:
                raise node.error(f"axis {axis} of size {dim} does not split evenly into {parts} outputs")
            sizes = [dim // parts] * parts
    sizes = [int(z) for z in sizes]
    if len(sizes) != n_out:
        raise node.error(f"split {sizes} has {len(sizes)} parts but the node has {n_out} outputs")
    if sum(sizes) != dim or any(z < 0 for z in sizes):
        raise node.error(f"split {sizes} does not add up to the size {dim} of axis {axis}")
    results, start = [], 0
    for z in sizes:
        if not node.output_requested(len(results)):
            results.append(None)
        elif isinstance(x, np.ndarray):
            results.append(np.take(x, np.arange(start, start + z), axis=axis))
        else:
            out = list(s)
            out[axis] = z
            _check_nonempty(node, out)
            starts = [0] * len(s)
            starts[axis] = start
            results.append(mu.strided(x, starts, [1] * len(s), out))
        start += z
    return results


# ----------------------------------------------------------------------------------------------- Expand / Tile
@converter("Expand", since=(8, 13))
def expand(ctx, node):
    x = data_input(node, 0, "input")
    shape = const_ints(node, 1, "shape")
    try:
        out = b.broadcast_shapes(shape_of(x), shape)
    except ValueError as e:
        raise node.error(str(e)) from None
    if isinstance(x, np.ndarray):
        _check_size(node, out, x.dtype)
        return np.ascontiguousarray(np.broadcast_to(x.reshape((1,) * (len(out) - x.ndim) + x.shape), out))
    _check_nonempty(node, out)
    return b.broadcast_to(x, out)


@converter("Tile", since=(7, 13))
def tile(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    reps = const_ints(node, 1, "repeats")
    if len(reps) != len(s):
        raise node.error(f"repeats {reps} must have one value per input axis ({len(s)})")
    if any(r < 0 for r in reps):
        raise node.error(f"repeats {reps} must not be negative")
    if isinstance(x, np.ndarray):
        _check_size(node, [r * n for r, n in zip(reps, s)], x.dtype)
        return np.tile(x, reps)
    out = [r * n for r, n in zip(reps, s)]
    _check_nonempty(node, out)
    if all(r == 1 for r in reps):
        return x
    # out viewed as [r0, n0, r1, n1, ...]: a broadcast of x over the repeat dims, then collapsed.
    rank = len(s)
    pairs = [z for r, n in zip(reps, s) for z in (r, n)]
    d = b.dims(2 * rank)
    y = b.generic([x], [mu.amap(2 * rank, [d[2 * i + 1] for i in range(rank)]), b.identity_map(2 * rank)],
                  b.empty(pairs, b.elem_of(x)), lambda v, _o: v)
    return tensor.collapse_shape(b.ranked(out, b.elem_of(x)), y, [[2 * i, 2 * i + 1] for i in range(rank)])


# ----------------------------------------------------------------------------------------------- Pad
@converter("Pad", since=(7, 11, 13, 18, 19) + _TYPE_VERSIONS_21)  # 11: inputs; 18: axes; 19: wrap
def pad(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    rank = len(s)
    mode = node.attr("mode", "constant")
    if node.opset < 11:
        pads = node.attr("pads", None)
        if pads is None:
            raise node.error("missing required attribute 'pads'")
        value = node.attr("value", 0.0)
        axes = None
    else:
        pads = const_ints(node, 1, "pads")
        value = 0
        if node.has_input(2):
            if node.constant(2) is not None:
                value = const_scalar(node, 2, "constant_value")
            else:  # a run-time pad value: read like any operand
                value = node.require_input(2, "constant_value")
                if math.prod(b.shape_of(value)) != 1:
                    raise node.error(f"constant_value must be a scalar, got {value.type}")
        axes = const_ints(node, 3, "axes", required=False) if node.opset >= 18 else None
    modes = ("constant", "reflect", "edge") + (("wrap",) if node.opset >= 19 else ())
    if mode not in modes:
        raise node.error(f"mode '{mode}' is not supported at opset {node.opset} (supported: {', '.join(modes)})")
    axes = list(range(rank)) if axes is None else norm_axes(node, axes, rank)
    if len(pads) != 2 * len(axes):
        raise node.error(f"pads {list(pads)} must have 2 values per padded axis ({len(axes)} axes)")
    width = [(0, 0)] * rank
    for i, a in enumerate(axes):
        width[a] = (int(pads[i]), int(pads[len(axes) + i]))
    # negative pads crop
    lists = [np.arange(n)[max(0, -lo): n - max(0, -hi)] for n, (lo, hi) in zip(s, width)]
    width = [(max(0, lo), max(0, hi)) for lo, hi in width]
    out = [len(l) + lo + hi for l, (lo, hi) in zip(lists, width)]
    if isinstance(value, ir.Value) and (mode != "constant" or isinstance(x, np.ndarray)):
        x = as_value(x) if mode == "constant" else x
        value = 0 if mode != "constant" else value
    if isinstance(x, np.ndarray):
        y = x[np.ix_(*lists)] if x.ndim else x
        if mode == "constant":
            return np.pad(y, width, mode="constant", constant_values=value).astype(x.dtype)
        if any(len(l) == 0 for l, w in zip(lists, width) if w != (0, 0)):
            raise node.error(f"cannot pad an empty axis in mode '{mode}'")
        return np.pad(y, width, mode=mode)
    _check_nonempty(node, out)
    if any(len(l) == 0 for l in lists):
        raise node.error(f"pads {list(pads)} crop an axis to nothing")
    y = slice_value(x, lists, materialize=False) if any(len(l) != n for l, n in zip(lists, s)) else x
    if mode == "constant" and isinstance(value, ir.Value):
        return _pad_with_value(node, y, width, value)
    if mode == "constant":
        elem = b.elem_of(y)
        if not is_float(elem):
            if isinstance(value, float) and not float(value).is_integer():
                raise node.error(f"constant_value {value} is not an integer for an integer tensor")
            value = int(value)
        return mu.pad_constant(y, [lo for lo, _ in width], [hi for _, hi in width], value)
    cur = b.shape_of(y)
    for a, (lo, hi) in enumerate(width):
        if lo == 0 and hi == 0:
            continue
        if mode == "reflect" and cur[a] == 1:
            raise node.error(f"reflect padding of axis {a} of size 1 is undefined")
        idx = np.pad(np.arange(cur[a]), (lo, hi), mode=mode)
        y = mu.take(y, a, idx)
    return y


def _pad_with_value(node, y: ir.Value, width, value: ir.Value) -> ir.Value:
    """Constant padding with a run-time value: pad with 0, then select the value outside the input's box."""
    if b.elem_of(value) != b.elem_of(y):
        raise node.error(f"constant_value has element type {b.elem_of(value)}, data {b.elem_of(y)}")
    s = b.shape_of(y)
    padded = mu.pad_constant(y, [lo for lo, _ in width], [hi for _, hi in width], mu.zero_of(b.elem_of(y)))
    out = b.shape_of(padded)
    rank = len(out)
    idx_t = ir.IndexType.get()

    def body(v, c, _o):
        inside = None
        for a, ((lo, _), n) in enumerate(zip(width, s)):
            if out[a] == n:
                continue
            i = mu.loop_index(a)
            ge = arith.CmpIOp(arith.CmpIPredicate.uge, i, arith.ConstantOp(idx_t, lo).result).result
            lt = arith.CmpIOp(arith.CmpIPredicate.ult, i, arith.ConstantOp(idx_t, lo + n).result).result
            both = arith.AndIOp(ge, lt).result
            inside = both if inside is None else arith.AndIOp(inside, both).result
        return v if inside is None else arith.SelectOp(inside, v, c).result

    vmap = mu.amap(rank, [mu.C(0)] * len(b.shape_of(value)))
    return b.generic([padded, value], [b.identity_map(rank), vmap, b.identity_map(rank)],
                     b.empty(out, b.elem_of(y)), body)


# ----------------------------------------------------------------------------------------------- DepthToSpace
def _blocks(node, s, what):
    bs = node.attr("blocksize", None)
    if bs is None:
        raise node.error("missing required attribute 'blocksize'")
    if bs < 1:
        raise node.error(f"blocksize {bs} must be positive")
    if len(s) != 4:
        raise node.error(f"{what} must be 4-D (N, C, H, W), got shape {list(s)}")
    return bs


def _rearrange(x, expanded, perm, out):
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(np.transpose(x.reshape(expanded), perm)).reshape(out)
    y = b.reshape(x, expanded)
    y = transpose_value(y, perm)
    return b.reshape(y, out)


@converter("DepthToSpace", since=(7, 11, 13, 28))  # 11: mode
def depth_to_space(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    bs = _blocks(node, s, "input")
    n, c, h, w = s
    if c % (bs * bs):
        raise node.error(f"channels {c} are not divisible by blocksize^2 = {bs * bs}")
    mode = node.attr("mode", "DCR") if node.opset >= 11 else "DCR"
    c2 = c // (bs * bs)
    if mode == "DCR":
        expanded, perm = [n, bs, bs, c2, h, w], [0, 3, 4, 1, 5, 2]
    elif mode == "CRD":
        expanded, perm = [n, c2, bs, bs, h, w], [0, 1, 4, 2, 5, 3]
    else:
        raise node.error(f"mode '{mode}' is not supported (DCR, CRD)")
    return _rearrange(x, expanded, perm, [n, c2, h * bs, w * bs])


@converter("SpaceToDepth", since=(7, 13, 28))  # 28: mode
def space_to_depth(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    bs = _blocks(node, s, "input")
    n, c, h, w = s
    if h % bs or w % bs:
        raise node.error(f"spatial dims {h}x{w} are not divisible by blocksize {bs}")
    mode = node.attr("mode", "DCR") if node.opset >= 28 else "DCR"
    expanded = [n, c, h // bs, bs, w // bs, bs]
    if mode == "DCR":
        perm = [0, 3, 5, 1, 2, 4]
    elif mode == "CRD":
        perm = [0, 1, 3, 5, 2, 4]
    else:
        raise node.error(f"mode '{mode}' is not supported (DCR, CRD)")
    return _rearrange(x, expanded, perm, [n, c * bs * bs, h // bs, w // bs])


# ----------------------------------------------------------------------------------------------- Trilu
@converter("Trilu", since=14)
def trilu(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    if len(s) < 2:
        raise node.error(f"input must have rank >= 2, got shape {list(s)}")
    upper = node.attr("upper", 1)
    k, kv = 0, None
    if node.has_input(1):
        if node.constant(1) is not None:
            k = int(const_scalar(node, 1, "k"))
        else:  # a run-time k is read like any operand: it decides values, not shapes
            kv = node.require_input(1, "k")
            if b.shape_of(kv) not in ((), (1,)) or not isinstance(b.elem_of(kv), ir.IntegerType):
                raise node.error(f"k must be an integer scalar, got {kv.type}")
    if isinstance(x, np.ndarray) and kv is None:
        return np.triu(x, k) if upper else np.tril(x, k)
    x = as_value(x)
    _check_nonempty(node, s)
    rank = len(s)
    elem = b.elem_of(x)
    i64 = ir.IntegerType.get_signless(64)
    pred = arith.CmpIPredicate.sge if upper else arith.CmpIPredicate.sle

    def body(v, *rest):
        # keep x[..., i, j] when j - i >= k (upper) / j - i <= k (lower)
        i = mu.index_cast(mu.loop_index(rank - 2), i64)
        j = mu.index_cast(mu.loop_index(rank - 1), i64)
        kk = b.scalar(i64, k) if kv is None else (rest[0] if rest[0].type == i64 else
                                                  arith.ExtSIOp(i64, rest[0]).result)
        keep = arith.CmpIOp(pred, arith.SubIOp(j, i).result, kk).result
        return arith.SelectOp(keep, v, b.scalar(elem, mu.zero_of(elem))).result

    ins, maps = [x], [b.identity_map(rank)]
    if kv is not None:
        ins.append(kv)
        maps.append(mu.amap(rank, [mu.C(0)] * len(b.shape_of(kv))))
    return b.generic(ins, maps + [b.identity_map(rank)], b.empty(s, elem), body)


# ----------------------------------------------------------------------------------------------- OneHot
def _to_i64(v: ir.Value, unsigned: bool) -> ir.Value:
    t = v.type
    i64 = ir.IntegerType.get_signless(64)
    if is_float(t):
        return arith.FPToSIOp(i64, v).result
    if t.width == 64:
        return v
    return (arith.ExtUIOp if unsigned else arith.ExtSIOp)(i64, v).result


@converter("OneHot", since=(9, 11, 28))  # 11: negative axis and indices
def onehot(ctx, node):
    indices = data_input(node, 0, "indices")
    depth = const_scalar(node, 1, "depth")
    values = data_input(node, 2, "values")
    depth = int(depth)
    if depth < 1:
        raise node.error(f"depth {depth} must be positive")
    if shape_of(values) not in ((2,),):
        raise node.error(f"values must be a 2-element tensor [off, on], got shape {list(shape_of(values))}")
    si = shape_of(indices)
    rank = len(si) + 1
    axis = norm_axis(node, node.attr("axis", -1), rank)
    out = list(si[:axis]) + [depth] + list(si[axis:])
    if isinstance(indices, np.ndarray) and isinstance(values, np.ndarray):
        idx = indices.astype(np.int64)
        idx = np.where(idx < 0, idx + depth, idx)
        hot = np.expand_dims(idx, axis) == np.arange(depth).reshape([-1 if i == axis else 1 for i in range(rank)])
        return np.where(hot, values[1], values[0]).astype(values.dtype)
    _check_nonempty(node, out)
    iv = as_value(indices)
    unsigned = input_dtype(node, 0).kind == "u"
    if isinstance(values, np.ndarray):
        vt = numpy_to_mlir(values.dtype)
        off_on = [values[0].item(), values[1].item()]
        ins, maps = [iv], [b.projection_map(rank, [i for i in range(rank) if i != axis])]
    else:
        vt = b.elem_of(values)
        off_on = None
        ins = [iv, values, values]
        maps = [b.projection_map(rank, [i for i in range(rank) if i != axis]),
                mu.amap(rank, [mu.C(0)]), mu.amap(rank, [mu.C(1)])]
    i64 = ir.IntegerType.get_signless(64)

    def body(i, *rest):
        if off_on is None:
            off, on = rest[0], rest[1]
        else:
            off, on = b.scalar(vt, off_on[0]), b.scalar(vt, off_on[1])
        i = _to_i64(i, unsigned)
        if not unsigned:
            i = mu.normalized_index(i, depth)
        hit = arith.CmpIOp(arith.CmpIPredicate.eq, i, mu.index_cast(mu.loop_index(axis), i64)).result
        return arith.SelectOp(hit, on, off).result

    return b.generic(ins, maps + [b.identity_map(rank)], b.empty(out, vt), body)


# ----------------------------------------------------------------------------------------------- constants
@converter("Shape", since=(7, 13, 15, 19) + _TYPE_VERSIONS_21)  # 15: start / end
def shape(ctx, node):
    s = shape_of(data_input(node, 0, "data"))
    start, end = node.attr("start", 0), node.attr("end", None)
    if node.opset < 15:
        start, end = 0, None
    r = len(s)
    start = min(max(start + r if start < 0 else start, 0), r)
    end = r if end is None else min(max(end + r if end < 0 else end, 0), r)
    return np.array(s[start:end], dtype=np.int64)


@converter("Size", since=(7, 13, 19) + _TYPE_VERSIONS_21)
def size(ctx, node):
    return np.array(math.prod(shape_of(data_input(node, 0, "data"))), dtype=np.int64)


@converter("ConstantOfShape", since=(9, 20) + _TYPE_VERSIONS_21)
def constant_of_shape(ctx, node):
    shape_ = const_ints(node, 0, "input")
    if any(d < 0 for d in shape_):
        raise node.error(f"shape {shape_} has negative dims")
    v = node.attr("value", None)
    if v is None:
        v = np.zeros(1, dtype=np.float32)
    v = np.asarray(v)
    if v.size != 1:
        raise node.error(f"value must have one element, got shape {list(v.shape)}")
    _check_size(node, shape_, v.dtype)
    return np.full(shape_, v.reshape(-1)[0], dtype=v.dtype)


@converter("Range", since=(11, 27))  # 27: stash_type for 16-bit floats
def range_(ctx, node):
    vals = []
    for i, what in enumerate(("start", "limit", "delta")):
        c = node.constant(i)
        if c is None:
            raise node.needs_constant(i, f"the {what} input '{node.input_names[i]}' must be a constant (initializer or Constant "
                             "node): the output length depends on it")
        if c.size != 1:
            raise node.error(f"{what} must be a scalar, got shape {list(c.shape)}")
        vals.append(c.reshape(()))
    dt = vals[0].dtype
    if any(v.dtype != dt for v in vals):
        raise node.error(f"start, limit and delta have different types {[str(v.dtype) for v in vals]}")
    start, limit, delta = (v.item() for v in vals)
    if delta == 0:
        raise node.error("delta must not be 0")
    n = max(math.ceil((limit - start) / delta), 0)
    _check_size(node, [n], dt)
    if dt.kind == "f":
        work = np.float32 if dt == np.float16 and node.opset >= 27 and node.attr("stash_type", 1) == 1 else dt
        return (np.asarray(start, work) + np.arange(n, dtype=work) * np.asarray(delta, work)).astype(dt)
    return (start + np.arange(n, dtype=np.int64) * delta).astype(dt)


@converter("EyeLike", since=(9, 22))
def eye_like(ctx, node):
    x = data_input(node, 0, "input")
    s = shape_of(x)
    if len(s) != 2:
        raise node.error(f"input must be 2-D, got shape {list(s)}")
    dtype_attr = node.attr("dtype", None)
    if dtype_attr is None:
        dt = input_dtype(node, 0)
    else:
        dt = onnx_to_numpy(dtype_attr)
        if dt is None:
            raise node.error(f"dtype {onnx_type_name(dtype_attr)} is not supported")
    _check_size(node, s, dt)
    return np.eye(s[0], s[1], k=node.attr("k", 0), dtype=dt)


@converter("NonZero", since=(9, 13))
def nonzero(ctx, node):
    c = node.constant(0)
    if c is None:
        raise node.needs_constant(0, f"NonZero of a value computed at run time is not supported: the input "
                         f"'{node.input_names[0]}' must be a constant (its output shape depends on the data)")
    return np.array(np.nonzero(c), dtype=np.int64).reshape(c.ndim, -1)
