"""sunway-stream-puts: the loop nests that write an output tile last are split in two, each half put when done.

A kernel that holds one output tile per CPE ends with the tile's last reduction step (its micro-kernel nests and
any epilogue nests), then puts the whole tile and waits: the put runs with nothing beside it (conv3x3 64x56x56:
~57 us of 456). This pass splits the outermost loop of each of those nests at the middle of the tile dimension
it walks, so that the first halves of all nests run, the first half of the tile is put, then the second halves
run while the DMA engine writes the first, and the second half is put; one wait for both ends the kernel as
before. Every element is computed by the same ops in the same order (bit-identical results).

It runs on the kernels' loops (after sunway-vectorize-contractions and convert-linalg-to-loops), where the nests
are plain scf.for loops; conditions, else the put is left alone:
- the put's source is a whole LDM buffer B and a wait for the put's reply follows it (a put that the work-item
  double buffering already overlaps has its wait elsewhere);
- right before it (pure index and view ops aside) stand one or more scf.for nests that store only into B;
- in every nest, every access to B indexes one tile dimension d as `outer iv + c` with 0 <= c < the outer step,
  and no other dimension by the outer iv; all nests agree on d, whose size splits at a multiple of their steps;
  the dimensions before d are 1, so that each half is one contiguous run of LDM (the LDM side of a DMA is).
Moving a nest's first half before another nest's second half is legal then: the halves touch disjoint parts of
B and store nothing else.

The performance model (swmlir.sim.mix `streamed_cycles`, swmlir.sim.model) hides at most the cycles of what runs
after the first half's put, and never more than half the puts' time: the second half's put stays exposed.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import memref

from swmlir.attrs import STREAMED_ATTR   # on the halves' dma_put ops (swmlir.sim.mix reads it)

from . import register_pass
from ._util import block_ops, collect, constant_int, ensure_sunway, funcs, index_const

_PURE = ("memref.subview", "arith.constant", "arith.addi", "arith.muli", "arith.subi", "arith.select",
         "arith.cmpi", "arith.divsi", "sunway.cpe_row", "sunway.cpe_col", "sunway.cpe_id", "sunway.cg_id")


def _offset_from(v: ir.Value, iv: ir.Value) -> int | None:
    """c when v is iv + c (c a constant, through arith.addi), None otherwise."""
    if v == iv:
        return 0
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "arith.addi":
        return None
    a, b = owner.operation.operands
    for x, y in ((a, b), (b, a)):
        k = constant_int(y)
        if k is not None:
            inner = _offset_from(x, iv)
            if inner is not None:
                return inner + k
    return None


def _depends_on(v: ir.Value, iv: ir.Value) -> bool:
    if v == iv:
        return True
    owner = v.owner
    if isinstance(owner, ir.Block):
        return False
    return any(_depends_on(x, iv) for x in owner.operation.operands)


def _split_dim(nest: ir.Operation, buf: ir.Value) -> int | None:
    """The dimension of `buf` that the nest's outer loop walks (every access `iv + c`, 0 <= c < step, no other
    dimension moved by iv), or None when the nest does not qualify."""
    iv = nest.regions[0].blocks[0].arguments[0]
    step = constant_int(nest.operands[2])
    if step is None or len(nest.results):
        return None
    dims = set()
    stores = 0

    def visit(op: ir.Operation) -> bool:
        nonlocal stores
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    if not visit(inner.operation):
                        return False
        name = op.name
        if name in ("vector.store", "memref.store"):
            if op.operands[1] != buf:
                return False   # a nest that stores elsewhere is not moved
            stores += 1
            indices = list(op.operands)[2:]
        elif name in ("vector.load", "memref.load"):
            if op.operands[0] != buf:
                return True
            indices = list(op.operands)[1:]
        else:
            if buf in list(op.operands) or name.startswith("sunway.") or name == "func.call":
                return False
            return True
        moved = [k for k, x in enumerate(indices) if _depends_on(x, iv)]
        if len(moved) != 1:
            return False
        c = _offset_from(indices[moved[0]], iv)
        if c is None or not 0 <= c < step:
            return False
        dims.add(moved[0])
        return True

    if not visit(nest) or stores == 0 or len(dims) != 1:
        return None
    return dims.pop()


_MOVABLE = ("sunway.dma_get", "sunway.dma_wait", "sunway.mesh_allgather", "sunway.ldm_alloc")   # an epilogue's operand fetched


def _root(v: ir.Value) -> ir.Value:
    """The buffer under a view (subview, cast, reshape chains)."""
    while not isinstance(v.owner, ir.Block) and v.owner.operation.name in _VIEWS:
        v = v.owner.operation.operands[0]
    return v


_VIEWS = ("memref.subview", "memref.cast", "memref.collapse_shape", "memref.expand_shape",
          "memref.reinterpret_cast")


def _buffers_used(op: ir.Operation) -> set:
    """The buffers (roots of the memref values) that `op` and the ops nested in it use."""
    used = {_root(v) for v in op.operands if isinstance(v.type, ir.MemRefType)}
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                used |= _buffers_used(inner.operation)
    return used


def _chain(put: ir.Operation) -> tuple[list[ir.Operation], list[ir.Operation], int] | None:
    """(nests right before `put` that write its source, earliest first; the ops between them that move before
    them, in program order; split dim). Between the nests may stand pure index and view ops, and the fetch of an
    epilogue's operand (a bias tile: its get, wait and mesh allgather) that no earlier nest of the chain uses."""
    src = put.operands[0]
    ops = block_ops(put.block)
    i = ops.index(put)
    after = next((o for o in ops[i + 1:] if o.name != "arith.constant"), None)
    if after is None or after.name != "sunway.dma_wait" or after.operands[0] != put.operands[2]:
        return None
    nests, between, pending, dims = [], [], [], set()
    for op in reversed(ops[:i]):
        if (op.name in _PURE or op.name in _MOVABLE) and src not in list(op.operands):
            pending.append(op)
            continue
        if op.name != "scf.for":
            break
        d = _split_dim(op, src)
        if d is None:
            break
        used = _buffers_used(op)
        if any(_root(v) in used for p in pending if p.name in _MOVABLE for v in p.operands
               if isinstance(v.type, ir.MemRefType)):
            break   # this nest uses a buffer a later fetch touches (through any view): it cannot move before it
        nests.append(op)
        dims.add(d)
        between += pending
        pending = []
    if not nests or len(dims) != 1:
        return None
    dim = dims.pop()
    if any(n != 1 for n in ir.MemRefType(src.type).shape[:dim]):
        return None   # each half must be contiguous in LDM: a DMA's LDM side is one run
    between.sort(key=lambda o: ops.index(o))
    return list(reversed(nests)), between, dim


