"""onnxruntime's normalization contrib ops: com.microsoft SkipLayerNormalization and
SkipSimplifiedLayerNormalization, and the two onnxruntime registers in the default ONNX domain at version 1,
LayerNormalization-1 (before ONNX defined it in opset 17: models of opsets < 17 that onnxruntime's optimizer
or older exporters wrote) and SimplifiedLayerNormalization-1 (RMS norm; ONNX has no op of that name).

SkipLayerNormalization is the residual add of a transformer block fused with its LayerNorm:
  s = input + skip (+ bias);  y = (s - mean(s)) / sqrt(var(s) + epsilon) * gamma (+ beta)
over the last dim, with the optional outputs mean, inv_std_var (shape [..., 1]) and input_skip_bias_sum (s).
The simplified variant is the same with y = s / sqrt(mean(s^2) + epsilon) * gamma (no beta, no mean).
The statistics come from norm.py (two-pass mean and variance; onnxruntime uses E[s^2] - E[s]^2, which
differs by rounding only); the sum s is one elementwise generic that the normalization reads.

Refused with a reason: inputs other than float32 (onnxruntime's CPU kernels run float32 only, so nothing
else can be checked), an input of rank other than 2 or 3, a skip that does not broadcast to the input as
onnxruntime allows ((B, S, H), (1, S, H), (S, H)), gamma / beta / bias not 1-D of the hidden size, and the
`mean` output of SkipSimplifiedLayerNormalization (RMS normalization computes no mean; onnxruntime fills it
with zeros).
"""
from __future__ import annotations

import math as pymath

from mlir import ir
from mlir.dialects import arith, math

from .. import builders as b
from ..elementwise_util import F32, ew, same_dtypes
from ..registry import converter
from . import norm
from ._contrib import MS, check_node
from .reduce import cast_scalar, reduce_with

DEFAULT_SKIP_EPSILON = 1e-12  # onnxruntime's default for the Skip*LayerNormalization ops


def inv_rms(x: ir.Value, axes, eps: float, elem: ir.Type) -> ir.Value:
    """1 / sqrt(mean(x^2) + eps) of `x` over `axes` (dims dropped), computed in `elem`."""
    count = float(pymath.prod(b.shape_of(x)[a] for a in axes))

    def sq(v, a):
        v = cast_scalar(v, elem)
        return arith.addf(arith.mulf(v, v), a)

    return b.elementwise([reduce_with(x, axes, elem, 0.0, sq)], lambda v: arith.divf(b.scalar(elem, 1.0), math.sqrt(
        arith.addf(arith.divf(v, b.scalar(elem, count)), b.scalar(elem, eps)))))


def scale_by(x: ir.Value, inv: ir.Value, stat_dims, scale: ir.Value, scale_map: ir.AffineMap,
             elem: ir.Type) -> ir.Value:
    """y = x * inv * scale over x's shape (inv indexed by the loop dims `stat_dims`), computed in `elem`."""
    s, out_elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    maps = [b.identity_map(r), b.projection_map(r, list(stat_dims)), scale_map, b.identity_map(r)]
    return b.generic([x, inv, scale], maps, b.empty(s, out_elem), lambda v, iv, g, _: cast_scalar(
        arith.mulf(arith.mulf(cast_scalar(v, elem), iv), g), out_elem))


# ================================================================================================ default domain
@converter("LayerNormalization", since=1)
def layer_norm_1(ctx, node):
    """onnxruntime's LayerNormalization-1 has ONNX-17's inputs, attributes and outputs: ONNX-17's converter,
    after the checks ONNX's validation cannot make (it has no schema of this version)."""
    check_node(node, (2, 3), (1, 3), axis="INT", epsilon="FLOAT", stash_type="INT")
    return norm.layer_norm(ctx, node)


