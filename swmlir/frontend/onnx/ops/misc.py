"""Constant, Identity and inference-mode Dropout: no computation, only values passed along.

Their outputs stay numpy arrays when the input is known at import time, so shape inputs (Reshape) and
weights keep flowing as constants.
"""
from __future__ import annotations

import numpy as np

from ..registry import converter

_CONSTANT_ATTRS = ("value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints",
                   "value_string", "value_strings")


@converter("Constant", since=(7, 9, 11, 12, 13, 19, 21, 23, 24, 25))  # 11: sparse_value; 12: value_*
def constant(ctx, node):
    given = [a.name for a in node.proto.attribute if a.name in _CONSTANT_ATTRS]
    if len(given) != 1:
        raise node.error(f"exactly one of {', '.join(_CONSTANT_ATTRS)} must be set, got {given or 'none'}")
    name = given[0]
    v = node.attr(name)
    if name in ("value", "sparse_value"):
        return np.asarray(v)
    if name == "value_float":
        return np.array(v, dtype=np.float32)
    if name == "value_floats":
        return np.array(v, dtype=np.float32).reshape(-1)
    if name == "value_int":
        return np.array(v, dtype=np.int64)
    if name == "value_ints":
        return np.array(v, dtype=np.int64).reshape(-1)
    raise node.error(f"string constants ({name}) are not supported")


def _passthrough(node):
    c = node.constant(0)
    return c if c is not None else node.require_input(0, "input")


@converter("Identity", since=(7, 13, 14, 16, 19, 21, 23, 24, 25))
def identity(ctx, node):
    return _passthrough(node)


def _scalar_constant(node, i, what):
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"{what} (input #{i}, '{node.input_names[i]}') must be a constant to decide at compile time "
                         "what Dropout does")
    if c.size != 1:
        raise node.error(f"{what} must be a scalar, got shape {list(c.shape)}")
    return c.reshape(()).item()


@converter("Dropout", since=(7, 10, 12, 13, 22))  # 10: bool mask; 12: ratio and training_mode are inputs
def dropout(ctx, node):
    out = _passthrough(node)
    training, ratio = False, 0.5
    if node.opset >= 12:
        if node.has_input(2):
            training = bool(_scalar_constant(node, 2, "training_mode"))
        if training and node.has_input(1):
            ratio = float(_scalar_constant(node, 1, "ratio"))
    if training and ratio != 0.0:
        raise node.error(f"training-mode Dropout (ratio={ratio}) is random and is not supported; export the "
                         "model in inference mode")
    if not node.output_requested(1):
        return out
    if node.opset < 12:
        raise node.error("the mask output of Dropout before opset 12 is not supported: its inference value is "
                         "not agreed on (onnxruntime gives all-false, the ONNX reference all-true)")
    shape = out.shape if isinstance(out, np.ndarray) else tuple(out.type.shape)
    return [out, np.ones(shape, dtype=np.bool_)]  # inference: nothing is dropped
