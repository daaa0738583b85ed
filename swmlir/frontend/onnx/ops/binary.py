"""Elementwise ops of two or more inputs with numpy broadcasting: comparisons (Equal, Less, LessOrEqual, Greater,
GreaterOrEqual), logic (And, Or, Xor), BitShift, Mod, Pow, PRelu, Where and the variadic Max, Min, Sum, Mean.

One all-parallel `linalg.generic` per node (broadcast operands are read through their indexing maps; constant
inputs are folded before import, by the graph passes). Unsigned integers use the unsigned arith ops.
"""
from __future__ import annotations

import numpy as np
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import builders as b
from ..elementwise_util import (ALL, BOOL, F64, FLOATS, INTS, NUMERIC, check_dtype, cmp, compute_dtype, const,
                                convert, dtype_of, ew, is_fp, is_signed, is_unsigned, same_dtypes, select, vmax,
                                vmin)
from ..registry import converter


def _inputs(node, n):
    return [node.require_input(i, f"input #{i}") for i in range(n)]


# ----------------------------------------------------------------------------------------------- comparisons
_CMP = {"Equal": "eq", "Less": "lt", "LessOrEqual": "le", "Greater": "gt", "GreaterOrEqual": "ge"}


def _compare(ctx, node):
    pred = _CMP[node.op_type]
    equal = node.op_type == "Equal"
    dt = same_dtypes(node, [0, 1], ALL if equal else NUMERIC, sign_matters=not equal)
    return ew(node, _inputs(node, 2), lambda x, y: cmp(pred, x, y, dt), BOOL)


# Equal 11 and Less/Greater 9 add the numeric types; 13, 16, 19 add bfloat16 and strings (refused by type).
for _op, _versions in {"Equal": (7, 11, 13, 19), "Less": (7, 9, 13), "Greater": (7, 9, 13),
                       "LessOrEqual": (12, 16), "GreaterOrEqual": (12, 16)}.items():
    converter(_op, since=_versions)(_compare)


# ----------------------------------------------------------------------------------------------- logic
_LOGIC = {"And": arith.andi, "Or": arith.ori, "Xor": arith.xori}


def _logic(ctx, node):
    fn = _LOGIC[node.op_type]
    same_dtypes(node, [0, 1], (BOOL,))
    return ew(node, _inputs(node, 2), fn, BOOL)


for _op in _LOGIC:
    converter(_op, since=7)(_logic)


# ----------------------------------------------------------------------------------------------- BitShift
@converter("BitShift", since=(11, 28))  # 28: signed integers (arithmetic right shift)
def bitshift(ctx, node):
    direction = node.attr("direction")
    if direction not in ("LEFT", "RIGHT"):
        raise node.error(f"direction must be 'LEFT' or 'RIGHT', got {direction!r}")
    left = direction == "LEFT"
    dt = same_dtypes(node, [0, 1], INTS, sign_matters=not left)
    bits = dt.itemsize * 8

    def body(x, y):
        zero = const(dt, 0)
        ok = arith.cmpi(arith.CmpIPredicate.ult, y, const(dt, bits))  # negative amounts read as huge
        amount = select(ok, y, zero)
        if left:
            return select(ok, arith.shli(x, amount), zero)
        if is_signed(dt):
            fill = select(cmp("lt", x, zero, dt), const(dt, -1), zero)
            return select(ok, arith.shrsi(x, amount), fill)
        return select(ok, arith.shrui(x, amount), zero)

    return ew(node, _inputs(node, 2), body)


# ----------------------------------------------------------------------------------------------- integer division
def safe_divisor(y, dt):
    """(divisor to use, y == 0, y == -1): integer division by 0 or INT_MIN / -1 traps on x86, so those lanes
    divide by 1 and the caller selects the result numpy gives (0 for / 0, the wrapped negation for / -1)."""
    zero = const(dt, 0)
    is0 = arith.cmpi(arith.CmpIPredicate.eq, y, zero)
    if is_unsigned(dt):
        return select(is0, const(dt, 1), y), is0, None
    ism1 = arith.cmpi(arith.CmpIPredicate.eq, y, const(dt, -1))
    return select(arith.ori(is0, ism1), const(dt, 1), y), is0, ism1


def int_div(x, y, dt):
    """x / y truncated toward zero (signed) or unsigned; 0 where y == 0 (numpy)."""
    d, is0, ism1 = safe_divisor(y, dt)
    q = arith.divui(x, d) if is_unsigned(dt) else arith.divsi(x, d)
    if ism1 is not None:
        q = select(ism1, arith.subi(const(dt, 0), x), q)
    return select(is0, const(dt, 0), q)


def _int_mod(x, y, dt, fmod):
    d, is0, ism1 = safe_divisor(y, dt)
    zero = const(dt, 0)
    if is_unsigned(dt):
        r = arith.remui(x, d)
    else:
        r = arith.remsi(x, d)  # remainder with the sign of x (C, fmod=1); x % -1 == 0 == x % 1
        if not fmod:  # Python: the sign of y
            fix = arith.andi(arith.cmpi(arith.CmpIPredicate.ne, r, zero),
                             arith.xori(cmp("lt", r, zero, dt), cmp("lt", y, zero, dt)))
            r = select(fix, arith.addi(r, y), r)
    return select(is0, zero, r)


