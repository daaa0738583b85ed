"""sunway-fetch-halos: a conv (or pool) reads the unpadded input with its halo; the pad kernel disappears.

A padded input costs a kernel of its own: every byte of the input read once and written once more, padded, to
main memory, then read again by the conv, plus a launch. Here the conv's work item fetches the window of the
*unpadded* source that its padded window covers instead, and pads it in LDM:

    stage = the window clamped into the source: a static box (rows of the source, whole where the window
            spans the padded dimension), its start clamped so that it always lies inside the source
    T     = an LDM tile filled with the pad value, then the stage copied into it at a run-time offset
            (where the window meets the border, the clamped box lands shifted and the border stays padding)
    the op reads T through its own indexing map shifted by a constant E per dimension

For a padded dimension of source size H, pads lo/hi and window S, the stage is F = min(S, H) wide, starts at
s = clamp(o - lo, 0, H - F) for the window at padded offset o, and lands at t0 = s - (o - lo) + E in T, with
E = max(0, hi + F - S) and T = max(E + S, lo + E + F): t0 stays in [0, T - F] for every o. The bytes fetched
are the window's share of the source once per use, in the source's own rows; the pad value is written in LDM.
sunway-schedule decides which pads are fetched this way (`swmlir.halo_pad`) and sizes the tiles with the stage
and T in LDM (swmlir.schedule.loop_nest.Operand.halo); this pass rewrites the staged tiles and erases the pads.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, linalg, tensor
from mlir.dialects import bufferization as bz

from swmlir.errors import ScheduleError
from swmlir.schedule.loop_nest import static_slice
from swmlir.schedule.pads import HALO_ATTR, halo_geometry, widened_dims

from . import register_pass
from ._util import as_operation, collect, defining_op, funcs, index_const, static_ints

_DYNAMIC = ir.ShapedType.get_dynamic_stride_or_offset()


def _window(mat: ir.Operation, pad_result: ir.Value):
    """Per extract_slice of the chain from `pad_result` to the window `mat` stages, its offsets (ints or index
    values), when that source is a chain of unit-stride slices of `pad_result`; None otherwise."""
    v = mat.operands[0]
    if v == pad_result:   # the whole padded tensor in one tile
        return [[0] * v.type.rank]
    chain: list = []
    while True:
        op = defining_op(v)
        if op is None or op.name != "tensor.extract_slice":
            return None
        if any(s != 1 for s in static_ints(op, "static_strides")) or op.operands[0].type.rank != v.type.rank:
            return None
        static = static_ints(op, "static_offsets")
        dyn = iter(list(op.operands)[1:])
        chain.append([next(dyn) if s == _DYNAMIC else s for s in static])
        v = op.operands[0]
        if v == pad_result:
            return chain


def _add(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(a, int) and a == 0:
        return b
    if isinstance(b, int) and b == 0:
        return a
    return arith.AddIOp(a if not isinstance(a, int) else index_const(a),
                        b if not isinstance(b, int) else index_const(b)).result


def _clamp(o, lo: int, limit: int):
    """clamp(o - lo, 0, limit), folded when `o` is static."""
    if isinstance(o, int):
        return min(max(o - lo, 0), limit)
    if limit == 0:
        return 0
    x = arith.SubIOp(o, index_const(lo)).result if lo else o
    x = arith.MaxSIOp(x, index_const(0)).result
    return arith.MinSIOp(x, index_const(limit)).result


def _landing(s, o, lo: int, e: int):
    """t0 = s - (o - lo) + E."""
    if isinstance(s, int) and isinstance(o, int):
        return s - o + lo + e
    sv = s if not isinstance(s, int) else index_const(s)
    ov = o if not isinstance(o, int) else index_const(o)
    return arith.SubIOp(arith.AddIOp(sv, index_const(lo + e)).result, ov).result


def _first_reader(mat: ir.Operation) -> ir.Operation:
    """The first op of `mat`'s block that reads its result (`mat` itself when none does)."""
    users = [as_operation(u.owner) for u in mat.results[0].uses]
    after = False
    for o in mat.block.operations:
        op = o.operation
        after = after or op == mat
        if after and any(op == u for u in users):
            return op
    return mat


def _mixed(values: list) -> tuple[list[ir.Value], list[int]]:
    dyn = [v for v in values if not isinstance(v, int)]
    return dyn, [v if isinstance(v, int) else _DYNAMIC for v in values]


def _shift_map(op: ir.Operation, operand: int, shift: list[int]) -> None:
    """Add `shift[d]` to result d of the indexing map of `operand` in linalg.generic `op`."""
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    m = maps[operand]
    results = [e + ir.AffineConstantExpr.get(k) if k else e for e, k in zip(m.results, shift)]
    maps[operand] = ir.AffineMap.get(m.n_dims, m.n_symbols, results)
    op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(x) for x in maps])


def _shiftable(op: ir.Operation, operand: int, window: list[int], tile: list[int]) -> bool:
    """The op may read the whole padded tile through its shifted map: linalg infers the loop sizes from the
    dimensions indexed by a bare loop, so those must keep the window's size."""
    m = ir.AffineMapAttr(op.attributes["indexing_maps"][operand]).value
    return all(w == t or not isinstance(e, ir.AffineDimExpr) for e, w, t in zip(m.results, window, tile))


