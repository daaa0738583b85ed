"""Elementwise arithmetic with numpy broadcasting, and activations: one `linalg.generic` per node."""
from __future__ import annotations

from mlir.dialects import arith

from .. import builders as b
from ..dtypes import is_float, is_int
from ..registry import converter

# ONNX op -> (float op, integer op or None when integers are refused)
_BINARY = {
    "Add": (arith.addf, arith.addi),
    "Sub": (arith.subf, arith.subi),
    "Mul": (arith.mulf, arith.muli),
    "Div": (arith.divf, None),  # integer Div needs the signedness, which signless MLIR types do not carry
}


def _binary(ctx, node):
    a, c = node.require_input(0, "A"), node.require_input(1, "B")
    ta, tc = b.elem_of(a), b.elem_of(c)
    if ta != tc:
        raise node.error(f"operands have different element types {ta} and {tc}")
    fop, iop = _BINARY[node.op_type]
    if is_float(ta):
        fn = fop
    elif iop is not None and is_int(ta):
        fn = iop
    else:
        raise node.error(f"element type {ta} is not supported (floating point"
                         f"{'' if iop is None else ' or integer'} only)")
    try:
        b.broadcast_shapes(b.shape_of(a), b.shape_of(c))
    except ValueError as e:
        raise node.error(str(e)) from None
    return b.elementwise([a, c], fn)


for _op in _BINARY:
    # 7: numpy broadcasting replaced the `broadcast`/`axis` attributes (older opsets are refused);
    # 13, 14: more types only.
    converter(_op, since=(7, 13, 14))(_binary)


@converter("Relu", since=(7, 13, 14))  # 14: signed integers
def relu(ctx, node):
    x = node.require_input(0, "X")
    t = b.elem_of(x)
    if is_float(t):
        return b.elementwise([x], lambda v: arith.maximumf(v, b.scalar(t, 0.0)))
    if is_int(t):
        return b.elementwise([x], lambda v: arith.maxsi(v, b.scalar(t, 0)))
    raise node.error(f"element type {t} is not supported")
