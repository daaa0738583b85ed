"""sunway-schedule: distribute every linalg op over the CPEs of a core group and tile it into the LDM.

The work is done by upstream transforms; this pass only decides the tile sizes (swmlir.schedule.tiling) and writes
the transform script that applies them:
  0. a constant pad whose padded planes fit in LDM becomes one kernel (swmlir.schedule.pads): `tile_using_forall`
     of the tensor.pad over its unpadded leading dimensions, its source promoted to LDM; bufferization then pads
     in LDM and puts whole planes;
  1. decompose the other tensor.pad and tensor.concat and turn tensor.insert_slice into linalg.copy, so that every
     byte moved in main memory is moved by a tileable linalg op (and so by the CPEs, through DMA);
  2. generalize named ops, so that tiling reads every op's iteration space the same way;
  3. per op: `tile_using_forall` (one forall iteration = one work item of a CPE), optionally `tile_using_for` over
     reduction loops, and `promote_tensor to 2` on each tensor operand of the tile (memory space 2 = LDM).
The forall carries `swmlir.node` (the ONNX node) and `swmlir.tiles` for later stages and error messages.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from mlir import ir
from mlir.passmanager import PassManager

from swmlir.errors import ScheduleError
from swmlir.schedule.fusion import Group, form_groups, is_leading_identity, nests_of, parallel_loops
from swmlir.schedule.loop_nest import elem_bytes, expr_dims, halo_of, is_weight, loop_nest_of, static_slice
from swmlir.schedule.pads import HALO_ATTR, PadTiles, choose_pad_tiles
from swmlir.schedule.tiling import TileChoice, choose_tiles, choose_tiles_by_model
from swmlir.targets import get_target
from swmlir.tune.hook import ACTIVE as _TUNER

from . import register_pass
from ._util import apply_transform, as_operation, collect, defined_inside, static_ints, transform_main

_PREPARE = """
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %funcs = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.tensor.decompose_concat
    } : !transform.any_op
    // pads not computed whole in LDM (schedule_pads): an empty, a fill and an insert_slice
    %pads = transform.structured.match ops{["tensor.pad"]} attributes{swmlir.decompose_pad} in %root
      : (!transform.any_op) -> !transform.any_op
    transform.foreach %pads : !transform.any_op {
    ^bb0(%p: !transform.any_op):
      %d = transform.structured.rewrite_in_destination_passing_style %p : (!transform.any_op) -> !transform.any_op
    }
    // insert_slice_to_copy leaves an insert_slice alone when its source is a linalg.copy: generalize those first
    %copies = transform.structured.match ops{["linalg.copy"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %copies : !transform.any_op {
    ^bb0(%c: !transform.any_op):
      %g = transform.structured.generalize %c : (!transform.any_op) -> !transform.any_op
    }
    %ins = transform.structured.match ops{["tensor.insert_slice"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %ins : !transform.any_op {
    ^bb0(%i: !transform.any_op):
      %c = transform.structured.insert_slice_to_copy %i : (!transform.any_op) -> !transform.any_op
    }
    transform.yield
  }
}
"""


_ERASE_UNREAD_INPUTS = """
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %funcs = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.linalg.erase_unnecessary_inputs
    } : !transform.any_op
    transform.yield
  }
}
"""


def _copy_returned_slices(module: ir.Operation) -> None:
    """A returned tensor.extract_slice (a strided view) would become a strided copy on the host: give it a
    linalg.copy into a fresh tensor, which is scheduled over the CPEs like every other copy."""
    from mlir.dialects import linalg as linalg_d
    from mlir.dialects import tensor as tensor_d
    for f in _funcs(module):
        block = f.regions[0].blocks[0]
        ret = block.operations[len(block.operations) - 1].operation
        for i, v in enumerate(ret.operands):
            p = v.owner
            while not isinstance(p, ir.Block) and p.operation.name in ("tensor.collapse_shape",
                                                                        "tensor.expand_shape"):
                p = p.operation.operands[0].owner
            if isinstance(p, ir.Block) or p.operation.name != "tensor.extract_slice":
                continue
            with ir.InsertionPoint(ret), ret.location:
                t = v.type
                out = tensor_d.EmptyOp(list(t.shape), t.element_type).result
                ret.operands[i] = linalg_d.copy(v, outs=[out])


def _contiguous(full: list[int], sizes: list[int]) -> bool:
    """A box of `sizes` in a row-major tensor of shape `full` is one run: whole in every dimension inside the
    first one it cuts, 1 in every dimension outside it."""
    cut = [d for d, (a, n) in enumerate(zip(full, sizes)) if a != n]
    return not cut or all(n == 1 for n in sizes[:cut[-1]])


def _copy_reshaped_slices(module: ir.Operation) -> None:
    """A reshape of a slice that is no contiguous run of its tensor (a conv computed a vector width wide, cut
    back, then its [C, H, W] collapsed to [C, H*W], as a ViT's patch embedding does) would bufferize to a strided
    copy on the host: the slice is copied by a linalg.copy into a fresh tensor first, scheduled over the CPEs
    like every other copy."""
    from mlir.dialects import linalg as linalg_d
    from mlir.dialects import tensor as tensor_d
    from swmlir.schedule.loop_nest import static_slice
    for f in _funcs(module):
        for op in list(f.regions[0].blocks[0].operations):
            op = op.operation
            if op.name not in ("tensor.collapse_shape", "tensor.expand_shape"):
                continue
            s = static_slice(op.operands[0])
            if s is None or _contiguous(list(s[0].type.shape), s[2]):
                continue
            with ir.InsertionPoint(op), op.location:
                t = op.operands[0].type
                out = tensor_d.EmptyOp(list(t.shape), t.element_type).result
                op.operands[0] = linalg_d.copy(op.operands[0], outs=[out])


def _untie(module: ir.Operation, ties) -> None:
    """Every use but the first of an op `ties(op)` selects gets a clone of its own."""
    for f in _funcs(module):
        for op in list(f.regions[0].blocks[0].operations):
            op = op.operation
            if not ties(op):
                continue
            for use in list(op.results[0].uses)[1:]:
                clone = op.clone(ir.InsertionPoint(op))
                as_operation(use.owner).operands[use.operand_number] = clone.results[0]


def _untie_empty_tensors(module: ir.Operation) -> None:
    """cse merges equal tensor.empty ops; two destinations built into one empty would make bufferization copy
    between them on the host. Every use gets its own tensor.empty."""
    _untie(module, lambda op: op.name == "tensor.empty" and not op.operands)


def _untie_fills(module: ir.Operation) -> None:
    """cse merges equal fills too (the zero accumulators of a norm's mean and variance): a fill with several
    readers could join none of their fusion groups and would be a kernel of its own, writing main memory for
    nothing. Every reader gets its own fill (then its own tensor.empty, _untie_empty_tensors)."""
    _untie(module, lambda op: op.name == "linalg.fill" and len(op.results) == 1)


def _linalg_ops(func_op: ir.Operation) -> list[ir.Operation]:
    """linalg ops directly in the function body (ops already inside a forall are scheduled)."""
    return [op.operation for op in func_op.regions[0].blocks[0].operations
            if op.operation.name.startswith("linalg.")]


def _funcs(module: ir.Operation) -> list[ir.Operation]:
    return [op.operation for op in module.regions[0].blocks[0].operations
            if op.operation.name == "func.func" and not op.operation.attributes.__contains__("sunway.kernel")]


def _node_name(op: ir.Operation) -> str:
    if "swmlir.node" in op.attributes:
        return ir.StringAttr(op.attributes["swmlir.node"]).value
    return op.name


def _swmlir_attrs(op: ir.Operation) -> dict:
    """The op's discardable swmlir.* attributes, and its node name as swmlir.node."""
    kept = {}
    for i in range(len(op.attributes)):
        a = op.attributes[i]
        if a.name.startswith("swmlir."):
            kept[a.name] = a.attr
    kept["swmlir.node"] = ir.StringAttr.get(_node_name(op))
    return kept


def _generalize_keeping_names(module: ir.Operation) -> None:
    """linalg-generalize-named-ops drops discardable attributes (the node name, swmlir.useful_fraction); ops are
    replaced in place, so order matches."""
    before = {f.attributes["sym_name"].__str__(): [_swmlir_attrs(o) for o in _linalg_ops(f)] for f in _funcs(module)}
    # No canonicalize here: it would erase generalized copies (identity generics) that must become kernels.
    PassManager.parse("builtin.module(func.func(linalg-generalize-named-ops))", module.context).run(module)
    _apply(module, _ERASE_UNREAD_INPUTS)
    for f in _funcs(module):
        names = before.get(f.attributes["sym_name"].__str__(), [])
        ops = _linalg_ops(f)
        if len(names) == len(ops):
            for op, attrs in zip(ops, names):
                for key, value in attrs.items():
                    op.attributes[key] = value


def _mapping(tile_sizes: list[int]) -> str:
    """A processor mapping for the forall of these tile sizes. Canonicalization folds single-iteration foralls
    unless they are mapped to processors; IRDL cannot define a mapping attribute, so the CPEs borrow gpu's linear
    thread ids."""
    n = sum(1 for t in tile_sizes if t)
    return ", ".join(f"#gpu.thread<linear_dim_{i}>" for i in range(n))


def _add_unit_parallel_loop(op: ir.Operation) -> None:
    """A full reduction (no parallel loop, rank-0 results) gets a leading loop of size 1, its results become
    tensor<1xT> (collapsed back to rank 0 after the op), so it can be put on a CPE like any other op."""
    from mlir.dialects import tensor as tensor_d

    n_res = len(op.results)
    n_in = len(op.operands) - n_res
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    n_dims = maps[0].n_dims
    new_maps = []
    for i, m in enumerate(maps):
        shifted = [e.shift_dims(n_dims, 1) for e in m.results]
        if i >= n_in:
            shifted = [ir.AffineDimExpr.get(0)] + shifted
        new_maps.append(ir.AffineMapAttr.get(ir.AffineMap.get(n_dims + 1, 0, shifted)))
    iters = list(op.attributes["iterator_types"])
    par = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    with ir.InsertionPoint(op), op.location:
        for i in range(n_in, len(op.operands)):
            v = op.operands[i]
            t = v.type
            expanded_t = ir.RankedTensorType.get([1], t.element_type)
            op.operands[i] = tensor_d.ExpandShapeOp(expanded_t, v, ir.ArrayAttr.get([]), [], [1]).result
    op.attributes["indexing_maps"] = ir.ArrayAttr.get(new_maps)
    op.attributes["iterator_types"] = ir.ArrayAttr.get([par] + iters)
    after = op
    for r in op.results:
        t = r.type
        r.set_type(ir.RankedTensorType.get([1], t.element_type))
        with ir.InsertionPoint.after(after), op.location:
            c = tensor_d.CollapseShapeOp(t, r, ir.ArrayAttr.get([]))
        r.replace_all_uses_except(c.result, c.operation)
        after = c.operation


def _lift_rank0_inputs(op: ir.Operation) -> None:
    """Rank-0 tensor inputs become tensor<1xT> read at index 0: C has no rank-0 arrays, and a one-element
    tile is staged in LDM like any other."""
    from mlir.dialects import tensor as tensor_d

    n_in = len(op.operands) - len(op.results)
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    changed = False
    for i in range(n_in):
        v = op.operands[i]
        if isinstance(v.type, ir.RankedTensorType) and v.type.rank == 0:
            with ir.InsertionPoint(op), op.location:
                t1 = ir.RankedTensorType.get([1], v.type.element_type)
                op.operands[i] = tensor_d.ExpandShapeOp(t1, v, ir.ArrayAttr.get([]), [], [1]).result
            maps[i] = ir.AffineMap.get(maps[i].n_dims, 0, [ir.AffineConstantExpr.get(0)])
            changed = True
    if changed:
        op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps])


