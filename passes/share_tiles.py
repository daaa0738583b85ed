"""sunway-share-tiles: a tile that the 8 CPEs of a mesh row (or column) fetch at the same time is fetched once.

CPE c runs work items t = c, c + 64, ... (sunway-map-cpes), so in its j-th iteration the CPEs of row r hold the
items 64 j + 8 r + p, p = 0..7, and those of column p the items 64 j + 8 r + p, r = 0..7. When a DMA get's source
view is the same for all 8 members of every row (column), each of them fetching the whole tile moves it 8 times
through the memory controller, the scarce resource of a core group. This pass proves that by evaluating the view's
address for every work item (exact: the arithmetic of the view is evaluated with numpy over all items, and the
tile must be the same within every row or column group), then rewrites the get: the CPE at position p of its row
fetches only slice p of the tile (1/8 along the tile's first non-unit dimension) on a reply word of its own, and
before the tile is first used, waits for it and runs `sunway.mesh_allgather`, after which all 8 hold the tile
(register communication: 32-byte transfers between LDMs, no memory traffic).

Conditions, else the get is left alone: the target has register communication (SW26010); the loop is a
work-item loop with a static item count that keeps the group in step (a multiple of 8 for rows, of 64 for
columns), or the get precedes the loop (once per CPE); the view's address depends only on the work item, the
CPE id and the ivs of loops of static bounds nested in the item loop (a split-K loop: the group runs it in
step); the tile's first non-unit extent divides by 8; a wait on the get's reply follows it in the same block.
Kernels whose loops sunway-double-buffer rewrote are not touched (the schedule chooses one or the other).
"""
from __future__ import annotations


import numpy as np
from mlir import ir
from mlir.dialects import arith

from swmlir.targets import get_target

from . import register_pass
from ._util import collect, constant_int, ensure_sunway, funcs, index_const, is_work_item_start

ROW, COL = 0, 1
_MESH = 8


# ---- exact evaluation of index arithmetic over all work items -------------------------------------------------

def _affine(expr: ir.AffineExpr, dims: list, syms: list):
    e = expr.maybe_downcast()
    for cls, fn in ((ir.AffineAddExpr, np.add), (ir.AffineMulExpr, np.multiply), (ir.AffineModExpr, np.mod),
                    (ir.AffineFloorDivExpr, np.floor_divide),
                    (ir.AffineCeilDivExpr, lambda a, b: -np.floor_divide(-a, b))):
        if isinstance(e, cls):
            a, b = _affine(e.lhs, dims, syms), _affine(e.rhs, dims, syms)
            return None if a is None or b is None else fn(a, b)
    if isinstance(e, ir.AffineDimExpr):
        return dims[e.position]
    if isinstance(e, ir.AffineSymbolExpr):
        return syms[e.position]
    if isinstance(e, ir.AffineConstantExpr):
        return np.int64(e.value)
    return None


def _trunc_div(a, b):
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


_BINARY = {"arith.addi": np.add, "arith.subi": np.subtract, "arith.muli": np.multiply,
           "arith.divsi": _trunc_div, "arith.divui": np.floor_divide, "arith.floordivsi": np.floor_divide,
           "arith.remsi": lambda a, b: a - b * _trunc_div(a, b), "arith.remui": np.mod,
           "arith.minsi": np.minimum, "arith.maxsi": np.maximum,
           "arith.ceildivsi": lambda a, b: -np.floor_divide(-a, b)}


def evaluate(v: ir.Value, env: dict):
    """The value of index `v` as a numpy array over the work items (`env` holds the loop iv and the CPE id), or
    None if it depends on anything else (another loop's iv, a load) or on an op not understood here."""
    if v in env:
        return env[v]
    owner = v.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation
    c = constant_int(v)
    if c is not None:
        return np.int64(c)
    if op.name in _BINARY:
        a, b = evaluate(op.operands[0], env), evaluate(op.operands[1], env)
        if a is None or b is None or (op.name not in ("arith.addi", "arith.subi", "arith.muli", "arith.minsi",
                                                      "arith.maxsi") and np.any(b == 0)):
            return None
        out = _BINARY[op.name](a, b)
    elif op.name in ("arith.index_cast", "arith.index_castui"):
        out = evaluate(op.operands[0], env)
    elif op.name == "affine.apply":
        amap = ir.AffineMapAttr(op.attributes["map"]).value
        vals = [evaluate(o, env) for o in op.operands]
        if any(x is None for x in vals):
            return None
        out = _affine(amap.results[0], vals[:amap.n_dims], vals[amap.n_dims:])
    elif op.name == "sunway.cpe_col" and "cpe" in env:
        out = env["cpe"] % _MESH
    elif op.name == "sunway.cpe_row" and "cpe" in env:
        out = env["cpe"] // _MESH
    else:
        return None
    env[v] = out
    return out


