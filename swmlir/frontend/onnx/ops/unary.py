"""One-input elementwise ops: float math (Exp ... Atanh, Erf, Floor, Ceil, Round), Abs, Neg, Sign, Reciprocal,
IsNaN, IsInf, Not, Clip and the activations (Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu, Elu, Selu, Celu,
LeakyRelu, ThresholdedRelu, Mish, Softplus, Softsign).

Each node is one all-parallel `linalg.generic`, or a numpy constant when its input is known at import time.
Float16 tensors are computed in f32 inside the body and rounded once at the end (libm has no half functions).
"""
from __future__ import annotations

import math

import numpy as np
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import builders as b
from ..elementwise_util import (ALL, BOOL, CF, FLOATS, INTS, MATH, NUMERIC, SIGNED, cmp, compute_dtype, const,
                                convert, dtype_of, ew, float_unary, fmax, fmin, fold, is_fp, is_signed,
                                is_unsigned, same_dtypes, select, vmax, vmin)
from ..registry import converter


def _run(node, allowed, body_for, ref, out_dt=None):
    """Check the input type, fold constants with `ref` (numpy), else one generic with `body_for(dtype)`."""
    dt = same_dtypes(node, [0], allowed)
    node.require_input(0, "X")
    r = fold(node, lambda x: ref(x, dt), out_dt if out_dt is not None else dt)
    if r is not None:
        return r
    return ew(node, [node.input(0)], body_for(dt), out_dt)


def _float_op(node, fn, ref):
    """A float-only op: `fn(x, compute_dtype)` builds the scalar result, `ref(x)` is its numpy reference."""
    return _run(node, FLOATS, lambda dt: float_unary(dt, fn), lambda x, dt: ref(x.astype(compute_dtype(dt))))


# ----------------------------------------------------------------------------------------------- float math
_NP_MATH = {"Exp": np.exp, "Log": np.log, "Sqrt": np.sqrt, "Sin": np.sin, "Cos": np.cos, "Tan": np.tan,
            "Asin": np.arcsin, "Acos": np.arccos, "Atan": np.arctan, "Sinh": np.sinh, "Cosh": np.cosh,
            "Asinh": np.arcsinh, "Acosh": np.arccosh, "Atanh": np.arctanh, "Tanh": np.tanh,
            "Floor": np.floor, "Ceil": np.ceil, "Round": np.round,
            "Erf": np.vectorize(math.erf, otypes=[np.float64])}

# op -> ONNX versions from 7 (or the op's introduction) on; the later versions only add types (bfloat16).
_MATH_VERSIONS = {
    "Exp": (7, 13), "Log": (7, 13), "Sqrt": (7, 13), "Tanh": (7, 13), "Floor": (7, 13), "Ceil": (7, 13),
    "Sin": (7, 22), "Cos": (7, 22), "Tan": (7, 22), "Asin": (7, 22), "Acos": (7, 22), "Atan": (7, 22),
    "Sinh": (9, 22), "Cosh": (9, 22), "Asinh": (9, 22), "Acosh": (9, 22), "Atanh": (9, 22),
    "Erf": (9, 13), "Round": (11, 22),
}


def _math(ctx, node):
    fn, ref = MATH[node.op_type], _NP_MATH[node.op_type]
    return _float_op(node, lambda x, t: fn(x), ref)


for _op, _versions in _MATH_VERSIONS.items():
    converter(_op, since=_versions)(_math)


@converter("Reciprocal", since=(7, 13))
def reciprocal(ctx, node):
    return _float_op(node, lambda x, t: arith.divf(const(t, 1.0), x), lambda x: 1 / x)


@converter("Sigmoid", since=(7, 13))
def sigmoid(ctx, node):
    # 1 / (1 + exp(-x)) does not overflow to a wrong value: exp(-x) = inf gives 0.
    return _float_op(node, lambda x, t: arith.divf(const(t, 1.0), arith.addf(const(t, 1.0), mmath.exp(arith.negf(x)))),
                     lambda x: 1 / (1 + np.exp(-x)))


# ----------------------------------------------------------------------------------------------- Abs, Neg, Sign
@converter("Abs", since=(7, 13))
def abs_(ctx, node):
    def body_for(dt):
        if is_fp(dt):
            return float_unary(dt, lambda x, t: mmath.absf(x))
        if is_signed(dt):
            return lambda x: select(cmp("lt", x, const(dt, 0), dt), arith.subi(const(dt, 0), x), x)
        return lambda x: x

    return _run(node, NUMERIC, body_for, lambda x, dt: np.abs(x))


@converter("Neg", since=(7, 13))
def neg(ctx, node):
    def body_for(dt):
        if is_fp(dt):
            return lambda x: arith.negf(x)
        return lambda x: arith.subi(const(dt, 0), x)

    return _run(node, FLOATS + SIGNED, body_for, lambda x, dt: np.negative(x))