def _script_for(idx: int, choice: TileChoice, promote: dict[int, list[int]], init_index: int,
                root_handle: str, member_handles: list[str], tiling: int = 0, root_loops: int | None = None,
                shared: frozenset[int] = frozenset(), extents: list[int] | None = None, dedupe: bool = False) -> str:
    """Transform IR for one group (root op `root_handle`, producers `member_handles`, nearest first).
    `promote` maps an op (0 = root, j = j-th member) to the operand numbers staged in LDM. `tiling` is the op
    whose loops `choice` is over (0 = the root; j: a contraction member, whose reduction loop is tiled inside
    the forall after every member is fused, so the epilogue runs on the finished accumulator); `init_index` is
    that op's init operand and `root_loops` the root's loop count. `shared`: the members (0-based, as
    `member_handles`) that several ops of the group read."""
    forall = choice.forall[:root_loops] if root_loops is not None else choice.forall
    if (shared or dedupe) and extents is not None:
        # a loop tiled whole is not a forall dimension: its slices then start at 0 for every reader, as the
        # slices of the readers that reduce over it do, and cse can merge them
        whole = [t if t != e else 0 for t, e in zip(forall, extents)]
        if any(whole):
            forall = whole
    lines = [
        f'%t{idx}, %fa{idx}_0 = transform.structured.tile_using_forall {root_handle} tile_sizes {forall}'
        f' (mapping = [{_mapping(forall)}]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)',
    ]
    handles = {0: f"%t{idx}"}
    for j, mh in enumerate(member_handles, start=1):
        if j - 1 in shared:
            # the readers of a producer with several readers in the group took the same slice of it: cse makes
            # that one slice, so the fusion computes the producer once for all of them (not once per reader)
            lines.append(f'transform.apply_cse to %fa{idx}_{j - 1} : !transform.any_op')
        lines += [
            f'%mf{idx}_{j}, %fa{idx}_{j} = transform.structured.fuse_into_containing_op {mh} into %fa{idx}_{j - 1}'
            f' : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)',
        ]
        handles[j] = f"%mf{idx}_{j}"
    if dedupe:
        # the readers of one input took the same slice of it: cse makes it one value, whose promotions
        # merge_repeated_promotions then makes one LDM tile
        lines.append(f'transform.apply_cse to %fa{idx}_{len(member_handles)} : !transform.any_op')
    promote = {j: list(promote.get(j, [])) for j in handles}
    if any(choice.reduction):
        # the accumulator lives in LDM across the reduction loop: promote it before tiling the reduction (a fused
        # fill of the init already computes it in an LDM tile of its own)
        if init_index in promote[tiling]:
            lines += [
                f'%acc{idx} = transform.get_operand {handles[tiling]}[{init_index}]'
                ' : (!transform.any_op) -> !transform.any_value',
                f'%pacc{idx} = transform.structured.promote_tensor to 2 %acc{idx} : !transform.any_value',
            ]
        loops = sum(1 for t in choice.reduction if t)   # one loop handle per tiled reduction loop
        lines += [
            f'%r{idx}, %rl{idx}:{loops} = transform.structured.tile_using_for {handles[tiling]} tile_sizes '
            f'{choice.reduction} : (!transform.any_op) -> (!transform.any_op{", !transform.any_op" * loops})',
        ]
        handles[tiling] = f"%r{idx}"
        promote[tiling] = [p for p in promote[tiling] if p != init_index]
    for j, handle in handles.items():
        for p in promote[j]:
            v = f"%v{idx}_{j}_{p}"
            lines += [
                f'{v} = transform.get_operand {handle}[{p}] : (!transform.any_op) -> !transform.any_value',
                f'%p{idx}_{j}_{p} = transform.structured.promote_tensor to 2 {v} : !transform.any_value',
            ]
    return "\n    ".join(lines)


