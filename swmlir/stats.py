"""Static statistics of a compiled model, read off the IR after the sunway stage: kernels, planned DMA bytes and
requests, flops and LDM per kernel. The emulator's counters (swmlir bench) measure the same quantities."""
from __future__ import annotations

import math

from .frontend.onnx.ops.conv import USEFUL_FRACTION_ATTR
from dataclasses import asdict, dataclass

from mlir import ir

from .attrs import LDM_BYTES_ATTR, NODE_ATTR, TILES_ATTR, WORK_ITEMS_ATTR
from .passes._util import collect, constant_int, funcs, is_work_item_start, str_attr, sym_name
from .schedule.loop_nest import elem_bytes, loop_nest_of

_FLOP_OPS = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.maximumf", "arith.minimumf",
             "arith.maxnumf", "arith.minnumf", "math.fma", "math.exp", "math.sqrt", "math.log", "math.tanh",
             "math.erf", "math.powf", "arith.negf", "math.absf", "arith.cmpf")


@dataclass
class KernelStats:
    name: str
    node: str
    tiles: str
    work_items: int
    ldm_bytes: int
    dma_get_bytes: int
    dma_put_bytes: int
    dma_ops: int
    flops: int
    tensor_bytes: int = 0   # bytes of the main-memory tensors the kernel touches (its memref arguments)
    contraction: bool = False   # computes a conv/GEMM-like multiply-accumulate over a reduction loop


def _view_bytes(t: ir.MemRefType) -> int:
    return math.prod(t.shape) * elem_bytes(t.element_type)


def _offset_from(v: ir.Value, start: ir.Value) -> int | None:
    """c where `v` is start + c (an index addition of a constant), else None."""
    op = v.owner.operation if not isinstance(v.owner, ir.Block) else None
    if op is None or op.name != "arith.addi":
        return None
    a, b = op.operands
    if a == start:
        return constant_int(b)
    if b == start:
        return constant_int(a)
    return None


def _executions(op: ir.Operation, kfn: ir.Operation, cpes: int) -> int:
    """How often `op` runs in one launch, over all CPEs: inside the work-item loop once per work item (times the
    static loops around it), before it once per CPE (a tile sunway-hoist-invariant-dma fetches once). A work-item
    loop that sunway-double-buffer rewrote runs the same items on every CPE: its prologue and epilogue once per
    CPE, its loop (from the CPE's first item to that + a constant) the same count on every CPE."""
    n, per_cpe = 1, True
    p = op.parent
    while p is not None and p != kfn:
        if p.name == "scf.for":
            lb, ub, step = (constant_int(v) for v in p.operands[:3])
            if None not in (lb, ub, step) and step:
                n *= max(0, -(-(ub - lb) // step))
            elif ub is not None and step and is_work_item_start(p.operands[0]):
                n *= ub      # the work items, dealt over the CPEs
                per_cpe = False
            elif step and is_work_item_start(p.operands[0]):
                span = _offset_from(p.operands[1], p.operands[0])
                if span is not None:
                    n *= max(0, -(-span // step))
        p = p.parent
    return n * cpes if per_cpe else n


def kernel_stats(module: ir.Module, cpes: int = 64) -> list[KernelStats]:
    """Per kernel, for the whole launch (all work items), from a module at the end of the sunway stage.
    `cpes`: the CPEs a spawn starts (all of the core group); each fetches the kernel's argument struct by one DMA
    (passes/emitc_kernel_entries.py), which the planned get bytes and requests include."""
    from .passes.emitc_kernel_entries import arg_struct_bytes
    out = []
    for k in funcs(module.operation, kernels=True):
        items = ir.IntegerAttr(k.attributes[WORK_ITEMS_ATTR]).value if WORK_ITEMS_ATTR in k.attributes else 1
        arg_bytes = arg_struct_bytes(len(k.regions[0].blocks[0].arguments))
        get = sum(_view_bytes(op.operands[0].type) * _executions(op, k, cpes) for op in collect(k, "sunway.dma_get"))
        put = sum(_view_bytes(op.operands[1].type) * _executions(op, k, cpes) for op in collect(k, "sunway.dma_put"))
        n_dma = sum(_executions(op, k, cpes) for op in collect(k, ("sunway.dma_get", "sunway.dma_put")))
        if arg_bytes:
            get += arg_bytes * cpes
            n_dma += cpes
        flops = 0
        contraction = False
        for g in collect(k, "linalg.generic"):
            body_ops = [o.operation.name for o in g.regions[0].blocks[0].operations]
            contraction |= ("arith.mulf" in body_ops and "arith.addf" in body_ops
                            and any("reduction" in str(a) for a in g.attributes["iterator_types"]))
            per_point = sum(1 for n in body_ops if n in _FLOP_OPS)
            # ops that compute on zero padding of their operands (strided_conv_2d) say which share is useful
            useful = (ir.FloatAttr(g.attributes[USEFUL_FRACTION_ATTR]).value
                      if USEFUL_FRACTION_ATTR in g.attributes else 1.0)
            try:
                flops += round(per_point * math.prod(loop_nest_of(g).sizes) * _executions(g, k, cpes) * useful)
            except ValueError:
                pass
        ldm = ir.IntegerAttr(k.attributes[LDM_BYTES_ATTR]).value if LDM_BYTES_ATTR in k.attributes else 0
        args = sum(_view_bytes(a.type) for a in k.regions[0].blocks[0].arguments if isinstance(a.type, ir.MemRefType))
        out.append(KernelStats(sym_name(k), str_attr(k, NODE_ATTR), str_attr(k, TILES_ATTR), items, ldm,
                               get, put, n_dma, flops, args, contraction))
    return out


def summarize(stats: list[KernelStats]) -> dict:
    return {"kernels": len(stats), "dma_bytes": sum(s.dma_get_bytes + s.dma_put_bytes for s in stats),
            "dma_get_bytes": sum(s.dma_get_bytes for s in stats), "dma_put_bytes": sum(s.dma_put_bytes for s in stats),
            "flops": sum(s.flops for s in stats), "max_ldm_bytes": max((s.ldm_bytes for s in stats), default=0)}


def as_dicts(stats: list[KernelStats]) -> list[dict]:
    return [asdict(s) for s in stats]
