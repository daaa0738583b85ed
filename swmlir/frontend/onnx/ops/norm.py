"""Normalizations: BatchNormalization (inference), InstanceNormalization, LayerNormalization, RMSNormalization,
GroupNormalization, LRN, LpNormalization, MeanVarianceNormalization.

Statistics are two-pass: the mean is one reduction, the variance a second reduction of (x - mean)^2, never
E[x^2] - E[x]^2. Per-channel factors are computed once on the small reduced tensors (or in numpy when the
parameters are constants, as BatchNormalization's usually are), so the full-size generic is a multiply-add.
float16 inputs are normalized in float32 (LayerNormalization, RMSNormalization, GroupNormalization-21: their
stash_type). LRN sums the squares of a channel window with an extra reduction loop read at `c + w` of the
zero-padded input (a convolution-like map); its output is indexed by plain loop dims.

Refused: BatchNormalization in training mode (training_mode=1, or the running/saved statistics outputs of
opsets < 14), LpNormalization with p other than 1 or 2, non-float inputs, parameters of the wrong shape.
"""
from __future__ import annotations

import math as pymath
from typing import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, math

from .. import builders as b
from ..dtypes import is_float, mlir_to_numpy
from ..registry import converter
from .reduce import accumulator_type, cast_scalar, cast_tensor, normalize_axes, normalize_axis, reduce_with


# ================================================================================================ helpers
def _param(node, i: int, what: str, elem: ir.Type, shape: Sequence[int] | None = None) -> ir.Value | np.ndarray:
    """Input `i` as a numpy array when it is a constant, else as an SSA value of element type `elem`; its shape
    is checked against `shape` when given."""
    c = node.constant(i)
    v = c if c is not None else node.require_input(i, what)
    got = tuple(c.shape) if c is not None else b.shape_of(v)
    if shape is not None and got != tuple(shape):
        raise node.error(f"{what} has shape {list(got)}, expected {list(shape)}")
    if c is not None:
        if c.dtype.kind != "f":
            raise node.error(f"{what} has element type {c.dtype}; a floating-point tensor is expected")
        return c
    if not is_float(b.elem_of(v)):
        raise node.error(f"{what} has element type {b.elem_of(v)}; a floating-point tensor is expected")
    return cast_tensor(v, elem)


def _value(p: ir.Value | np.ndarray, elem: ir.Type, name: str) -> ir.Value:
    if isinstance(p, np.ndarray):
        return b.constant(p.astype(mlir_to_numpy(elem)), name)
    return cast_tensor(p, elem)


def _float_input(node, what: str = "X") -> ir.Value:
    x = node.require_input(0, what)
    node.require_float(x, what)
    return x


def mean_and_inv_std(x: ir.Value, axes: Sequence[int], eps: float, elem: ir.Type) -> tuple[ir.Value, ir.Value]:
    """(mean, 1 / sqrt(var + eps)) of `x` over `axes` (dims dropped), computed in `elem`, two-pass variance."""
    s = b.shape_of(x)
    count = float(pymath.prod(s[a] for a in axes))
    total = reduce_with(x, axes, elem, 0.0, lambda v, a: arith.addf(cast_scalar(v, elem), a))
    mean = b.elementwise([total], lambda v: arith.divf(v, b.scalar(elem, count)))

    def sq(v, m, a):
        d = arith.subf(cast_scalar(v, elem), m)
        return arith.addf(arith.mulf(d, d), a)

    ss = reduce_with(x, axes, elem, 0.0, sq, extra=[mean])
    inv = b.elementwise([ss], lambda v: arith.divf(b.scalar(elem, 1.0), math.sqrt(
        arith.addf(arith.divf(v, b.scalar(elem, count)), b.scalar(elem, eps)))))
    return mean, inv


def normalize(x: ir.Value, stats: Sequence[ir.Value], stat_dims: Sequence[int],
              params: Sequence[tuple[ir.Value, ir.AffineMap]], elem: ir.Type) -> ir.Value:
    """y = (x - mean) * inv_std [* scale] [+ bias] over x's shape; `stats` = (mean, inv_std) indexed by the loop
    dims `stat_dims`, `params` = [(scale, its map), (bias, its map)] (either may be None). Output in x's type."""
    s, out_elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    smap = b.projection_map(r, stat_dims)
    ins = [x, *stats] + [p for p, _ in params if p is not None]
    maps = [b.identity_map(r), smap, smap] + [m for p, m in params if p is not None]
    has = [p is not None for p, _ in params]

    def body(v, m, inv, *rest):
        rest = list(rest[:-1])
        y = arith.mulf(arith.subf(cast_scalar(v, elem), m), inv)
        if has and has[0]:
            y = arith.mulf(y, cast_scalar(rest.pop(0), elem))
        if len(has) > 1 and has[1]:
            y = arith.addf(y, cast_scalar(rest.pop(0), elem))
        return cast_scalar(y, out_elem)

    return b.generic(ins, maps + [b.identity_map(r)], b.empty(s, out_elem), body)


