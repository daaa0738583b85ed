"""sunway-fold-unit-dims: an elementwise op fed through an expand_shape that only adds unit dims runs on the
lower-rank tensor, and the expand_shape moves after it.

A MatMul of a [1, S, K] activation is a 2-D matmul between a collapse_shape and an expand_shape; the bias add
after it works on [1, S, N]. The expand_shape in between keeps the add out of the matmul's fusion group (a
separate kernel: the result goes to main memory and back, and a launch more). Run on [S, N], the add reads the
matmul's result directly and fuses as its epilogue; a chain of such ops (bias, residual, GELU) moves down the same
way, one op at a time.

This is upstream's unit-dimension folding (linalg-fold-unit-extent-dims) narrowed to the ops it helps: that pass
folds every op, and on a CNN it leaves a reshape between each named conv (which keeps its batch dim) and its
bias, undoing the conv's fusion; in LLVM 22 it also asserts on a tensor.pad whose padding value is defined in its
region. Only all-parallel linalg.generic ops whose maps are dims (no linalg.index) qualify; the op is rewritten in
place, so its attributes stay.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import linalg, tensor

from swmlir.schedule.fusion import is_leading_identity, parallel_loops

from . import register_pass
from ._util import defining_op, rewrite_to_fixpoint


def _groups(op: ir.Operation) -> list[list[int]]:
    return [[ir.IntegerAttr(i).value for i in g] for g in ir.ArrayAttr(op.attributes["reassociation"])]


def _inserted_unit_dims(expand: ir.Operation) -> set[int] | None:
    """The result dims an expand_shape adds (unit dims next to the one that carries its source dim); None when
    it splits a dim into several non-unit ones."""
    shape = list(expand.results[0].type.shape)
    added = set()
    for g in _groups(expand):
        big = [d for d in g if shape[d] != 1]
        if len(big) > 1:
            return None
        keep = big[0] if big else g[0]
        added |= {d for d in g if d != keep}
    return added


def _reassociation(rank: int, dropped: set[int]) -> list[list[int]]:
    """Groups of a rank-`rank` shape whose `dropped` unit dims join the next kept dim (the last kept one at the
    end)."""
    groups, pending = [], []
    for d in range(rank):
        pending.append(d)
        if d not in dropped:
            groups.append(pending)
            pending = []
    if pending:
        if not groups:
            return []
        groups[-1] += pending
    return groups


def _attr(groups: list[list[int]]) -> ir.ArrayAttr:
    i64 = ir.IntegerType.get_signless(64)
    return ir.ArrayAttr.get([ir.ArrayAttr.get([ir.IntegerAttr.get(i64, d) for d in g]) for g in groups])


def fold_one(op: ir.Operation) -> bool:
    if op.name != "linalg.generic" or len(op.results) != 1:
        return False
    iters = parallel_loops(op)
    body = op.regions[0].blocks[0]
    if any(o.operation.name == "linalg.index" for o in body.operations):
        return False
    n_in = len(op.operands) - 1
    reads_init = len(list(body.arguments[n_in].uses)) > 0
    if reads_init and all(iters):
        return False   # an elementwise op that reads its init: left as it is
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    if not all(all(isinstance(e, ir.AffineDimExpr) for e in m.results) for m in maps):
        return False
    out_t = op.results[0].type
    if not all(v.type.has_static_shape for v in op.operands if isinstance(v.type, ir.RankedTensorType)):
        return False
    out_dims = [e.position for e in maps[-1].results]
    if not out_t.has_static_shape or len(set(out_dims)) != len(out_dims):
        return False
    drop = None
    for i in range(n_in):
        e = defining_op(op.operands[i])
        if e is not None and e.name == "tensor.expand_shape" and is_leading_identity(maps[i], maps[i].n_dims):
            drop = _inserted_unit_dims(e)
            if drop:
                break
    if not drop or not all(iters[d] for d in drop):
        return False   # (only unit parallel dims are dropped)
    n = maps[0].n_dims
    keep = [d for d in range(n) if d not in drop]
    if not keep:
        return False
    new_pos = {d: j for j, d in enumerate(keep)}
    new_maps, new_operands = [], []
    for i, (v, m) in enumerate(zip(op.operands, maps)):
        dims = [x.position for x in m.results]
        kept_res = [k for k, d in enumerate(dims) if d not in drop]
        gone = {k for k, d in enumerate(dims) if d in drop}
        read = i < n_in or reads_init
        if read and isinstance(v.type, ir.RankedTensorType) and gone:
            if not kept_res:
                return False
            src = defining_op(v)
            if src is not None and src.name == "tensor.expand_shape" and \
                    list(src.operands[0].type.shape) == [v.type.shape[k] for k in kept_res]:
                new_operands.append(src.operands[0])
            else:
                new_operands.append((v, _reassociation(len(dims), gone), [v.type.shape[k] for k in kept_res]))
        else:
            new_operands.append(v)
        new_maps.append(ir.AffineMap.get(len(keep), 0, [ir.AffineDimExpr.get(new_pos[d]) for d in dims
                                                         if d not in drop]))
    out_gone = {k for k, d in enumerate(out_dims) if d in drop}
    shape = [out_t.shape[k] for k in range(len(out_dims)) if k not in out_gone]
    if not shape:
        return False
    with ir.InsertionPoint(op), op.location:
        for i, v in enumerate(new_operands):
            if isinstance(v, tuple):
                val, groups, small = v
                small_t = ir.RankedTensorType.get(small, val.type.element_type)
                fill = defining_op(val)
                if i == n_in and fill is not None and fill.name == "linalg.fill":
                    # the accumulator's zero init, filled at the lower rank (keeping its attributes: a
                    # canonicalization that moved the collapse above the fill would drop them)
                    new = linalg.fill(fill.operands[0], outs=[tensor.EmptyOp(small, val.type.element_type).result])
                    for k in range(len(fill.attributes)):
                        a = fill.attributes[k]
                        if a.name.startswith("swmlir."):
                            defining_op(new).attributes[a.name] = a.attr
                    new_operands[i] = new
                    continue
                new_operands[i] = tensor.CollapseShapeOp(small_t, val, _attr(groups)).result
        if not reads_init:
            new_operands[n_in] = tensor.EmptyOp(shape, out_t.element_type).result
    if new_operands[n_in].type != ir.RankedTensorType.get(shape, out_t.element_type):
        return False   # (not expected: the init's dims are the result's)
    for i, v in enumerate(new_operands):
        op.operands[i] = v
    kinds = [ir.Attribute.parse("#linalg.iterator_type<parallel>"), ir.Attribute.parse("#linalg.iterator_type<reduction>")]
    op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in new_maps])
    op.attributes["iterator_types"] = ir.ArrayAttr.get([kinds[0] if iters[d] else kinds[1] for d in keep])
    result = op.results[0]
    result.set_type(ir.RankedTensorType.get(shape, out_t.element_type))
    with ir.InsertionPoint.after(op), op.location:
        back = tensor.ExpandShapeOp(out_t, result, _attr(_reassociation(len(out_dims), out_gone)), [],
                                    list(out_t.shape)).result
    result.replace_all_uses_except(back, defining_op(back))
    return True


@register_pass("sunway-fold-unit-dims",
               "Run elementwise ops fed through a unit-dim expand_shape on the lower-rank tensor, the expand after",
               nestable=True)
def fold_unit_dims(module: ir.Operation) -> None:
    rewrite_to_fixpoint(module, fold_one)
