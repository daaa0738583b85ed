"""MaxPool / AveragePool / LpPool in 1, 2 and 3 (or more) spatial dims, and the global pools.

Each windowed pool pads its input explicitly (with the identity of its combine: lowest value for max, 0 for the
sums), then reduces every window with one op whose loops are (n, c, o_1..o_r, k_1..k_r), reading the input at
(n, c, o_i * s_i + k_i * d_i) and a shape-only window tensor at (k_i) (which gives the k loops their sizes).
Float 1-D and 2-D max / sum pools are the named linalg ops (pooling_ncw_*, pooling_nchw_*); everything else
(3-D, integers, |x|^p) is the same iteration space as a `linalg.generic`.

The divisor of AveragePool depends on the window position when pads, ceil_mode or count_include_pad make
windows partial; it is computed at import time (numpy) and applied by one elementwise generic, with a scalar
when every window has the same count.

MaxPool's Indices output is a second result of the same generic: each window keeps its first maximum (strict
`>` in window order, as the ONNX reference and onnxruntime do) and the flat index of that element, read from a
constant table of flat spatial positions (row-major, or column-major for storage_order=1) laid over the padded
input with the same window map, plus a per-(n, c) offset table.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, math as math_d

from .. import builders as b
from ..dtypes import is_float, mlir_to_numpy
from ..registry import converter
from . import window

_NAMED_POOL = {(1, "max"): "pooling_ncw_max", (1, "sum"): "pooling_ncw_sum",
               (2, "max"): "pooling_nchw_max", (2, "sum"): "pooling_nchw_sum"}


def _pool_maps(r: int, win: window.Window) -> tuple[int, ir.AffineMap, ir.AffineMap, ir.AffineMap]:
    """(loop count, input map, window map, output map) over loops (n, c, o_1..o_r, k_1..k_r)."""
    n_loops = 2 + 2 * r
    o_d = [2 + i for i in range(r)]
    k_d = [2 + r + i for i in range(r)]
    x_map = window.window_map(n_loops, [0, 1], o_d, k_d, win.strides, win.dilations)
    return (n_loops, x_map, b.projection_map(n_loops, k_d), b.projection_map(n_loops, [0, 1] + o_d))


def pool_nd(xp: ir.Value, win: window.Window, init_value, combine, kind: str | None = None) -> ir.Value:
    """Reduce every window of the padded xp [N, C, S..] into [N, C, O..], starting from `init_value`;
    `combine(x, acc)`. `kind` ("max" / "sum") allows the named op when one exists."""
    sx, elem = b.shape_of(xp), b.elem_of(xp)
    r = len(sx) - 2
    init = b.fill([sx[0], sx[1], *win.out], elem, init_value)
    shape_only = b.empty(win.kernel, elem)
    if kind is not None and is_float(elem) and (r, kind) in _NAMED_POOL:
        return getattr(linalg, _NAMED_POOL[(r, kind)])(xp, shape_only, outs=[init], strides=win.strides,
                                                       dilations=win.dilations)
    n_loops, x_map, k_map, o_map = _pool_maps(r, win)
    kinds = ["parallel"] * (2 + r) + ["reduction"] * r
    return b.generic([xp, shape_only], [x_map, k_map, o_map], init, lambda x, _, acc: combine(x, acc), kinds)


def _pool_window(node, x, *, allow_int: bool = False):
    if not allow_int:
        node.require_float(x, "X")
    elif not is_float(b.elem_of(x)) and not (isinstance(b.elem_of(x), ir.IntegerType) and b.elem_of(x).width > 1):
        raise node.error(f"X has element type {b.elem_of(x)}; only float and integer tensors are supported")
    sx = b.shape_of(x)
    if len(sx) < 3:
        raise node.error(f"X must be (N, C, spatial...) with at least one spatial dim, got shape {list(sx)}")
    kernel = node.attr("kernel_shape", None)
    if kernel is None:
        raise node.error("attribute kernel_shape is required")
    if len(kernel) != len(sx) - 2:
        raise node.error(f"kernel_shape {list(kernel)} should have {len(sx) - 2} values for a {len(sx)}-D input")
    ceil_mode = node.attr("ceil_mode", 0)
    if ceil_mode not in (0, 1):
        raise node.error(f"ceil_mode={ceil_mode} should be 0 or 1")
    win = window.resolve(node, list(sx[2:]), [int(k) for k in kernel], ceil_mode=bool(ceil_mode))
    return sx, win


def _padded(x, win: window.Window, value):
    sx = b.shape_of(x)
    low, high = win.padding(list(sx[2:]))
    return b.pad(x, [0, 0] + low, [0, 0] + high, value)


# ----------------------------------------------------------------------------------------------- MaxPool
def _max_ops(node, elem: ir.Type):
    """(lowest value, max(x, acc), x > acc) for the element type of input 0."""
    if is_float(elem):
        return float("-inf"), arith.maximumf, lambda x, a: arith.cmpf(arith.CmpFPredicate.OGT, x, a)
    if window.is_unsigned(node, 0):
        return 0, arith.maxui, lambda x, a: arith.cmpi(arith.CmpIPredicate.ugt, x, a)
    lowest = -(1 << (elem.width - 1))
    return lowest, arith.maxsi, lambda x, a: arith.cmpi(arith.CmpIPredicate.sgt, x, a)


def _max_with_indices(node, x, xp, win: window.Window, lowest, greater, storage_order: int):
    """(values, indices) of MaxPool: a two-result generic, see the module docstring."""
    sx, sp, elem = b.shape_of(x), b.shape_of(xp), b.elem_of(x)
    r = len(sx) - 2
    spatial = list(sx[2:])
    low, _ = win.padding(spatial)
    # flat index of each spatial position of the unpadded input (-1 in the padding: never the maximum of a
    # window, which always holds at least one input element)
    grids = np.meshgrid(*[np.arange(n) for n in spatial], indexing="ij")
    if storage_order == 0:
        strides = [math.prod(spatial[i + 1:]) for i in range(r)]
    else:
        strides = [math.prod(spatial[:i]) for i in range(r)]
    flat = sum(g * s for g, s in zip(grids, strides)).astype(np.int64)
    pos = np.full(sp[2:], -1, dtype=np.int64)
    pos[tuple(slice(lo, lo + n) for lo, n in zip(low, spatial))] = flat
    offs = (np.arange(sx[0] * sx[1], dtype=np.int64) * math.prod(spatial)).reshape(sx[0], sx[1])
    pos_v = b.constant(pos, f"{node.name}_positions")
    offs_v = b.constant(offs, f"{node.name}_offsets")
    n_loops, x_map, k_map, o_map = _pool_maps(r, win)
    p_map = window.window_map(n_loops, [], [2 + i for i in range(r)], [2 + r + i for i in range(r)],
                              win.strides, win.dilations)
    nc_map = b.projection_map(n_loops, [0, 1])
    i64 = ir.IntegerType.get_signless(64)
    out = [sx[0], sx[1], *win.out]
    inits = [b.fill(out, elem, lowest), b.fill(out, i64, 0)]
    kinds = ["parallel"] * (2 + r) + ["reduction"] * r
    shape_only = b.empty(win.kernel, elem)
    maps = (x_map, p_map, nc_map, k_map, o_map, o_map)
    op = linalg.GenericOp([b.ranked(out, elem), b.ranked(out, i64)], [xp, pos_v, offs_v, shape_only], inits,
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                          ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{k}>") for k in kinds]))
    block = op.regions[0].blocks.append(elem, i64, i64, elem, elem, i64)
    with ir.InsertionPoint(block):
        v, p, o, _, acc, idx = block.arguments
        gt = greater(v, acc)
        linalg.YieldOp([arith.select(gt, v, acc), arith.select(gt, arith.addi(p, o), idx)])
    return [op.results[0], op.results[1]]


# 8: Indices, storage_order; 10: ceil_mode, dilations; 12: int8 / uint8
@converter("MaxPool", since=(7, 8, 10, 11, 12, 22))
def max_pool(ctx, node):
    x = node.require_input(0, "X")
    sx, win = _pool_window(node, x, allow_int=node.opset >= 12)
    elem = b.elem_of(x)
    lowest, maximum, greater = _max_ops(node, elem)
    storage_order = node.attr("storage_order", 0)
    if storage_order not in (0, 1):
        raise node.error(f"storage_order={storage_order} should be 0 or 1")
    xp = _padded(x, win, lowest)
    if node.output_requested(1):
        return _max_with_indices(node, x, xp, win, lowest, greater, storage_order)
    return pool_nd(xp, win, lowest, maximum, "max")


# ----------------------------------------------------------------------------------------------- AveragePool
def _window_counts(n: int, o: int, win: window.Window, i: int, include_pad: bool) -> np.ndarray:
    """How many taps of each of the `o` windows along spatial dim i are counted by the average."""
    lo, hi = (-win.pad_begin[i], n + win.pad_end[i]) if include_pad else (0, n)
    start = np.arange(o)[:, None] * win.strides[i] - win.pad_begin[i]
    taps = start + np.arange(win.kernel[i])[None, :] * win.dilations[i]
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


@converter("AveragePool", since=(7, 10, 11, 19, 22))  # 7: count_include_pad; 10: ceil_mode; 19: dilations
def average_pool(ctx, node):
    x = node.require_input(0, "X")
    sx, win = _pool_window(node, x)
    include_pad = node.attr("count_include_pad", 0)
    elem = b.elem_of(x)
    r = len(sx) - 2
    s = pool_nd(_padded(x, win, 0.0), win, 0.0, arith.addf, "sum")
    per_dim = [_window_counts(sx[2 + i], win.out[i], win, i, bool(include_pad)) for i in range(r)]
    counts = functools.reduce(np.multiply.outer, per_dim)
    if (counts == 0).any():
        raise node.error("a pooling window covers no input element (pads larger than the kernel)")
    if (counts == counts.flat[0]).all():
        c = float(counts.flat[0])
        return b.elementwise([s], lambda v: arith.divf(v, b.scalar(elem, c)))
    cnt = b.constant(counts.astype(mlir_to_numpy(elem)), f"{node.name}_count")
    maps = [b.identity_map(2 + r), b.projection_map(2 + r, list(range(2, 2 + r))), b.identity_map(2 + r)]
    return b.generic([s, cnt], maps, b.empty(b.shape_of(s), elem), lambda v, k, _: arith.divf(v, k))


# ----------------------------------------------------------------------------------------------- LpPool
def _lp_p(node) -> int:
    p = node.attr("p", 2)
    if isinstance(p, float):  # LpPool-1 had a float p; only integral values are meaningful here
        if p != int(p):
            raise node.error(f"p={p} must be an integer")
        p = int(p)
    if p < 1:
        raise node.error(f"p={p} must be a positive integer")
    return p


def _abs_pow(x, p: int):
    """|x|^p: products for small p (exact where they can be), powf beyond."""
    elem = x.type
    if p == 1:
        return math_d.absf(x)
    if p % 2 == 0 and p <= 4:
        y = arith.mulf(x, x)
        return y if p == 2 else arith.mulf(y, y)
    if p <= 4:
        a = math_d.absf(x)
        y = a
        for _ in range(p - 1):
            y = arith.mulf(y, a)
        return y
    return math_d.powf(math_d.absf(x), b.scalar(elem, float(p)))


def _root(v, p: int):
    if p == 1:
        return v
    if p == 2:
        return math_d.sqrt(v)
    return math_d.powf(v, b.scalar(v.type, 1.0 / p))


@converter("LpPool", since=(7, 11, 18, 22))  # 11: auto_pad defaults, pads; 18: ceil_mode, dilations
def lp_pool(ctx, node):
    x = node.require_input(0, "X")
    sx, win = _pool_window(node, x)
    p = _lp_p(node)
    s = pool_nd(_padded(x, win, 0.0), win, 0.0, lambda v, acc: arith.addf(acc, _abs_pow(v, p)))
    return b.elementwise([s], lambda v: _root(v, p))


# ----------------------------------------------------------------------------------------------- global pools
def _global_input(node):
    x = node.require_input(0, "X")
    node.require_float(x, "X")
    sx = b.shape_of(x)
    if len(sx) < 3:
        raise node.error(f"X must be (N, C, spatial...), got shape {list(sx)}")
    return x, sx


def _to_nc11(node, v, sx, finish=None):
    """[N, C] -> [N, C, 1, .., 1], applying `finish` to each element on the way."""
    r, elem = len(sx), b.elem_of(v)
    out_shape = [sx[0], sx[1]] + [1] * (r - 2)
    if finish is None:
        return b.reshape(v, out_shape)
    maps = [b.projection_map(r, [0, 1]), b.identity_map(r)]
    return b.generic([v], maps, b.empty(out_shape, elem), lambda a, _: finish(a))


@converter("GlobalAveragePool", since=(7, 22))
def global_average_pool(ctx, node):
    x, sx = _global_input(node)
    elem = b.elem_of(x)
    total = b.reduce(x, range(2, len(sx)), 0.0, arith.addf)
    count = float(math.prod(sx[2:]))
    return _to_nc11(node, total, sx, lambda v: arith.divf(v, b.scalar(elem, count)))


@converter("GlobalMaxPool", since=(7, 22))
def global_max_pool(ctx, node):
    x, sx = _global_input(node)
    m = b.reduce(x, range(2, len(sx)), float("-inf"), arith.maximumf)
    return _to_nc11(node, m, sx)


@converter("GlobalLpPool", since=(7, 22))
def global_lp_pool(ctx, node):
    x, sx = _global_input(node)
    p = _lp_p(node)
    s = b.reduce(x, range(2, len(sx)), 0.0, lambda v, acc: arith.addf(acc, _abs_pow(v, p)))
    return _to_nc11(node, s, sx, lambda v: _root(v, p))
