"""sunway-hoist-fills: an LDM tile that a loop fills and then writes one fixed region of is filled once, before it.

A halo tile (sunway-fetch-halos) is filled with the pad value and the fetched box copied into it at every
reduction step. Where the box lands at the same place in every step (its offsets do not depend on the loop),
the rest of the tile keeps the pad value from one step to the next, so the fill moves before the loop, out of as
many enclosing loops as that holds. Upstream loop-invariant code motion cannot do it: the fill writes memory that
the loop writes and reads again.

The conditions, per loop: the fill's value and the tile are defined outside the loop (or the tile's allocation,
a static LDM buffer, moves out); inside the loop the only other write to the tile is one copy into a view whose
offsets are loop-invariant, before any read of the tile; every other use reads it (an input of a linalg op).
"""
from __future__ import annotations

from mlir import ir

from . import register_pass
from ._util import (as_operation, collect, defined_inside, defining_op, ensure_sunway, funcs, is_index_arithmetic,
                    is_inside)

def _invariant(v: ir.Value, loop: ir.Operation) -> bool:
    """`v` does not change over the iterations of `loop`: defined outside it, or index arithmetic of such values."""
    if not defined_inside(v, loop):
        return True
    op = defining_op(v)
    if op is None or not is_index_arithmetic(op):
        return False
    return all(_invariant(x, loop) for x in op.operands)


def _hoist(v: ir.Value, loop: ir.Operation) -> None:
    """Move the index arithmetic computing an invariant `v` before `loop`."""
    if not defined_inside(v, loop):
        return
    op = defining_op(v)
    for x in op.operands:
        _hoist(x, loop)
    op.move_before(loop)


def _accesses(buf: ir.Value):
    """(op, operand number, offsets of the view it goes through or None) for every use of `buf` and of its views."""
    out = []
    for use in buf.uses:
        op = as_operation(use.owner)
        if op.name == "memref.subview" and use.operand_number == 0:
            offsets = list(op.operands)[1:]
            for inner in _accesses(op.results[0]):
                if inner[2] is not None:   # a view of a view: give up on it (treated as a write anywhere)
                    return None
                out.append((inner[0], inner[1], offsets))
            continue
        out.append((op, use.operand_number, None))
    return out


def _writes(op: ir.Operation, operand: int) -> bool:
    if op.name.startswith("linalg."):
        return operand >= len(op.operands) - len(op.opview.outputs)
    if op.name == "memref.copy":
        return operand == 1
    return True   # anything else may write


def _try_hoist(fill: ir.Operation, loop: ir.Operation) -> bool:
    value, tile = fill.operands[0], fill.operands[1]
    alloc = defining_op(tile)
    if alloc is None or alloc.name != "sunway.ldm_alloc" or not _invariant(value, loop):
        return False
    accesses = _accesses(tile)
    if accesses is None:
        return False
    copies = []
    for op, i, offsets in accesses:
        if op == fill:
            continue
        if not is_inside(op, loop):
            return False
        if _writes(op, i):
            if op.name not in ("linalg.copy", "memref.copy") or offsets is None \
                    or not all(_invariant(x, loop) for x in offsets):
                return False
            copies.append(op)
    if len(copies) != 1:
        return False
    # the copy comes before every read of the tile, in the same block as the fill
    block_ops = [o.operation for o in fill.block.operations]

    def index(op):
        """Position in the fill's block of the op holding `op`."""
        while op is not None and not any(op == b for b in block_ops):
            op = op.parent
        return next((k for k, b in enumerate(block_ops) if op == b), None)
    at_copy = index(copies[0])
    if at_copy is None or index(fill) > at_copy:
        return False
    for op, i, _ in accesses:
        if op != fill and op != copies[0]:
            k = index(op)
            if k is None or k <= at_copy:
                return False
    if is_inside(alloc, loop):
        alloc.move_before(loop)
    _hoist(value, loop)
    fill.move_before(loop)
    return True


@register_pass("sunway-hoist-fills",
               "Fill an LDM tile once before a loop when the loop only copies a fixed region into it (halo tiles)")
def hoist_fills(module: ir.Operation) -> None:
    ensure_sunway(module)
    for kfn in funcs(module, kernels=True):
        for fill in collect(kfn, "linalg.fill"):
            loop = fill.parent
            while loop is not None and loop.name == "scf.for" and _try_hoist(fill, loop):
                loop = fill.parent
