"""sunway-unroll-microkernel: a micro-kernel's accumulator loads and stores issued beside its FMAs.

A register-blocked micro-kernel (sunway-vectorize-contractions) loads its accumulators from the LDM output tile,
runs the reduction loop of one LDM tile step with them in registers, and stores them back:

    acc = vector.load C[...]  x A         # P1: 2 slots each (the unaligned form)
    scf.for k = 0 to T iter_args(acc)     # per k: FMAs on P0, operand loads on P1
    vector.store acc, C[...]  x A

The loop body leaves P1 slots idle (MatMul's 4x16 block: 12 of 16 cycles; a 3x3 conv's 110 of 144), but the
accumulator loads and stores sit in another basic block: the C compiler's scheduler works within a block, so the
register block pays them on top of its FMAs (MatMul 512: 581 cycles per 512 FMAs). This pass peels the first
`p` iterations of the loop into the block of the loads and the last `q` into the block of the stores, with p and
q the fewest iterations whose idle P1 slots hold the loads (stores): those blocks then issue at max(P0, P1), the
cost the performance model gives any block (swmlir.sim.mix). When p + q reaches the trip count the loop is
unrolled whole. The order of each accumulator's FMAs is unchanged, so results are bit-identical.

Applied to innermost scf.for loops that carry vector iter_args, hold vector FMAs and have a static trip count,
when the peeled copies stay within MAX_PEELED_OPS operations (the CPE's 16 KB instruction cache holds 4096
instructions, and a double-buffered kernel has two copies of its micro-kernel in its hot loop). Peeling is ours:
upstream's (`transform.loop.peel`) splits off the first iteration or a partial last one, not the last
iterations of a loop its step divides.
"""
from __future__ import annotations

import math

from mlir import ir

from swmlir.sim.constants import cpe_constants
from swmlir.sim.mix import block_mix
from swmlir.targets import get_target

from . import register_pass
from ._util import block_ops, collect, constant_int, ensure_sunway, funcs, index_const, static_trip_count

MAX_PEELED_OPS = 1024


def _clone_iteration(loop: ir.Operation, ip: ir.InsertionPoint, iv: int, args: list[ir.Value]) -> list[ir.Value]:
    """One iteration of `loop`'s body (no regions) at `ip` for induction value `iv` and carried values `args`;
    returns the values it yields."""
    body = loop.regions[0].blocks[0]
    with ip:
        mapping = {body.arguments[0]: index_const(iv)}
        mapping.update(zip(list(body.arguments)[1:], args))
        *ops, terminator = block_ops(body)
        for op in ops:
            new = op.clone(ip)
            for i, v in enumerate(new.operands):
                if v in mapping:
                    new.operands[i] = mapping[v]
            mapping.update(zip(op.results, new.results))
    return [mapping.get(v, v) for v in terminator.operands]


def _next_op(op: ir.Operation) -> ir.Operation:
    ops = block_ops(op.block)
    return ops[ops.index(op) + 1]


def peel(loop: ir.Operation, front: int, back: int) -> None:
    """Peel the `front` first and `back` last iterations of `loop` (static bounds) out of it, in place."""
    lb, ub, step = (constant_int(v) for v in loop.operands[:3])
    for k in range(front):
        values = _clone_iteration(loop, ir.InsertionPoint(loop), lb + k * step, list(loop.operands[3:]))
        for i, v in enumerate(values):
            loop.operands[3 + i] = v
    if back:
        uses = [[(u.owner, u.operand_number) for u in r.uses] for r in loop.results]
        after = ir.InsertionPoint(_next_op(loop))   # the copies go in order before the op after the loop
        values = list(loop.results)
        for k in range(back, 0, -1):
            values = _clone_iteration(loop, after, ub - k * step, values)
        for result_uses, v in zip(uses, values):
            for owner, n in result_uses:
                owner.operands[n] = v
    if lb + front * step >= ub - back * step:   # unrolled whole: the loop is left with no iteration
        for r, init in zip(loop.results, list(loop.operands[3:])):
            r.replace_all_uses_with(init)
        loop.erase()
        return
    with ir.InsertionPoint(loop):
        loop.operands[0] = index_const(lb + front * step)
        loop.operands[1] = index_const(ub - back * step)


def peel_counts(loop: ir.Operation, c, cpes: int) -> tuple[int, int]:
    """(front, back): the iterations to peel so that the idle P1 slots of the peeled copies hold the
    accumulator loads before the loop (stores after it); (0, 0) to leave the loop."""
    body = loop.regions[0].blocks[0]
    ops = block_ops(body)
    if any(o.regions for o in ops) or not any(o.name == "vector.fma" for o in ops):
        return 0, 0
    if not any(isinstance(r.type, ir.VectorType) for r in loop.results):
        return 0, 0
    trips = static_trip_count(loop)
    if trips is None or trips < 2:
        return 0, 0
    slots = c.unaligned_vector_access / c.mem_per_cycle
    loads = sum(1 for v in loop.operands[3:] if not isinstance(v.owner, ir.Block) and v.owner.operation.name == "vector.load")
    stores = sum(1 for r in loop.results for u in r.uses
                 if u.owner.operation.name == "vector.store" and u.owner.operation.block == loop.block)
    it = block_mix(body, c, cpes)
    idle = it.p0_cycles - it.p1_cycles
    if idle <= 0 or loads + stores == 0:
        return 0, 0
    front, back = math.ceil(loads * slots / idle), math.ceil(stores * slots / idle)
    if front + back >= trips:
        front, back = trips, 0
    if (front + back) * len(ops) > MAX_PEELED_OPS:
        return 0, 0
    return front, back


@register_pass("sunway-unroll-microkernel",
               "Peel a micro-kernel's reduction loop into the blocks of its accumulator loads and stores, so that "
               "they issue in the FMAs' idle load/store slots",
               options={"target": ("sw26010", "target whose CPE pipelines decide how much to peel")})
def unroll_microkernel(module: ir.Operation, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    c = cpe_constants(tgt)
    for kfn in funcs(module, kernels=True):
        for loop in collect(kfn, "scf.for"):
            front, back = peel_counts(loop, c, tgt.cpes_per_cg)
            if front or back:
                with loop.location:
                    peel(loop, front, back)
