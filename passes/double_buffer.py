"""sunway-double-buffer: the DMA of a kernel's next reduction tile overlaps the compute of the current one.

A split-K loop (the reduction tiles of a conv or matmul inside one work item) fetches its input tiles, waits,
then computes: DMA and compute alternate. This pass gives each staged input a second LDM buffer and its own
reply word, and rewrites the loop two steps at a time:

    get tile k0 -> buffers 0                                  (before the loop)
    for k in steps, two at a time, but the last two:
      get tile k+1 -> buffers 1;  wait buffers 0;  compute on buffers 0
      get tile k+2 -> buffers 0
      wait buffers 1;  compute on buffers 1
    the last pair the same, its third get only for an odd count, then (odd) wait buffers 0; compute on them

so the gets of one tile are in flight while the other is computed, each on its own reply word, and every DMA
is unconditional (its count is static, as the emitted waits and the compile-time statistics need). A loop is
rewritten only when its body is gets, one wait, then compute that touches no DMA but its own puts and their
waits at the end, and when the second buffers fit in the target's LDM; the kernel is marked
`sunway.double_buffered` with the loop's step count, which the performance model reads.

The same applies to a work-item loop (from the CPE id, step 64: a memory-bound kernel's items, each fetched,
computed and put): the next item's gets overlap this item's compute and puts, which move to a reply word of
their own. Only where every CPE runs the same number of items (the static count the rewrite needs), on one
core group, and where sunway-share-tiles would not share the loop's gets over the mesh (sharing moves 8 times
fewer bytes; the schedule costs one or the other, swmlir/schedule/tiling.py).
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, scf

from swmlir.targets import get_target

from . import register_pass
from ._util import (collect, constant_int, ensure_sunway, funcs, index_const, is_index_arithmetic,
                    is_work_item_start, memref_bytes)
from .check_ldm import kernel_ldm_bytes

DOUBLE_BUFFERED_ATTR = "sunway.double_buffered"


def _has_dma(op: ir.Operation) -> bool:
    return bool(collect(op, ("sunway.dma_get", "sunway.dma_put", "sunway.dma_wait", "sunway.reply")))


_VIEWS = ("memref.subview", "memref.expand_shape", "memref.collapse_shape", "memref.cast")
_HEAD_OPS = ("sunway.reply", "sunway.ldm_alloc", "sunway.dma_get", "sunway.cpe_row", "sunway.cpe_col",
             "sunway.cpe_id", "sunway.cg_id", "affine.apply", *_VIEWS)


def _split(loop: ir.Operation):
    """(reply, get ops, LDM allocs, wait, compute ops, LDM allocs of the compute) of a loop body of the supported
    shape, else None. What follows the last get is compute even before the wait (a halo tile's fill,
    sunway-fetch-halos); the compute's own LDM tiles are allocated once, before the loop; the index arithmetic
    of the head that the compute reads is computed again in it."""
    body = loop.regions[0].blocks[0]
    ops = [o.operation for o in body.operations][:-1]  # without scf.yield
    get_at = [i for i, o in enumerate(ops) if o.name == "sunway.dma_get"]
    if not get_at or len(loop.results):
        return None
    reply = ops[get_at[0]].operands[2]
    waits = [i for i, o in enumerate(ops) if o.name == "sunway.dma_wait" and o.operands[0] == reply]
    if not waits or waits[0] < get_at[-1]:
        return None
    w = waits[0]
    head, tail = ops[:get_at[-1] + 1], ops[get_at[-1] + 1:w] + ops[w + 1:]
    own = [o for o in tail if o.name == "sunway.ldm_alloc"]
    tail = [o for o in tail if o.name != "sunway.ldm_alloc"]
    allocs = [o for o in head if o.name == "sunway.ldm_alloc"]
    gets = [o for o in head if o.name == "sunway.dma_get"]
    if any(g.operands[2] != reply or g.operands[1].owner.operation not in allocs for g in gets):
        return None
    if any(o.name not in _HEAD_OPS and not o.name.startswith("arith.") for o in head):
        return None
    # the output of a work item: puts and their waits after the compute (an item loop's tail), on a reply word of
    # their own once rewritten; the head's other reply words move before the loop with the buffers
    own += [o for o in head if o.name == "sunway.reply" and o.results[0] != reply]
    if any(_has_dma(o) and o.name not in ("sunway.dma_put", "sunway.dma_wait") for o in tail):
        return None
    # the compute may read the loop's induction variable, the LDM buffers and index arithmetic of the head
    defined = {r: o for o in head for r in o.results}
    allowed = {a.results[0] for a in allocs} | {o.results[0] for o in head if o.name == "sunway.reply"}
    again: list[ir.Operation] = []
    work = [v for o in tail for v in _operands_deep(o)]
    while work:
        v = work.pop()
        op = defined.get(v)
        if op is None or v in allowed or any(op == x for x in again):
            continue
        if not is_index_arithmetic(op) and op.name not in _VIEWS:   # a clamped halo offset, a CPE's slice
            return None
        again.append(op)
        work += list(op.operands)
    recomputed = [o for o in head if any(o == x for x in again)]
    tail = recomputed + tail
    released, pre = _released(tail, allocs)
    return (reply, [o for o in head if o.name != "sunway.reply" and o.name != "sunway.ldm_alloc"], allocs, ops[w],
            tail, own, released, pre)


def _released(tail: list[ir.Operation], allocs: list[ir.Operation]) -> tuple[set, int]:
    """(buffers, k): the get buffers that the first k ops of the compute copy into LDM tiles of their own (a halo
    stage into its padded tile) and that nothing after reads. Such a buffer is free once copied: the next step's
    get may land in it while the rest of the compute runs, so it needs no second buffer."""
    buffers = {a.results[0] for a in allocs}
    views = {}   # a view of a get buffer in the compute (the source's part of whole staged rows) -> the buffer
    for op in tail:
        if op.name == "memref.subview" and op.operands[0] in buffers:
            views[op.results[0]] = op.operands[0]
    copies = {}
    for k, op in enumerate(tail):
        if op.name == "linalg.copy" and (op.operands[0] in buffers or op.operands[0] in views):
            copies[views.get(op.operands[0], op.operands[0])] = k
    if not copies:
        return set(), 0
    cut = max(copies.values()) + 1
    later = {v for o in tail[cut:] for v in _operands_deep(o)}
    early = [v for o in tail[:cut] for v in _operands_deep(o)]
    released = {b for b, k in copies.items()
                if b not in later and not any(v in views and views[v] == b for v in later)
                and sum(1 for v in early if v == b) == 1}
    return (released, cut) if released else (set(), 0)


def _operands_deep(op: ir.Operation) -> list[ir.Value]:
    vals = list(op.operands)
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                vals += _operands_deep(inner.operation)
    return vals


def _clone(ops: list[ir.Operation], mapping: dict) -> None:
    """Clone `ops` at the insertion point, operands renamed through `mapping` (extended with the results)."""
    for op in ops:
        new = op.clone(ir.InsertionPoint.current)
        _rename(new, mapping)
        for old_r, new_r in zip(op.results, new.results):
            mapping[old_r] = new_r


def _rename(op: ir.Operation, mapping: dict) -> None:
    for i, v in enumerate(op.operands):
        if v in mapping:
            op.operands[i] = mapping[v]
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                _rename(inner.operation, mapping)


def trip_count(loop: ir.Operation) -> int | None:
    """The loop's static trip count: constant bounds, or a work-item loop (from the CPE id, below its step) whose
    item count every CPE shares (a multiple of the step)."""
    lb, ub, step = (constant_int(v) for v in loop.operands[:3])
    if ub is None or not step or step <= 0:
        return None
    if lb is not None:
        return -(-(ub - lb) // step)
    if is_work_item_start(loop.operands[0]) and ub % step == 0:
        return ub // step
    return None


def _shared_by_the_mesh(loop: ir.Operation) -> bool:
    """Whether a get of this work-item loop is one sunway-share-tiles fetches in eighths (the same tile for a
    mesh row or column): sharing moves 8 times fewer bytes, and the shared kernel is costed so by the schedule."""
    import numpy as np

    from .share_tiles import shared_axis, view_address
    start = loop.operands[0]
    if start.owner.operation.name != "sunway.cpe_id":
        return False
    items = constant_int(loop.operands[1])
    t = np.arange(items, dtype=np.int64)
    env = {loop.regions[0].blocks[0].arguments[0]: t, start: t % 64, "cpe": t % 64}
    for op in loop.regions[0].blocks[0].operations:
        if op.operation.name == "sunway.dma_get":
            addr = view_address(op.operation.operands[0], dict(env))
            if addr is not None and shared_axis(addr, items) is not None:
                return True
    return False


def double_buffer_loop(loop: ir.Operation, parts) -> int:
    """Rewrite `loop` as described in the module docstring; returns its step count."""
    reply, head, allocs, wait, tail, own, released, cut = parts
    iv = loop.regions[0].blocks[0].arguments[0]
    start = loop.operands[0]
    step = constant_int(loop.operands[2])
    n = trip_count(loop)
    pairs = n // 2
    count = wait.operands[1]
    with ir.InsertionPoint(loop), loop.location:
        for a in allocs + own:
            a.move_before(loop)
        second = {a.results[0]: a.results[0] if a.results[0] in released else
                  ir.Operation.create("sunway.ldm_alloc", results=[a.results[0].type]).results[0] for a in allocs}
        reply_t = reply.type
        r0 = ir.Operation.create("sunway.reply", results=[reply_t]).results[0]
        r1 = ir.Operation.create("sunway.reply", results=[reply_t]).results[0]
        n_count = index_const(constant_int(count))
        # the puts of a work item (an item loop) on a reply word apart from the gets' two
        outs = {reply: ir.Operation.create("sunway.reply", results=[reply_t]).results[0]} \
            if any(o.name in ("sunway.dma_put", "sunway.dma_wait") and reply in list(o.operands) for o in tail) else {}

        def gets(k: ir.Value, buffers: dict, r: ir.Value) -> None:
            m = {iv: k, reply: r, **buffers}
            _clone(head, m)

        def compute(k: ir.Value, buffers: dict, r: ir.Value) -> None:
            ir.Operation.create("sunway.dma_wait", operands=[r, n_count])
            _clone(tail, {iv: k, **outs, **buffers})

        first = {a.results[0]: a.results[0] for a in allocs}

        def released_step(k: ir.Value, buffers: dict, r: ir.Value, fetch) -> None:
            """wait; copy the released buffers out; the next step's gets (`fetch`); the rest of the compute."""
            ir.Operation.create("sunway.dma_wait", operands=[r, n_count])
            m = {iv: k, **outs, **buffers}
            _clone(tail[:cut], m)
            if fetch is not None:
                fetch()
            _clone(tail[cut:], m)

        def pair(k: ir.Value, fetch_third: bool) -> None:
            k1 = arith.AddIOp(k, index_const(step)).result
            third = (lambda: gets(arith.AddIOp(k, index_const(2 * step)).result, first, r0)) if fetch_third else None
            if released:
                released_step(k, first, r0, lambda: gets(k1, second, r1))
                released_step(k1, second, r1, third)
                return
            gets(k1, second, r1)
            compute(k, first, r0)
            if third:
                third()
            compute(k1, second, r1)

        def at(offset: int) -> ir.Value:   # start + offset (the start is the CPE id in a work-item loop)
            c = constant_int(start)
            return index_const(c + offset) if c is not None else \
                (arith.AddIOp(start, index_const(offset)).result if offset else start)

        gets(at(0), first, r0)
        last = 2 * (pairs - 1) * step           # the last pair runs after the loop: it fetches a third step only
        if pairs > 1:                           # when the count is odd, so every DMA is unconditional
            new = scf.ForOp(at(0), at(last), index_const(2 * step))
            with ir.InsertionPoint(new.body):
                pair(new.induction_variable, True)
                scf.YieldOp([])
        pair(at(last), n % 2 == 1)
        if n % 2:
            compute(at(last + 2 * step), first, r0)
    loop.erase()
    return n


@register_pass("sunway-double-buffer",
               "Overlap the DMA of a kernel's next reduction tile with the compute of the current one",
               options={"target": ("sw26010", "target whose LDM size bounds the second buffers")})
def double_buffer(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    budget = tgt.ldm_budget
    for kfn in funcs(module, kernels=True):
        steps = 0
        for loop in collect(kfn, "scf.for"):
            n = trip_count(loop)
            if n is None or n < 2:
                continue
            if constant_int(loop.operands[0]) is None and (
                    tgt.cgs > 1 or (tgt.mesh_comm == "rlc" and _shared_by_the_mesh(loop))):
                continue
            parts = _split(loop)
            if parts is None:
                continue
            extra = sum(memref_bytes(a.results[0].type) for a in parts[2]   # second buffers, three replies
                        if a.results[0] not in parts[6]) + 12
            if kernel_ldm_bytes(kfn) + extra > budget:
                continue
            steps = max(steps, double_buffer_loop(loop, parts))
        if steps:
            kfn.attributes[DOUBLE_BUFFERED_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), steps)