def _i64(v: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), v)


def build_schedule(module: ir.Operation, target: str, fuse: bool = True,
                   tiles: str = "model") -> tuple[list[str], list[tuple[str, TileChoice]]]:
    """Form fusion groups, choose tiles for each, tag the ops, and return one transform script per group."""
    tgt = get_target(target)
    parts, chosen = [], []
    idx = 0
    fuse_id = 0
    for f in _funcs(module):
        for op in _linalg_ops(f):
            if op.name == "linalg.generic" and not any(parallel_loops(op)):
                _add_unit_parallel_loop(op)
            if op.name == "linalg.generic":
                _lift_rank0_inputs(op)
        ops = _linalg_ops(f)
        for op in ops:
            if op.name != "linalg.generic":
                raise ScheduleError(f"cannot schedule '{op.name}' (expected linalg.generic after generalization)",
                                    op=op.name, node=_node_name(op))
            try:
                nest = loop_nest_of(op)
            except ValueError as e:
                raise ScheduleError(str(e), op=op.name, node=_node_name(op)) from None
            if nest.negative_coefficients:
                # linalg's tiling asserts (and aborts the process) on such maps: refuse them here
                raise ScheduleError("an operand is read through a map with a negative coefficient (a reversal); "
                                    "linalg tiling does not support it", op=op.name, node=_node_name(op))
        groups = []
        for g in form_groups(ops, enabled=fuse):
            groups += _fit_or_split(g, tgt, tiles)
        for g, choice in groups:
            root = g.root
            root.attributes["swmlir.sched"] = _i64(idx)
            names = []
            for o in reversed(g.ops):
                if _node_name(o) not in names:
                    names.append(_node_name(o))
            root.attributes["swmlir.group"] = ir.StringAttr.get("+".join(names))
            root.attributes["swmlir.tiles"] = ir.StringAttr.get(choice.describe())
            for m in g.members:
                m.attributes["swmlir.fuse"] = _i64(fuse_id)
                fuse_id += 1
            promote = {j: g.external_operands(o) for j, o in enumerate(g.ops)}
            parts.append(_group_script(idx, choice, promote, g))
            chosen.append(("+".join(names), choice))
            idx += 1
    return parts, chosen


