"""One-input elementwise ops: float math (Exp ... Atanh, Erf, Floor, Ceil, Round), Abs, Neg, Sign, Reciprocal,
IsNaN, IsInf, Not, Clip and the activations (Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu, Elu, Selu, Celu,
LeakyRelu, ThresholdedRelu, Mish, Softplus, Softsign).

Each node is one all-parallel `linalg.generic` (constant inputs are folded before import, by the graph passes).
Float16 tensors are computed in f32 inside the body and rounded once at the end (libm has no half functions).
"""
from __future__ import annotations

import math

import numpy as np

from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import builders as b
from ..elementwise_util import (BOOL, CF, FLOATS, INTS, MATH, NUMERIC, SIGNED, cmp, compute_dtype, const, convert,
                                dtype_of, ew, float_unary, fmax, fmin, is_fp, is_signed, is_unsigned, same_dtypes,
                                select, vmax, vmin)
from ..registry import converter


def _run(node, allowed, body_for, out_dt=None, sign_matters=True):
    """Check the input's element type, then one generic whose body is `body_for(dtype)`."""
    x = node.require_input(0, "X")
    dt = same_dtypes(node, [0], allowed, sign_matters)
    return ew(node, [x], body_for(dt), out_dt)


def _float_op(node, fn):
    """A float-only op: `fn(x, compute_dtype)` builds the scalar result."""
    return _run(node, FLOATS, lambda dt: float_unary(dt, fn))


# ----------------------------------------------------------------------------------------------- float math
# op -> ONNX versions from 7 (or the op's introduction) on; the later versions only add types (bfloat16).
_MATH_VERSIONS = {
    "Exp": (7, 13), "Log": (7, 13), "Sqrt": (7, 13), "Tanh": (7, 13), "Floor": (7, 13), "Ceil": (7, 13),
    "Sin": (7, 22), "Cos": (7, 22), "Tan": (7, 22), "Asin": (7, 22), "Acos": (7, 22), "Atan": (7, 22),
    "Sinh": (9, 22), "Cosh": (9, 22), "Asinh": (9, 22), "Acosh": (9, 22), "Atanh": (9, 22),
    "Erf": (9, 13), "Round": (11, 22),  # Round: half to even (math.roundeven)
}


def _math(ctx, node):
    fn = MATH[node.op_type]
    return _float_op(node, lambda x, t: fn(x))


for _op, _versions in _MATH_VERSIONS.items():
    converter(_op, since=_versions)(_math)


@converter("Reciprocal", since=(7, 13))
def reciprocal(ctx, node):
    return _float_op(node, lambda x, t: arith.divf(const(t, 1.0), x))


@converter("Sigmoid", since=(7, 13))
def sigmoid(ctx, node):
    # 1 / (1 + exp(-x)) does not go wrong at the ends: exp(-x) = inf gives 0, exp(-x) = 0 gives 1.
    return _float_op(node, lambda x, t: arith.divf(const(t, 1.0),
                                                   arith.addf(const(t, 1.0), mmath.exp(arith.negf(x)))))


# ----------------------------------------------------------------------------------------------- Abs, Neg, Sign
@converter("Abs", since=(7, 13))
def abs_(ctx, node):
    def body_for(dt):
        if is_fp(dt):
            return float_unary(dt, lambda x, t: mmath.absf(x))
        if is_signed(dt):  # wraps for the most negative value, as numpy and C do
            return lambda x: select(cmp("lt", x, const(dt, 0), dt), arith.subi(const(dt, 0), x), x)
        return lambda x: x

    return _run(node, NUMERIC, body_for)


@converter("Neg", since=(7, 13))
def neg(ctx, node):
    def body_for(dt):
        if is_fp(dt):
            return lambda x: arith.negf(x)
        return lambda x: arith.subi(const(dt, 0), x)

    return _run(node, FLOATS + SIGNED, body_for, sign_matters=False)


@converter("Sign", since=(9, 13))
def sign(ctx, node):
    def body_for(dt):
        one, zero = const(dt, 1), const(dt, 0)
        if is_fp(dt):  # NaN stays NaN
            return lambda x: select(cmp("gt", x, zero, dt), one, select(cmp("lt", x, zero, dt), const(dt, -1), x))
        if is_unsigned(dt):
            return lambda x: select(cmp("ne", x, zero, dt), one, zero)
        return lambda x: select(cmp("gt", x, zero, dt), one, select(cmp("lt", x, zero, dt), const(dt, -1), zero))

    return _run(node, NUMERIC, body_for)


# ----------------------------------------------------------------------------------------------- predicates
@converter("IsNaN", since=(9, 13, 20))
def isnan(ctx, node):
    return _run(node, FLOATS, lambda dt: (lambda x: arith.cmpf(CF.UNO, x, x)), BOOL)


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

    return _run(node, FLOATS, body_for, BOOL)


@converter("Not", since=1)  # one version only: nothing changed before opset 7
def not_(ctx, node):
    return _run(node, (BOOL,), lambda dt: (lambda x: arith.xori(x, const(BOOL, True))))


