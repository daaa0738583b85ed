"""onnxruntime's matmul contrib ops (domain com.microsoft): FusedMatMul, DynamicQuantizeMatMul and
MatMulIntegerToFloat.

- FusedMatMul: alpha * op(A) @ op(B) with numpy matmul semantics, where op transposes the last two dims
  (transA / transB) after moving dim 0 behind the batch dims (transBatchA / transBatchB: [d0, d1, .., dn-2,
  dn-1] -> [d1, .., dn-2, d0, dn-1]), as onnxruntime's kernel permutes. onnxruntime's optimizer writes it for
  MatMul fed by a Transpose and followed by a Mul / Div by a scalar (attention scores). Constant operands are
  permuted in numpy; a run-time B^T of one matrix is read in place ((N, K) matmul map), other permutations are
  one linalg.transpose. The product itself is matmul.py's (batch folded into M when B is one matrix).
- DynamicQuantizeMatMul: A quantized to uint8 at run time as onnxruntime does (range of A widened to include
  0, scale = (max - min) / 255, or 1 when max = min = 0; zero point = round_half_even(clamp(-min / scale));
  q = clamp(round_half_even(A / scale) + zp)), then the exact int32 product with B (int8 / uint8, minus its
  zero point: quant.integer_matmul), then acc * (a_scale * b_scale) + bias in float32. The output of
  onnxruntime's quantize_dynamic after its graph optimizer.
- MatMulIntegerToFloat: the same product and scaling for an A that is already quantized.

Scales and zero points of B are per tensor (one element) or per column ([N]); of A, per tensor. Refused:
other element types (onnxruntime's CPU kernels are float32 only), transA / transB on 1-D operands,
transBatchA / transBatchB unless A and B have the same rank >= 3 (onnxruntime's condition), scales or zero
points of other shapes, a bias that is not [N].
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg
from mlir.dialects import math as mmath

from .. import builders as b
from ..elementwise_util import F32, const, same_dtypes
from ..registry import converter
from . import quant
from ._contrib import MS, check_node
from .matmul import constant_b, matmul_2d, matmul_shapes

_MATMUL_ATTRS = dict(alpha="FLOAT", transA="INT", transB="INT", transBatchA="INT", transBatchB="INT")


# ================================================================================================ FusedMatMul
def operand_perm(node, what: str, rank: int, trans_batch: bool, trans: bool) -> list[int]:
    """onnxruntime's permutation of a FusedMatMul operand of `rank` dims."""
    if rank < 2:
        if trans:
            raise node.error(f"trans{what} on the 1-D operand {what} is not supported (a 1-D operand has no "
                             "dims to transpose)")
        return list(range(rank))
    perm = list(range(1, rank - 1)) + [0, rank - 1] if trans_batch else list(range(rank))
    if trans:
        perm[-2], perm[-1] = perm[-1], perm[-2]
    return perm


def product(node, x, y, cy, y_nk, sa, sb):
    """numpy matmul of A (value `x`, shape `sa`) and B (value `y`, or constant `cy`, shape `sb`); `y_nk`: the
    value `y` is one matrix B stored transposed ((N, K), read in place)."""
    a2, b2, m, k, n, batch = matmul_shapes(node, sa, sb)
    final = batch + ((m,) if len(sa) >= 2 else ()) + ((n,) if len(sb) >= 2 else ())
    x = b.reshape(x, a2)
    if math.prod(b2[:-2]) == 1:  # B is one matrix: A's batch folds into M
        rows = math.prod(a2[:-2]) * m
        xa = b.reshape(x, (rows, k))
        if cy is not None:
            yc, nk = constant_b(node, cy.reshape(k, n), rows, False)
            return b.reshape(matmul_2d(xa, yc, y_is_nk=nk), final)
        yy = b.reshape(y, (n, k)) if y_nk else b.reshape(y, (k, n))
        return b.reshape(matmul_2d(xa, yy, y_is_nk=y_nk), final)
    yv = b.constant(cy, f"{node.input_names[1]}_perm") if cy is not None else y
    nb = math.prod(batch)
    x3 = b.reshape(b.broadcast_to(x, batch + (m, k)), (nb, m, k))
    y3 = b.reshape(b.broadcast_to(b.reshape(yv, b2), batch + (k, n)), (nb, k, n))
    r = linalg.batch_matmul(x3, y3, outs=[b.fill([nb, m, n], b.elem_of(x), 0.0)])
    return b.reshape(r, final)