def _sequence(body: str) -> str:
    return transform_main(body)


def _group_script(idx: int, choice: TileChoice, promote: dict[int, list[int]], g: Group) -> str:
    """The transform script of one group. Each group is applied on its own: one script for the whole model
    makes the interpreter track every handle through every rewrite, which is quadratic in the op count."""
    head = [f'%g = transform.structured.match attributes{{swmlir.sched = {idx} : i64}} in %root'
            ' : (!transform.any_op) -> !transform.any_op']
    members = []
    for j, m in enumerate(g.members):
        fid = ir.IntegerAttr(m.attributes["swmlir.fuse"]).value
        head.append(f'%m{j} = transform.structured.match attributes{{swmlir.fuse = {fid} : i64}} in %root'
                    ' : (!transform.any_op) -> !transform.any_op')
        members.append(f"%m{j}")
    tiling_op = g.tiling_op(nests_of(g))
    tiling = next(j for j, o in enumerate(g.ops) if o == tiling_op)
    root_loops = len(ir.ArrayAttr(g.root.attributes["iterator_types"]))
    # cse before fusing a producer that several ops of the group read (after the member fused before it)
    shared = frozenset(k for k, m in enumerate(g.members) if len(list(m.results[0].uses)) > 1)
    return _sequence("\n    ".join(head) + "\n    " + _script_for(idx, choice, promote, len(tiling_op.operands) - 1,
                                                                "%g", members, tiling, root_loops, shared,
                                                                nests_of(g)[g.root].sizes, bool(g.repeated_reads())))


REPLY_WORDS_BYTES = 64


def tile_budget(tgt) -> int:
    """LDM bytes a work item's tiles may take: sunway-check-ldm also counts the DMA reply words."""
    return tgt.ldm_budget - REPLY_WORDS_BYTES


def _fit_or_split(g: Group, tgt, tiles: str = "model") -> list[tuple[Group, TileChoice]]:
    """Tiles for a group. A fused group whose tiles cannot fit without tiling a reduction is split up; with
    model tiles, a group that fuses a contraction into its consumers is also split when the contraction alone
    (free to tile its reduction) and its consumers cost less than the fused group."""
    fused = None
    g.epilogues = tiles == "model"
    try:
        fused = [(g, _tiles_for(g, tgt, tiles))]
    except ValueError as e:
        if not g.members:
            raise ScheduleError(f"{e} on target {tgt.name} (LDM {tgt.ldm_bytes} bytes per CPE)",
                                op=g.root.name, node=_node_name(g.root)) from None
    if tiles == "model" and any(nests_of(Group(m))[m].reduction_dims for m in g.members):
        apart = []
        for sub in form_groups(_program_order(g), fuse_reductions=False):
            apart += _fit_or_split(sub, tgt, tiles)
        if fused is None or _seconds(apart) < _seconds(fused):
            return apart
    if fused is not None:
        return fused
    out = []
    for op in reversed(g.ops):
        out += _fit_or_split(Group(op), tgt, tiles)
    return out


_TILE_MEMO: dict = {}


def _signature(g: Group, tgt, tiles: str) -> tuple:
    """What the tile search reads of a group, without SSA identities: per op its name, maps, iterators, body,
    and per operand its type, whether it is a weight and which op of the group produces it. Networks repeat
    their blocks (ResNet-50: 16 bottlenecks of 4 shapes), and equal signatures have equal best tiles."""
    ops = g.ops
    parts = [tgt.name, tiles, g.epilogues]
    for op in ops:
        operands = []
        for v in op.operands:
            owner = v.owner
            src = next((j for j, o in enumerate(ops)
                        if not isinstance(owner, ir.Block) and o == owner.operation), -1)
            operands.append((str(v.type), is_weight(v), src, halo_of(v)))
        body = tuple(o.operation.name for o in op.regions[0].blocks[0].operations)
        parts.append((op.name, str(op.attributes["indexing_maps"]), str(op.attributes["iterator_types"]), body,
                      tuple(operands), tuple(str(r.type) for r in op.results),
                      len(list(op.results[0].uses)) if op.results else 0))
    return tuple(parts)


