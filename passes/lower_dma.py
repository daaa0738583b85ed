"""sunway-lower-dma: copies between main memory and LDM become asynchronous DMA plus a wait.

memref.copy / linalg.copy from a main-memory view into an LDM buffer becomes sunway.dma_get, the other way
sunway.dma_put, counted on a reply word of the enclosing block. Waits are placed as late as correctness allows:
right before the first op that touches an LDM buffer of an unfinished transfer (and at the end of the block), so
the gets of a tile are in flight together and wait once. A get whose LDM buffer is next only written (an init
the op does not read, e.g. a fill) is dropped: it would move dead bytes.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import linalg

from swmlir.errors import LoweringError

from . import register_pass
from ._util import collect, ensure_sunway, index_const, is_ldm_type, is_main_memref


def _copy_operands(op: ir.Operation) -> tuple[ir.Value, ir.Value]:
    if op.name == "memref.copy":
        return op.operands[0], op.operands[1]
    return op.operands[0], op.operands[1]  # linalg.copy ins(src) outs(dst)


def _next_user_in_block(buf: ir.Value, after: ir.Operation) -> ir.Operation | None:
    """The first op after `after` in its block that uses `buf` (directly or in a nested region)."""
    users = [u.owner for u in buf.uses]
    block_ops = list(after.block.operations)
    idx = [o.operation for o in block_ops].index(after)
    for o in block_ops[idx + 1:]:
        o = o.operation
        if any(o == u or _contains(o, u) for u in users):
            return o
    return None


def _contains(op: ir.Operation, inner: ir.Operation) -> bool:
    p = inner.parent
    while p is not None:
        if p == op:
            return True
        p = p.parent
    return False


def _overwritten_before_read(buf: ir.Value, copy: ir.Operation) -> bool:
    nxt = _next_user_in_block(buf, copy)
    if nxt is None or nxt.name != "linalg.generic":
        return False
    n_out = len(nxt.results) if nxt.results else 0
    n_inputs = len(nxt.operands) - max(n_out, 1)
    for i, v in enumerate(nxt.operands):
        if v == buf:
            if i < n_inputs:
                return False
            arg = nxt.regions[0].blocks[0].arguments[i]
            if len(list(arg.uses)) > 0:
                return False
    return True


def _reply_for(block: ir.Block, cache: dict) -> ir.Value:
    key = block
    for k, v in cache.items():
        if k == block:
            return v
    first = block.operations[0]
    with ir.InsertionPoint(first), first.location:
        t = ir.MemRefType.get([], ir.IntegerType.get_signless(32), memory_space=ir.IntegerAttr.get(
            ir.IntegerType.get_signless(64), 2))
        r = ir.Operation.create("sunway.reply", results=[t]).results[0]
    cache[key] = r
    return r


@register_pass("sunway-lower-dma",
               "Turn copies between main memory and LDM into sunway.dma_get/dma_put + sunway.dma_wait",
               nestable=True)
def lower_dma(module: ir.Operation) -> None:
    ensure_sunway(module)
    replies: dict = {}
    for op in collect(module, ("memref.copy", "linalg.copy")):
        if op.name == "linalg.copy" and op.results:
            continue  # tensor form: not bufferized yet
        src, dst = _copy_operands(op)
        if is_main_memref(src.type) and is_ldm_type(dst.type):
            kind = "sunway.dma_get"
            if _overwritten_before_read(dst, op):
                op.erase()
                continue
        elif is_ldm_type(src.type) and is_main_memref(dst.type):
            kind = "sunway.dma_put"
        elif is_ldm_type(src.type) and is_ldm_type(dst.type):
            if op.name == "memref.copy":  # LDM to LDM (a pad built in LDM): a loop nest on the CPE
                with ir.InsertionPoint(op), op.location:
                    linalg.copy(src, outs=[dst])
                op.erase()
            continue
        else:
            continue  # main to main: handled on the host
        if list(src.type.shape) != list(dst.type.shape):
            raise LoweringError(f"DMA between views of different shapes {src.type} and {dst.type}", op=op.name,
                                location=op.location)
        reply = _reply_for(op.block, replies)
        with ir.InsertionPoint(op), op.location:
            ir.Operation.create(kind, operands=[src, dst, reply])
        op.erase()
    for block, reply in replies.items():
        _place_waits(block, reply)


def _ldm_operands(op: ir.Operation) -> list[ir.Value]:
    """LDM buffers `op` (or an op nested in it) reads or writes."""
    found = [v for v in op.operands if is_ldm_type(v.type)]
    for region in op.regions:
        for blk in region.blocks:
            for inner in blk.operations:
                found += _ldm_operands(inner.operation)
    return found


def _place_waits(block: ir.Block, reply: ir.Value) -> None:
    """One wait for all transfers in flight, before the first op that touches one of their LDM buffers."""
    pending: list[ir.Value] = []  # LDM buffers of transfers not waited for yet
    n_pending = 0

    def wait_before(op):
        nonlocal n_pending
        with ir.InsertionPoint(op), op.location:
            ir.Operation.create("sunway.dma_wait", operands=[reply, index_const(n_pending)])
        pending.clear()
        n_pending = 0

    for op in list(block.operations):
        op = op.operation
        if op.name in ("sunway.dma_get", "sunway.dma_put"):
            ldm = op.operands[1] if op.name == "sunway.dma_get" else op.operands[0]
            if any(ldm == p for p in pending):
                wait_before(op)
            pending.append(ldm)
            n_pending += 1
            continue
        last = op == block.operations[len(block.operations) - 1].operation
        if n_pending and (last or any(v == p for v in _ldm_operands(op) for p in pending)):
            wait_before(op)
