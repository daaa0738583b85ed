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
rewritten only when its body is gets, one wait, then compute that touches no DMA, and when the second buffers
fit in the target's LDM; the kernel is marked `sunway.double_buffered` with the loop's step count, which the
performance model reads.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, scf

from swmlir.targets import get_target

from . import register_pass
from ._util import collect, constant_int, ensure_sunway, funcs, index_const, memref_bytes
from .check_ldm import kernel_ldm_bytes

DOUBLE_BUFFERED_ATTR = "sunway.double_buffered"


def _has_dma(op: ir.Operation) -> bool:
    return bool(collect(op, ("sunway.dma_get", "sunway.dma_put", "sunway.dma_wait", "sunway.reply")))


def _split(loop: ir.Operation):
    """(reply, get ops, LDM allocs, wait, compute ops) of a loop body of the supported shape, else None."""
    body = loop.regions[0].blocks[0]
    ops = [o.operation for o in body.operations][:-1]  # without scf.yield
    waits = [i for i, o in enumerate(ops) if o.name == "sunway.dma_wait"]
    if len(waits) != 1 or len(loop.results):
        return None
    w = waits[0]
    head, tail = ops[:w], ops[w + 1:]
    reply = ops[w].operands[0]
    allocs = [o for o in head if o.name == "sunway.ldm_alloc"]
    gets = [o for o in head if o.name == "sunway.dma_get"]
    if not gets or any(g.operands[2] != reply or g.operands[1].owner.operation not in allocs for g in gets):
        return None
    if any(o.name not in ("sunway.reply", "sunway.ldm_alloc", "sunway.dma_get", "memref.subview", "affine.apply",
                          "arith.constant") for o in head):
        return None
    if any(_has_dma(o) for o in tail):
        return None
    # the compute may read the loop's induction variable and the LDM buffers, nothing else computed in the head
    head_values = {r for o in head for r in o.results}
    allowed = {a.results[0] for a in allocs}
    if any(v in head_values and v not in allowed for o in tail for v in _operands_deep(o)):
        return None
    return reply, [o for o in head if o.name != "sunway.reply" and o.name != "sunway.ldm_alloc"], allocs, ops[w], tail


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


def double_buffer_loop(loop: ir.Operation, parts) -> int:
    """Rewrite `loop` as described in the module docstring; returns its step count."""
    reply, head, allocs, wait, tail = parts
    iv = loop.regions[0].blocks[0].arguments[0]
    lb, ub, step = (constant_int(v) for v in loop.operands[:3])
    n = -(-(ub - lb) // step)
    pairs = n // 2
    count = wait.operands[1]
    with ir.InsertionPoint(loop), loop.location:
        for a in allocs:
            a.move_before(loop)
        second = {a.results[0]: ir.Operation.create("sunway.ldm_alloc", results=[a.results[0].type]).results[0]
                  for a in allocs}
        reply_t = reply.type
        r0 = ir.Operation.create("sunway.reply", results=[reply_t]).results[0]
        r1 = ir.Operation.create("sunway.reply", results=[reply_t]).results[0]
        n_count = index_const(constant_int(count))

        def gets(k: ir.Value, buffers: dict, r: ir.Value) -> None:
            m = {iv: k, reply: r, **buffers}
            _clone(head, m)

        def compute(k: ir.Value, buffers: dict, r: ir.Value) -> None:
            ir.Operation.create("sunway.dma_wait", operands=[r, n_count])
            _clone(tail, {iv: k, **buffers})

        first = {a.results[0]: a.results[0] for a in allocs}

        def pair(k: ir.Value, fetch_third: bool) -> None:
            k1 = arith.AddIOp(k, index_const(step)).result
            gets(k1, second, r1)
            compute(k, first, r0)
            if fetch_third:
                gets(arith.AddIOp(k, index_const(2 * step)).result, first, r0)
            compute(k1, second, r1)

        gets(index_const(lb), first, r0)
        last = lb + 2 * (pairs - 1) * step      # the last pair runs after the loop: it fetches a third step only
        if pairs > 1:                           # when the count is odd, so every DMA is unconditional
            new = scf.ForOp(index_const(lb), index_const(last), index_const(2 * step))
            with ir.InsertionPoint(new.body):
                pair(new.induction_variable, True)
                scf.YieldOp([])
        pair(index_const(last), n % 2 == 1)
        if n % 2:
            compute(index_const(last + 2 * step), first, r0)
    loop.erase()
    return n


@register_pass("sunway-double-buffer",
               "Overlap the DMA of a kernel's next reduction tile with the compute of the current one",
               options={"target": ("sw26010", "target whose LDM size bounds the second buffers")})
def double_buffer(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    budget = get_target(target).ldm_budget
    for kfn in funcs(module, kernels=True):
        steps = 0
        for loop in collect(kfn, "scf.for"):
            bounds = [constant_int(v) for v in loop.operands[:3]]
            if None in bounds or bounds[2] <= 0 or -(-(bounds[1] - bounds[0]) // bounds[2]) < 2:
                continue
            parts = _split(loop)
            if parts is None:
                continue
            extra = sum(memref_bytes(a.results[0].type) for a in parts[2]) + 8   # second buffers, two replies
            if kernel_ldm_bytes(kfn) + extra > budget:
                continue
            steps = max(steps, double_buffer_loop(loop, parts))
        if steps:
            kfn.attributes[DOUBLE_BUFFERED_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), steps)
