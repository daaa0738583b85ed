"""sunway-fold-add-into-init: a residual added to a contraction's result becomes the contraction's initial value.

ResNet's `relu(conv(x) + b + identity)` and a transformer's `x + proj(attn)` add a whole tensor to a contraction
that starts from zeros. As an epilogue the residual tile is a second LDM buffer of the output tile's size, fetched
after the reduction: on a 3x3 conv of 64 channels at 56x56 it halves the output channels a work item can hold, so
every input window is fetched and copied twice. Started from the residual instead of zeros (the accumulator tile
is fetched by DMA instead of filled), the contraction needs no second buffer and no epilogue op.

For `linalg.generic` adds `yield addf(a, b)` (identity maps, all loops parallel) on a chain from a contraction
whose init is a fill with +0.0: each chain link adds something to the running value (a bias read through a
broadcast map, the residual), and the first add whose other operand is a tensor of the result's type defined
before the contraction replaces the fill as the contraction's init; the add's uses take the running value
instead. Not when the addend is itself a contraction's result read by nothing else (a downsample shortcut
summed with the main path): the second conv would accumulate onto the first's output, which the tile chooser
made slower than the epilogue (ResNet-18's conv8 and its add: 238 -> 314 us). Every value on the chain must have a
single use, and the chain is of adds only: a conv computed on more columns than it keeps (a width not a multiple
of the vector, cut by a tensor.extract_slice) keeps its epilogue (a value that is also a graph output, as `swmlir
compare` makes of every node's output, keeps the graph as it is). The contraction may be a named conv or
matmul (they accumulate into their init) or a generic whose body yields `addf(init, ...)`. Results differ from
the graph's order of additions only by rounding: the residual enters the sum first instead of last.
"""
from __future__ import annotations

from mlir import ir

from . import register_pass
from ._util import as_operation, funcs

_NAMED = ("linalg.matmul", "linalg.batch_matmul", "linalg.matmul_transpose_a", "linalg.matmul_transpose_b",
          "linalg.batch_matmul_transpose_a", "linalg.batch_matmul_transpose_b")


def _single_use(v: ir.Value) -> ir.Operation | None:
    uses = list(v.uses)
    return as_operation(uses[0].owner) if len(uses) == 1 else None


def _is_zero_fill(v: ir.Value) -> bool:
    if isinstance(v.owner, ir.Block) or v.owner.operation.name != "linalg.fill":
        return False
    fill = v.owner.operation
    src = fill.operands[0]
    if isinstance(src.owner, ir.Block) or src.owner.operation.name != "arith.constant":
        return False
    value = src.owner.operation.attributes["value"]
    return isinstance(value, ir.FloatAttr) and value.value == 0.0


def _accumulates(op: ir.Operation) -> bool:
    """A contraction whose result is its init plus what it computes."""
    name = op.name
    if name in _NAMED or name.startswith("linalg.conv_") or name.startswith("linalg.depthwise_conv_"):
        return len(op.results) == 1
    if name != "linalg.generic" or len(op.results) != 1:
        return False
    if all("parallel" in str(t) for t in ir.ArrayAttr(op.attributes["iterator_types"])):
        return False
    body = op.regions[0].blocks[0]
    out = body.arguments[len(body.arguments) - 1]
    ops = [o.operation for o in body.operations]
    yielded = ops[-1].operands[0]
    if isinstance(yielded.owner, ir.Block) or yielded.owner.operation.name != "arith.addf":
        return False
    uses = list(out.uses)
    return len(uses) == 1 and as_operation(uses[0].owner) == yielded.owner.operation


def _add_link(op: ir.Operation, running: ir.Value) -> int | None:
    """The input position of the other addend when `op` is an elementwise `yield addf(a, b)` that reads
    `running` through an identity map; None otherwise."""
    if op.name != "linalg.generic" or len(op.results) != 1 or len(op.operands) != 3:
        return None
    if not all("parallel" in str(t) for t in ir.ArrayAttr(op.attributes["iterator_types"])):
        return None
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    pos = [i for i in (0, 1) if op.operands[i] == running]
    if len(pos) != 1 or not maps[pos[0]].is_permutation or maps[pos[0]] != maps[2] \
            or op.results[0].type != running.type:
        return None
    body = op.regions[0].blocks[0]
    ops = [o.operation for o in body.operations]
    if len(ops) != 2 or ops[0].name != "arith.addf" or ops[1].operands[0] != ops[0].results[0]:
        return None
    if {ops[0].operands[0], ops[0].operands[1]} != {body.arguments[0], body.arguments[1]}:
        return None
    return 1 - pos[0]


def _from_contraction(v: ir.Value) -> bool:
    """Whether `v` is a contraction's result, possibly through elementwise ops, read by nothing else."""
    while not isinstance(v.owner, ir.Block) and len(list(v.uses)) == 1:
        op = v.owner.operation
        if _accumulates(op):
            return True
        if op.name != "linalg.generic" or \
                not all("parallel" in str(t) for t in ir.ArrayAttr(op.attributes["iterator_types"])):
            return False
        tensors = [x for x in op.operands[:len(op.operands) - len(op.results)]
                   if isinstance(x.type, ir.RankedTensorType) and x.type == v.type]
        if len(tensors) != 1:
            return False
        v = tensors[0]
    return False


def _defined_before(v: ir.Value, op: ir.Operation) -> bool:
    owner = v.owner
    if isinstance(owner, ir.Block):   # an argument of the function or of a region around the op
        return True
    d = owner.operation
    return d.block == op.block and d.is_before_in_block(op)


def fold_one(contraction: ir.Operation) -> bool:
    n_in = len(contraction.operands) - 1
    init = contraction.operands[n_in]
    if not _is_zero_fill(init) or _single_use(init) is None:
        return False
    running = contraction.results[0]
    while True:
        link = _single_use(running)
        if link is None:
            return False
        other = _add_link(link, running)
        if other is None:
            return False
        maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(link.attributes["indexing_maps"])]
        addend = link.operands[other]
        if addend.type == contraction.results[0].type and maps[other] == maps[2] \
                and _defined_before(addend, contraction) and not _from_contraction(addend):
            fill = init.owner.operation
            contraction.operands[n_in] = addend
            link.results[0].replace_all_uses_with(running)
            link.erase()
            if not list(fill.results[0].uses):
                fill.erase()
            return True
        running = link.results[0]


@register_pass("sunway-fold-add-into-init",
               "Start a contraction from a residual added to its result instead of from zeros")
def fold_add_into_init(module: ir.Operation) -> None:
    for f in funcs(module):
        for block in (b for r in f.regions for b in r.blocks):
            for op in [o.operation for o in block.operations if _accumulates(o.operation)]:
                fold_one(op)
