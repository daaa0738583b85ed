"""sunway-emitc-kernel-entries: the entry (athread or CRTS) of each CPE kernel converted to EmitC, which unpacks the
argument struct, and the kernel file's includes. The last pass of the kernel emit stage (swmlir/pipeline.py
KERNEL_EMIT); `kernel_entries` reads the entries back from the IR for model_kernels.h (swmlir/codegen/files.py).

athread_spawn passes one pointer, the address of the struct of addresses the host filled, in main memory
(reference/sunway.md 3.1). The entry `void <kernel>(void *arg)` fetches that struct into LDM with one DMA, as it
fetches any other main-memory datum (a direct dereference would be a gld, slow and invisible to the DMA counters;
the emulator refuses it), then calls the kernel body, whose parameters are C arrays of the buffers' static shapes:

    struct k_args a;  volatile int reply = 0;
    athread_get(PE_MODE, arg, &a, sizeof(struct k_args), &reply, 0, 0, 0);  swmlir_dma_wait(&reply, 1);
    k_body(a.a0, a.a1, ...);

Under CRTS (SW26010-Pro, the target's runtime_api) the same fetch is
`crts_rply_t reply = 0; CRTS_dma_iget(&a, arg, sizeof(struct k_args), &reply); CRTS_dma_wait_value(&reply, 1);`
and the file includes crts.h after `#define SWMLIR_CRTS 1`, which tells swmlir_slave.h which API it is on.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import emitc

from swmlir.targets import module_target

from . import register_pass
from ._emitc import T, call, cast, idx, include, opaque, opaque_t, ptr_t, variable
from ._emitc import func as efunc
from ._util import KERNEL_ATTR

ARG_POINTER_BYTES = 8  # each field of an argument struct is a 64-bit address (host and CPE alike)
ENTRY_ATTR = "swmlir.kernel_entry"   # on an entry emitc.func: the number of fields of its argument struct (i64)


def arg_struct_bytes(n_args: int) -> int:
    """Bytes the entry of a kernel with n_args arguments fetches by DMA (0: no arguments, nothing fetched)."""
    return ARG_POINTER_BYTES * n_args


def kernel_entries(module: ir.Operation) -> list[tuple[str, int]]:
    """(kernel name, number of arguments) of each entry the pass added, in module order: what model_kernels.h
    declares (the argument structs, the slave_ names)."""
    out = []
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "emitc.func" and ENTRY_ATTR in op.attributes:
            out.append((ir.StringAttr(op.attributes["sym_name"]).value, ir.IntegerAttr(op.attributes[ENTRY_ATTR]).value))
    return out


@register_pass("sunway-emitc-kernel-entries",
               "Add the entry <k>(void *arg) of each CPE kernel converted to EmitC: fetch the argument struct by DMA "
               "(athread_get, or CRTS_dma_iget under CRTS), call the body, renamed static <k>_body; the kernel "
               "file's includes",
               options={"target": ("", "target whose runtime_api decides the API (default: the module's "
                                       "swmlir.target attribute, else sw26010)")})
def emitc_kernel_entries(module: ir.Operation, *, target: str = "") -> None:
    """Rename each converted kernel to <name>_body (static) and add the entry <name>(void *) that athread_spawn
    starts, for the target's runtime API (`target`, else the module's swmlir.target attribute). Each entry
    carries ENTRY_ATTR (its argument count); a module that already has entries is left as it is."""
    if kernel_entries(module):
        return
    crts = module_target(module, target).runtime_api == "crts"
    body = module.regions[0].blocks[0]
    for op in list(body.operations):
        op = op.operation
        if op.name != "emitc.func" or KERNEL_ATTR not in op.attributes:
            continue
        name = ir.StringAttr(op.attributes["sym_name"]).value
        n_args = len(op.regions[0].blocks[0].arguments)
        op.attributes["sym_name"] = ir.StringAttr.get(f"{name}_body")
        op.attributes["specifiers"] = ir.ArrayAttr.get([ir.StringAttr.get("static")])
        with ir.InsertionPoint(body), op.location:
            f, e = efunc(name, [ptr_t("void")])
            f.operation.attributes[ENTRY_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), n_args)
            with ir.InsertionPoint(e):
                vals = []
                if n_args:
                    st = f"struct {name}_args"
                    a = variable(opaque_t(st))  # in LDM: the CPE stack
                    reply_c = "crts_rply_t" if crts else "volatile int"
                    reply = variable(opaque_t(reply_c), "0")
                    ap = emitc.AddressOfOp(T(f'!emitc.ptr<!emitc.opaque<"{st}">>'), a).result
                    rp = emitc.AddressOfOp(ptr_t(reply_c), reply).result
                    if crts:
                        call("CRTS_dma_iget", [cast(ap, ptr_t("void")), e.arguments[0], rp],
                             args=[idx(0), idx(1), opaque(f"sizeof({st})"), idx(2)])
                        call("CRTS_dma_wait_value", [rp], args=[idx(0), opaque("1")])
                    else:
                        call("athread_get", [e.arguments[0], cast(ap, ptr_t("void")), cast(rp, ptr_t("void"))],
                             args=[opaque("PE_MODE"), idx(0), idx(1), opaque(f"sizeof({st})"), idx(2),
                                   opaque("0"), opaque("0"), opaque("0")])
                        call("swmlir_dma_wait", [rp], args=[idx(0), opaque("1")])
                    for i in range(n_args):
                        m = emitc.MemberOp(T(f"!emitc.lvalue<{ptr_t('void')}>"), f"a{i}", a).result
                        vals.append(emitc.LoadOp(ptr_t("void"), m).result)
                call(f"{name}_body", vals)
                emitc.ReturnOp()
    with ir.InsertionPoint.at_block_begin(body), ir.Location.unknown():
        if crts:
            emitc.VerbatimOp("#define SWMLIR_CRTS 1 /* the CRTS API of SW26010-Pro (swmlir_slave.h reads it) */", [])
        for h, std in (("crts.h" if crts else "slave.h", True), ("math.h", True), ("stdint.h", True), ("stddef.h", True),
                       ("stdbool.h", True), ("string.h", True), ("swmlir_slave.h", False),
                       ("model_kernels.h", False)):
            include(h, std)