def _tiles_for(g: Group, tgt, tiles: str) -> TileChoice:
    """Tiles over the loops of the group's tiling op (the root, or a contraction with an epilogue), searched once
    per distinct group signature (_signature). An active tuner (swmlir.tune.hook: a tuning database, or
    `swmlir tune`) is asked first; it may return None (the heuristic's choice stands)."""
    key = _signature(g, tgt, tiles)
    tuner = _TUNER.get()
    if tuner is not None and tiles == "model":
        tuned = tuner.tiles_for(g, tgt, key, lambda: _search_tiles(g, tgt, tiles))
        if tuned is not None:
            return copy.deepcopy(tuned)
    if key not in _TILE_MEMO:
        if len(_TILE_MEMO) > 4096:
            _TILE_MEMO.clear()
        try:
            _TILE_MEMO[key] = _search_tiles(g, tgt, tiles)
        except ValueError as e:
            _TILE_MEMO[key] = e
    found = _TILE_MEMO[key]
    if isinstance(found, ValueError):
        raise found
    return copy.deepcopy(found)


def _search_tiles(g: Group, tgt, tiles: str) -> TileChoice:
    nests = nests_of(g)
    nests[g.root].untileable |= g.whole_dims()
    budget = tile_budget(tgt)
    ldm_of = (lambda t: g.ldm_bytes(t, nests)) if g.members else nests[g.root].ldm_bytes
    if tiles != "model":
        return choose_tiles(nests[g.root], cpes=tgt.cpes, ldm_budget=budget, ldm_of=ldm_of,
                            allow_reduction_tiles=not g.members)
    try:
        return _model_choice(g, nests, tgt, budget, ldm_of)
    except ValueError:
        tiling = g.tiling_op(nests)
        return choose_tiles(nests[tiling], cpes=tgt.cpes, ldm_budget=budget, ldm_of=ldm_of,
                            allow_reduction_tiles=_reduction_tileable(g, nests))


def _program_order(g: Group) -> list[ir.Operation]:
    block = g.root.block
    return [o.operation for o in block.operations if any(o.operation == x for x in g.ops)]


def _seconds(parts: list[tuple[Group, TileChoice]]) -> float:
    """Modeled time of kernels (a greedy choice has no model figure: it counts as infinitely slow)."""
    from swmlir.sim.constants import SPAWN_SECONDS
    return sum((c.seconds if c.seconds is not None else float("inf")) + SPAWN_SECONDS for _, c in parts)


_ARITH = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.maximumf", "arith.minimumf")


def _model_choice(g: Group, nests: dict, tgt, budget: int, ldm_of) -> TileChoice:
    """Tiles by the performance model: the DMA of every work item at the bandwidth its block sizes get, plus the
    group's compute at peak rate spread over the work items (see swmlir.schedule.tiling.choose_tiles_by_model)."""
    from swmlir.sim.dma import bandwidth, curve_of
    curve = curve_of(tgt)
    cpes = tgt.cpes_per_cg   # a CPE's share of its core group's bandwidth; the items are dealt over tgt.cpes
    flops = 0
    for op in g.ops:
        body = [o.operation.name for o in op.regions[0].blocks[0].operations]
        flops += sum(n in _ARITH for n in body) * math.prod(nests[op].sizes)
    peak = (tgt.peak_gflops_per_cg or 742.4) * 1e9
    tiling_nest = nests[g.tiling_op(nests)]
    factor = _compute_factor(g, nests, tgt)
    transfers_of = (lambda t: g.transfers(t, nests)) if g.members else tiling_nest.transfers
    return choose_tiles_by_model(tiling_nest, cpes=tgt.cpes, ldm_budget=budget, ldm_of=ldm_of,
                                 transfers_of=transfers_of,
                                 dma_seconds=lambda b, blk: b * cpes / bandwidth(blk, curve),
                                 compute_seconds=flops / (peak * tgt.cgs), compute_factor=factor,
                                 allow_reduction_tiles=_reduction_tileable(g, nests),
                                 double_buffer=True, share_seconds=_share_seconds(tgt),
                                 halo=_halo_seconds(g, nests, tiling_nest, tgt))


def _halo_seconds(g: Group, nests: dict, tiling_nest, tgt):
    """(seconds of the LDM copies of a step's halo stages, their bytes) as a function of the tiles, None when the
    group reads no halo: each copied float is an unaligned vector load and store per `lanes` floats plus the
    loop's overhead (swmlir.sim.mix counts the emitted loops exactly)."""
    of = (lambda t: g.halo(t, nests)) if g.members else tiling_nest.halo
    if not any(o.halo is not None for n in nests.values() for o in n.operands):
        return None
    from swmlir.sim.constants import cpe_constants
    c = cpe_constants(tgt)
    lanes = tgt.simd_f32_lanes
    per_elem = (2 * c.unaligned_vector_access / c.mem_per_cycle + c.loop_overhead) / lanes

    def halo(tiles):
        copied, fetched = of(tiles)
        return copied * per_elem / c.clock_hz, fetched
    return halo


def _share_seconds(tgt):
    """Time of a mesh allgather of a tile (sunway-share-tiles), None where the target has no register
    communication."""
    if tgt.mesh_comm != "rlc":
        return None
    from swmlir.sim.constants import cpe_constants
    from swmlir.sim.mix import allgather_cycles
    c = cpe_constants(tgt)
    return lambda tile_bytes: allgather_cycles(tile_bytes, c)[0] / c.clock_hz


