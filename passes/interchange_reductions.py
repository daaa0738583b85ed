"""sunway-interchange-reductions: in CPE kernels, a parallel loop innermost under the reduction loops of an op
that no micro-kernel takes (pooling windows, reductions of norms and softmax).

convert-linalg-to-loops nests the reduction loops innermost: a max pool tile becomes, per output element, a
load, a max and a store of that same element for each of the 9 window steps, each waiting for the last (the
CPE's LDM and FP latencies, about 10 cycles per step where the load/store pipe could issue one every cycle).
With an output loop innermost, consecutive iterations touch different output elements and pipeline. The
interchange is upstream's (`transform.structured.interchange`); the order of each output element's reduction
steps is unchanged, so results are bit-identical. Contractions are left to sunway-vectorize-contractions,
which runs first; ops on main memory are not in kernels.
"""
from __future__ import annotations

from mlir import ir

from swmlir.errors import LoweringError
from swmlir.schedule.fusion import parallel_loops

from . import register_pass
from ._util import apply_transform, collect, ensure_sunway, funcs, is_ldm_type, transform_main, untag

_TAG = "swmlir.interchange"


def interchange_for(op: ir.Operation) -> list[int] | None:
    """The loop permutation (new position -> old loop) that moves the innermost parallel loop with more than
    one iteration that indexes the output below every reduction loop after it; None when there is none."""
    iters = [not p for p in parallel_loops(op)]   # True: a reduction loop
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    if not any(iters) or len(op.results) or not all(is_ldm_type(v.type) for v in op.operands
                                                     if isinstance(v.type, ir.MemRefType)):
        return None
    out_dims = {e.position for e in maps[-1].results if isinstance(e, ir.AffineDimExpr)}
    extents = _static_loop_sizes(op, maps)
    for d in reversed(range(len(iters))):
        if iters[d] or d not in out_dims or extents[d] is None or extents[d] < 2:
            continue
        if not any(iters[d + 1:]):
            return None   # already innermost below the reductions
        return [i for i in range(len(iters)) if i != d] + [d]
    return None


def _static_loop_sizes(op: ir.Operation, maps: list[ir.AffineMap]) -> list[int | None]:
    """Each loop's trip count, read off an operand dimension that a map indexes by the loop alone."""
    n = maps[0].n_dims
    sizes: list[int | None] = [None] * n
    for v, m in zip(op.operands, maps):
        if not isinstance(v.type, ir.MemRefType):
            continue
        for k, e in enumerate(m.results):
            if isinstance(e, ir.AffineDimExpr) and sizes[e.position] is None and not v.type.is_dynamic_dim(k):
                sizes[e.position] = v.type.shape[k]
    return sizes


def _script(perms: list[list[int]]) -> str:
    body = []
    for i, perm in enumerate(perms):
        body.append(f'%o{i} = transform.structured.match attributes{{{_TAG} = {i} : i64}} in %root'
                    ' : (!transform.any_op) -> !transform.any_op')
        body.append(f'transform.foreach %o{i} : !transform.any_op {{\n    ^bb0(%g: !transform.any_op):\n'
                    f'      %x = transform.structured.interchange %g iterator_interchange = {perm}'
                    ' : (!transform.any_op) -> !transform.any_op\n    }')
    return transform_main(body)


@register_pass("sunway-interchange-reductions",
               "In CPE kernels, move an output loop of non-contraction reductions (pooling, norms) innermost")
def interchange_reductions(module: ir.Operation) -> None:
    ensure_sunway(module)
    perms: list[list[int]] = []
    tagged = 0
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, "linalg.generic"):
            perm = interchange_for(op)
            if perm is None:
                continue
            if perm not in perms:
                perms.append(perm)
            op.attributes[_TAG] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), perms.index(perm))
            tagged += 1
    if not tagged:
        return
    apply_transform(module, _script(perms),
                    lambda message: LoweringError(f"loop interchange failed: {message}", op="linalg.generic"))
    untag(module, _TAG, "linalg.generic")
