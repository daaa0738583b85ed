"""QuantizeLinear and DequantizeLinear for 8- and 16-bit integers: per tensor, per axis, and blocked.

The scale and zero point are read through a map of the output loops: () per tensor, (d_axis) per axis, and the
input's map with `d_axis floordiv block_size` when blocked (the schedule never tiles such a loop, so each tile
sees whole blocks). QuantizeLinear rounds half to even and saturates to the target type, as the spec says.
Refused: float8/4-bit targets (types we do not carry), non-float scales.
"""
from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import builders as b
from ..dtypes import input_dtype, numpy_to_mlir
from ..registry import converter

_TARGETS = {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16)}
_ONNX_OUTPUT_DTYPE = {2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16}


def _param_map(node, x_shape, p_shape, axis, block):
    """The map from the output loops to a scale / zero-point element."""
    r = len(x_shape)
    d = b.dims(r)
    if len(p_shape) == 0 or (len(p_shape) == 1 and p_shape[0] == 1 and block == 0):
        return ir.AffineMap.get(r, 0, [ir.AffineConstantExpr.get(0)] * len(p_shape))
    if not 0 <= axis < r:
        raise node.error(f"axis {node.attr('axis', 1)} is out of range for rank {r}")
    if block == 0:
        if len(p_shape) != 1 or p_shape[0] != x_shape[axis]:
            raise node.error(f"a per-axis scale must have shape [{x_shape[axis]}], got {list(p_shape)}")
        return ir.AffineMap.get(r, 0, [d[axis]])
    if len(p_shape) != r or any(p != s for k, (p, s) in enumerate(zip(p_shape, x_shape)) if k != axis) or \
            p_shape[axis] != -(-x_shape[axis] // block):
        raise node.error(f"a blocked scale of shape {list(p_shape)} does not match input {list(x_shape)} with "
                         f"block_size {block} on axis {axis}")
    return ir.AffineMap.get(r, 0, [ir.AffineExpr.get_floor_div(d[k], block) if k == axis else d[k]
                                   for k in range(r)])


def _to_float(v, dt: np.dtype, ft: ir.Type):
    return arith.uitofp(ft, v) if dt.kind == "u" else arith.sitofp(ft, v)


def _common(node, x):
    shape = b.shape_of(x)
    axis = node.attr("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    block = node.attr("block_size", 0)
    return shape, axis, block


@converter("DequantizeLinear", since=(10, 13, 19, 21, 23, 24, 25))
def dequantize(ctx, node):
    x = node.require_input(0, "x")
    scale = node.require_input(1, "x_scale")
    xdt = input_dtype(node, 0)
    if xdt not in _TARGETS and xdt != np.dtype(np.int32):
        raise node.error(f"x has element type {xdt}; 8/16-bit integers and int32 are supported")
    ft = b.elem_of(scale)
    if not isinstance(ft, (ir.F32Type, ir.F16Type, ir.F64Type)):
        raise node.error(f"x_scale must be a float tensor, got {ft}")
    shape, axis, block = _common(node, x)
    ins, maps = [x, scale], [b.identity_map(len(shape)), _param_map(node, shape, b.shape_of(scale), axis, block)]
    zp = node.input(2)
    if zp is not None:
        ins.append(zp)
        maps.append(_param_map(node, shape, b.shape_of(zp), axis, block))
    maps.append(b.identity_map(len(shape)))

    def body(v, s, *rest):
        zpv = rest[0] if zp is not None else None
        xf = _to_float(v, xdt, ft)
        if zpv is not None:
            xf = arith.subf(xf, _to_float(zpv, xdt, ft))
        return arith.mulf(xf, s)

    return b.generic(ins, maps, b.empty(shape, ft), body)


@converter("QuantizeLinear", since=(10, 13, 19, 21, 23, 24, 25))
def quantize(ctx, node):
    x = node.require_input(0, "x")
    scale = node.require_input(1, "y_scale")
    zp = node.input(2)
    if zp is not None:
        ydt = input_dtype(node, 2)
    else:
        code = node.attr("output_dtype", 0)
        ydt = np.dtype(_ONNX_OUTPUT_DTYPE.get(code, np.uint8)) if code in (0, 2, 3, 4, 5) else None
    if ydt is None or ydt not in _TARGETS:
        raise node.error(f"quantizing to {ydt or 'output_dtype ' + str(node.attr('output_dtype', 0))} is not "
                         "supported (int8, uint8, int16, uint16)")
    ft = b.elem_of(x)
    if not isinstance(ft, (ir.F32Type, ir.F16Type, ir.F64Type)):
        raise node.error(f"x must be a float tensor, got {ft}")
    shape, axis, block = _common(node, x)
    st = b.elem_of(scale)
    ins, maps = [x, scale], [b.identity_map(len(shape)), _param_map(node, shape, b.shape_of(scale), axis, block)]
    if zp is not None:
        ins.append(zp)
        maps.append(_param_map(node, shape, b.shape_of(zp), axis, block))
    maps.append(b.identity_map(len(shape)))
    f32 = ir.F32Type.get()
    info = np.iinfo(ydt)
    yt = numpy_to_mlir(ydt)

    def body(v, s, *rest):
        vf = arith.extf(f32, v) if isinstance(ft, ir.F16Type) else v
        sf = arith.extf(f32, s) if isinstance(st, ir.F16Type) else (arith.truncf(f32, s) if isinstance(st, ir.F64Type)
                                                                   and not isinstance(ft, ir.F64Type) else s)
        ct = vf.type
        if sf.type != ct:
            sf = arith.extf(ct, sf)
        q = mmath.roundeven(arith.divf(vf, sf))
        if zp is not None:
            q = arith.addf(q, _to_float(rest[0], ydt, ct))
        q = arith.maximumf(q, b.scalar(ct, float(info.min)))
        q = arith.minimumf(q, b.scalar(ct, float(info.max)))
        return arith.fptoui(yt, q) if ydt.kind == "u" else arith.fptosi(yt, q)

    return b.generic(ins, maps, b.empty(shape, yt), body)
