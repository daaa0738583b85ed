"""sunway-unroll-latency-bound: innermost kernel loops whose iterations wait on their own latency are unrolled.

A CPE is in order: an op issues when its operands are ready. The scalar loops of an epilogue (bias, ReLU, a
residual add), of a pool whose output loop is innermost, of a norm's normalization are one short dependence
chain per iteration (load 4 cycles, an FP op 7, the store): about 12-20 cycles for 2-5 instructions, and the
next iteration does not start before (swmlir.sim.mix.body_path; no software pipelining is assumed of the C
compiler). Unrolled by U, one loop body holds U independent chains that the C compiler's list scheduler
interleaves within the basic block, and the loop runs at the issue rate of its pipes. The factor is the
smallest power of two (at most 8) that brings the body's issue cycles up to its latency path; a loop whose
iterations depend on each other (a carried value, an element loaded and stored at indices the loop does not
move) gains nothing and is left alone, as are loops with vector ops (the micro-kernels block their own
registers) and loops whose trip count the factor does not divide (no remainder loop: the tails of the
vectorized copies are short). The unrolling is upstream's (`transform.loop.unroll`); the order of the
operations of each element is unchanged, so results are bit-identical.
"""
from __future__ import annotations

from mlir import ir

from swmlir.errors import LoweringError
from swmlir.sim.constants import cpe_constants
from swmlir.sim.mix import block_mix, body_path, recurrence
from swmlir.targets import get_target

from . import register_pass
from ._util import apply_transform, collect, ensure_sunway, funcs, static_trip_count, transform_main, untag

_TAG = "swmlir.unroll"
MAX_FACTOR = 8


def unroll_factor(loop: ir.Operation, c, cpes: int) -> int:
    """The factor for one innermost scf.for (1: leave it)."""
    body = loop.regions[0].blocks[0]
    ops = [o.operation for o in body.operations]
    if any(o.regions for o in ops) or len(loop.results):
        return 1
    if any(isinstance(r.type, ir.VectorType) for o in ops for r in o.results):
        return 1
    if any(o.name.startswith("vector.") or o.name.startswith("sunway.") for o in ops):
        return 1
    trips = static_trip_count(loop)
    if trips is None or trips < 2:
        return 1
    path = body_path(body, c)
    if recurrence(body, loop, c) >= path:
        return 1
    issue = max(1.0, block_mix(body, c, cpes, loop).issue_cycles)
    factor = 1
    while factor < MAX_FACTOR and factor * issue < path and trips % (factor * 2) == 0:
        factor *= 2
    return factor


def _script(factors: list[int]) -> str:
    body = []
    for i, f in enumerate(sorted(set(factors))):
        body.append(f'%l{i} = transform.structured.match ops{{["scf.for"]}} attributes{{{_TAG} = {f} : i64}} '
                    'in %root : (!transform.any_op) -> !transform.any_op')
        body.append(f'transform.loop.unroll %l{i} {{factor = {f}}} : !transform.any_op')
    # the unrolled copies' index offsets (upstream writes iv + step * k) folded to constants
    body.append("transform.apply_patterns to %root {\n      transform.apply_patterns.canonicalization\n"
                "    } : !transform.any_op")
    return transform_main(body)


@register_pass("sunway-unroll-latency-bound",
               "Unroll the innermost scalar loops of CPE kernels whose iterations wait on their own latency",
               options={"target": ("sw26010", "target whose CPE latencies decide the factors")})
def unroll_latency_bound(module: ir.Operation, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    c = cpe_constants(tgt)
    factors = []
    for kfn in funcs(module, kernels=True):
        for loop in collect(kfn, "scf.for"):
            body = loop.regions[0].blocks[0]
            if any(o.operation.name == "scf.for" for o in body.operations):
                continue
            f = unroll_factor(loop, c, tgt.cpes_per_cg)
            if f > 1:
                loop.attributes[_TAG] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), f)
                factors.append(f)
    if factors:
        apply_transform(module, _script(factors),
                        lambda message: LoweringError(f"unrolling failed: {message}", op="scf.for"))
        untag(module, _TAG, "scf.for")
