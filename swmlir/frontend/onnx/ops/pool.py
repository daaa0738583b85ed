"""MaxPool / AveragePool (2-D) on linalg pooling ops over an explicitly padded input; GlobalAveragePool as a
reduction generic.

The divisor of AveragePool depends on the window position when pads, ceil_mode or count_include_pad make
windows partial; it is computed at import time (numpy) and applied by one elementwise generic, with a scalar
when every window has the same count.
"""
from __future__ import annotations

import math

import numpy as np
from mlir.dialects import arith, linalg

from .. import builders as b
from ..dtypes import mlir_to_numpy
from ..registry import converter
from . import window


def _pool_window(node, x):
    node.require_float(x, "X")
    sx = b.shape_of(x)
    if len(sx) != 4:
        raise node.error(f"only 2-D pooling (a 4-D NCHW input) is supported; X has shape {list(sx)}")
    kernel = node.attr("kernel_shape", None)
    if kernel is None:
        raise node.error("attribute kernel_shape is required")
    if len(kernel) != 2:
        raise node.error(f"kernel_shape {list(kernel)} should have 2 values for a 4-D input")
    ceil_mode = node.attr("ceil_mode", 0)
    if ceil_mode not in (0, 1):
        raise node.error(f"ceil_mode={ceil_mode} should be 0 or 1")
    win = window.resolve(node, list(sx[2:]), list(kernel), ceil_mode=bool(ceil_mode))
    return sx, win


@converter("MaxPool", since=7)
@converter("MaxPool", since=8)   # Indices output, storage_order (refused / irrelevant without Indices)
@converter("MaxPool", since=10)  # ceil_mode, dilations
@converter("MaxPool", since=11)
@converter("MaxPool", since=12)  # int8 / uint8 (refused)
@converter("MaxPool", since=22)
def max_pool(ctx, node):
    x = node.require_input(0, "X")
    if node.output_requested(1):
        raise node.error("the second output (Indices) is not supported")
    sx, win = _pool_window(node, x)
    elem = b.elem_of(x)
    low, high = win.padding(list(sx[2:]))
    xp = b.pad(x, [0, 0] + low, [0, 0] + high, float("-inf"))
    init = b.fill([sx[0], sx[1], *win.out], elem, float("-inf"))
    return linalg.pooling_nchw_max(xp, b.empty(win.kernel, elem), outs=[init],
                                   strides=win.strides, dilations=win.dilations)


def _window_counts(n: int, o: int, win: window.Window, i: int, include_pad: bool) -> np.ndarray:
    """How many taps of each of the `o` windows along spatial dim i are counted by the average."""
    lo, hi = (-win.pad_begin[i], n + win.pad_end[i]) if include_pad else (0, n)
    start = np.arange(o)[:, None] * win.strides[i] - win.pad_begin[i]
    taps = start + np.arange(win.kernel[i])[None, :] * win.dilations[i]
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


@converter("AveragePool", since=7)   # count_include_pad
@converter("AveragePool", since=10)  # ceil_mode
@converter("AveragePool", since=11)
@converter("AveragePool", since=19)  # dilations
@converter("AveragePool", since=22)
def average_pool(ctx, node):
    x = node.require_input(0, "X")
    sx, win = _pool_window(node, x)
    include_pad = node.attr("count_include_pad", 0)
    elem = b.elem_of(x)
    low, high = win.padding(list(sx[2:]))
    xp = b.pad(x, [0, 0] + low, [0, 0] + high, 0.0)
    init = b.fill([sx[0], sx[1], *win.out], elem, 0.0)
    s = linalg.pooling_nchw_sum(xp, b.empty(win.kernel, elem), outs=[init],
                                strides=win.strides, dilations=win.dilations)
    counts = np.multiply.outer(*[_window_counts(sx[2 + i], win.out[i], win, i, bool(include_pad)) for i in range(2)])
    if (counts == 0).any():
        raise node.error("a pooling window covers no input element (pads larger than the kernel)")
    if (counts == counts.flat[0]).all():
        c = float(counts.flat[0])
        return b.elementwise([s], lambda v: arith.divf(v, b.scalar(elem, c)))
    cnt = b.constant(counts.astype(mlir_to_numpy(elem)), f"{node.name}_count")
    maps = [b.identity_map(4), b.projection_map(4, [2, 3]), b.identity_map(4)]
    return b.generic([s, cnt], maps, b.empty(b.shape_of(s), elem), lambda v, k, _: arith.divf(v, k))


@converter("GlobalAveragePool", since=7)
@converter("GlobalAveragePool", since=22)
def global_average_pool(ctx, node):
    x = node.require_input(0, "X")
    node.require_float(x, "X")
    sx = b.shape_of(x)
    if len(sx) < 3:
        raise node.error(f"X must be (N, C, spatial...), got shape {list(sx)}")
    r, elem = len(sx), b.elem_of(x)
    total = b.reduce(x, range(2, r), 0.0, arith.addf)
    out_shape = [sx[0], sx[1]] + [1] * (r - 2)
    count = float(math.prod(sx[2:]))
    maps = [b.projection_map(r, [0, 1]), b.identity_map(r)]
    return b.generic([total], maps, b.empty(out_shape, elem), lambda v, _: arith.divf(v, b.scalar(elem, count)))