@converter("Sign", since=(9, 13))
def sign(ctx, node):
    def body_for(dt):
        one, zero = const(dt, 1), const(dt, 0)
        if is_fp(dt):  # NaN stays NaN, zeros keep their sign
            return lambda x: select(cmp("gt", x, zero, dt), one, select(cmp("lt", x, zero, dt), const(dt, -1), x))
        if is_unsigned(dt):
            return lambda x: select(cmp("ne", x, zero, dt), one, zero)
        return lambda x: select(cmp("gt", x, zero, dt), one, select(cmp("lt", x, zero, dt), const(dt, -1), zero))

    return _run(node, NUMERIC, body_for, lambda x, dt: np.sign(x))


# ----------------------------------------------------------------------------------------------- predicates
@converter("IsNaN", since=(9, 13, 20))
def isnan(ctx, node):
    return _run(node, FLOATS, lambda dt: (lambda x: arith.cmpf(CF.UNO, x, x)), lambda x, dt: np.isnan(x), BOOL)


@converter("IsInf", since=(10, 20))
def isinf(ctx, node):
    neg_, pos = bool(node.attr("detect_negative", 1)), bool(node.attr("detect_positive", 1))

    def body_for(dt):
        cdt = compute_dtype(dt)

        def body(x):
            x = convert(x, dt, cdt)
            hits = []
            if pos:
                hits.append(arith.cmpf(CF.OEQ, x, const(cdt, math.inf)))
            if neg_:
                hits.append(arith.cmpf(CF.OEQ, x, const(cdt, -math.inf)))
            if not hits:
                return const(BOOL, False)
            return hits[0] if len(hits) == 1 else arith.ori(hits[0], hits[1])

        return body

    def ref(x, dt):
        return (np.isposinf(x) & pos) | (np.isneginf(x) & neg_)

    return _run(node, FLOATS, body_for, ref, BOOL)


@converter("Not", since=7)
def not_(ctx, node):
    return _run(node, (BOOL,), lambda dt: (lambda x: arith.xori(x, const(BOOL, True))),
                lambda x, dt: np.logical_not(x))


# ----------------------------------------------------------------------------------------------- activations
def _alpha(node, default, name="alpha"):
    return float(node.attr(name, default))


@converter("HardSigmoid", since=(7, 22))
def hard_sigmoid(ctx, node):
    alpha, beta = _alpha(node, 0.2), _alpha(node, 0.5, "beta")
    return _float_op(
        node, lambda x, t: fmax(const(t, 0.0), fmin(const(t, 1.0), arith.addf(arith.mulf(const(t, alpha), x),
                                                                             const(t, beta)))),
        lambda x: np.clip(alpha * x + beta, 0, 1))


@converter("HardSwish", since=(14, 22))
def hard_swish(ctx, node):
    alpha, beta = 1.0 / 6.0, 0.5

    def fn(x, t):
        hs = fmax(const(t, 0.0), fmin(const(t, 1.0), arith.addf(arith.mulf(const(t, alpha), x), const(t, beta))))
        return arith.mulf(x, hs)

    return _float_op(node, fn, lambda x: x * np.clip(alpha * x + beta, 0, 1))


@converter("Elu", since=(7, 22))
def elu(ctx, node):
    alpha = _alpha(node, 1.0)
    return _float_op(
        node, lambda x, t: select(arith.cmpf(CF.OLT, x, const(t, 0.0)),
                                  arith.mulf(const(t, alpha), mmath.expm1(x)), x),
        lambda x: np.where(x < 0, alpha * np.expm1(x), x))


@converter("Selu", since=(7, 22))
def selu(ctx, node):
    alpha = _alpha(node, 1.67326319217681884765625)
    gamma = _alpha(node, 1.05070102214813232421875, "gamma")
    return _float_op(
        node, lambda x, t: arith.mulf(const(t, gamma), select(arith.cmpf(CF.OLE, x, const(t, 0.0)),
                                                              arith.mulf(const(t, alpha), mmath.expm1(x)), x)),
        lambda x: gamma * np.where(x <= 0, alpha * np.expm1(x), x))


@converter("Celu", since=(12, 28))
def celu(ctx, node):
    alpha = _alpha(node, 1.0)
    if alpha == 0.0:
        raise node.error("alpha must not be 0 (Celu divides by it)")

    def fn(x, t):
        neg_part = arith.mulf(const(t, alpha), mmath.expm1(arith.divf(x, const(t, alpha))))
        return arith.addf(fmax(const(t, 0.0), x), fmin(const(t, 0.0), neg_part))

    return _float_op(node, fn, lambda x: np.maximum(0, x) + np.minimum(0, alpha * np.expm1(x / alpha)))