@converter("FusedMatMul", since=1, domain=MS)
def fused_matmul(ctx, node):
    check_node(node, (2, 2), (1, 1), **_MATMUL_ATTRS)
    same_dtypes(node, [0, 1], (F32,))
    ta, tb = bool(node.attr("transA", 0)), bool(node.attr("transB", 0))
    tba, tbb = bool(node.attr("transBatchA", 0)), bool(node.attr("transBatchB", 0))
    alpha = float(node.attr("alpha", 1.0))
    ca, cy = node.constant(0), node.constant(1)   # constants are permuted here, for free
    x = None if ca is not None else node.require_input(0, "A")
    y = None if cy is not None else node.require_input(1, "B")
    ra = ca.ndim if ca is not None else len(b.shape_of(x))
    rb = cy.ndim if cy is not None else len(b.shape_of(y))
    if (tba or tbb) and (ra != rb or ra < 3):
        raise node.error(f"transBatchA / transBatchB need A and B of the same rank >= 3 (onnxruntime refuses "
                         f"the others), got ranks {ra} and {rb}")
    pa, pb = operand_perm(node, "A", ra, tba, ta), operand_perm(node, "B", rb, tbb, tb)
    if ca is not None:
        x = b.constant(np.ascontiguousarray(ca.transpose(pa)), f"{node.input_names[0]}_perm")
    else:
        x = b.transpose(x, pa)
    sa = b.shape_of(x)
    y_nk = False
    if cy is not None:
        cy = np.ascontiguousarray(cy.transpose(pb))
        sb = tuple(cy.shape)
    else:
        sb = tuple(b.shape_of(y)[p] for p in pb)
        if tb and not tbb and math.prod(sb[:-2]) == 1:
            y_nk = True   # B^T of one matrix: read (N, K) in place instead of a transpose kernel
        else:
            y = b.transpose(y, pb)
    out = product(node, x, y, cy, y_nk, sa, sb)
    if alpha == 1.0:
        return out
    return b.elementwise([out], lambda v: arith.mulf(v, const(F32, alpha)))


# ================================================================================================ quantized
def _f32() -> ir.Type:
    return ir.F32Type.get()


def _u8() -> ir.Type:
    return ir.IntegerType.get_signless(8)


def dynamic_quantize_u8(x: ir.Value) -> tuple[ir.Value, ir.Value, ir.Value]:
    """onnxruntime's dynamic uint8 quantization of a float32 tensor: (q, scale, zero point), the last two
    rank-0 (see the module docstring for the formulas). Three kernels: the range (min and max in one
    reduction), the parameters (scale and zero point in one generic), the quantized tensor."""
    from .reduce import generic_multi
    s = b.shape_of(x)
    r = len(s)

    def zero():
        return const(F32, 0.0)

    lo, hi = generic_multi([x], [b.identity_map(r), b.projection_map(r, []), b.projection_map(r, [])],
                           [b.fill([], _f32(), float("inf")), b.fill([], _f32(), float("-inf"))],
                           lambda v, mn, mx: [arith.minimumf(v, mn), arith.maximumf(v, mx)], ["reduction"] * r)

    def params(mn, mx, _s, _z):
        mn, mx = arith.minimumf(mn, zero()), arith.maximumf(mx, zero())
        same = arith.cmpf(arith.CmpFPredicate.OEQ, mx, mn)
        sc = arith.select(same, const(F32, 1.0), arith.divf(arith.subf(mx, mn), const(F32, 255.0)))
        z = arith.subf(zero(), arith.divf(mn, sc))
        z = mmath.roundeven(arith.minimumf(arith.maximumf(z, zero()), const(F32, 255.0)))   # integral, [0, 255]
        return [sc, arith.fptoui(_u8(), z)]

    ident0 = b.identity_map(0)
    scale, zp = generic_multi([lo, hi], [ident0] * 4, [b.empty([], _f32()), b.empty([], _u8())], params, [])

    def quantize(v, sc, z):
        q = arith.addf(mmath.roundeven(arith.divf(v, sc)), arith.uitofp(_f32(), z))
        q = arith.minimumf(arith.maximumf(q, zero()), const(F32, 255.0))
        return arith.fptoui(_u8(), q)

    q = b.elementwise([x, scale, zp], quantize, out_elem=_u8(), out_shape=s)
    return q, scale, zp


