"""Integer and quantized linear algebra: MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.

int8 / uint8 operands are widened to i32 (extsi / extui: MLIR integers are signless, the ONNX type says which)
and their zero points subtracted, so the i32 accumulator is exact: inside the accumulating generic for the
matmuls, by an elementwise generic before the padding for the convs (the padding holds the zero point, 0 once
shifted; the accumulation is then Conv's integer generic). Zero points are per tensor (one element), per row of
A (a vector of M, or the N-D [.., M, 1] form) / per column of B (MatMulInteger, QLinearMatMul), or per output
channel of W (ConvInteger, QLinearConv), each read through its own map: no broadcast is materialized.

The QLinear ops requantize like the ONNX reference: the multiplier a_scale * b_scale / y_scale is computed in
the scales' type (float32 or float16), the product with the accumulator in float64, rounded half to even,
offset by y_zero_point and saturated to the output type.
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import arith, math as math_d

from .. import builders as b
from ..dtypes import is_float
from ..registry import converter
from . import conv as conv_ops
from . import window
from .matmul import matmul_shapes


def _i32() -> ir.Type:
    return ir.IntegerType.get_signless(32)


def _check_8bit(node, i: int, what: str) -> tuple[ir.Value, bool]:
    v = node.require_input(i, what)
    dt = window.dtype_of(node, i)
    if dt is None or dt not in (np.dtype(np.int8), np.dtype(np.uint8)):
        raise node.error(f"{what} has element type {dt if dt is not None else b.elem_of(v)}; int8 and uint8 "
                         "are supported")
    return v, dt.kind == "u"


def _zero_point(node, i: int, what: str, like: ir.Value, like_unsigned: bool) -> tuple[ir.Value | None, bool]:
    """An optional zero point of the same 8-bit type as `like` (None when omitted)."""
    if not node.has_input(i):
        return None, like_unsigned
    v, unsigned = _check_8bit(node, i, what)
    if b.elem_of(v) != b.elem_of(like) or unsigned != like_unsigned:
        raise node.error(f"{what} must have the type of the tensor it quantizes")
    return v, unsigned


def _widen(v: ir.Value, unsigned: bool) -> ir.Value:
    return arith.extui(_i32(), v) if unsigned else arith.extsi(_i32(), v)


def _zp_operand(node, zp: ir.Value, what: str, vector_len: int | None, vector_dim: int | None,
                n_loops: int, full: list[int], loop_of: list[int | None]):
    """(value, map) of a zero point / scale read inside a loop nest. `full` is the virtual shape it broadcasts
    against (numpy, right-aligned) and `loop_of[j]` the loop of dim j of that shape (None: read index 0). A
    1-D tensor of `vector_len` elements is read by loop `vector_dim` (per row / column / channel)."""
    s = b.shape_of(zp)
    d = b.dims(n_loops)
    if math.prod(s) == 1:
        return b.reshape(zp, [1]), ir.AffineMap.get(n_loops, 0, [ir.AffineConstantExpr.get(0)])
    if len(s) == 1 and vector_len is not None and s[0] == vector_len:
        return zp, ir.AffineMap.get(n_loops, 0, [d[vector_dim]])
    if len(s) > len(full):
        raise node.error(f"{what} of shape {list(s)} does not broadcast to {full}")
    exprs = []
    for j, n in enumerate(s):
        t = len(full) - len(s) + j
        if n == 1:
            exprs.append(ir.AffineConstantExpr.get(0))
        elif n == full[t] and loop_of[t] is not None:
            exprs.append(d[loop_of[t]])
        else:
            raise node.error(f"{what} of shape {list(s)} does not broadcast to {full}")
    return zp, ir.AffineMap.get(n_loops, 0, exprs)


# ----------------------------------------------------------------------------------------------- integer matmul
def integer_matmul(node, a, a_uns, az, b_, b_uns, bz, a_zp_name="a_zero_point", b_zp_name="b_zero_point"):
    """sum_k (A - az) (B - bz) in i32 with numpy matmul semantics (1-D promotion, batch broadcasting). Returns
    (the [batch.., M, N] accumulator, the ONNX result shape it reshapes to)."""
    sa, sb = b.shape_of(a), b.shape_of(b_)
    a2, b2, m, k, n, batch = matmul_shapes(node, sa, sb)
    a, b_ = b.reshape(a, a2), b.reshape(b_, b2)
    nb = len(batch)
    m_d, n_d, k_d = nb, nb + 1, nb + 2
    n_loops = nb + 3
    d = b.dims(n_loops)

    def batch_exprs(shape):
        lead = nb - len(shape)
        return [ir.AffineConstantExpr.get(0) if (s == 1 and batch[lead + i] != 1) else d[lead + i]
                for i, s in enumerate(shape)]

    inputs = [a, b_]
    maps = [ir.AffineMap.get(n_loops, 0, batch_exprs(a2[:-2]) + [d[m_d], d[k_d]]),
            ir.AffineMap.get(n_loops, 0, batch_exprs(b2[:-2]) + [d[k_d], d[n_d]])]

    def batch_loops(shape):
        lead = nb - len(shape)
        return [lead + i if not (s == 1 and batch[lead + i] != 1) else None for i, s in enumerate(shape)]

    has_az, has_bz = az is not None, bz is not None
    if has_az:
        v, mp = _zp_operand(node, az, a_zp_name, m, m_d, n_loops, list(a2[:-1]) + [1],
                            batch_loops(a2[:-2]) + [m_d, None])
        inputs.append(v)
        maps.append(mp)
    if has_bz:
        v, mp = _zp_operand(node, bz, b_zp_name, n, n_d, n_loops, list(b2[:-2]) + [1, n],
                            batch_loops(b2[:-2]) + [None, n_d])
        inputs.append(v)
        maps.append(mp)
    maps.append(b.projection_map(n_loops, list(range(nb + 2))))

    def body(*args):
        x, y = _widen(args[0], a_uns), _widen(args[1], b_uns)
        rest = list(args[2:-1])
        if has_az:
            x = arith.subi(x, _widen(rest.pop(0), a_uns))
        if has_bz:
            y = arith.subi(y, _widen(rest.pop(0), b_uns))
        return arith.addi(args[-1], arith.muli(x, y))

    init = b.fill(list(batch) + [m, n], _i32(), 0)
    y = b.generic(inputs, maps, init, body, ["parallel"] * (nb + 2) + ["reduction"])
    final = tuple(batch) + ((m,) if len(sa) >= 2 else ()) + ((n,) if len(sb) >= 2 else ())
    return y, final


@converter("MatMulInteger", since=10)
def matmul_integer(ctx, node):
    a, a_uns = _check_8bit(node, 0, "A")
    b_, b_uns = _check_8bit(node, 1, "B")
    az, _ = _zero_point(node, 2, "a_zero_point", a, a_uns)
    bz, _ = _zero_point(node, 3, "b_zero_point", b_, b_uns)
    y, final = integer_matmul(node, a, a_uns, az, b_, b_uns, bz)
    return b.reshape(y, final)


# ----------------------------------------------------------------------------------------------- requantize
def _scale(node, i: int, what: str) -> ir.Value:
    v = node.require_input(i, what)
    if not is_float(b.elem_of(v)):
        raise node.error(f"{what} has element type {b.elem_of(v)}; a float scale is expected")
    return v


def requantize(node, acc: ir.Value, scales: list[tuple[ir.Value, ir.AffineMap]], y_zp: ir.Value, y_uns: bool,
               zp_map: ir.AffineMap) -> ir.Value:
    """round_half_even(acc * (s0 * s1 / s2)) + y_zp, saturated to y_zp's type. `scales` = [s0, s1, s2] with
    their maps over acc's dims; the multiplier is computed in the scales' type, the product in float64."""
    shape = b.shape_of(acc)
    r = len(shape)
    st = b.elem_of(scales[0][0])
    if any(b.elem_of(s) != st for s, _ in scales):
        raise node.error("the scales must all have the same type")
    qt = b.elem_of(y_zp)
    bits = qt.width
    lo, hi = (0, (1 << bits) - 1) if y_uns else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    f64 = ir.F64Type.get()

    def body(v, s0, s1, s2, z, _):
        mult = arith.divf(arith.mulf(s0, s1), s2)
        if st != f64:
            mult = arith.extf(f64, mult)
        x = arith.mulf(arith.sitofp(f64, v), mult)
        x = math_d.roundeven(x)
        zf = arith.uitofp(f64, z) if y_uns else arith.sitofp(f64, z)
        x = arith.addf(x, zf)
        x = arith.minimumf(arith.maximumf(x, b.scalar(f64, lo)), b.scalar(f64, hi))
        return arith.fptoui(qt, x) if y_uns else arith.fptosi(qt, x)

    inputs = [acc] + [s for s, _ in scales] + [y_zp]
    maps = [b.identity_map(r)] + [m for _, m in scales] + [zp_map, b.identity_map(r)]
    return b.generic(inputs, maps, b.empty(shape, qt), body)


def _per_dim(node, v: ir.Value, what: str, r: int, dim: int, length: int) -> tuple[ir.Value, ir.AffineMap]:
    """A scale / zero point over a rank-r result: one element (index 0) or `length` elements along `dim`
    (length -1: per tensor only)."""
    s = b.shape_of(v)
    if math.prod(s) == 1:
        return b.reshape(v, [1]), ir.AffineMap.get(r, 0, [ir.AffineConstantExpr.get(0)])
    if len(s) == 1 and s[0] == length:
        return v, b.projection_map(r, [dim])
    if length < 0:
        raise node.error(f"{what} of shape {list(s)} should have one element (per-tensor quantization)")
    raise node.error(f"{what} of shape {list(s)} should have one element or {length} (one per index of "
                     f"result dim {dim})")


@converter("QLinearMatMul", since=(10, 21))  # 21: float16 / bfloat16 scales
def qlinear_matmul(ctx, node):
    a, a_uns = _check_8bit(node, 0, "a")
    b_, b_uns = _check_8bit(node, 3, "b")
    az, _ = _zero_point(node, 2, "a_zero_point", a, a_uns)
    bz, _ = _zero_point(node, 5, "b_zero_point", b_, b_uns)
    yz, y_uns = _check_8bit(node, 7, "y_zero_point")
    acc, final = integer_matmul(node, a, a_uns, az, b_, b_uns, bz)
    r = len(b.shape_of(acc))
    m, n = b.shape_of(acc)[-2:]
    scales = [_per_dim(node, _scale(node, 1, "a_scale"), "a_scale", r, r - 2, m),
              _per_dim(node, _scale(node, 4, "b_scale"), "b_scale", r, r - 1, n),
              _per_dim(node, _scale(node, 6, "y_scale"), "y_scale", r, 0, -1)]
    zv, zmap = _per_dim(node, yz, "y_zero_point", r, 0, -1)
    return b.reshape(requantize(node, acc, scales, zv, y_uns, zmap), final)


# ----------------------------------------------------------------------------------------------- integer conv
def _shifted(node, v: ir.Value, uns: bool, zp: ir.Value | None, what: str, per_channel: int | None) -> ir.Value:
    """v widened to i32 minus its zero point (one element, or one per dim-0 channel when `per_channel`)."""
    s = b.shape_of(v)
    r = len(s)
    if zp is None:
        return b.elementwise([v], lambda x: _widen(x, uns), out_elem=_i32())
    zv, zmap = _per_dim(node, zp, what, r, 0, per_channel if per_channel is not None else -1)
    return b.generic([v, zv], [b.identity_map(r), zmap, b.identity_map(r)], b.empty(s, _i32()),
                     lambda x, z, _: arith.subi(_widen(x, uns), _widen(z, uns)))


def _integer_conv(node, x_i: int, w_i: int, xz_i: int, wz_i: int):
    x, x_uns = _check_8bit(node, x_i, "x")
    w, w_uns = _check_8bit(node, w_i, "w")
    xz, _ = _zero_point(node, xz_i, "x_zero_point", x, x_uns)
    wz, _ = _zero_point(node, wz_i, "w_zero_point", w, w_uns)
    group, _ = conv_ops.check_conv_operands(node, x, w, require_float=False)
    sx, sw = b.shape_of(x), b.shape_of(w)
    win = window.resolve(node, list(sx[2:]), list(sw[2:]))
    x32 = _shifted(node, x, x_uns, xz, "x_zero_point", None)
    w32 = _shifted(node, w, w_uns, wz, "w_zero_point", sw[0])
    low, high = win.padding(list(sx[2:]))
    xp = b.pad(x32, [0, 0] + low, [0, 0] + high, 0)   # padding holds the zero point: 0 once shifted
    return conv_ops.conv_nd(xp, w32, win.strides, win.dilations, group, win.out, init_value=0)


@converter("ConvInteger", since=10)
def conv_integer(ctx, node):
    return _integer_conv(node, 0, 1, 2, 3)


@converter("QLinearConv", since=10)
def qlinear_conv(ctx, node):
    acc = _integer_conv(node, 0, 3, 2, 5)
    bias = node.input(8)
    if bias is not None:
        if b.elem_of(bias) != _i32():
            raise node.error(f"B must be int32, got {b.elem_of(bias)}")
        acc = conv_ops.add_channel_bias(node, acc, bias)
    sy = b.shape_of(acc)
    r = len(sy)
    yz, y_uns = _check_8bit(node, 7, "y_zero_point")
    scales = [_per_dim(node, _scale(node, 1, "x_scale"), "x_scale", r, 0, -1),
              _per_dim(node, _scale(node, 4, "w_scale"), "w_scale", r, 1, sy[1]),
              _per_dim(node, _scale(node, 6, "y_scale"), "y_scale", r, 0, -1)]
    zv, zmap = _per_dim(node, yz, "y_zero_point", r, 0, -1)
    return requantize(node, acc, scales, zv, y_uns, zmap)
