"""Cast and CastLike between float16/32/64, int8..int64, uint8..uint64 and bool.

Strings, bfloat16, the float8/float6/float4 types and the 2- and 4-bit integers have no element type in the
pipeline and are refused. The `saturate` and `round_mode` attributes only concern float8 targets and are
ignored. Rules (ONNX Cast): float -> int truncates toward zero (undefined when out of range), int -> int wraps,
anything -> bool is `!= 0` (NaN -> true), bool -> number is 0 or 1.
"""
from __future__ import annotations

import numpy as np

from ..dtypes import onnx_to_numpy, onnx_type_name
from ..elementwise_util import ALL, check_dtype, convert, dtype_of, ew
from ..registry import converter


def _cast(node, target: np.dtype):
    if not node.has_input(0):
        raise node.error("missing required input #0 (input)")
    src = dtype_of(node, 0)
    check_dtype(node, src, ALL)
    if src == target:
        c = node.constant(0)
        return c if c is not None else node.input(0)  # a constant stays one (shape arithmetic downstream)
    return ew(node, [node.input(0)], lambda v: convert(v, src, target), target)


@converter("Cast", since=(7, 9, 13, 19, 21, 23, 24, 25, 28))  # later versions only add types (all refused)
def cast(ctx, node):
    to = node.attr("to")
    if to is None:
        raise node.error("the 'to' attribute is required")
    target = onnx_to_numpy(int(to))
    if target is None:
        raise node.error(f"Cast to {onnx_type_name(int(to))} is not supported (supported: float16, float32, "
                         "float64, int8..int64, uint8..uint64, bool)")
    return _cast(node, target)


@converter("CastLike", since=(15, 19, 21, 23, 24, 25))
def cast_like(ctx, node):
    if not node.has_input(1):
        raise node.error("missing required input #1 (target_type)")
    return _cast(node, dtype_of(node, 1))  # only its element type is read (it may be an empty constant)
