"""sunway-check-ldm: every kernel's LDM buffers must fit in the target's LDM, checked at compile time.

The sum of a kernel's sunway.ldm_alloc and sunway.reply bytes is compared with the target's LDM size less the
reserve kept for the CPE stack; a kernel over budget is an error naming the ONNX node and its tile sizes.
"""
from __future__ import annotations

from mlir import ir

from swmlir.attrs import LDM_BYTES_ATTR, NODE_ATTR, TILES_ATTR
from swmlir.errors import ScheduleError
from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, memref_bytes, str_attr, sym_name


def kernel_ldm_bytes(kfn: ir.Operation) -> int:
    total = 0
    for op in collect(kfn, ("sunway.ldm_alloc", "sunway.reply")):
        total += max(4, memref_bytes(op.results[0].type))
    return total


@register_pass("sunway-check-ldm", "Check each kernel's LDM buffers against the target's LDM size",
               options={"target": ("sw26010", "target whose LDM size is the limit")}, nestable=True)
def check_ldm(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    for kfn in funcs(module, kernels=True):
        used = kernel_ldm_bytes(kfn)
        kfn.attributes[LDM_BYTES_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), used)
        if used > tgt.ldm_budget:
            tiles = str_attr(kfn, TILES_ATTR, "unknown tiles")
            raise ScheduleError(
                f"kernel {sym_name(kfn)} needs {used} bytes of LDM per CPE with {tiles}; target {tgt.name} has "
                f"{tgt.ldm_bytes} bytes ({tgt.ldm_budget} usable, {tgt.ldm_reserved_bytes} kept for the stack)",
                op="sunway.ldm_alloc", node=str_attr(kfn, NODE_ATTR), location=kfn.location)
