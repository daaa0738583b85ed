"""sunway-fast-math: divisions and exponentials of CPE kernels in the instructions the CPE pipelines.

A CPE divides in about 32 cycles, unpipelined, and calls libm for `exp` (software, about 60 cycles, blocking
both pipes: docs/performance-model.md); softmax, LayerNorm, GELU and the scaled attention scores do one or two of
each per element. The upstream polynomial approximations (`transform.apply_patterns.math.polynomial_approximation`)
are not in the MLIR 22 wheels' bindings, so this pass rewrites, in kernel functions at loop level:

  x / c            (c a constant)             -> x * (1/c)      (1/c rounded once, at compile time)
  x / d            (d computed outside the innermost loop around the division, or loaded there from an
                    element the loop neither moves nor writes: a row sum, a scalar input in LDM)
                                              -> x * r, with r = 1 / d computed once before that loop
  math.exp x : f32                            -> 2^n * p(r): n = round(x log2 e), r = x - n ln 2 (two-part
                                                 ln 2), p the degree-6 polynomial fitted below, 2^n built in
                                                 the exponent bits; x clamped to [-86.6, 89] first, so that
                                                 2^(n-1) stays a normal float and overflow still gives inf
  math.erf x : f32                            -> x * P(x^2/8 - 1), x clamped to [-4, 4], P of degree 16 fitted
                                                 below (absolute error below 2e-7; erf(4) is 1 - 1.5e-8)

The reciprocal forms differ from a true division by at most one rounding (~1 ulp), so a quotient that is
rounded to an integer (a quantization's round(x / scale)) keeps its division, unless 1/c is exact; the exponential's relative
error is below 2e-7 over the whole float range it keeps (fitted on Chebyshev nodes of [-ln2/2, ln2/2]), and exp
of x < -86.6 returns exp(-86.6) ~ 2.4e-38 instead of a smaller number or 0. Every model's results are still
checked against onnxruntime. Ops on vectors and other float types are left alone.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from . import register_pass
from ._util import collect, defined_inside, defining_op, ensure_sunway, funcs

_LN2_HI = 0.693145751953125        # ln 2 with its low 12 bits zero: n * _LN2_HI is exact for |n| < 2^12
_LN2_LO = math.log(2.0) - _LN2_HI
_LOG2E = 1.0 / math.log(2.0)
_ROUND = 12582912.0                # 1.5 * 2^23: (t + _ROUND) - _ROUND rounds t to the nearest integer
_EXP_LO, _EXP_HI = -86.6, 89.0


@lru_cache(maxsize=None)
def exp_coefficients(degree: int = 6) -> tuple[float, ...]:
    """Coefficients (highest power first) of the polynomial for exp on [-ln2/2, ln2/2], a least-squares fit on
    Chebyshev nodes (near-minimax), rounded to float32."""
    nodes = np.cos(np.linspace(0.0, np.pi, 2001)) * math.log(2.0) / 2
    return tuple(float(np.float32(c)) for c in np.polyfit(nodes, np.exp(nodes), degree))


@lru_cache(maxsize=None)
def erf_coefficients(degree: int = 16) -> tuple[float, ...]:
    """Coefficients (highest power first) of P with erf(x) ~ x * P(x^2 / 8 - 1) on [-4, 4]: a Chebyshev fit of
    erf(x)/x on Chebyshev nodes, converted to powers of t = x^2/8 - 1 (in [-1, 1], where they stay below 0.36:
    Horner in float32 keeps the error near 2e-7), rounded to float32."""
    x = np.cos(np.linspace(0.0, np.pi, 4001)) * 2 + 2
    t = x * x / 8 - 1
    g = np.array([math.erf(v) / v if v > 1e-12 else 2 / math.sqrt(math.pi) for v in x])
    mono = np.polynomial.chebyshev.cheb2poly(np.polynomial.chebyshev.chebfit(t, g, degree))
    return tuple(float(np.float32(c)) for c in mono[::-1])


def _horner(coeffs: tuple[float, ...], x: ir.Value) -> ir.Value:
    p = _f32(coeffs[0])
    for c in coeffs[1:]:
        p = arith.AddFOp(arith.MulFOp(p, x).result, _f32(c)).result
    return p


def _f32(value: float) -> ir.Value:
    return arith.ConstantOp(ir.F32Type.get(), ir.FloatAttr.get(ir.F32Type.get(), value)).result


def _i32(value: int) -> ir.Value:
    t = ir.IntegerType.get_signless(32)
    return arith.ConstantOp(t, ir.IntegerAttr.get(t, value)).result


def _constant(v: ir.Value) -> float | None:
    op = defining_op(v)
    if op is None or op.name != "arith.constant":
        return None
    attr = op.attributes["value"]
    return ir.FloatAttr(attr).value if isinstance(attr, ir.FloatAttr) else None


def _innermost_loop(op: ir.Operation) -> ir.Operation | None:
    p = op.parent
    while p is not None and p.name != "func.func":
        if p.name == "scf.for":
            return p
        p = p.parent
    return None


def _clamp(x: ir.Value, lo: float, hi: float) -> ir.Value:
    """min(max(x, lo), hi) as compares and selects (EmitC has no min/max; arith-expand has already run), with
    unordered compares so that a NaN passes through."""
    below = arith.CmpFOp(arith.CmpFPredicate.ULT, x, _f32(hi)).result
    x = arith.SelectOp(below, x, _f32(hi)).result
    above = arith.CmpFOp(arith.CmpFPredicate.UGT, x, _f32(lo)).result
    return arith.SelectOp(above, x, _f32(lo)).result


def _invariant_load(v: ir.Value, loop: ir.Operation) -> ir.Operation | None:
    """The memref.load in `loop` that defines `v` when it reads the same element in every iteration (indices
    from outside the loop) of a buffer the loop does not write: a row statistic or a scalar input staged in LDM
    (licm leaves loads in place)."""
    load = defining_op(v)
    if load is None or load.name != "memref.load" or not defined_inside(v, loop):
        return None
    if load.parent != loop or any(defined_inside(i, loop) for i in load.operands[1:]):
        return None
    mem = load.operands[0]
    for st in collect(loop, ("memref.store", "vector.store")):
        if st.operands[1] == mem:
            return None
    if collect(loop, ("func.call", "emitc.call_opaque", "memref.copy", "sunway.dma_get")):
        return None
    return load


_ROUNDING = ("math.roundeven", "math.round", "math.floor", "math.ceil", "math.trunc", "arith.fptosi",
             "arith.fptoui")
_PASS_THROUGH = ("arith.addf", "arith.subf", "arith.maximumf", "arith.minimumf", "arith.maxnumf", "arith.minnumf",
                 "arith.negf", "arith.select")


def _feeds_rounding(v: ir.Value, depth: int = 4) -> bool:
    """Whether `v` reaches a rounding to an integer (a quantization: round(x / scale) + zero point) through a few
    additions or clamps: there one ulp of a reciprocal can move a value across a rounding boundary."""
    for use in v.uses:
        user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
        if user.name in _ROUNDING:
            return True
        if depth and user.name in _PASS_THROUGH and any(_feeds_rounding(r, depth - 1) for r in user.results):
            return True
    return False


def _rewrite_division(op: ir.Operation) -> bool:
    num, den = op.operands
    if not isinstance(op.results[0].type, ir.F32Type):
        return False
    c = _constant(den)
    exact = c is not None and c != 0.0 and math.isfinite(c) and math.frexp(abs(c))[0] == 0.5  # a power of two
    if not exact and _feeds_rounding(op.results[0]):
        return False   # rounded to an integer: keep the correctly rounded quotient
    if c is not None:
        if c == 0.0 or math.isinf(c) or math.isnan(c):
            return False
        with ir.InsertionPoint(op), op.location:
            mul = arith.MulFOp(num, _f32(float(np.float32(1.0) / np.float32(c)))).result
    else:
        loop = _innermost_loop(op)
        if loop is None:
            return False
        load = _invariant_load(den, loop)
        if defined_inside(den, loop) and load is None:
            return False
        with ir.InsertionPoint(loop), op.location:
            if load is not None:
                den = memref.LoadOp(load.operands[0], list(load.operands[1:])).result
            recip = arith.DivFOp(_f32(1.0), den).result
        with ir.InsertionPoint(op), op.location:
            mul = arith.MulFOp(num, recip).result
    op.results[0].replace_all_uses_with(mul)
    op.erase()
    return True


def _replace_f32(op: ir.Operation, build) -> None:
    """Replace the f32 unary `op` by what `build(x)` creates in front of it (other types are left alone)."""
    x = op.operands[0]
    if not isinstance(x.type, ir.F32Type):
        return
    with ir.InsertionPoint(op), op.location:
        y = build(x)
    op.results[0].replace_all_uses_with(y)
    op.erase()


def _exp(x: ir.Value) -> ir.Value:
    i32 = ir.IntegerType.get_signless(32)
    xc = _clamp(x, _EXP_LO, _EXP_HI)
    t = arith.MulFOp(xc, _f32(_LOG2E)).result
    n = arith.SubFOp(arith.AddFOp(t, _f32(_ROUND)).result, _f32(_ROUND)).result
    r = arith.SubFOp(xc, arith.MulFOp(n, _f32(_LN2_HI)).result).result
    r = arith.SubFOp(r, arith.MulFOp(n, _f32(_LN2_LO)).result).result
    p = _horner(exp_coefficients(), r)
    # 2^(n-1) from its exponent bits, then * 2: n - 1 >= -126 keeps it normal, n = 128 still fits
    bits = arith.ShLIOp(arith.AddIOp(arith.FPToSIOp(i32, n).result, _i32(126)).result, _i32(23)).result
    scale = arith.BitcastOp(ir.F32Type.get(), bits).result
    return arith.MulFOp(arith.MulFOp(p, scale).result, _f32(2.0)).result


def _erf(x: ir.Value) -> ir.Value:
    xc = _clamp(x, -4.0, 4.0)
    t = arith.SubFOp(arith.MulFOp(arith.MulFOp(xc, xc).result, _f32(0.125)).result, _f32(1.0)).result
    return arith.MulFOp(xc, _horner(erf_coefficients(), t)).result


@register_pass("sunway-fast-math",
               "In CPE kernels: divisions by constants and loop invariants as reciprocal multiplies, f32 exp and "
               "erf as polynomials (no libm call)")
def fast_math(module: ir.Operation) -> None:
    ensure_sunway(module)
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, "arith.divf"):
            _rewrite_division(op)
        for op in collect(kfn, "math.exp"):
            _replace_f32(op, _exp)
        for op in collect(kfn, "math.erf"):
            _replace_f32(op, _erf)
