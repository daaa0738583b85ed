"""Flatten and Reshape: pure layout changes, tensor.collapse_shape / tensor.expand_shape (no data movement).

A constant input is reshaped in numpy instead, so weights that the model reshapes stay constants.
"""
from __future__ import annotations

import math

import numpy as np

from .. import builders as b
from ..registry import converter


def _reshaped(node, new_shape):
    c = node.constant(0)
    if c is not None:
        return c.reshape(new_shape)
    return b.reshape(node.require_input(0, "data"), new_shape)


def _input_shape(node):
    c = node.constant(0)
    return tuple(c.shape) if c is not None else b.shape_of(node.require_input(0, "data"))


@converter("Flatten", since=(7, 9, 11, 13, 21, 23, 24, 25))  # 11: negative axis; others: more types
def flatten(ctx, node):
    s = _input_shape(node)
    axis = node.attr("axis", 1)
    if not -len(s) <= axis <= len(s):
        raise node.error(f"axis={axis} is out of range for an input of rank {len(s)}")
    if axis < 0:
        axis += len(s)
    return _reshaped(node, (math.prod(s[:axis]), math.prod(s[axis:])))


@converter("Reshape", since=(7, 13, 14, 19, 21, 23, 24, 25))  # 14: allowzero; others: more types
def reshape(ctx, node):
    s = _input_shape(node)
    spec = node.constant(1)
    if spec is None:
        if not node.has_input(1):
            raise node.error("missing required input #1 (shape)")
        raise node.needs_constant(1, f"the shape input '{node.input_names[1]}' must be a constant (initializer or Constant "
                         "node); shapes computed at run time are not supported")
    if spec.ndim != 1 or spec.dtype != np.int64:
        raise node.error(f"the shape input must be a 1-D int64 tensor, got {spec.dtype} of shape {list(spec.shape)}")
    allowzero = node.attr("allowzero", 0)
    out, infer = [], None
    for i, d in enumerate(int(v) for v in spec):
        if d == 0 and not allowzero:
            if i >= len(s):
                raise node.error(f"shape {spec.tolist()} copies dim {i} (a 0), but the input has rank {len(s)}")
            out.append(s[i])
        elif d == -1:
            if infer is not None:
                raise node.error(f"shape {spec.tolist()} has more than one -1")
            infer = i
            out.append(1)
        elif d < 0:
            raise node.error(f"shape {spec.tolist()} has the invalid value {d}")
        else:
            out.append(d)
    total, known = math.prod(s), math.prod(out)
    if infer is not None:
        if known == 0 or total % known:
            raise node.error(f"cannot infer the -1 in shape {spec.tolist()} for an input of shape {list(s)}")
        out[infer] = total // known
    if math.prod(out) != total:
        raise node.error(f"cannot reshape an input of shape {list(s)} ({total} elements) into {out}")
    return _reshaped(node, tuple(out))