def _middle(nests: list[ir.Operation], size: int) -> int | None:
    """A split point near size/2 that is on every nest's step grid (or outside its range)."""
    for mid in sorted(range(1, size), key=lambda m: abs(2 * m - size)):
        ok = True
        for n in nests:
            lb, ub, step = (constant_int(v) for v in n.operands[:3])
            if lb is None or ub is None:
                return None
            if lb < mid < ub and (mid - lb) % step:
                ok = False
                break
        if ok:
            return mid
    return None


def _half(buf: ir.Value, dst: ir.Value, dim: int, lo: int, hi: int) -> tuple[ir.Value, ir.Value]:
    shape = list(ir.MemRefType(buf.type).shape)
    offsets = [0] * len(shape)
    offsets[dim] = lo
    sizes = list(shape)
    sizes[dim] = hi - lo
    ones = [1] * len(shape)
    return memref.subview(buf, offsets, sizes, ones), memref.subview(dst, offsets, sizes, ones)


def _stream(put: ir.Operation, nests: list[ir.Operation], pure: list[ir.Operation], dim: int) -> bool:
    buf, dst, reply = put.operands[0], put.operands[1], put.operands[2]
    size = ir.MemRefType(buf.type).shape[dim]
    mid = _middle(nests, size)
    if mid is None:
        return False
    for op in pure:                    # the destination's view, its indices, an epilogue's fetch: before the nests
        op.move_before(nests[0])
    firsts, seconds = [], []
    for n in nests:
        lb, ub = constant_int(n.operands[0]), constant_int(n.operands[1])
        if ub <= mid:
            firsts.append(n)
        elif lb >= mid:
            seconds.append(n)
        else:
            second = n.clone(ir.InsertionPoint(put))
            with ir.InsertionPoint(n), n.location:
                n.operands[1] = index_const(mid)
                second.operands[0] = index_const(mid)
            firsts.append(n)
            seconds.append(second)
    if not firsts or not seconds:
        return False
    anchor = put
    for n in seconds:                  # order: first halves, put, second halves, put
        n.move_before(anchor)
    for n in firsts:
        n.move_before(seconds[0])
    with ir.InsertionPoint(seconds[0]), put.location:
        a, b = _half(buf, dst, dim, 0, mid)
        first_put = ir.Operation.create("sunway.dma_put", operands=[a, b, reply])
    with ir.InsertionPoint(put), put.location:
        a, b = _half(buf, dst, dim, mid, size)
        second_put = ir.Operation.create("sunway.dma_put", operands=[a, b, reply])
    for p in (first_put, second_put):
        p.attributes[STREAMED_ATTR] = ir.UnitAttr.get()
    put.erase()
    return True


@register_pass("sunway-stream-puts",
               "Split the loop nests that write an output tile last in two and put each half when it is done")
def stream_puts(module: ir.Operation) -> None:
    ensure_sunway(module)
    for kfn in funcs(module, kernels=True):
        for put in collect(kfn, "sunway.dma_put"):
            src = put.operands[0]
            if isinstance(src.owner, ir.Block) or src.owner.operation.name != "sunway.ldm_alloc":
                continue
            if STREAMED_ATTR in put.attributes:
                continue
            found = _chain(put)
            if found:
                _stream(put, *found)