def _compute_factor(g: Group, nests: dict, tgt):
    """How far the micro-kernel of a contraction root falls short of one vector FMA per cycle on a tile
    (sunway-vectorize-contractions), as a function of the root's tiles; None for other roots."""
    from swmlir.passes.vectorize_contractions import tile_cycles_per_mac
    from swmlir.sim.constants import cpe_constants
    c = cpe_constants(tgt)
    root = g.tiling_op(nests)
    nest = nests[root]
    if len(nest.operands) != 3:
        return None
    lanes = tgt.simd_f32_lanes
    chain = c.ldm_latency + c.fp_latency + 1

    seen: dict = {}

    def factor(tiles):
        shapes = [o.extent(tiles, nest.sizes) for o in sorted(nest.operands, key=lambda o: o.index)]
        key = tuple(map(tuple, shapes))
        if key not in seen:
            cpm = tile_cycles_per_mac(root, shapes, lanes, c, chain)
            seen[key] = 1.0 if cpm is None else max(1.0, cpm * lanes)
        return seen[key]
    return factor


def _reduction_tileable(g: Group, nests: dict) -> bool:
    """A group may tile the reduction of its tiling op when the other ops run once per tile: members that
    compute the init (a fill) before the reduction loop, into the accumulator that stays in LDM, and an
    epilogue after it (Group.tiling_op)."""
    tiling = g.tiling_op(nests)
    if tiling != g.root:
        return True
    init = g.root.operands[len(g.root.operands) - 1]
    return all(len(m.results) == 1 and m.results[0] == init for m in g.members)


def _apply(module: ir.Operation, script: str) -> None:
    apply_transform(module, script, lambda message: ScheduleError(f"transform script failed: {message}"))


@register_pass("sunway-schedule",
               "Tile every linalg op over the CPEs (scf.forall) and into LDM tiles (promote_tensor to space 2)",
               options={"target": ("sw26010", "target whose CPE count and LDM size decide the tiles"),
                        "fuse": (True, "compute single-use producers (fill, conv, elementwise) in their "
                                       "consumer's tiles"),
                        "tiles": ("model", "how tiles are chosen: 'model' (least modeled time) or 'greedy' (the "
                                           "first that fits, the baseline of docs/performance.md)")})
def schedule(module: ir.Operation, *, target: str = "sw26010", fuse: bool = True, tiles: str = "model") -> None:
    _copy_returned_slices(module)
    _copy_reshaped_slices(module)
    _untie_fills(module)
    _untie_empty_tensors(module)
    pads = schedule_pads(module, target, enabled=tiles == "model")
    _apply(module, _PREPARE)
    for pk in pads:
        _apply(module, pk.script)
    _name_pad_kernels(module, pads)
    _generalize_keeping_names(module)
    scripts, chosen = build_schedule(module, target, fuse, tiles)
    for script in scripts:
        _apply(module, script)
    return_unpromoted_values(module)
    merge_repeated_promotions(module)
    # no cse here: it would merge equal tensor.empty / extract_slice destinations of different insert chains,
    # and bufferization would then copy between them on the host
    PassManager.parse("builtin.module(canonicalize)", module.context).run(module)
    if tiles == "model" and reuse_input_tiles(module):
        PassManager.parse("builtin.module(canonicalize)", module.context).run(module)


def _ldm_promotion(op) -> bool:
    """A materialize_in_destination into an LDM alloc_tensor (what promote_tensor makes)."""
    if isinstance(op, ir.Block) or op.operation.name != "bufferization.materialize_in_destination":
        return False
    dest = op.operation.operands[1].owner
    return (not isinstance(dest, ir.Block) and dest.operation.name == "bufferization.alloc_tensor"
            and "memory_space" in dest.operation.attributes
            and ir.IntegerAttr(dest.operation.attributes["memory_space"]).value == 2)


def return_unpromoted_values(module: ir.Operation) -> int:
    """promote_tensor redirects every use of the value it promotes. A tile operand the forall does not slice (a
    one-element constant read through a constant index, a whole small input) is promoted where it is defined,
    outside the forall, so a func.return of that value would return its LDM copy, which belongs to no CPE: the
    host drops it (sunway-outline-kernels) and the graph output was never written. The return (through the
    reshapes between) gets the value itself back. Returns how many results were restored."""
    restored = 0
    for f in _funcs(module):
        block = f.regions[0].blocks[0]
        ret = block.operations[len(block.operations) - 1].operation
        if ret.name != "func.return":
            continue
        for i, v in enumerate(list(ret.operands)):
            chain, p = [], v.owner        # the reshapes between the promotion and the return, outermost first
            while not isinstance(p, ir.Block) and p.operation.name in ("tensor.expand_shape", "tensor.collapse_shape"):
                chain.append(p.operation)
                p = p.operation.operands[0].owner
            if not _ldm_promotion(p):
                continue
            src = p.operation.operands[0]
            while _ldm_promotion(src.owner):          # promoted twice
                src = src.owner.operation.operands[0]
            for r in reversed(chain):
                c = r.clone(ir.InsertionPoint(ret))
                c.operands[0] = src
                src = c.results[0]
            ret.operands[i] = src
            restored += 1
    return restored