def _scale_input(node, i: int, what: str, per_column: int | None) -> ir.Value:
    """A float32 scale: one element (returned rank-0) or, when `per_column` is the column count, [N]."""
    v = node.require_input(i, what)
    same_dtypes(node, [i], (F32,))
    s = b.shape_of(v)
    if math.prod(s) == 1:
        return b.reshape(v, ())
    if per_column is not None and s == (per_column,):
        return v
    allowed = "one element" + (f" or [{per_column}] (one per column of B)" if per_column is not None else "")
    raise node.error(f"{what} of shape {list(s)} is not supported ({allowed})")


def _zp_input(node, i: int, what: str, like_i: int, per_column: int | None):
    """An optional zero point of input `like_i`'s 8-bit type: one element or [N] per column."""
    like, like_uns = quant._check_8bit(node, like_i, "A" if like_i == 0 else "B")
    zp, _ = quant._zero_point(node, i, what, like, like_uns)
    if zp is None:
        return None
    s = b.shape_of(zp)
    if math.prod(s) != 1 and not (per_column is not None and s == (per_column,)):
        allowed = "one element" + (f" or [{per_column}] (one per column of B)" if per_column is not None else "")
        raise node.error(f"{what} of shape {list(s)} is not supported ({allowed})")
    return zp


def _to_float(node, acc: ir.Value, final, a_scale: ir.Value, b_scale: ir.Value, bias_i: int) -> ir.Value:
    """float(acc) * (a_scale * b_scale) (+ bias) in one generic, reshaped to the matmul's result shape."""
    shape = b.shape_of(acc)
    n = shape[-1]
    ins = [acc, a_scale, b_scale]
    if node.has_input(bias_i):
        bias = node.input(bias_i)
        same_dtypes(node, [bias_i], (F32,))
        if b.shape_of(bias) != (n,):
            raise node.error(f"bias must be 1-D of B's last dim ({n}), got shape {list(b.shape_of(bias))}")
        ins.append(bias)

    def body(v, sa, sb, *rest):   # the multiplier a_scale * b_scale first, as onnxruntime rounds it
        y = arith.mulf(arith.sitofp(_f32(), v), arith.mulf(sa, sb))
        return arith.addf(y, rest[0]) if rest else y

    y = b.elementwise(ins, body, out_elem=_f32(), out_shape=shape)
    return b.reshape(y, final)


def _b_operand(node):
    """B (int8 / uint8) and its column count."""
    bv, b_uns = quant._check_8bit(node, 1, "B")
    sb = b.shape_of(bv)
    if not sb:
        raise node.error("B is a scalar (rank 0)")
    return bv, b_uns, sb[-1] if len(sb) >= 2 else 1


@converter("DynamicQuantizeMatMul", since=1, domain=MS)
def dynamic_quantize_matmul(ctx, node):
    check_node(node, (3, 5), (1, 1))
    a = node.require_input(0, "A")
    same_dtypes(node, [0], (F32,))
    bv, b_uns, n = _b_operand(node)
    b_scale = _scale_input(node, 2, "b_scale", n)
    bz = _zp_input(node, 3, "b_zero_point", 1, n)
    q, a_scale, az = dynamic_quantize_u8(a)
    acc, final = quant.integer_matmul(node, q, True, az, bv, b_uns, bz)
    return _to_float(node, acc, final, a_scale, b_scale, 4)


@converter("MatMulIntegerToFloat", since=1, domain=MS)
def matmul_integer_to_float(ctx, node):
    check_node(node, (4, 7), (1, 1))
    av, a_uns = quant._check_8bit(node, 0, "A")
    bv, b_uns, n = _b_operand(node)
    a_scale = _scale_input(node, 2, "a_scale", None)
    b_scale = _scale_input(node, 3, "b_scale", n)
    az = _zp_input(node, 4, "a_zero_point", 0, None)
    bz = _zp_input(node, 5, "b_zero_point", 1, n)
    acc, final = quant.integer_matmul(node, av, a_uns, az, bv, b_uns, bz)
    return _to_float(node, acc, final, a_scale, b_scale, 6)
