"""sunway-map-cpes: in each kernel, the scf.forall's work items are dealt round-robin to the CPEs.

Work item t (the forall's iterations, linearized) runs on CPE t % N: `scf.for %t = cpe_id to total step N`, and
the forall's induction variables are recovered from %t. N is the target's CPEs per core group.

On several core groups (`cgs` > 1: the option, else the target's, `swmlir compile --cgs`) the items are dealt over
all their CPEs by the global CPE id g = cg_id * 64 + cpe_id (CRTS_cgn * 64 + CRTS_tid on SW26010-Pro):
`scf.for %t = g to total step cgs * 64`, so CG c runs the items whose t / 64 is c modulo cgs.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, scf

from swmlir.attrs import WORK_ITEMS_ATTR
from swmlir.errors import LoweringError
from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, index_const, static_ints


@register_pass("sunway-map-cpes", "Map each kernel's scf.forall onto the CPEs: a round-robin loop from sunway.cpe_id",
               options={"target": ("sw26010", "target whose CPE count is used"),
                        "cgs": (0, "core groups the work items are dealt over (0: the target's, 1 unless "
                                   "named <target>:cgs<N>)")}, nestable=True)
def map_cpes(module: ir.Operation, *, target: str = "sw26010", cgs: int = 0) -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    cgs = cgs or tgt.cgs
    if cgs < 1:
        raise LoweringError(f"sunway-map-cpes: cgs={cgs} core groups", stage="sunway")
    n_cpes = tgt.cpes_per_cg * cgs
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
            kfn.attributes[WORK_ITEMS_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), total)
            body = loop.regions[0].blocks[0]
            with ir.InsertionPoint(loop), loop.location:
                cpe = ir.Operation.create("sunway.cpe_id", results=[ir.IndexType.get()]).results[0]
                if cgs > 1:   # the global CPE id: cg * 64 + cpe
                    cg = ir.Operation.create("sunway.cg_id", results=[ir.IndexType.get()]).results[0]
                    cpe = arith.AddIOp(arith.MulIOp(cg, index_const(tgt.cpes_per_cg)).result, cpe).result
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
