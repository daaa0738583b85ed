"""What the converters of onnxruntime's contrib ops (domain com.microsoft) share.

ONNX has no schemas for com.microsoft ops, so the model validation (frontend/onnx/validate.py) cannot check
their nodes: each converter declares its op's input and output counts and attributes (from onnxruntime's
schema), and `check_node` refuses unknown attributes, wrong attribute types and wrong arities, as
onnxruntime's graph checker would, instead of ignoring them.
"""
from __future__ import annotations

from onnx import AttributeProto

MS = "com.microsoft"


def op_name(node) -> str:
    return f"{node.proto.domain}.{node.op_type}" if node.proto.domain not in ("", "ai.onnx") else node.op_type


def check_node(node, inputs: tuple[int, int], outputs: tuple[int, int] = (1, 1), **attributes: str) -> None:
    """Refuse a node whose input / output counts are outside `inputs` / `outputs` (min, max), or whose
    attributes are not among `attributes` (name -> AttributeProto type name: INT, FLOAT, STRING, INTS, ...) or
    have another type; the error names the node, the attribute and what is expected."""
    op = op_name(node)
    for what, n, (lo, hi) in (("inputs", len(node.input_names), inputs), ("outputs", len(node.output_names), outputs)):
        if not lo <= n <= hi:
            allowed = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise node.error(f"has {n} {what}; {op} takes {allowed}")
    for a in node.proto.attribute:
        want = attributes.get(a.name)
        if want is None:
            known = ", ".join(sorted(attributes)) or "none"
            raise node.error(f"unknown attribute '{a.name}' ({op} has attributes: {known})")
        have = AttributeProto.AttributeType.Name(a.type) if a.type in AttributeProto.AttributeType.values() \
            else f"type {a.type}"
        if have != want:
            raise node.error(f"attribute '{a.name}' is {have}, expected {want}")