def merge_repeated_promotions(module: ir.Operation) -> int:
    """In each forall, promotions (materialize_in_destination into an LDM alloc_tensor) of the same value that
    ops only read (linalg `ins` operands) become one: the later readers read the first tile (Group.repeated_reads:
    a LayerNorm's input, read by its mean, variance and normalization). Returns how many were merged."""
    merged = 0
    for f in _funcs(module):
        for forall in collect(f, "scf.forall"):
            first: dict = {}
            for o in list(forall.regions[0].blocks[0].operations):
                o = o.operation
                if o.name != "bufferization.materialize_in_destination" or not o.results:
                    continue
                key = (o.operands[0], str(o.results[0].type))
                hit = next((v for k, v in first.items() if k[0] == key[0] and k[1] == key[1]), None)
                if hit is None:
                    first[key] = o
                    continue
                if not all(_is_linalg_input(u) for u in o.results[0].uses):
                    continue
                alloc = as_operation(o.operands[1].owner)
                o.results[0].replace_all_uses_with(hit.results[0])
                o.erase()
                if alloc.name == "bufferization.alloc_tensor" and not list(alloc.results[0].uses):
                    alloc.erase()
                merged += 1
    return merged


def _is_linalg_input(use) -> bool:
    op = as_operation(use.owner)
    if not op.name.startswith("linalg.") or not op.results:   # on tensors: one init per result, inits last
        return False
    n_in = len(op.operands) - len(op.results)
    return use.operand_number < n_in


def _constant_padding(pad: ir.Operation) -> bool:
    """The pad's region yields a value defined outside it (a constant), the same for every index."""
    block = pad.regions[0].blocks[0]
    yield_op = block.operations[len(block.operations) - 1].operation
    return yield_op.name == "tensor.yield" and not defined_inside(yield_op.operands[0], pad)


@dataclass
class PadKernel:
    node: str
    tiles: PadTiles
    script: str


def _stageable_slice(v: ir.Value, low: list[int], high: list[int]):
    """(tensor, offsets, sizes) when `v` is a static slice that cuts only dimensions a pad kernel takes whole
    (from the first padded one on)."""
    s = static_slice(v)
    padded = [lo != 0 or hi != 0 for lo, hi in zip(low, high)]
    if s is None or not any(padded):
        return None
    k = padded.index(True)
    cut = [d for d, (a, b) in enumerate(zip(s[0].type.shape, s[2])) if a != b]
    return s if cut and min(cut) >= k else None


def _read_by_tiled_ops(pad: ir.Operation) -> bool:
    """Every reader of the pad is a linalg op reading it as an input: each work item stages its window in LDM,
    where sunway-fetch-halos builds it from the unpadded source."""
    uses = list(pad.results[0].uses)
    for use in uses:
        user = as_operation(use.owner)
        if not user.name.startswith("linalg.") or use.operand_number >= len(user.operands) - len(user.results):
            return False
    return bool(uses)


# Output-channel tile assumed when estimating how often a halo stage is copied: the smallest the tile search
# takes for ResNet's and VGG's 3x3 convs (4 output channels per work item on the 14x14 layers; 8 on others), so
# the estimate errs on the side of the pad kernel. With it, the choice agreed with the modeled times of both
# variants on every padded conv of ResNet-18 and VGG-11 (sw26010).
HALO_REPLICA_TILE = 4


