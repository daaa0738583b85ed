"""Kernel (CPE) C: the kernel module through EmitC, plus the athread entry that unpacks the argument struct.

athread_spawn passes one pointer; the entry `void <kernel>(void *arg)` reads the struct of addresses the host
filled and calls the kernel body, whose parameters are C arrays of the buffers' static shapes.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import emitc

from swmlir.passes._emitc import T, call, include, ptr_t, variable
from swmlir.passes._emitc import func as efunc
from swmlir.passes._util import KERNEL_ATTR



def add_kernel_entries(module: ir.Module) -> list[tuple[str, int]]:
    """Rename each converted kernel to <name>_body (static) and add the athread entry <name>(void *).

    Returns (kernel name, number of arguments) for the argument structs."""
    kernels = []
    body = module.body
    for op in list(body.operations):
        op = op.operation
        if op.name != "emitc.func" or KERNEL_ATTR not in op.attributes:
            continue
        name = ir.StringAttr(op.attributes["sym_name"]).value
        n_args = len(op.regions[0].blocks[0].arguments)
        op.attributes["sym_name"] = ir.StringAttr.get(f"{name}_body")
        op.attributes["specifiers"] = ir.ArrayAttr.get([ir.StringAttr.get("static")])
        kernels.append((name, n_args))
        with ir.InsertionPoint(body), op.location:
            f, e = efunc(name, [ptr_t("void")])
            with ir.InsertionPoint(e):
                st = f"struct {name}_args"
                sp = T(f'!emitc.ptr<!emitc.opaque<"{st}">>')
                a = variable(sp)
                emitc.AssignOp(a, emitc.CastOp(sp, e.arguments[0]).result)
                vals = []
                for i in range(n_args):
                    m = emitc.MemberOfPtrOp(T(f"!emitc.lvalue<{ptr_t('void')}>"), f"a{i}", a).result
                    vals.append(emitc.LoadOp(ptr_t("void"), m).result)
                call(f"{name}_body", vals)
                emitc.ReturnOp()
    with ir.InsertionPoint.at_block_begin(body), ir.Location.unknown():
        for h, std in (("slave.h", True), ("math.h", True), ("stdint.h", True), ("stddef.h", True),
                       ("stdbool.h", True), ("string.h", True), ("swmlir_slave.h", False),
                       ("model_kernels.h", False)):
            include(h, std)
    return kernels