@converter("SimplifiedLayerNormalization", since=1)
def simplified_layer_norm(ctx, node):
    """Y = X / sqrt(mean(X^2 over axis..) + epsilon) * scale; optional inv_std_var of shape [..., 1, .., 1]."""
    check_node(node, (2, 2), (1, 2), axis="INT", epsilon="FLOAT", stash_type="INT")
    x, s, r, axis, elem, eps, scale, smap = norm._last_axes_norm_inputs(node, "scale")
    inv = inv_rms(x, list(range(axis, r)), eps, elem)
    y = scale_by(x, inv, range(axis), scale, smap, elem)
    return [y, b.reshape(inv, list(s[:axis]) + [1] * (r - axis))]


# ================================================================================================ com.microsoft
def _skip_inputs(node, names):
    """input + skip (+ bias) checked against onnxruntime's shapes: (s, hidden size, {name: 1-D param})."""
    x, skip = node.require_input(0, "input"), node.require_input(1, "skip")
    present = [i for i in range(len(node.input_names)) if node.has_input(i)]
    same_dtypes(node, present, (F32,))
    xs, ss = b.shape_of(x), b.shape_of(skip)
    if len(xs) not in (2, 3):
        raise node.error(f"input must be 3-D (batch, sequence, hidden) or 2-D (tokens, hidden), got shape {list(xs)}")
    if ss != xs and not (len(xs) == 3 and ss in ((1, *xs[1:]), tuple(xs[1:]))):
        allowed = [list(xs)] + ([[1, *xs[1:]], list(xs[1:])] if len(xs) == 3 else [])
        raise node.error(f"skip of shape {list(ss)} does not match the input {list(xs)} (allowed: "
                         f"{', '.join(map(str, allowed))})")
    hidden = xs[-1]
    params = {}
    for i, name in names.items():
        if node.has_input(i):
            p = node.input(i)
            if b.shape_of(p) != (hidden,):
                raise node.error(f"{name} must be 1-D of the hidden size {hidden}, got shape {list(b.shape_of(p))}")
            params[name] = p
        elif name == "gamma":
            raise node.error("missing required input #2 (gamma)")
    bias = params.pop("bias", None)
    if bias is None:
        total = ew(node, [x, skip], arith.addf, out_shape=xs)
    else:
        total = ew(node, [x, skip, bias], lambda u, v, c: arith.addf(arith.addf(u, v), c), out_shape=xs)
    return total, xs, params


def _epsilon(node) -> float:
    return float(node.attr("epsilon", DEFAULT_SKIP_EPSILON))


@converter("SkipLayerNormalization", since=1, domain=MS)
def skip_layer_norm(ctx, node):
    check_node(node, (3, 5), (1, 4), epsilon="FLOAT")
    total, xs, p = _skip_inputs(node, {2: "gamma", 3: "beta", 4: "bias"})
    r = len(xs)
    mean, inv = norm.mean_and_inv_std(total, [r - 1], _epsilon(node), b.elem_of(total))
    last = b.projection_map(r, [r - 1])
    y = norm.normalize(total, [mean, inv], list(range(r - 1)), [(p["gamma"], last), (p.get("beta"), last)],
                       b.elem_of(total))
    stat = list(xs[:-1]) + [1]
    return [y, b.reshape(mean, stat), b.reshape(inv, stat), total]


@converter("SkipSimplifiedLayerNormalization", since=1, domain=MS)
def skip_simplified_layer_norm(ctx, node):
    check_node(node, (3, 4), (1, 4), epsilon="FLOAT")
    if node.output_requested(1):
        raise node.error("output #1 (mean) is not supported: RMS normalization computes no mean (onnxruntime "
                         "fills it with zeros); leave the output name empty")
    total, xs, p = _skip_inputs(node, {2: "gamma", 3: "bias"})
    r = len(xs)
    elem = b.elem_of(total)
    inv = inv_rms(total, [r - 1], _epsilon(node), elem)
    y = scale_by(total, inv, range(r - 1), p["gamma"], b.projection_map(r, [r - 1]), elem)
    return [y, None, b.reshape(inv, list(xs[:-1]) + [1]), total]
