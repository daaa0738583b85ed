"""sunway-vector-to-simd: 1-D f32 vector ops of CPE kernels become calls of the Sunway SIMD API (EmitC).

MLIR 22 has no vector-to-EmitC conversion, so the ops the micro-kernels use are rewritten here, before
convert-to-emitc, into calls of the helpers of swmlir_slave.h on `floatv4` (SW26010) / `floatv8` (SW26010-Pro):

  vector.load / vector.store       -> swmlir_fN_load(&m[i][j]) / swmlir_fN_store(&m[i][j], v)   (simd_loadu/storeu)
  vector.broadcast, splat constant -> swmlir_fN_splat(x)                                         (simd_set_floatvN)
  vector.broadcast of a memref.load -> swmlir_fN_load_splat(&m[i][j])                             (simd_loade)
  vector.fma                       -> swmlir_fN_fma(a, b, c) = a * b + c                         (simd_vmas)
  vector.reduction <add>           -> swmlir_fN_sum(v)
  scf.for iter_args of vector type -> loop-carried floatvN variables
  arith.bitcast i32 -> f32         -> swmlir_f32_from_bits(b)    (EmitC has no bitcast; sunway-fast-math's exp)

Types meet through builtin.unrealized_conversion_cast pairs that reconcile-unrealized-casts removes once
convert-to-emitc has run.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import emitc

from swmlir.errors import LoweringError

from . import register_pass
from ._emitc import T, call, opaque_t
from ._util import collect, ensure_sunway, funcs, splatted_load

_OPS = ("vector.load", "vector.store", "vector.broadcast", "vector.fma", "vector.reduction", "arith.constant",
        "arith.bitcast")


def _cast(v: ir.Value, t: ir.Type) -> ir.Value:
    return ir.Operation.create("builtin.unrealized_conversion_cast", results=[t], operands=[v]).results[0]


def _lanes(t: ir.Type) -> int | None:
    if isinstance(t, ir.VectorType) and t.rank == 1 and isinstance(t.element_type, ir.F32Type):
        return t.shape[0]
    return None


def _simd_t(n: int) -> ir.Type:
    return opaque_t(f"floatv{n}")


def _elem_ptr(mem: ir.Value, idxs: list[ir.Value]) -> ir.Value:
    """&mem[i]...[k] of a static identity-layout memref (the LDM arrays of a kernel)."""
    mt = mem.type
    arr = _cast(mem, T(f"!emitc.array<{'x'.join(map(str, mt.shape))}x{mt.element_type}>"))
    subs = [_cast(i, T("!emitc.size_t")) for i in idxs]
    lv = emitc.SubscriptOp(T(f"!emitc.lvalue<{mt.element_type}>"), arr, subs).result
    return emitc.AddressOfOp(T(f"!emitc.ptr<{mt.element_type}>"), lv).result


def _retype_loops(kfn: ir.Operation) -> None:
    """scf.for loops that carry vectors carry floatvN values instead (convert-to-emitc has no vector types)."""
    for loop in collect(kfn, "scf.for"):
        n_iter = len(loop.results)
        body = loop.regions[0].blocks[0]
        yld = body.operations[len(body.operations) - 1].operation
        for k in range(n_iter):
            n = _lanes(loop.results[k].type)
            if n is None:
                continue
            vt, st = loop.results[k].type, _simd_t(n)
            with ir.InsertionPoint(loop), loop.location:
                loop.operands[3 + k] = _cast(loop.operands[3 + k], st)
            arg = body.arguments[1 + k]
            arg.set_type(st)
            with ir.InsertionPoint.at_block_begin(body), loop.location:
                back = _cast(arg, vt)
            arg.replace_all_uses_except(back, back.owner.operation)
            with ir.InsertionPoint(yld), loop.location:
                yld.operands[k] = _cast(yld.operands[k], st)
            res = loop.results[k]
            res.set_type(st)
            with ir.InsertionPoint.after(loop), loop.location:
                after = _cast(res, vt)
            res.replace_all_uses_except(after, after.owner.operation)


def _c_float(value: float) -> str:
    """A C literal of a float constant: INFINITY and NAN (math.h, as EmitC writes scalar ones) for the values
    that have no digits."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    return f"{float(value)!r}f"


