"""sunway-lower-ldm: LDM allocations (memref.alloc in memory space 2) become sunway.ldm_alloc.

The LDM is static per kernel: its buffers live as long as the kernel, so their deallocations are dropped.
"""
from __future__ import annotations

from mlir import ir

from swmlir.errors import LoweringError

from . import register_pass
from ._util import collect, ensure_sunway, is_ldm_type


@register_pass("sunway-lower-ldm", "Turn memref.alloc/alloca in the LDM memory space into sunway.ldm_alloc",
               nestable=True)
def lower_ldm(module: ir.Operation) -> None:
    ensure_sunway(module)
    for op in collect(module, ("memref.alloc", "memref.alloca")):
        t = op.results[0].type
        if not is_ldm_type(t):
            continue
        if not t.has_static_shape:
            raise LoweringError(f"LDM buffer of dynamic shape {t}: LDM buffers must be static", op=op.name,
                                location=op.location)
        with ir.InsertionPoint(op), op.location:
            new = ir.Operation.create("sunway.ldm_alloc", results=[t])
        for use in list(op.results[0].uses):
            if use.owner.name == "memref.dealloc":
                use.owner.erase()
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()
