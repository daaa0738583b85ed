"""sunway-athread-kernel-entries: the athread entry `slave_<k>(void *arg)` of every CPE kernel, in the LLVM
dialect (the LLVM IR output's twin of passes/emitc_kernel_entries.py), for both slave APIs.

Runs on the kernel module after the conversion to the LLVM dialect (bare-pointer calling convention: a kernel
`k` is `llvm.func @k(ptr, ptr, ...)`). athread_spawn passes one pointer, the address of the struct of addresses
the host filled in main memory; the entry fetches it into LDM (its stack) with one DMA, as it fetches any
main-memory datum, then calls the kernel body with the fields:

    llvm.func @slave_k(%arg: !llvm.ptr) {
      %a = llvm.alloca x !llvm.array<N x i64>; %r = llvm.alloca x i32; store 0 -> %r
      athread_get(PE_MODE, %arg, %a, 8 * N, %r, 0, 0, 0); swmlir_llvm_dma_wait(%r, 1)
      llvm.call @k_body(load %a[0], ..., load %a[N-1])
    }

Under CRTS (the target's runtime_api; the `target` option, else the module's swmlir.target attribute) the fetch is
`CRTS_dma_iget(%a, %arg, 8 * N, %r); CRTS_dma_wait_value(%r, 1)`, as the C entries of that target do.

The body is renamed `<k>_body` and gets internal linkage. `slave_` is the prefix the Sunway slave compiler adds
to every CPE symbol (athread.h's `SLAVE_FUN`); nothing adds it to LLVM IR, so the entry carries it. Kernel
bodies and entries get the function attribute probe-stack=inline-asm (stack-clash probes, as the C build's
-fstack-clash-protection): a frame larger than the CPE stack reaches the emulator's guard page instead of another
CPE's stack.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import llvm

from swmlir.errors import LoweringError
from swmlir.targets import module_target

from . import register_pass
from ._util import KERNEL_ATTR
from .emitc_kernel_entries import ARG_POINTER_BYTES

PE_MODE = 0
ENTRY_PREFIX = "slave_"


def _i(bits: int) -> ir.Type:
    return ir.IntegerType.get_signless(bits)


def _const(t: ir.Type, v: int) -> ir.Value:
    return llvm.ConstantOp(t, ir.IntegerAttr.get(t, v)).result


def _fn_type(result: ir.Type | None, args: list[ir.Type]) -> ir.TypeAttr:
    """!llvm.func<result (args)> (the bindings have no builder for LLVM function types)."""
    return ir.TypeAttr.get(ir.Type.parse(f"!llvm.func<{result or 'void'} ({', '.join(map(str, args))})>"))


def _declare(body: ir.Block, existing: set, name: str, args: list[ir.Type], result: ir.Type | None) -> None:
    if name in existing:
        return
    with ir.InsertionPoint.at_block_begin(body), ir.Location.unknown():
        llvm.LLVMFuncOp(name, _fn_type(result, args))
    existing.add(name)


def _probe_stack(fn: ir.Operation) -> None:
    fn.attributes["passthrough"] = ir.ArrayAttr.get(
        [ir.ArrayAttr.get([ir.StringAttr.get("probe-stack"), ir.StringAttr.get("inline-asm")])])


@register_pass("sunway-athread-kernel-entries",
               "Add the athread entry slave_<k>(void *) of each CPE kernel (LLVM dialect): fetch the argument "
               "struct by DMA (athread_get, or CRTS_dma_iget under CRTS), call the body",
               options={"target": ("", "target whose runtime_api decides the API (default: the module's "
                                       "swmlir.target attribute, else sw26010)")})
def athread_kernel_entries(module: ir.Operation, *, target: str = "") -> None:
    crts = module_target(module, target).runtime_api == "crts"
    body = module.regions[0].blocks[0]
    existing = {ir.StringAttr(op.operation.attributes["sym_name"]).value for op in body.operations
                if "sym_name" in op.operation.attributes}
    kernels = [op.operation for op in body.operations
               if op.operation.name == "llvm.func" and KERNEL_ATTR in op.operation.attributes]
    if any(op.operation.name == "func.func" and KERNEL_ATTR in op.operation.attributes for op in body.operations):
        raise LoweringError("sunway-athread-kernel-entries runs on kernels converted to the LLVM dialect "
                            "(func.func kernels are left: run convert-func-to-llvm first)", stage="emit")
    ptr, i8, i32 = llvm.PointerType.get(), _i(8), _i(32)
    if kernels and crts:
        _declare(body, existing, "CRTS_dma_iget", [ptr, ptr, i32, ptr], i32)
        _declare(body, existing, "CRTS_dma_wait_value", [ptr, i32], i32)
    elif kernels:
        _declare(body, existing, "athread_get", [i32, ptr, ptr, i32, ptr, i8, i32, i32], i32)
        _declare(body, existing, "swmlir_llvm_dma_wait", [ptr, i32], None)
    for k in kernels:
        name = ir.StringAttr(k.attributes["sym_name"]).value
        n = len(k.regions[0].blocks[0].arguments)
        types = [a.type for a in k.regions[0].blocks[0].arguments]
        if any(str(t) not in ("!llvm.ptr", "i64") for t in types):
            raise LoweringError(f"kernel {name} takes arguments other than pointers and 64-bit words (convert it "
                                "with use-bare-ptr-memref-call-conv)", stage="emit", location=k.location)
        k.attributes["sym_name"] = ir.StringAttr.get(f"{name}_body")
        k.attributes["linkage"] = ir.Attribute.parse("#llvm.linkage<internal>")
        if "sym_visibility" in k.attributes:
            del k.attributes["sym_visibility"]
        _probe_stack(k)
        with ir.InsertionPoint(body), k.location:
            entry = llvm.LLVMFuncOp(f"{ENTRY_PREFIX}{name}", _fn_type(None, [ptr]))
            _probe_stack(entry.operation)
            block = entry.body.blocks.append(ptr)
            with ir.InsertionPoint(block):
                args = []
                if n:
                    one = _const(_i(64), 1)
                    arr = ir.Type.parse(f"!llvm.array<{n} x i64>")   # 8-byte words: addresses, integers
                    a = llvm.AllocaOp(ptr, one, ir.TypeAttr.get(arr), alignment=8).result
                    reply = llvm.AllocaOp(ptr, one, ir.TypeAttr.get(i32), alignment=4).result
                    llvm.StoreOp(_const(i32, 0), reply)
                    length = _const(i32, ARG_POINTER_BYTES * n)
                    if crts:   # CRTS_dma_iget(ldm, mem, len, &rply); CRTS_dma_wait_value(&rply, 1)
                        llvm.call(i32, [a, block.arguments[0], length, reply], [], [],
                                  callee=ir.FlatSymbolRefAttr.get("CRTS_dma_iget"))
                        llvm.call(i32, [reply, _const(i32, 1)], [], [],
                                  callee=ir.FlatSymbolRefAttr.get("CRTS_dma_wait_value"))
                    else:
                        llvm.call(i32, [_const(i32, PE_MODE), block.arguments[0], a, length, reply,
                                        _const(i8, 0), _const(i32, 0), _const(i32, 0)], [], [],
                                  callee=ir.FlatSymbolRefAttr.get("athread_get"))
                        llvm.call(None, [reply, _const(i32, 1)], [], [],
                                  callee=ir.FlatSymbolRefAttr.get("swmlir_llvm_dma_wait"))
                    for i in range(n):
                        field = llvm.GEPOp(ptr, a, [], [0, i], ir.TypeAttr.get(arr), None).result
                        args.append(llvm.LoadOp(types[i], field, alignment=8).result)
                llvm.call(None, args, [], [], callee=ir.FlatSymbolRefAttr.get(f"{name}_body"))
                llvm.ReturnOp()