# ----------------------------------------------------------------------------------------------- activations
def _attr(node, name, default):
    return float(node.attr(name, default))


def _hard_sigmoid(x, t, alpha, beta):
    return fmax(const(t, 0.0), fmin(const(t, 1.0), arith.addf(arith.mulf(const(t, alpha), x), const(t, beta))))


@converter("HardSigmoid", since=(7, 22))
def hard_sigmoid(ctx, node):
    alpha, beta = _attr(node, "alpha", 0.2), _attr(node, "beta", 0.5)
    return _float_op(node, lambda x, t: _hard_sigmoid(x, t, alpha, beta))


@converter("HardSwish", since=(14, 22))
def hard_swish(ctx, node):
    return _float_op(node, lambda x, t: arith.mulf(x, _hard_sigmoid(x, t, 1.0 / 6.0, 0.5)))


def _lt0(x, t):
    return arith.cmpf(CF.OLT, x, const(t, 0.0))


@converter("Elu", since=(7, 22))
def elu(ctx, node):
    alpha = _attr(node, "alpha", 1.0)
    return _float_op(node, lambda x, t: select(_lt0(x, t), arith.mulf(const(t, alpha), mmath.expm1(x)), x))


@converter("Selu", since=(7, 22))
def selu(ctx, node):
    alpha = _attr(node, "alpha", 1.67326319217681884765625)
    gamma = _attr(node, "gamma", 1.05070102214813232421875)
    return _float_op(node, lambda x, t: arith.mulf(
        const(t, gamma), select(arith.cmpf(CF.OLE, x, const(t, 0.0)), arith.mulf(const(t, alpha), mmath.expm1(x)), x)))


@converter("Celu", since=(12, 28))  # 28: more float types
def celu(ctx, node):
    alpha = _attr(node, "alpha", 1.0)
    if alpha == 0.0:
        raise node.error("alpha must not be 0 (Celu divides by it)")

    def fn(x, t):
        neg_part = arith.mulf(const(t, alpha), mmath.expm1(arith.divf(x, const(t, alpha))))
        return arith.addf(fmax(const(t, 0.0), x), fmin(const(t, 0.0), neg_part))

    return _float_op(node, fn)


@converter("LeakyRelu", since=(7, 16))
def leaky_relu(ctx, node):
    alpha = _attr(node, "alpha", 0.01)
    return _float_op(node, lambda x, t: select(_lt0(x, t), arith.mulf(const(t, alpha), x), x))


@converter("ThresholdedRelu", since=(10, 22))
def thresholded_relu(ctx, node):
    alpha = _attr(node, "alpha", 1.0)
    return _float_op(node, lambda x, t: select(arith.cmpf(CF.OGT, x, const(t, alpha)), x, const(t, 0.0)))


def _softplus(x, t):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return arith.addf(fmax(x, const(t, 0.0)), mmath.log1p(mmath.exp(arith.negf(mmath.absf(x)))))


@converter("Softplus", since=(7, 22))
def softplus(ctx, node):
    return _float_op(node, _softplus)


@converter("Softsign", since=(7, 22))
def softsign(ctx, node):
    return _float_op(node, lambda x, t: arith.divf(x, arith.addf(const(t, 1.0), mmath.absf(x))))


@converter("Mish", since=(18, 22))
def mish(ctx, node):
    return _float_op(node, lambda x, t: arith.mulf(x, mmath.tanh(_softplus(x, t))))


@converter("Gelu", since=20)
def gelu(ctx, node):
    approximate = node.attr("approximate", "none")
    if approximate == "none":  # 0.5 x (1 + erf(x / sqrt(2)))
        def inner(x, t):
            return mmath.erf(arith.mulf(x, const(t, math.sqrt(0.5))))
    elif approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        def inner(x, t):
            x3 = arith.mulf(arith.mulf(x, x), x)
            return mmath.tanh(arith.mulf(const(t, math.sqrt(2 / math.pi)),
                                         arith.addf(x, arith.mulf(const(t, 0.044715), x3))))
    else:
        raise node.error(f"approximate='{approximate}' is not one of 'none', 'tanh'")
    return _float_op(node, lambda x, t: arith.mulf(arith.mulf(const(t, 0.5), x),
                                                   arith.addf(const(t, 1.0), inner(x, t))))


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

        def body(v):
            if lo is not None:
                v = fmax(v, const(dt, lo))
            if hi is not None:
                v = fmin(v, const(dt, hi))
            return v

        return x if lo is None and hi is None else ew(node, [x], body)

    dt = same_dtypes(node, [0], FLOATS if node.opset < 12 else NUMERIC)
    lo = _bound_scalar(node, 1, "min", dt)
    hi = _bound_scalar(node, 2, "max", dt)
    if lo is None and hi is None:
        return x
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


@converter("BitwiseNot", since=18)
def bitwise_not(ctx, node):
    # all bits flipped: xor with -1 (all ones in two's complement, whatever the signedness)
    # (-1 as the signless constant: MLIR integers carry no sign)
    return _run(node, INTS, lambda dt: (lambda x: arith.xori(x, const(np.dtype(f"i{dt.itemsize}"), -1))),
                sign_matters=False)
