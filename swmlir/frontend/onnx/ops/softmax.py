"""Softmax decomposed into four generics: max-reduce, exp(x - max), sum-reduce, divide.

No linalg.softmax: it does not lower to loops without a transform step, and the pieces tile and fuse like
any other generic. Opset < 13 normalises over the flattened tail `[axis, rank)`; opset >= 13 over one axis.
"""
from __future__ import annotations

from mlir.dialects import arith, math

from .. import builders as b
from ..registry import converter


def softmax_over(x, axes):
    r, elem = len(b.shape_of(x)), b.elem_of(x)
    keep = [i for i in range(r) if i not in axes]
    maps = [b.identity_map(r), b.projection_map(r, keep), b.identity_map(r)]
    m = b.reduce(x, axes, float("-inf"), arith.maximumf)
    e = b.generic([x, m], maps, b.empty(b.shape_of(x), elem), lambda v, mx, _: math.exp(arith.subf(v, mx)))
    s = b.reduce(e, axes, 0.0, arith.addf)
    return b.generic([e, s], maps, b.empty(b.shape_of(x), elem), lambda v, t, _: arith.divf(v, t))


def _axis(node, default):
    x = node.require_input(0, "input")
    node.require_float(x)
    r = len(b.shape_of(x))
    axis = node.attr("axis", default)
    if not -r <= axis < r:
        raise node.error(f"axis={axis} is out of range for an input of rank {r}")
    return x, axis % r, r


@converter("Softmax", since=(7, 11))  # coerce to 2-D at `axis` (default 1)
def softmax_2d(ctx, node):
    x, axis, r = _axis(node, 1)
    return softmax_over(x, list(range(axis, r)))


@converter("Softmax", since=13)  # one axis (default -1)
def softmax(ctx, node):
    x, axis, _ = _axis(node, -1)
    return softmax_over(x, [axis])