def _float_mod(x, y, t, fmod):
    r = arith.remf(x, y)  # C fmod
    if fmod:
        return r
    zero = const(t, 0.0)
    # numpy: move a nonzero remainder whose sign differs from y's by y; a zero remainder takes y's sign.
    fix = arith.andi(arith.cmpf(arith.CmpFPredicate.UNE, r, zero),
                     arith.xori(arith.cmpf(arith.CmpFPredicate.OLT, r, zero),
                                arith.cmpf(arith.CmpFPredicate.OLT, y, zero)))
    r = select(fix, arith.addf(r, y), r)
    return select(arith.cmpf(arith.CmpFPredicate.OEQ, r, zero), mmath.copysign(zero, y), r)


@converter("Mod", since=(10, 13, 28))  # 13: bfloat16; 28: fmod=0 defined for floats (numpy's mod)
def mod(ctx, node):
    fmod = node.attr("fmod", 0)
    if fmod not in (0, 1):
        raise node.error(f"fmod must be 0 or 1, got {fmod}")
    dt = same_dtypes(node, [0, 1], NUMERIC)
    if is_fp(dt):
        cdt = compute_dtype(dt)

        def body(x, y):
            return convert(_float_mod(convert(x, dt, cdt), convert(y, dt, cdt), cdt, fmod), cdt, dt)
    else:
        def body(x, y):
            return _int_mod(x, y, dt, fmod)

    return ew(node, _inputs(node, 2), body)


# ----------------------------------------------------------------------------------------------- Pow
@converter("Pow", since=(7, 12, 13, 15))  # 12: exponent type T1 separate, integer bases; 13, 15: bfloat16
def pow_(ctx, node):
    tx = dtype_of(node, 0)
    ty = dtype_of(node, 1)
    if node.opset < 12:
        same_dtypes(node, [0, 1], FLOATS)
    check_dtype(node, tx, FLOATS + (np.dtype(np.int32), np.dtype(np.int64)), "base X")
    check_dtype(node, ty, NUMERIC, "exponent Y")

    # integer bases are computed in f64 (exact while |result| < 2**53) and truncated back, as numpy's
    # reference casts its result
    cdt = compute_dtype(tx) if is_fp(tx) else F64

    def body(x, y):
        p = mmath.powf(convert(x, tx, cdt), convert(y, ty, cdt))
        return convert(p, cdt, tx)

    return ew(node, _inputs(node, 2), body, tx)


# ----------------------------------------------------------------------------------------------- PRelu
@converter("PRelu", since=(7, 9, 16))  # 7: unidirectional broadcasting of slope; 9: integer types
def prelu(ctx, node):
    allowed = FLOATS if node.opset < 9 else FLOATS + (np.dtype(np.int32), np.dtype(np.int64),
                                                     np.dtype(np.uint32), np.dtype(np.uint64))
    dt = same_dtypes(node, [0, 1], allowed)
    x, slope = _inputs(node, 2)
    sx, ss = b.shape_of(x), b.shape_of(slope)
    try:
        if b.broadcast_shapes(sx, ss) != sx:
            raise ValueError()
    except ValueError:
        raise node.error(f"slope of shape {list(ss)} does not broadcast to X of shape {list(sx)}") from None
    if is_unsigned(dt):  # never negative
        return x
    mul = arith.mulf if is_fp(dt) else arith.muli
    return ew(node, [x, slope], lambda v, s: select(cmp("lt", v, const(dt, 0), dt), mul(v, s), v), out_shape=sx)


# ----------------------------------------------------------------------------------------------- Where
@converter("Where", since=(9, 16))  # 16: bfloat16
def where(ctx, node):
    same_dtypes(node, [0], (BOOL,))
    dt = same_dtypes(node, [1, 2], ALL, sign_matters=False)
    return ew(node, _inputs(node, 3), lambda c, x, y: select(c, x, y), dt)


# ----------------------------------------------------------------------------------------------- variadic
def _variadic(ctx, node):
    op = node.op_type
    n = len(node.input_names)
    if n == 0 or not all(node.has_input(i) for i in range(n)):
        raise node.error(f"{op} needs one or more inputs, none omitted")
    allowed = FLOATS if (op in ("Sum", "Mean") or node.opset < 12) else NUMERIC
    dt = same_dtypes(node, range(n), allowed)
    if n == 1:
        return node.input(0)

    def body(*xs):
        acc = xs[0]
        for x in xs[1:]:
            if op == "Max":
                acc = vmax(acc, x, dt)
            elif op == "Min":
                acc = vmin(acc, x, dt)
            else:
                acc = arith.addf(acc, x)
        if op == "Mean":
            acc = arith.divf(acc, const(dt, float(n)))
        return acc

    return ew(node, _inputs(node, n), body)


# 8: numpy broadcasting (6 required equal shapes, which broadcasting covers); 12: integer Max/Min; 13: bfloat16
for _op, _versions in {"Max": (7, 8, 12, 13), "Min": (7, 8, 12, 13), "Sum": (7, 8, 13), "Mean": (7, 8, 13)}.items():
    converter(_op, since=_versions)(_variadic)


# ----------------------------------------------------------------------------------------------- bitwise (18)
_BITWISE = {"BitwiseAnd": arith.andi, "BitwiseOr": arith.ori, "BitwiseXor": arith.xori}


def _bitwise(ctx, node):
    fn = _BITWISE[node.op_type]
    dt = same_dtypes(node, [0, 1], INTS, sign_matters=False)
    return ew(node, _inputs(node, 2), fn, dt)


for _op in _BITWISE:
    converter(_op, since=18)(_bitwise)
