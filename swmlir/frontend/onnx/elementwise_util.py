"""Helpers of the elementwise converters (ops/elementwise.py, ops/unary.py, ops/binary.py, ops/cast.py).

MLIR integers are signless, so the ONNX element type of each operand (signed, unsigned, bool, float) is read
from the model (constants, declared and inferred value infos) and decides which arith op a converter emits.
Everything here builds scalars inside `linalg.generic` bodies, except `ew` (the generic itself).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from . import builders as b
from .dtypes import mlir_to_numpy, numpy_to_mlir

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
BOOL = np.dtype(np.bool_)
SIGNED = tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
UNSIGNED = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
INTS = SIGNED + UNSIGNED
FLOATS = (F16, F32, F64)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (BOOL,)

CF = arith.CmpFPredicate
CI = arith.CmpIPredicate


# ----------------------------------------------------------------------------------------------- ONNX dtypes
def dtype_of(node, i: int, sign_matters: bool = True) -> np.dtype:
    """The ONNX element type (as a numpy dtype) of input `i`: from its constant value, else from the model's
    value infos (declared or inferred). When neither knows it, the MLIR type decides, except for an integer
    whose signedness matters to the op: that is refused rather than guessed (signless MLIR integers)."""
    c = node.constant(i)
    if c is not None:
        return np.dtype(c.dtype)
    v = node.input(i)
    t = b.elem_of(v)
    vi = node.ctx.info.get(node.input_names[i])
    if vi is not None and vi.dtype is not None and numpy_to_mlir(vi.dtype) == t:
        return np.dtype(vi.dtype)
    if sign_matters and isinstance(t, ir.IntegerType) and t.width > 1:
        raise node.error(f"the ONNX element type of input '{node.input_names[i]}' ({t}) is unknown (ONNX shape "
                         "inference gave none), and this op needs to know whether it is signed or unsigned")
    return mlir_to_numpy(t)


def check_dtype(node, dt: np.dtype, allowed: Sequence[np.dtype], what: str = "input") -> None:
    if dt not in allowed:
        names = ", ".join(sorted({np.dtype(a).name for a in allowed}))
        raise node.error(f"{what} has element type {dt.name}, which this op does not support here "
                         f"(supported: {names})")


def same_dtypes(node, idx: Sequence[int], allowed: Sequence[np.dtype], sign_matters: bool = True) -> np.dtype:
    """The common ONNX element type of the inputs `idx`, checked against `allowed`."""
    dts = [dtype_of(node, i, sign_matters) for i in idx]
    if len(set(dts)) != 1:
        raise node.error(f"inputs have different element types {', '.join(d.name for d in dts)}")
    check_dtype(node, dts[0], allowed)
    return dts[0]


def elem(dt: np.dtype) -> ir.Type:
    return numpy_to_mlir(np.dtype(dt))


def is_fp(dt) -> bool:
    return np.dtype(dt).kind == "f"


def is_signed(dt) -> bool:
    return np.dtype(dt).kind == "i"


def is_unsigned(dt) -> bool:
    return np.dtype(dt).kind == "u"


# ----------------------------------------------------------------------------------------------- the generic
def ew(node, inputs: Sequence[ir.Value], body: Callable[..., ir.Value], out_dt: np.dtype | None = None,
       out_shape: Sequence[int] | None = None) -> ir.Value:
    """One all-parallel generic over the numpy-broadcast shape of `inputs` (checked, naming the node)."""
    try:
        shape = b.broadcast_shapes(*[b.shape_of(v) for v in inputs]) if out_shape is None else tuple(out_shape)
    except ValueError as e:
        raise node.error(str(e)) from None
    out = None if out_dt is None else elem(out_dt)
    return b.elementwise(list(inputs), body, out_elem=out, out_shape=shape)


# ----------------------------------------------------------------------------------------------- scalars
def const(dt_or_elem, value) -> ir.Value:
    t = dt_or_elem if isinstance(dt_or_elem, ir.Type) else elem(dt_or_elem)
    return b.scalar(t, value)


def compute_dtype(dt: np.dtype) -> np.dtype:
    """Float math runs in f32 for f16 tensors (libm has no half functions; one rounding at the end)."""
    return F32 if np.dtype(dt) == F16 else np.dtype(dt)


def convert(v: ir.Value, src, dst) -> ir.Value:
    """Scalar conversion with ONNX Cast semantics between numeric and bool element types."""
    src, dst = np.dtype(src), np.dtype(dst)
    if src == dst:
        return v
    t = elem(dst)
    if dst == BOOL:
        if is_fp(src):
            return arith.cmpf(CF.UNE, v, const(src, 0.0))  # NaN -> true, as numpy
        return arith.cmpi(CI.ne, v, const(src, 0))
    if src == BOOL:
        return arith.select(v, const(dst, 1), const(dst, 0))
    if is_fp(src) and is_fp(dst):
        return arith.extf(t, v) if dst.itemsize > src.itemsize else arith.truncf(t, v)
    if is_fp(src):
        return arith.fptoui(t, v) if is_unsigned(dst) else arith.fptosi(t, v)
    if is_fp(dst):
        return arith.uitofp(t, v) if is_unsigned(src) else arith.sitofp(t, v)
    if dst.itemsize == src.itemsize:
        return v
    if dst.itemsize < src.itemsize:
        return arith.trunci(t, v)
    return arith.extui(t, v) if is_unsigned(src) else arith.extsi(t, v)


def select(c, x, y) -> ir.Value:
    return arith.select(c, x, y)


def fmax(x, y):
    return arith.maximumf(x, y)


def fmin(x, y):
    return arith.minimumf(x, y)


def cmp(pred: str, x: ir.Value, y: ir.Value, dt) -> ir.Value:
    """x <pred> y for pred in eq ne lt le gt ge, ordered for floats, signed or unsigned for integers."""
    dt = np.dtype(dt)
    if is_fp(dt):
        p = {"eq": CF.OEQ, "ne": CF.UNE, "lt": CF.OLT, "le": CF.OLE, "gt": CF.OGT, "ge": CF.OGE}[pred]
        return arith.cmpf(p, x, y)
    if pred in ("eq", "ne"):
        return arith.cmpi(CI.eq if pred == "eq" else CI.ne, x, y)
    prefix = "u" if (is_unsigned(dt) or dt == BOOL) else "s"
    return arith.cmpi(getattr(CI, prefix + pred), x, y)


def vmax(x, y, dt):
    """max(x, y); NaN-propagating for floats (numpy's maximum)."""
    if is_fp(dt):
        return arith.maximumf(x, y)
    return select(cmp("gt", x, y, dt), x, y)


def vmin(x, y, dt):
    if is_fp(dt):
        return arith.minimumf(x, y)
    return select(cmp("lt", x, y, dt), x, y)


def float_unary(dt: np.dtype, fn: Callable[[ir.Value, np.dtype], ir.Value]) -> Callable[[ir.Value], ir.Value]:
    """A body computing `fn(x, compute_dtype)` in f32 for f16 inputs, and in the input's type otherwise."""
    cdt = compute_dtype(dt)

    def body(x):
        return convert(fn(convert(x, dt, cdt), cdt), cdt, dt)

    return body


MATH = {
    "Exp": mmath.exp, "Log": mmath.log, "Sqrt": mmath.sqrt, "Sin": mmath.sin, "Cos": mmath.cos,
    "Tan": mmath.tan, "Asin": mmath.asin, "Acos": mmath.acos, "Atan": mmath.atan, "Sinh": mmath.sinh,
    "Cosh": mmath.cosh, "Asinh": mmath.asinh, "Acosh": mmath.acosh, "Atanh": mmath.atanh, "Tanh": mmath.tanh,
    "Erf": mmath.erf, "Floor": mmath.floor, "Ceil": mmath.ceil, "Round": mmath.roundeven,
}