def _halo_pays(pad: ir.Operation, tgt) -> bool:
    """Whether fetching the pad's windows with their halo (an LDM copy of every staged window into its padded
    tile, once per work item that reads it) is cheaper than the pad kernel it replaces (the source read and the
    padded tensor written once, in blocks of whole planes, plus a launch). A work item copies the source box its
    window covers; the op's loops that its output indexes but the padded input does not (a conv's output
    channels) make HALO_REPLICA_TILE-wide work items that copy the same box again. Copy cycles per row: the
    vector loop (an unaligned load and store per `lanes` floats) and the scalar tail, each iteration with its
    loop overhead, plus the row loop's own."""
    from swmlir.sim.constants import SPAWN_SECONDS, cpe_constants
    from swmlir.sim.dma import bandwidth, curve_of
    src, out = pad.operands[0].type, pad.results[0].type
    eb = elem_bytes(src.element_type)
    c = cpe_constants(tgt)
    lanes = tgt.simd_f32_lanes
    n = src.shape[-1]
    row = (n // lanes) * (2 * c.unaligned_vector_access / c.mem_per_cycle + c.loop_overhead) \
        + (n % lanes) * (2 / c.mem_per_cycle + c.loop_overhead) + c.loop_overhead + 4
    rows = math.prod(src.shape) // n
    copy = 0.0
    for use in pad.results[0].uses:
        user = as_operation(use.owner)
        key = "indexing_maps" if "indexing_maps" in user.attributes else "linalg.memoized_indexing_maps"
        if key not in user.attributes:
            return False
        maps = [ir.AffineMapAttr(a).value for a in user.attributes[key]]
        read = set().union(*[expr_dims(e) for e in maps[use.operand_number].results])
        out_shape = user.results[0].type.shape
        replicas = math.prod(size for e, size in zip(maps[-1].results, out_shape)
                             if isinstance(e, ir.AffineDimExpr) and e.position not in read)
        copy += rows * row * max(1, replicas / HALO_REPLICA_TILE)
    copy_seconds = copy / tgt.cpes_per_cg / c.clock_hz
    plane = math.prod(out.shape[-2:]) * eb if out.rank >= 2 else out.shape[-1] * eb
    moved = (math.prod(src.shape) + math.prod(out.shape)) * eb
    pad_seconds = moved / bandwidth(plane, curve_of(tgt)) + SPAWN_SECONDS
    return copy_seconds < pad_seconds


def schedule_pads(module: ir.Operation, target: str, enabled: bool = True) -> list[PadKernel]:
    """Tag every tensor.pad of the host functions: `swmlir.halo_pad` for constant pads that only linalg ops read
    (their tiles are fetched from the unpadded source: sunway-fetch-halos), `swmlir.pad_sched` and one transform
    script each for the other pads computed whole in LDM (swmlir.schedule.pads), `swmlir.decompose_pad` for the
    rest (all of them when not `enabled`: the baseline schedule)."""
    tgt = get_target(target)
    budget = tile_budget(tgt)
    scripts = []
    for f in _funcs(module):
        for o in f.regions[0].blocks[0].operations:
            pad = o.operation
            if pad.name != "tensor.pad":
                continue
            src_t, out_t = pad.operands[0].type, pad.results[0].type
            plan = None
            if enabled and src_t.has_static_shape and out_t.has_static_shape and _constant_padding(pad) \
                    and len(pad.operands) == 1:
                if _read_by_tiled_ops(pad) and _halo_pays(pad, tgt):
                    pad.attributes[HALO_ATTR] = ir.UnitAttr.get()
                    continue
                low, high = static_ints(pad, "static_low"), static_ints(pad, "static_high")
                # a slice of trailing dims: whole planes of its tensor are staged (sunway-stage-whole-rows widens
                # the staged tile; the plan leaves it room)
                staged = _stageable_slice(pad.operands[0], low, high)
                plan = choose_pad_tiles(list(src_t.shape), low, high, elem_bytes(src_t.element_type),
                                        cpes=tgt.cpes, ldm_budget=budget,
                                        staged_shape=list(staged[0].type.shape) if staged else None)
            if plan is None:
                pad.attributes["swmlir.decompose_pad"] = ir.UnitAttr.get()
                continue
            idx = len(scripts)
            pad.attributes["swmlir.pad_sched"] = _i64(idx)
            node = pad.location.name_str if pad.location.is_a_name() else "pad"
            scripts.append(PadKernel(f"{node}.pad", plan, _sequence(
                f'%p = transform.structured.match attributes{{swmlir.pad_sched = {idx} : i64}} in %root'
                ' : (!transform.any_op) -> !transform.any_op\n    '
                f'%t, %fa = transform.structured.tile_using_forall %p tile_sizes {plan.tile_sizes}'
                f' (mapping = [{_mapping(plan.tile_sizes)}]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n    '
                f'transform.annotate %fa "swmlir.pad_kernel_{idx}" : !transform.any_op\n    '
                '%src = transform.get_operand %t[0] : (!transform.any_op) -> !transform.any_value\n    '
                '%ps = transform.structured.promote_tensor to 2 %src : !transform.any_value')))
    return scripts


def _name_pad_kernels(module: ir.Operation, pads: list[PadKernel]) -> None:
    """The forall of each pad kernel carries its node (for the kernel's name) and its tiles."""
    for f in _funcs(module):
        for o in f.regions[0].blocks[0].operations:
            loop = o.operation
            for i, pk in enumerate(pads):
                key = f"swmlir.pad_kernel_{i}"
                if loop.name == "scf.forall" and key in loop.attributes:
                    del loop.attributes[key]
                    loop.attributes["swmlir.group"] = ir.StringAttr.get(pk.node)
                    loop.attributes["swmlir.tiles"] = ir.StringAttr.get(pk.tiles.describe())


def _computed_in(v: ir.Value, block: ir.Block) -> bool:
    owner = v.owner
    if isinstance(owner, ir.Block):
        return False
    op = owner.operation if hasattr(owner, "operation") else owner
    return op.name in ("linalg.generic", "scf.for") and op.block == block


def reuse_input_tiles(module: ir.Operation) -> int:
    """In every work item, an elementwise op whose destination is a fresh LDM tile and that never reads it
    writes over an input tile of the same type computed in the work item (Group.writes_in_place): an epilogue
    (bias, ReLU, residual add) then runs in the accumulator's tile, and one-shot bufferization keeps it in
    place (an elementwise op may write the buffer it reads at the same index). Returns how many were rewritten."""
    count = 0
    for f in _funcs(module):
        foralls = []

        def visit(op):
            if op.name == "scf.forall":
                foralls.append(op)
            return ir.WalkResult.ADVANCE
        f.walk(visit)
        for loop in foralls:
            block = loop.regions[0].blocks[0]
            for o in block.operations:
                op = o.operation
                if op.name != "linalg.generic" or len(op.results) != 1:
                    continue
                if not all(parallel_loops(op)):
                    continue
                n_in = len(op.operands) - 1
                dest = op.operands[n_in]
                d_owner = dest.owner
                if isinstance(d_owner, ir.Block) or d_owner.operation.name != "bufferization.alloc_tensor" \
                        or len(d_owner.operation.operands):
                    continue
                if len(list(op.regions[0].blocks[0].arguments[n_in].uses)):
                    continue
                maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
                rank = op.results[0].type.rank
                for i in range(n_in):
                    v = op.operands[i]
                    if is_leading_identity(maps[i], rank) and v.type == dest.type and _computed_in(v, block):
                        op.operands[n_in] = v
                        if not len(list(dest.uses)):
                            d_owner.operation.erase()
                        count += 1
                        break
    return count