def _rewrite(mat: ir.Operation, pad: ir.Operation, chain: list) -> None:
    src = pad.operands[0]
    low, high = static_ints(pad, "static_low"), static_ints(pad, "static_high")
    window = list(mat.results[0].type.shape)
    elem = src.type.element_type
    dest = defining_op(mat.operands[1])
    space = dest.attributes["memory_space"]
    block = pad.regions[0].blocks[0]
    pad_value = block.operations[len(block.operations) - 1].operation.operands[0]
    geo = [halo_geometry(h, w, lo, hi) for h, w, lo, hi in zip(src.type.shape, window, low, high)]
    with ir.InsertionPoint(mat), mat.location:
        offsets = chain[0]
        for here in chain[1:]:
            offsets = [_add(a, b) for a, b in zip(offsets, here)]
        starts = [_clamp(o, lo, h - f) if lo or hi else o
                  for o, lo, hi, h, (f, _, _) in zip(offsets, low, high, src.type.shape, geo)]
        fetched = [f for f, _, _ in geo]
        base = static_slice(src)
        wide = widened_dims(fetched, list(src.type.shape), list(base[0].type.shape) if base else None)
        if wide:   # whole rows of the tensor the source is a slice of; the source's part is copied out of them
            base_v, base_offsets, _ = base
            sizes = [base_v.type.shape[d] if d in wide else f for d, f in enumerate(fetched)]
            starts_in_base = [0 if d in wide else _add(s, base_offsets[d]) for d, s in enumerate(starts)]
        else:
            base_v, sizes, starts_in_base = src, fetched, starts
        stage_t = ir.RankedTensorType.get(sizes, elem)
        dyn, static = _mixed(starts_in_base)
        box = tensor.ExtractSliceOp(stage_t, base_v, dyn, [], [], static, sizes, [1] * len(geo)).result
        stage = bz.MaterializeInDestinationOp(stage_t, box, bz.AllocTensorOp(stage_t, [], memory_space=space).result)

    # T is built right before its reader, after the op's other tiles are fetched: their DMAs then share one wait
    # (and sunway-double-buffer sees gets, one wait, then compute)
    reader = _first_reader(mat)
    with ir.InsertionPoint(reader), mat.location:
        part = stage.result
        if wide:
            part = tensor.ExtractSliceOp(ir.RankedTensorType.get(fetched, elem), part, [], [], [],
                                         [base_offsets[d] if d in wide else 0 for d in range(len(geo))], fetched,
                                         [1] * len(geo)).result
        tile_t = ir.RankedTensorType.get([t for _, _, t in geo], elem)
        tile = bz.AllocTensorOp(tile_t, [], memory_space=space).result
        filled = linalg.fill(pad_value, outs=[tile])
        lands = [_landing(s, o, lo, e) if lo or hi else 0
                 for s, o, lo, hi, (_, e, _) in zip(starts, offsets, low, high, geo)]
        dyn, static = _mixed(lands)
        padded = tensor.InsertSliceOp(part, filled, dyn, [], [], static, [f for f, _, _ in geo],
                                      [1] * len(geo)).result
    shift = [e for _, e, _ in geo]
    view = None
    for use in list(mat.results[0].uses):
        user = as_operation(use.owner)
        n_in = len(user.operands) - len(user.results)
        if user.name == "linalg.generic" and use.operand_number < n_in \
                and _shiftable(user, use.operand_number, window, [t for _, _, t in geo]):
            user.operands[use.operand_number] = padded
            _shift_map(user, use.operand_number, shift)
            continue
        if view is None:   # any other reader gets the window of T as a view
            with ir.InsertionPoint(reader), mat.location:
                view = tensor.ExtractSliceOp(mat.results[0].type, padded, [], [], [], shift, window,
                                             [1] * len(geo)).result
        user.operands[use.operand_number] = view
    chain = defining_op(mat.operands[0])
    mat.erase()
    if not len(list(dest.results[0].uses)):
        dest.erase()
    while chain is not None and chain.name == "tensor.extract_slice" and not len(list(chain.results[0].uses)):
        nxt = defining_op(chain.operands[0])
        chain.erase()
        chain = nxt


@register_pass("sunway-fetch-halos",
               "Convs and pools read the unpadded input with its halo: the window clamped into the source is "
               "fetched and padded in LDM, and the pad (a kernel of its own) is erased")
def fetch_halos(module: ir.Operation) -> None:
    for f in funcs(module, kernels=False):
        pads = [p for p in collect(f, "tensor.pad") if HALO_ATTR in p.attributes]
        mats = collect(f, "bufferization.materialize_in_destination") if pads else []
        for mat in mats:
            for pad in pads:
                chain = _window(mat, pad.results[0])
                if chain is not None:
                    _rewrite(mat, pad, chain)
                    break
        for pad in pads:
            if len(list(pad.results[0].uses)):
                node = pad.location.name_str if pad.location.is_a_name() else "pad"
                raise ScheduleError("a pad marked for halo fetching is still read outside an LDM tile",
                                    op="tensor.pad", node=node)
            pad.erase()

