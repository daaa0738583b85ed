"""sunway-hoist-invariant-dma: a tile that stays the same over a CPE's work items is fetched once.

CPE c runs work items t = c, c + 64, c + 128, ... (sunway-map-cpes). Where the forall's innermost extent n
divides 64, the coordinate t mod n is the same for all of them (= c mod n), so an operand tile indexed only by
that coordinate (a weight tile of a matmul whose CPEs own column blocks) does not change from one work item to
the next. This pass proves that with the arithmetic of the work-item index (t = c + 64 j: t mod n = c mod n and
t / n = c / n + (64 / n) j when n divides 64), rewrites those coordinates as loop-invariant values, and moves
every DMA get whose source view and LDM buffer no longer depend on the work item (and whose buffer the loop only
reads) before the loop, with a reply word and a wait of its own.
"""
from __future__ import annotations

from mlir import ir

from . import register_pass
from ._util import collect, constant_int, ensure_sunway, funcs, index_const, is_work_item_start

_VIEW_OPS = ("memref.subview", "affine.apply", "arith.constant", "memref.cast", "memref.collapse_shape",
             "memref.expand_shape", "arith.addi", "arith.muli")


def _work_item_loops(kfn: ir.Operation) -> list[ir.Operation]:
    out = []
    for loop in collect(kfn, "scf.for"):
        lb = loop.operands[0]
        step, items = constant_int(loop.operands[2]), constant_int(loop.operands[1])
        # hoisting pays only where a CPE runs several items, and must not fetch for CPEs that run none
        if is_work_item_start(lb) and step and items and items > step:
            out.append(loop)
    return out


def _invariant_coordinates(loop: ir.Operation) -> int:
    """Replace t mod n (and what follows from it) by values computed from the CPE id before the loop."""
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    step = constant_int(loop.operands[2])
    affine_in_j = {iv: (loop.operands[0], step)}   # value -> (value before the loop, coefficient of j)
    replaced = 0
    for op in list(body.operations):
        op = op.operation
        if op.name not in ("arith.remsi", "arith.remui", "arith.divsi", "arith.divui") or op.operands[0] not in affine_in_j:
            continue
        c = constant_int(op.operands[1])
        base, k = affine_in_j[op.operands[0]]
        if not c or c <= 0 or k % c:
            continue
        with ir.InsertionPoint(loop), loop.location:
            hoisted = ir.Operation.create(op.name, results=[op.results[0].type],
                                          operands=[base, index_const(c)]).results[0]
        if op.name in ("arith.remsi", "arith.remui"):
            op.results[0].replace_all_uses_with(hoisted)
            replaced += 1
        else:
            affine_in_j[op.results[0]] = (hoisted, k // c)
            if k // c == 0:
                op.results[0].replace_all_uses_with(hoisted)
                replaced += 1
    return replaced


def _defined_in(v: ir.Value, loop: ir.Operation) -> bool:
    owner = v.owner
    op = owner.owner if isinstance(owner, ir.Block) else owner.operation
    while op is not None:
        if op == loop:
            return True
        op = op.parent
    return False


def _view_chain(v: ir.Value, loop: ir.Operation) -> list[ir.Operation] | None:
    """The ops inside `loop` that compute the view `v`, if they depend on nothing the loop varies."""
    if not _defined_in(v, loop):
        return []
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name not in _VIEW_OPS:
        return None
    op = owner.operation
    chain: list[ir.Operation] = []
    for operand in op.operands:
        sub = _view_chain(operand, loop)
        if sub is None:
            return None
        chain += [s for s in sub if s not in chain]
    return chain + [op]


def _only_read(buf: ir.Value, get: ir.Operation) -> bool:
    """The loop reads `buf` and never writes it (besides the get): it may keep its contents across items."""
    for use in buf.uses:
        user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
        if user == get:
            continue
        if user.name == "sunway.dma_put" and use.operand_number == 0:
            continue
        if user.name == "linalg.generic" and use.operand_number < _n_inputs(user):
            continue
        return False
    return True


def _n_inputs(generic: ir.Operation) -> int:
    seg = generic.attributes["operandSegmentSizes"]
    return list(ir.DenseI32ArrayAttr(seg))[0]


def _hoist_gets(loop: ir.Operation) -> int:
    body = loop.regions[0].blocks[0]
    moved = 0
    for get in [o.operation for o in body.operations if o.operation.name == "sunway.dma_get"]:
        src, buf = get.operands[0], get.operands[1]
        chain = _view_chain(src, loop)
        alloc = buf.owner.operation if not isinstance(buf.owner, ir.Block) else None
        if chain is None or alloc is None or alloc.name != "sunway.ldm_alloc" or not _only_read(buf, get):
            continue
        with ir.InsertionPoint(loop), loop.location:
            reply = ir.Operation.create("sunway.reply", results=[get.operands[2].type]).results[0]
        for op in chain + [alloc]:
            op.move_before(loop)
        get.move_before(loop)
        get.operands[2] = reply
        with ir.InsertionPoint(loop), loop.location:
            ir.Operation.create("sunway.dma_wait", operands=[reply, index_const(1)])
        moved += 1
    return moved


@register_pass("sunway-hoist-invariant-dma",
               "Fetch once, before a CPE's work-item loop, the tiles that do not change across its work items",
               nestable=True)
def hoist_invariant_dma(module: ir.Operation) -> None:
    ensure_sunway(module)
    for kfn in funcs(module, kernels=True):
        for loop in _work_item_loops(kfn):
            if _invariant_coordinates(loop):
                _hoist_gets(loop)
