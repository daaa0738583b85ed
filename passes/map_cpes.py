"""sunway-map-cpes: in each kernel, the scf.forall's work items are dealt round-robin to the CPEs.

Work item t (the forall's iterations, linearized) runs on CPE t % N: `scf.for %t = cpe_id to total step N`, and
the forall's induction variables are recovered from %t. N is the target's CPEs per core group.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, scf

from swmlir.errors import LoweringError
from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, index_const, static_ints


@register_pass("sunway-map-cpes", "Map each kernel's scf.forall onto the CPEs: a round-robin loop from sunway.cpe_id",
               options={"target": ("sw26010", "target whose CPE count is used")}, nestable=True)
def map_cpes(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    n_cpes = get_target(target).cpes_per_cg
    for kfn in funcs(module, kernels=True):
        for loop in collect(kfn, "scf.forall"):
            if len(loop.results):
                raise LoweringError("scf.forall with results (not bufferized)", op="scf.forall",
                                   location=loop.location)
            if len(loop.operands):
                raise LoweringError("scf.forall with dynamic bounds", op="scf.forall", location=loop.location)
            lbs = static_ints(loop, "staticLowerBound")
            ubs = static_ints(loop, "staticUpperBound")
            steps = static_ints(loop, "staticStep")
            counts = [(u - l + s - 1) // s for l, u, s in zip(lbs, ubs, steps)]
            total = math.prod(counts)
            kfn.attributes["sunway.work_items"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), total)
            body = loop.regions[0].blocks[0]
            with ir.InsertionPoint(loop), loop.location:
                cpe = ir.Operation.create("sunway.cpe_id", results=[ir.IndexType.get()]).results[0]
                for_op = scf.ForOp(cpe, index_const(total), index_const(n_cpes))
            with ir.InsertionPoint(for_op.body), loop.location:
                rest = for_op.induction_variable
                ivs = [None] * len(counts)
                for d in reversed(range(len(counts))):
                    c = index_const(counts[d])
                    q = arith.RemSIOp(rest, c).result if d > 0 else rest
                    if d > 0:
                        rest = arith.DivSIOp(rest, c).result
                    iv = q
                    if steps[d] != 1:
                        iv = arith.MulIOp(iv, index_const(steps[d])).result
                    if lbs[d] != 0:
                        iv = arith.AddIOp(iv, index_const(lbs[d])).result
                    ivs[d] = iv
                yield_op = scf.YieldOp([])
            for arg, iv in zip(body.arguments, ivs):
                arg.replace_all_uses_with(iv)
            for op in list(body.operations):
                if op.operation.name == "scf.forall.in_parallel":
                    continue
                op.operation.move_before(yield_op.operation)
            loop.erase()
