"""Element types: ONNX tensor types <-> numpy dtypes <-> MLIR types, in one table so that every stage agrees."""
from __future__ import annotations

import numpy as np
import onnx
from mlir import ir

# numpy dtypes the importer can carry; ONNX's other types (bfloat16, float8, strings, complex) are refused.
_INT_BITS = {np.dtype(t): np.dtype(t).itemsize * 8
             for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}
SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), np.dtype(np.bool_), *_INT_BITS)


def onnx_to_numpy(elem_type: int) -> np.dtype | None:
    """numpy dtype of an ONNX TensorProto.DataType, None when numpy or we cannot hold it."""
    try:
        dt = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return None
    return dt if dt in SUPPORTED else None


def onnx_type_name(elem_type: int) -> str:
    try:
        return onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"type {elem_type}"


def numpy_to_mlir(dtype: np.dtype) -> ir.Type:
    """MLIR element type for a numpy dtype; integers are signless (signedness lives in the ops, as in MLIR)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return ir.F32Type.get()
    if dtype == np.float64:
        return ir.F64Type.get()
    if dtype == np.float16:
        return ir.F16Type.get()
    if dtype == np.bool_:
        return ir.IntegerType.get_signless(1)
    if dtype in _INT_BITS:
        return ir.IntegerType.get_signless(_INT_BITS[dtype])
    raise TypeError(f"no MLIR element type for numpy dtype {dtype}")


def mlir_to_numpy(t: ir.Type) -> np.dtype:
    """numpy dtype for an MLIR element type (signless integers read as signed)."""
    if isinstance(t, ir.F32Type):
        return np.dtype(np.float32)
    if isinstance(t, ir.F64Type):
        return np.dtype(np.float64)
    if isinstance(t, ir.F16Type):
        return np.dtype(np.float16)
    if isinstance(t, ir.IntegerType):
        if t.width == 1:
            return np.dtype(np.bool_)
        return np.dtype(f"int{t.width}")
    raise TypeError(f"no numpy dtype for MLIR type {t}")


def is_float(t: ir.Type) -> bool:
    return isinstance(t, (ir.F16Type, ir.F32Type, ir.F64Type))


def is_int(t: ir.Type) -> bool:
    """An integer type other than i1 (bool)."""
    return isinstance(t, ir.IntegerType) and t.width > 1


def input_dtype(node, i: int):
    """The ONNX element type (numpy dtype) of input `i` of a node, which carries the signedness MLIR's signless
    integers lack: from its constant value, else the model's value infos; None when neither knows it."""
    c = node.constant(i)
    if c is not None:
        return c.dtype
    vi = node.ctx.info.get(node.input_names[i]) if node.has_input(i) else None
    return vi.dtype if vi is not None else None


def input_is_unsigned(node, i: int) -> bool:
    dt = input_dtype(node, i)
    return dt is not None and dt.kind == "u"