def view_address(view: ir.Value, env: dict):
    """Element offset of `view` in its whole buffer, over the work items; None where not computable."""
    off = np.int64(0)
    v = view
    while True:
        owner = v.owner
        if isinstance(owner, ir.Block):
            return off
        op = owner.operation
        if op.name in ("memref.get_global", "memref.alloca", "memref.alloc"):
            return off
        if op.name in ("memref.cast", "memref.collapse_shape", "memref.expand_shape"):
            v = op.operands[0]
            continue
        if op.name != "memref.subview":
            return None
        strides, _ = op.operands[0].type.get_strides_and_offset()
        dyn = iter(op.operands[1:])
        dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
        for o, st in zip(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]), strides):
            x = evaluate(next(dyn), env) if o == dynamic else np.int64(o)
            if x is None:
                return None
            off = off + x * st
        v = op.operands[0]


def shared_axis(address, items: int | None) -> int | None:
    """ROW or COL when the address is the same within every row (column) group, None otherwise. `items`: the
    work-item count of the loop (axis 0 of the address runs over items 0..items-1, further axes over the
    iterations of loops nested in the item loop, which the group runs in step), None for a get before the loop
    (axis 0 over the 64 CPEs)."""
    a = np.asarray(address, dtype=np.int64)
    n = items if items is not None else 64
    a = np.broadcast_to(a.reshape(a.shape or (1,)), (n,) + a.shape[1:])
    rest = a.shape[1:]
    if items is None:
        grid = a.reshape((_MESH, _MESH) + rest)                 # [row, column, ...]
        if np.all(grid == grid[:, :1]):
            return ROW
        if np.all(grid == grid[:1, :]):
            return COL
        return None
    if n % _MESH == 0:
        g = a.reshape((-1, _MESH) + rest)                       # [row group, position, ...]
        if np.all(g == g[:, :1]):
            return ROW
    if n % (_MESH * _MESH) == 0:
        g = a.reshape((-1, _MESH, _MESH) + rest)                # [round, row, column, ...]
        if np.all(g == g[:, :1]):
            return COL
    return None


# ---- the rewrite ------------------------------------------------------------------------------------------------

def _slice_dim(shape: list[int]) -> int | None:
    """The dimension split into 8 slices: the first of extent > 1, if it divides by 8 (slices then contiguous)."""
    for d, n in enumerate(shape):
        if n > 1:
            return d if n % _MESH == 0 else None
    return None


def _slice_type(t: ir.MemRefType, dim: int) -> ir.MemRefType:
    strides, _ = t.get_strides_and_offset()
    shape = list(t.shape)
    shape[dim] //= _MESH
    layout = ir.StridedLayoutAttr.get(ir.ShapedType.get_dynamic_stride_or_offset(), strides)
    return ir.MemRefType.get(shape, t.element_type, layout, t.memory_space)