# ================================================================================================ BatchNormalization
@converter("BatchNormalization", since=(7, 9, 14, 15))  # 9: `spatial` removed; 14: training_mode; 15: types
def batch_norm(ctx, node):
    x = _float_input(node)
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    if r < 2:
        raise node.error(f"X must be (N, C, ...), got shape {list(s)}")
    if node.opset >= 14:
        if node.attr("training_mode", 0):
            raise node.error("training_mode=1 (batch statistics, running-mean updates) is not supported; "
                             "export the model in inference mode")
        extra = [i for i in (1, 2) if node.output_requested(i)]
    else:
        extra = [i for i in (1, 2, 3, 4) if node.output_requested(i)]
    if extra:
        raise node.error(f"outputs {extra} (running or saved statistics) exist only in training mode, which is "
                         "not supported")
    spatial = node.attr("spatial", 1) if node.opset < 9 else 1
    pshape = [s[1]] if spatial else list(s[1:])
    pdims = [1] if spatial else list(range(1, r))
    eps = float(node.attr("epsilon", 1e-5))
    acc = accumulator_type(elem)
    scale, bias, mean, var = (_param(node, i, w, acc, pshape) for i, w in
                              ((1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")))
    pmap = b.projection_map(r, pdims)
    if all(isinstance(p, np.ndarray) for p in (scale, bias, mean, var)):
        # y = x * a + c with a = scale / sqrt(var + eps), c = B - mean * a, folded here
        a = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
        c = bias.astype(np.float64) - mean.astype(np.float64) * a
        npt = mlir_to_numpy(acc)
        av, cv = b.constant(a.astype(npt), f"{node.name}_scale"), b.constant(c.astype(npt), f"{node.name}_shift")
        return b.generic([x, av, cv], [b.identity_map(r), pmap, pmap, b.identity_map(r)], b.empty(s, elem),
                         lambda v, ai, ci, _: cast_scalar(arith.addf(arith.mulf(cast_scalar(v, acc), ai), ci), elem))
    scale, bias, mean, var = (_value(p, acc, f"{node.name}_{n}") for p, n in
                              ((scale, "scale"), (bias, "B"), (mean, "mean"), (var, "var")))
    inv = b.elementwise([scale, var], lambda g, v: arith.divf(g, math.sqrt(arith.addf(v, b.scalar(acc, eps)))))
    return normalize(x, [mean, inv], pdims, [(None, None), (bias, pmap)], acc)  # inv holds the scale


# ================================================================================================ InstanceNormalization
@converter("InstanceNormalization", since=(7, 22))  # 22: bfloat16
def instance_norm(ctx, node):
    x = _float_input(node, "input")
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    if r < 3:
        raise node.error(f"input must be (N, C, D1, ...), got shape {list(s)}")
    acc = accumulator_type(elem)
    scale = _value(_param(node, 1, "scale", acc, [s[1]]), acc, f"{node.name}_scale")
    bias = _value(_param(node, 2, "B", acc, [s[1]]), acc, f"{node.name}_B")
    mean, inv = mean_and_inv_std(x, list(range(2, r)), float(node.attr("epsilon", 1e-5)), acc)
    cmap = b.projection_map(r, [1])
    return normalize(x, [mean, inv], [0, 1], [(scale, cmap), (bias, cmap)], acc)


# ================================================================================================ LayerNormalization
def _stash_elem(node, elem: ir.Type) -> ir.Type:
    stash = node.attr("stash_type", 1)
    if stash == 1:
        return ir.F32Type.get()
    if stash == 11:
        return ir.F64Type.get()
    if stash == 10:
        return ir.F16Type.get()
    raise node.error(f"stash_type={stash} is not supported (1 float, 10 float16, 11 double)")


def _broadcast_param(node, i: int, what: str, x_shape: Sequence[int], elem: ir.Type):
    """An optional input numpy-broadcastable to X (LayerNormalization's Scale and B): (value, its map)."""
    if not node.has_input(i):
        return None, None
    p = _param(node, i, what, elem)
    ps = tuple(p.shape) if isinstance(p, np.ndarray) else b.shape_of(p)
    try:
        ok = b.broadcast_shapes(ps, x_shape) == tuple(x_shape)
    except ValueError:
        ok = False
    if not ok:
        raise node.error(f"{what} of shape {list(ps)} does not broadcast to X's shape {list(x_shape)}")
    return _value(p, elem, f"{node.name}_{what}"), b.broadcast_map(ps, x_shape)


def _last_axes_norm_inputs(node, scale_name: str):
    """What LayerNormalization and RMSNormalization share: X (not a scalar), the first normalized axis, the
    element type, epsilon, and the required scale with its broadcast map."""
    x = _float_input(node)
    s = b.shape_of(x)
    r = len(s)
    if r == 0:
        raise node.error("X is a scalar (rank 0)")
    axis = normalize_axis(node, node.attr("axis", -1), r)
    elem = _stash_elem(node, b.elem_of(x))
    eps = float(node.attr("epsilon", 1e-5))
    scale, smap = _broadcast_param(node, 1, scale_name, s, elem)
    if scale is None:
        raise node.error(f"missing required input #1 ({scale_name})")
    return x, s, r, axis, elem, eps, scale, smap


@converter("LayerNormalization", since=17)
def layer_norm(ctx, node):
    x, s, r, axis, elem, eps, scale, smap = _last_axes_norm_inputs(node, "Scale")
    bias, bmap = _broadcast_param(node, 2, "B", s, elem)
    axes = list(range(axis, r))
    mean, inv = mean_and_inv_std(x, axes, eps, elem)
    y = normalize(x, [mean, inv], list(range(axis)), [(scale, smap), (bias, bmap)], elem)
    stat_shape = list(s[:axis]) + [1] * (r - axis)
    return [y, b.reshape(mean, stat_shape), b.reshape(inv, stat_shape)]


# ================================================================================================ RMSNormalization
@converter("RMSNormalization", since=23)
def rms_norm(ctx, node):
    x, s, r, axis, elem, eps, scale, smap = _last_axes_norm_inputs(node, "scale")
    axes = list(range(axis, r))
    count = float(pymath.prod(s[a] for a in axes))

    def sq(v, a):
        v = cast_scalar(v, elem)
        return arith.addf(arith.mulf(v, v), a)

    inv = b.elementwise([reduce_with(x, axes, elem, 0.0, sq)], lambda v: arith.divf(b.scalar(elem, 1.0), math.sqrt(
        arith.addf(arith.divf(v, b.scalar(elem, count)), b.scalar(elem, eps)))))
    out_elem = b.elem_of(x)
    maps = [b.identity_map(r), b.projection_map(r, list(range(axis))), smap, b.identity_map(r)]
    return b.generic([x, inv, scale], maps, b.empty(s, out_elem), lambda v, iv, g, _: cast_scalar(
        arith.mulf(arith.mulf(cast_scalar(v, elem), iv), g), out_elem))


# ================================================================================================ GroupNormalization
@converter("GroupNormalization", since=(18, 21))  # 18: scale/bias per group; 21: per channel, stash_type
def group_norm(ctx, node):
    x = _float_input(node)
    s = b.shape_of(x)
    r = len(s)
    if r < 3:
        raise node.error(f"X must be (N, C, D1, ...), got shape {list(s)}")
    groups = node.attr("num_groups", None)
    if groups is None:
        raise node.error("attribute num_groups is required")
    n, c = s[0], s[1]
    if groups <= 0 or c % groups:
        raise node.error(f"num_groups={groups} must be positive and divide the channel count {c}")
    per_channel = node.opset >= 21
    elem = _stash_elem(node, b.elem_of(x)) if per_channel else accumulator_type(b.elem_of(x))
    eps = float(node.attr("epsilon", 1e-5))
    pshape = [c] if per_channel else [groups]
    scale = _value(_param(node, 1, "scale", elem, pshape), elem, f"{node.name}_scale")
    bias = _value(_param(node, 2, "bias", elem, pshape), elem, f"{node.name}_bias")
    # (N, C, D...) -> (N, G, C/G, D...): statistics over dims 2.., parameters over (1, 2) or 1
    gs = [n, groups, c // groups, *s[2:]]
    xg = b.reshape(x, gs)
    mean, inv = mean_and_inv_std(xg, list(range(2, r + 1)), eps, elem)
    if per_channel:
        scale, bias = b.reshape(scale, [groups, c // groups]), b.reshape(bias, [groups, c // groups])
        pmap = b.projection_map(r + 1, [1, 2])
    else:
        pmap = b.projection_map(r + 1, [1])
    y = normalize(xg, [mean, inv], [0, 1], [(scale, pmap), (bias, pmap)], elem)
    return b.reshape(y, s)


# ================================================================================================ LRN
@converter("LRN", since=(7, 13))  # 13: bfloat16
def lrn(ctx, node):
    x = _float_input(node)
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    if r < 3:
        raise node.error(f"X must be (N, C, D1, ...), got shape {list(s)}")
    size = node.attr("size", None)
    if size is None or size < 1:
        raise node.error(f"attribute size must be a positive integer, got {size}")
    alpha, beta, bias = (float(node.attr(k, d)) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    acc = accumulator_type(elem)
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    xp = b.pad(x, [0, lo] + [0] * (r - 2), [0, hi] + [0] * (r - 2), 0.0)
    # square_sum[n, c, ...] = sum over w < size of xp[n, c + w, ...]^2: loops (dims of x, w)
    d = b.dims(r + 1)
    window = ir.AffineMap.get(r + 1, 0, [d[0], d[1] + d[r], *d[2:r]])

    def sq(v, _w, a):
        v = cast_scalar(v, acc)
        return arith.addf(arith.mulf(v, v), a)

    # a shape-only operand gives the window loop its extent, as in linalg's pooling ops
    taps = b.empty([size], acc)
    total = b.generic([xp, taps], [window, b.projection_map(r + 1, [r]), b.projection_map(r + 1, list(range(r)))],
                      b.fill(s, acc, 0.0), sq, ["parallel"] * r + ["reduction"])

    def out(v, t, _):
        base = arith.addf(b.scalar(acc, bias), arith.mulf(b.scalar(acc, alpha / size), t))
        return cast_scalar(arith.divf(cast_scalar(v, acc), math.powf(base, b.scalar(acc, beta))), elem)

    return b.generic([x, total], [b.identity_map(r)] * 3, b.empty(s, elem), out)


# ================================================================================================ LpNormalization
@converter("LpNormalization", since=(7, 22))  # 22: bfloat16, float16 in more places
def lp_norm(ctx, node):
    x = _float_input(node, "input")
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    if r == 0:
        raise node.error("the input is a scalar (rank 0)")
    axis = normalize_axis(node, node.attr("axis", -1), r)
    p = node.attr("p", 2)
    if p not in (1, 2):
        raise node.error(f"p={p} is not supported (1 or 2)")
    acc = accumulator_type(elem)

    def term(v, a):
        v = cast_scalar(v, acc)
        return arith.addf(math.absf(v) if p == 1 else arith.mulf(v, v), a)

    norm = reduce_with(x, [axis], acc, 0.0, term)
    if p == 2:
        norm = b.elementwise([norm], math.sqrt)
    keep = [i for i in range(r) if i != axis]
    zero = lambda: b.scalar(acc, 0.0)  # noqa: E731

    def out(v, nv, _):  # a zero norm gives 0, not 0/0
        q = arith.divf(cast_scalar(v, acc), nv)
        return cast_scalar(arith.select(arith.cmpf(arith.CmpFPredicate.OEQ, nv, zero()), zero(), q), elem)

    return b.generic([x, norm], [b.identity_map(r), b.projection_map(r, keep), b.identity_map(r)],
                     b.empty(s, elem), out)


# ================================================================================================ MVN
@converter("MeanVarianceNormalization", since=(9, 13))  # 13: bfloat16
def mean_variance_norm(ctx, node):
    x = _float_input(node, "X")
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    axes = normalize_axes(node, node.attr("axes", [0, 2, 3]), r)
    acc = accumulator_type(elem)
    keep = [i for i in range(r) if i not in axes]
    count = float(pymath.prod(s[a] for a in axes))
    # (x - mean) / (sqrt(var) + 1e-9), as ONNX's function body (there is no epsilon attribute)
    total = reduce_with(x, axes, acc, 0.0, lambda v, a: arith.addf(cast_scalar(v, acc), a))
    mean = b.elementwise([total], lambda v: arith.divf(v, b.scalar(acc, count)))

    def sq(v, m, a):
        d = arith.subf(cast_scalar(v, acc), m)
        return arith.addf(arith.mulf(d, d), a)

    ss = reduce_with(x, axes, acc, 0.0, sq, extra=[mean])
    inv = b.elementwise([ss], lambda v: arith.divf(b.scalar(acc, 1.0), arith.addf(
        math.sqrt(arith.divf(v, b.scalar(acc, count))), b.scalar(acc, 1e-9))))
    return normalize(x, [mean, inv], keep, [], acc)
