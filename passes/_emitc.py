"""Builders for the EmitC ops our lowerings create (types are spelled as text: EmitC has no Python type classes)."""
from __future__ import annotations

from mlir import ir
from mlir.dialects import emitc


def T(text: str) -> ir.Type:
    return ir.Type.parse(text)


def opaque(text: str) -> ir.Attribute:
    return ir.Attribute.parse(f'#emitc.opaque<"{text}">')


def opaque_t(c_type: str) -> ir.Type:
    return T(f'!emitc.opaque<"{c_type}">')


def ptr_t(c_type: str) -> ir.Type:
    return T(f'!emitc.ptr<!emitc.opaque<"{c_type}">>')


def lvalue_t(t: ir.Type) -> ir.Type:
    return T(f"!emitc.lvalue<{t}>")


def idx(i: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IndexType.get(), i)


def call(callee: str, operands=(), *, args: list | None = None, result: ir.Type | None = None) -> ir.Value | None:
    """`callee(...)`; `args` mixes literal attributes and operand positions (idx(i))."""
    op = emitc.CallOpaqueOp([result] if result else [], callee, list(operands),
                            args=ir.ArrayAttr.get(args) if args is not None else None)
    return op.results[0] if result else None


def variable(t: ir.Type, init: str = "") -> ir.Value:
    """A local variable `t v = init;` (no initializer when init is empty)."""
    return emitc.VariableOp(lvalue_t(t), opaque(init)).result


def literal(text: str, t: ir.Type) -> ir.Value:
    return emitc.LiteralOp(t, text).result


def cast(v: ir.Value, t: ir.Type) -> ir.Value:
    return emitc.CastOp(t, v).result


def include(header: str, standard: bool) -> None:
    emitc.IncludeOp(header, is_standard_include=standard)


def func(name: str, arg_types: list[ir.Type], result_types: list[ir.Type] | None = None):
    """An emitc.func with an entry block; returns (op, entry block)."""
    f = emitc.FuncOp(name, ir.TypeAttr.get(ir.FunctionType.get(arg_types, result_types or [])))
    entry = f.regions[0].blocks.append(*arg_types)
    return f, entry
