"""Elementwise arithmetic with numpy broadcasting, and activations: one `linalg.generic` per node."""
from __future__ import annotations

from mlir.dialects import arith

from .. import builders as b
from ..elementwise_util import FLOATS, NUMERIC, SIGNED, cmp, ew, is_fp, same_dtypes, select
from ..registry import converter
from .binary import int_div

# ONNX op -> (float op, integer op)
_BINARY = {
    "Add": (arith.addf, arith.addi),
    "Sub": (arith.subf, arith.subi),
    "Mul": (arith.mulf, arith.muli),
    "Div": (arith.divf, None),  # integers: truncation toward zero (signed, as onnxruntime) or unsigned division
}


def _binary(ctx, node):
    a, c = node.require_input(0, "A"), node.require_input(1, "B")
    dt = same_dtypes(node, [0, 1], NUMERIC, sign_matters=node.op_type == "Div")
    fop, iop = _BINARY[node.op_type]
    if is_fp(dt):
        fn = fop
    elif iop is not None:
        fn = iop
    else:
        def fn(x, y):
            return int_div(x, y, dt)
    return ew(node, [a, c], fn)


for _op in _BINARY:
    # 7: numpy broadcasting replaced the `broadcast`/`axis` attributes (older opsets are refused);
    # 13, 14: more types only.
    converter(_op, since=(7, 13, 14))(_binary)


@converter("Relu", since=(7, 13, 14))  # 14: signed integers
def relu(ctx, node):
    x = node.require_input(0, "X")
    dt = same_dtypes(node, [0], FLOATS + SIGNED, sign_matters=False)
    t = b.elem_of(x)
    if is_fp(dt):
        return b.elementwise([x], lambda v: arith.maximumf(v, b.scalar(t, 0.0)))
    return b.elementwise([x], lambda v: select(cmp("gt", v, b.scalar(t, 0), dt), v, b.scalar(t, 0)))