def _lower(op: ir.Operation) -> None:
    name = op.name
    if name == "arith.bitcast":
        if not (isinstance(op.results[0].type, ir.F32Type) and op.operands[0].type == ir.IntegerType.get_signless(32)):
            raise LoweringError(f"only i32 -> f32 bitcasts are lowered, not {op.operands[0].type} -> "
                                f"{op.results[0].type}", op=name)
        with ir.InsertionPoint(op), op.location:
            new = call("swmlir_f32_from_bits", [op.operands[0]], result=ir.F32Type.get())
        op.results[0].replace_all_uses_with(new)
        op.erase()
        return
    if name == "arith.constant":
        n = _lanes(op.results[0].type)
        if n is None:
            return
        attr = op.attributes["value"]
        if not isinstance(attr, ir.DenseFPElementsAttr) or not attr.is_splat:
            raise LoweringError("a non-splat vector constant cannot be lowered to the SIMD API", op=name)
        value = ir.FloatAttr(attr.get_splat_value()).value
        with ir.InsertionPoint(op), op.location:
            scalar = emitc.LiteralOp(ir.F32Type.get(), _c_float(value)).result
            new = call(f"swmlir_f{n}_splat", [scalar], result=_simd_t(n))
            op.results[0].replace_all_uses_with(_cast(new, op.results[0].type))
        op.erase()
        return
    vt = op.results[0].type if op.results else op.operands[0].type
    n = _lanes(vt) if name != "vector.reduction" else _lanes(op.operands[0].type)
    if n is None:
        raise LoweringError(f"only 1-D f32 vectors are lowered to the SIMD API, not {vt}", op=name)
    st = _simd_t(n)
    with ir.InsertionPoint(op), op.location:
        if name == "vector.load":
            new = call(f"swmlir_f{n}_load", [_elem_ptr(op.operands[0], list(op.operands[1:]))], result=st)
        elif name == "vector.store":
            call(f"swmlir_f{n}_store", [_elem_ptr(op.operands[1], list(op.operands[2:])), _cast(op.operands[0], st)])
            new = None
        elif name == "vector.broadcast" and splatted_load(op) is not None:
            load = splatted_load(op)
            new = call(f"swmlir_f{n}_load_splat", [_elem_ptr(load.operands[0], list(load.operands[1:]))], result=st)
            op.results[0].replace_all_uses_with(_cast(new, vt))
            op.erase()
            load.erase()
            return
        elif name == "vector.broadcast":
            new = call(f"swmlir_f{n}_splat", [op.operands[0]], result=st)
        elif name == "vector.fma":
            new = call(f"swmlir_f{n}_fma", [_cast(v, st) for v in op.operands], result=st)
        else:  # vector.reduction
            if "add" not in str(op.attributes["kind"]) or len(op.operands) != 1:
                raise LoweringError("only vector.reduction <add> without accumulator is lowered", op=name)
            total = call(f"swmlir_f{n}_sum", [_cast(op.operands[0], st)], result=ir.F32Type.get())
            op.results[0].replace_all_uses_with(total)
            op.erase()
            return
        if new is not None:
            op.results[0].replace_all_uses_with(_cast(new, vt))
    op.erase()


@register_pass("sunway-vector-to-simd",
               "Lower the 1-D f32 vector ops of CPE kernels to the Sunway SIMD API (floatv4/floatv8 EmitC calls)")
def vector_to_simd(module: ir.Operation) -> None:
    ensure_sunway(module)
    for kfn in funcs(module, kernels=True):
        _retype_loops(kfn)
        for op in collect(kfn, _OPS):
            _lower(op)
