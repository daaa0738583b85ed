"""sunway-fold-transposes: a transpose read only by a contraction becomes that contraction's indexing map.

Attention splits heads with Reshape + Transpose: Q and V go [S, H, D] -> [H, S, D], K goes to [H, D, S], and the
batched MatMuls read the transposed copies. Each transpose is a kernel of its own that only moves data: a
launch, the tensor through main memory twice, and (for K, whose last two dims swap) short DMA rows in both
directions. A contraction can read the original layout directly through a permuted map: QKᵀ then reduces along D,
contiguous in both operands (the micro-kernel of a matmul with a transposed weight), and the LDM tiles are the
same rows, only at another stride in main memory.

For a `linalg.transpose` whose one use is a contraction (a linalg op with a reduction loop), possibly through a
`tensor.collapse_shape` that only drops unit dims (the batch of 1 of [1, H, S, D]): the consumer is generalized
(upstream `transform.structured.generalize`), reads the transpose's input (its unit dims dropped the same way)
through its map composed with the permutation, and the transpose is left dead for canonicalize. Results are
bit-identical: the same products are summed in the same order.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import tensor

from swmlir.schedule.fusion import parallel_loops

from . import register_pass
from ._util import apply_transform, as_operation, funcs, transform_main
from .fold_unit_dims import _groups, _reassociation

_TAG = "swmlir.fold_transpose"


def _single_use(v: ir.Value) -> ir.Operation | None:
    uses = list(v.uses)
    return as_operation(uses[0].owner) if len(uses) == 1 else None


def _unit_collapse(op: ir.Operation) -> bool:
    """A collapse_shape whose every group has at most one non-unit dim."""
    shape = list(op.operands[0].type.shape)
    return all(sum(shape[d] != 1 for d in g) <= 1 for g in _groups(op))


def _consumer(t: ir.Operation) -> tuple[ir.Operation, ir.Operation | None] | None:
    """(contraction, collapse or None) that reads the transpose's result."""
    user = _single_use(t.results[0])
    collapse = None
    if user is not None and user.name == "tensor.collapse_shape" and _unit_collapse(user):
        collapse, user = user, _single_use(user.results[0])
    if user is None:
        return None
    if user.name == "linalg.generic":
        if all(parallel_loops(user)):
            return None
    elif user.name not in ("linalg.matmul", "linalg.batch_matmul"):
        return None
    src = (collapse or t).results[0]
    n_in = len(user.operands) - len(user.results)
    if not any(user.operands[i] == src for i in range(n_in)):
        return None
    return user, collapse


def _fold(t: ir.Operation, user: ir.Operation, collapse: ir.Operation | None) -> None:
    perm = list(ir.DenseI64ArrayAttr(t.attributes["permutation"]))
    x = t.operands[0]
    src = (collapse or t).results[0]
    idx = next(i for i, v in enumerate(user.operands) if v == src)
    maps = [ir.AffineMapAttr(a).value for a in user.attributes["indexing_maps"]]
    m = maps[idx]
    y_rank = t.results[0].type.rank
    # the expression of each dim of the transpose's result
    if collapse is None:
        y_expr = list(m.results)
    else:
        y_shape = list(t.results[0].type.shape)
        y_expr = [None] * y_rank
        for g, e in zip(_groups(collapse), m.results):
            keep = next((d for d in g if y_shape[d] != 1), g[0])
            for d in g:
                y_expr[d] = e if d == keep else None
    x_rank = x.type.rank
    x_expr = [None] * x_rank
    for k, p in enumerate(perm):
        x_expr[p] = y_expr[k]
    dropped = {d for d in range(x_rank) if x_expr[d] is None}
    if dropped:
        groups = _reassociation(x_rank, dropped)
        shape = [s for d, s in enumerate(x.type.shape) if d not in dropped]
        with ir.InsertionPoint(user), user.location:
            x = tensor.CollapseShapeOp(ir.RankedTensorType.get(shape, x.type.element_type), x,
                                       ir.ArrayAttr.get([ir.ArrayAttr.get(
                                           [ir.IntegerAttr.get(ir.IntegerType.get_signless(64), d) for d in g])
                                           for g in groups])).result
    new_map = ir.AffineMap.get(m.n_dims, m.n_symbols, [e for e in x_expr if e is not None])
    maps[idx] = new_map
    user.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(a) for a in maps])
    user.operands[idx] = x


def _candidates(module: ir.Operation) -> list[tuple[ir.Operation, ir.Operation, ir.Operation | None]]:
    found = []
    for f in funcs(module, kernels=False):
        for o in f.regions[0].blocks[0].operations:
            o = o.operation
            if o.name == "linalg.transpose":
                c = _consumer(o)
                if c is not None:
                    found.append((o, *c))
    return found


def _discardable(op: ir.Operation) -> dict:
    return {op.attributes[i].name: op.attributes[i].attr for i in range(len(op.attributes))
            if op.attributes[i].name.startswith("swmlir.")}


def _generalize(module: ir.Operation, ops: list[ir.Operation]) -> None:
    """Generalize the named ops `ops` in place, keeping their swmlir.* attributes (generalize drops them); a
    generalized op takes its named op's place in the block."""
    places = []
    for op in ops:
        block_ops = [o.operation for o in op.block.operations]
        places.append((op.block, block_ops.index(op), _discardable(op)))
        op.attributes[_TAG] = ir.UnitAttr.get()
    apply_transform(module, transform_main([
        f'%c = transform.structured.match attributes{{{_TAG}}} in %root : (!transform.any_op) -> !transform.any_op',
        '%g = transform.structured.generalize %c : (!transform.any_op) -> !transform.any_op']),
        lambda message: ValueError(f"sunway-fold-transposes: generalize failed: {message}"))
    for block, i, attrs in places:
        op = [o.operation for o in block.operations][i]
        for k, v in attrs.items():
            op.attributes[k] = v
        if _TAG in op.attributes:
            del op.attributes[_TAG]


@register_pass("sunway-fold-transposes",
               "Fold a transpose read only by a contraction into the contraction's indexing map (no copy kernel)")
def fold_transposes(module: ir.Operation) -> None:
    named = [user for _, user, _ in _candidates(module) if user.name != "linalg.generic"]
    if named:
        _generalize(module, named)
    for t, user, collapse in _candidates(module):
        _fold(t, user, collapse)