def _slice(view: ir.Value, dim: int, start: ir.Value) -> ir.Value:
    t = view.type
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    offsets = [dynamic if d == dim else 0 for d in range(t.rank)]
    sizes = [n // _MESH if d == dim else n for d, n in enumerate(t.shape)]
    return ir.Operation.create(
        "memref.subview", results=[_slice_type(t, dim)], operands=[view, start],
        attributes={"static_offsets": ir.DenseI64ArrayAttr.get(offsets),
                    "static_sizes": ir.DenseI64ArrayAttr.get(sizes),
                    "static_strides": ir.DenseI64ArrayAttr.get([1] * t.rank),
                    "operandSegmentSizes": ir.DenseI32ArrayAttr.get([1, 1, 0, 0])}).results[0]


def share(get: ir.Operation, axis: int) -> ir.Operation | None:
    """Replace `get` by the get of this CPE's slice (same reply word); returns the new get, or None when the
    tile cannot be sliced."""
    src, dst = get.operands[0], get.operands[1]
    dim = _slice_dim(list(dst.type.shape))
    alloc = None if isinstance(dst.owner, ir.Block) else dst.owner.operation
    if dim is None or alloc is None or alloc.name != "sunway.ldm_alloc":
        return None
    with ir.InsertionPoint(get), get.location:
        pos = ir.Operation.create("sunway.cpe_col" if axis == ROW else "sunway.cpe_row",
                                  results=[ir.IndexType.get()]).results[0]
        start = arith.MulIOp(pos, index_const(dst.type.shape[dim] // _MESH)).result
        new = ir.Operation.create("sunway.dma_get", operands=[_slice(src, dim, start), _slice(dst, dim, start),
                                                               get.operands[2]])
    get.erase()
    return new


def _gather_after_waits(kfn: ir.Operation, shared: list) -> None:
    """After each wait that completes sliced gets (in program order: the gets on its reply word issued since
    the previous wait on it, a loop body read once, as sunway-double-buffer's prologue / loop / epilogue are),
    gather their buffers. `shared`: (sliced get, buffer, axis)."""
    pending: list = []   # (reply, buffer, axis) of sliced gets not waited for yet
    for op in collect(kfn, ("sunway.dma_get", "sunway.dma_wait")):
        if op.name == "sunway.dma_get":
            pending += [(op.operands[2], buf, axis) for g, buf, axis in shared if g == op]
            continue
        done = [p for p in pending if p[0] == op.operands[0]]
        pending = [p for p in pending if p[0] != op.operands[0]]
        i64 = ir.IntegerType.get_signless(64)
        for _, buf, axis in reversed(done):
            dim = _slice_dim(list(buf.type.shape))
            with ir.InsertionPoint.after(op), op.location:
                ir.Operation.create("sunway.mesh_allgather", operands=[buf],
                                    attributes={"axis": ir.IntegerAttr.get(i64, axis),
                                                "dim": ir.IntegerAttr.get(i64, dim)})


def _work_item_loop(kfn: ir.Operation, cpe: ir.Value, step: int = 64) -> ir.Operation | None:
    for op in kfn.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "scf.for" and (op.operands[0] == cpe or (step > 64 and is_work_item_start(op.operands[0]))) \
                and constant_int(op.operands[2]) == step and constant_int(op.operands[1]) is not None:
            return op
    return None


def share_kernel(kfn: ir.Operation, target: str = "sw26010") -> int:
    """Rewrite the shareable gets of one kernel; returns how many."""
    entry = kfn.regions[0].blocks[0]
    ids = [o.operation for o in entry.operations if o.operation.name == "sunway.cpe_id"]
    if len(ids) != 1 or any(collect(branch, "sunway.dma_wait") for branch in collect(kfn, "scf.if")):
        return 0   # a gather after a wait in a branch could be reached by part of a row only
    cpe = ids[0].results[0]
    # on several core groups (sunway.cg_id: items dealt by the global id cg * 64 + cpe, step cgs * 64) the
    # groups are the rows and columns of each CG's mesh: 8 (64) consecutive global ids, as 8 (64) consecutive
    # items of one round
    cg_ids = [o.operation for o in entry.operations if o.operation.name == "sunway.cg_id"]
    if len(cg_ids) > 1:
        return 0
    cg = cg_ids[0].results[0] if cg_ids else None
    n_cgs = max(1, get_target(target).cgs) if cg is not None else 1
    candidates = []   # (get, axis)
    # gets before the work-item loop: once per CPE, every CPE of the core group(s) runs them
    cpes = np.arange(64 * n_cgs, dtype=np.int64)
    env0 = {cpe: cpes % 64, "cpe": cpes % 64}
    if cg is not None:
        env0[cg] = cpes // 64
    for get in [o.operation for o in entry.operations if o.operation.name == "sunway.dma_get"]:
        addr = view_address(get.operands[0], dict(env0))
        candidates.append((get, None if addr is None else shared_axis(addr, None if cg is None else cpes.size)))
    loop = _work_item_loop(kfn, cpe, 64 * n_cgs)
    if loop is not None and constant_int(loop.operands[1]) <= 1 << 22:
        items = constant_int(loop.operands[1])
        t = np.arange(items, dtype=np.int64)
        env = {loop.regions[0].blocks[0].arguments[0]: t, cpe: t % 64, "cpe": t % 64}
        if cg is not None:
            env.update({cg: (t // 64) % n_cgs, loop.operands[0]: t % (64 * n_cgs)})
        for get, env in _gets_in(loop, env, 1):
            addr = view_address(get.operands[0], env)
            candidates.append((get, None if addr is None else shared_axis(addr, items)))
    shared = []
    for get, axis in candidates:
        buf = get.operands[1]
        new = share(get, axis) if axis is not None else None
        if new is not None:
            shared.append((new, buf, axis))
    _gather_after_waits(kfn, shared)
    return len(shared)


def _gets_in(loop: ir.Operation, env: dict, depth: int, budget: int = 1 << 22):
    """(get, environment) of the gets in `loop` and in the loops of static bounds nested in it: each nested
    loop's iv is bound to its iterations along a new axis (the row or column runs them in step)."""
    size = max(v.size for v in env.values() if isinstance(v, np.ndarray))
    for op in loop.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "sunway.dma_get":
            yield op, env
        elif op.name == "scf.for":
            lb, ub, step = (constant_int(v) for v in op.operands[:3])
            if None in (lb, ub, step) or step <= 0 or size * max(1, -(-(ub - lb) // step)) > budget:
                continue
            iters = np.arange(lb, ub, step, dtype=np.int64).reshape((1,) * depth + (-1,))
            inner = {k: (np.expand_dims(v, -1) if isinstance(v, np.ndarray) and v.ndim == depth else v)
                     for k, v in env.items()}
            inner[op.regions[0].blocks[0].arguments[0]] = iters
            yield from _gets_in(op, inner, depth + 1, budget)


@register_pass("sunway-share-tiles",
               "Fetch a tile that a mesh row or column needs at once only once, and share it by register "
               "communication",
               options={"target": ("sw26010", "only targets with register communication are rewritten")},
               nestable=True)
def share_tiles(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    if get_target(target).mesh_comm != "rlc":
        return
    for kfn in funcs(module, kernels=True):
        n = share_kernel(kfn, target)
        if n:
            i64 = ir.IntegerType.get_signless(64)
            kfn.attributes["sunway.shared_tiles"] = ir.IntegerAttr.get(i64, n)
