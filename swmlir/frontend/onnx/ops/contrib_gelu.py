"""onnxruntime's GELU-family contrib ops (domain com.microsoft): Gelu, FastGelu (with or without bias),
BiasGelu and QuickGelu.

Exporters and onnxruntime's transformer optimizer fuse the erf / tanh subgraphs of GELU into these nodes, so
optimized BERT / GPT-2 / ViT files carry them. Each node is one all-parallel `linalg.generic` (a bias add is
in the same body, read through a broadcast map, so nothing extra is materialized):

  Gelu       y = 0.5 x (1 + erf(x / sqrt 2))
  BiasGelu   Gelu(A + B), B 1-D over the last dim of A
  FastGelu   y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), x = X (+ bias), bias 1-D over the last dim
  QuickGelu  y = x sigmoid(alpha x), alpha default 1.702

Only float32 is accepted: it is the one type onnxruntime's CPU kernels of these ops run, so the only one we
can check against onnxruntime (float16 / bfloat16 / double variants are refused with that reason).
"""
from __future__ import annotations

import math

import numpy as np
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import builders as b
from ..elementwise_util import F32, const, ew, same_dtypes
from ..registry import converter
from ._contrib import MS, check_node


def _float32(node, idx):
    """The inputs `idx` checked to be float32 (see the module docstring for why only float32)."""
    return same_dtypes(node, idx, (F32,))


def gelu_erf(x, t):
    """0.5 x (1 + erf(x / sqrt 2)) on a scalar of type `t`."""
    return arith.mulf(arith.mulf(const(t, 0.5), x),
                      arith.addf(const(t, 1.0), mmath.erf(arith.mulf(x, const(t, math.sqrt(0.5))))))


def gelu_tanh(x, t):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) on a scalar of type `t`."""
    x3 = arith.mulf(arith.mulf(x, x), x)
    inner = arith.mulf(const(t, math.sqrt(2 / math.pi)), arith.addf(x, arith.mulf(const(t, 0.044715), x3)))
    return arith.mulf(arith.mulf(const(t, 0.5), x), arith.addf(const(t, 1.0), mmath.tanh(inner)))


def _last_dim_bias(node, i: int, what: str, x_shape) -> None:
    """A bias input must be 1-D with the size of X's last dim (onnxruntime's kernels index it by `i % H`)."""
    s = b.shape_of(node.input(i))
    if not x_shape:
        raise node.error("the input is a scalar (rank 0); a bias over its last dim needs rank >= 1")
    if len(s) != 1 or s[0] != x_shape[-1]:
        raise node.error(f"{what} must be 1-D of the input's last dim ({x_shape[-1]}), got shape {list(s)}")


def _with_bias(node, what: str, fn):
    """y = fn(X + bias) for X = input 0 and the optional 1-D bias input 1, in one generic."""
    x = node.require_input(0, "X")
    if not node.has_input(1):
        _float32(node, [0])
        return ew(node, [x], lambda v: fn(v, F32))
    _float32(node, [0, 1])
    _last_dim_bias(node, 1, what, b.shape_of(x))
    return ew(node, [x, node.input(1)], lambda v, c: fn(arith.addf(v, c), F32), out_shape=b.shape_of(x))


@converter("Gelu", since=1, domain=MS)
def gelu(ctx, node):
    check_node(node, (1, 1))
    x = node.require_input(0, "X")
    _float32(node, [0])
    return ew(node, [x], lambda v: gelu_erf(v, F32))


@converter("BiasGelu", since=1, domain=MS)
def bias_gelu(ctx, node):
    check_node(node, (2, 2))
    node.require_input(1, "B")
    return _with_bias(node, "B", gelu_erf)


@converter("FastGelu", since=1, domain=MS)
def fast_gelu(ctx, node):
    check_node(node, (1, 2))
    return _with_bias(node, "bias", gelu_tanh)


@converter("QuickGelu", since=1, domain=MS)
def quick_gelu(ctx, node):
    check_node(node, (1, 1), alpha="FLOAT")
    alpha = float(node.attr("alpha", np.float32(1.702)))
    x = node.require_input(0, "X")
    _float32(node, [0])

    def body(v):  # x / (1 + exp(-alpha x)): exp overflow gives 0, underflow gives x, never NaN
        e = mmath.exp(arith.mulf(const(F32, -alpha), v))
        return arith.divf(v, arith.addf(const(F32, 1.0), e))

    return ew(node, [x], body)