@converter("LeakyRelu", since=(7, 16))
def leaky_relu(ctx, node):
    alpha = _alpha(node, 0.01)
    return _float_op(node, lambda x, t: select(arith.cmpf(CF.OLT, x, const(t, 0.0)), arith.mulf(const(t, alpha), x), x),
                     lambda x: np.where(x < 0, alpha * x, x))


@converter("ThresholdedRelu", since=(10, 22))
def thresholded_relu(ctx, node):
    alpha = _alpha(node, 1.0)
    return _float_op(node, lambda x, t: select(arith.cmpf(CF.OGT, x, const(t, alpha)), x, const(t, 0.0)),
                     lambda x: np.where(x > alpha, x, 0))


def _softplus(x, t):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return arith.addf(fmax(x, const(t, 0.0)), mmath.log1p(mmath.exp(arith.negf(mmath.absf(x)))))


def _np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@converter("Softplus", since=(7, 22))
def softplus(ctx, node):
    return _float_op(node, _softplus, _np_softplus)


@converter("Softsign", since=(7, 22))
def softsign(ctx, node):
    return _float_op(node, lambda x, t: arith.divf(x, arith.addf(const(t, 1.0), mmath.absf(x))),
                     lambda x: x / (1 + np.abs(x)))


@converter("Mish", since=(18, 22))
def mish(ctx, node):
    return _float_op(node, lambda x, t: arith.mulf(x, mmath.tanh(_softplus(x, t))),
                     lambda x: x * np.tanh(_np_softplus(x)))


@converter("Gelu", since=20)
def gelu(ctx, node):
    approximate = node.attr("approximate", "none")
    if approximate == "none":
        def inner(x, t):
            return mmath.erf(arith.mulf(x, const(t, math.sqrt(0.5))))

        ref_inner = np.vectorize(lambda v: math.erf(v * math.sqrt(0.5)), otypes=[np.float64])
    elif approximate == "tanh":
        def inner(x, t):
            x3 = arith.mulf(arith.mulf(x, x), x)
            return mmath.tanh(arith.mulf(const(t, math.sqrt(2 / math.pi)),
                                         arith.addf(x, arith.mulf(const(t, 0.044715), x3))))

        def ref_inner(v):
            return np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))
    else:
        raise node.error(f"approximate='{approximate}' is not one of 'none', 'tanh'")

    def fn(x, t):
        return arith.mulf(arith.mulf(const(t, 0.5), x), arith.addf(const(t, 1.0), inner(x, t)))

    return _float_op(node, fn, lambda x: (0.5 * x * (1 + ref_inner(x))))


# ----------------------------------------------------------------------------------------------- Clip
def _bound_scalar(node, i, what, dt):
    """Clip's min/max input `i`: a one-element tensor (constant or read at run time) as a rank-0 value."""
    v = node.input(i)
    if v is None:
        return None
    bdt = dtype_of(node, i)
    if bdt != dt:
        raise node.error(f"{what} has element type {bdt.name}, but the input has {dt.name}")
    s = b.shape_of(v)
    if math.prod(s) != 1:
        raise node.error(f"{what} must be a scalar (one element), got shape {list(s)}")
    return b.reshape(v, ()) if s else v


@converter("Clip", since=(7, 11, 12, 13))
def clip(ctx, node):
    # 6..10: min/max attributes (float types); 11: min/max optional inputs; 12: integer types.
    x = node.require_input(0, "input")
    if node.opset < 11:
        dt = same_dtypes(node, [0], FLOATS)
        lo = float(node.attr("min")) if node.has_attr("min") else None
        hi = float(node.attr("max")) if node.has_attr("max") else None
        r = fold(node, lambda v: np.minimum(np.maximum(v, -np.inf if lo is None else lo), np.inf if hi is None else hi))
        if r is not None:
            return r

        def body(v):
            if lo is not None:
                v = fmax(v, const(dt, lo))
            if hi is not None:
                v = fmin(v, const(dt, hi))
            return v

        return ew(node, [x], body)

    dt = same_dtypes(node, [0], FLOATS if node.opset < 12 else NUMERIC)
    r = fold(node, lambda v, lo=None, hi=None: np.minimum(np.maximum(v, lo.reshape(()) if lo is not None else v),
                                                         hi.reshape(()) if hi is not None else v))
    if r is not None:
        return r
    lo = _bound_scalar(node, 1, "min", dt)
    hi = _bound_scalar(node, 2, "max", dt)
    ins = [x] + [v for v in (lo, hi) if v is not None]

    def body(v, *bounds):
        k = 0
        if lo is not None:
            v = vmax(v, bounds[k], dt)  # np.clip: min(max(x, lo), hi), so hi wins when lo > hi
            k += 1
        if hi is not None:
            v = vmin(v, bounds[k], dt)
        return v

    return ew(node, ins, body, out_shape=b.shape_of(x))
