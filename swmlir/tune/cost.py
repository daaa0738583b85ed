"""The cost of one configuration of a fusion group, computed by the compiler without running anything.

It is the analytic model the heuristic ranks its candidates by (swmlir.schedule.tiling.tile_cost, called with
the arguments passes/schedule.py::_model_choice builds): per work item the DMA bytes of every staged tile at the
bandwidth the target's curve gives their block size (swmlir.sim.dma), the group's arithmetic at peak times the
micro-kernel factor of the tile (sunway-vectorize-contractions' own cycle count), double buffering of a split-K
loop and mesh sharing of tiles where the LDM and the target allow, the busiest CPE's rounds of work items. The
emulator and swmlir.sim give the modeled time of the compiled kernel from its exact counters; docs/tuning.md
says where the two differ, and test/python/test_tune_counters.py checks the DMA bytes and requests agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from swmlir.schedule.fusion import Group, nests_of
from swmlir.schedule.loop_nest import LoopNest
from swmlir.schedule.tiling import TileChoice, tile_cost


@dataclass
class GroupModel:
    """A fusion group's tiling op and the analytic cost of its configurations."""
    nest: LoopNest
    allow_reduction_tiles: bool
    ldm_budget: int
    kwargs: dict
    kind: str
    group: object = None    # the fusion group (None for a lone op) and its loop nests
    nests: dict | None = None

    def ldm(self, forall: list[int], reduction: list[int]) -> int:
        return self.kwargs["ldm_of"]([f if f else r for f, r in zip(forall, reduction)])

    def choice(self, forall: list[int], reduction: list[int]) -> TileChoice | None:
        """The configuration costed (TileChoice.seconds), None when it does not fit the LDM budget."""
        found = tile_cost(self.nest, list(forall), list(reduction), ldm_budget=self.ldm_budget, **self.kwargs)
        return None if found is None else found[1]


def op_kind(g: Group, nest: LoopNest) -> str:
    """conv, matmul, batch_matmul (a contraction by its loops), reduction or elementwise."""
    red = nest.reduction_dims
    if not red:
        return "elementwise"
    if len(nest.operands) - sum(o.is_init for o in nest.operands) == 2:
        par = nest.parallel_dims
        if len(red) == 1 and len(par) == 2:
            return "matmul"
        if len(red) == 1 and len(par) == 3:
            return "batch_matmul"
        if len(red) >= 2:
            return "conv"
    return "reduction"


def group_model(g: Group, tgt) -> GroupModel:
    """The cost of `g`'s configurations on `tgt`, built as passes/schedule.py::_model_choice builds the
    heuristic's (test_tune.py checks that the heuristic's choice costs what the heuristic says)."""
    from swmlir.passes import schedule as S
    from swmlir.sim.dma import bandwidth, curve_of
    nests = nests_of(g)
    budget = S.tile_budget(tgt)
    ldm_of = (lambda t: g.ldm_bytes(t, nests)) if g.members else nests[g.root].ldm_bytes
    curve = curve_of(tgt)
    cpes = tgt.cpes_per_cg
    flops = 0
    for op in g.ops:
        body = [o.operation.name for o in op.regions[0].blocks[0].operations]
        flops += sum(n in S._ARITH for n in body) * math.prod(nests[op].sizes)
    peak = (tgt.peak_gflops_per_cg or 742.4) * 1e9
    tiling_nest = nests[g.tiling_op(nests)]
    transfers_of = (lambda t: g.transfers(t, nests)) if g.members else tiling_nest.transfers
    kwargs = dict(cpes=cpes, ldm_of=ldm_of, transfers_of=transfers_of,
                  dma_seconds=lambda b, blk: b * cpes / bandwidth(blk, curve), compute_seconds=flops / peak,
                  compute_factor=S._compute_factor(g, nests, tgt), double_buffer=True,
                  share_seconds=S._share_seconds(tgt))
    return GroupModel(tiling_nest, S._reduction_tileable(g, nests), budget, kwargs, op_kind(g, tiling_nest),
                      g if g.members else None, nests)

def predicted_dma(model: GroupModel, choice: TileChoice) -> dict:
    """The DMA of one launch of the group's kernel as the cost counts it (before the argument struct every CPE
    fetches at entry): bytes and requests, gets and puts. A destination that is only written is put once per
    work item; an input is fetched per reduction step, once per CPE where sunway-hoist-invariant-dma hoists it,
    in eighths where the configuration shares it over the mesh (choice.mesh_share); a read destination once per
    work item. Mirrors swmlir.schedule.tiling._cost; test_tune_counters.py compares it with the emulator."""
    from swmlir.schedule.tiling import _mesh_constant_loops, _varying_loops
    nest, cpes = model.nest, model.kwargs["cpes"]
    forall, reduction = choice.forall, choice.reduction
    tiles = [f if f else r for f, r in zip(forall, reduction)]
    items = nest.work_items(forall)
    steps = math.prod(s // r for s, r in zip(nest.sizes, reduction) if r)
    rounds = math.ceil(items / cpes)
    active = min(items, cpes)
    transfers = model.kwargs["transfers_of"](tiles)
    varying = _varying_loops(nest, forall, cpes) if steps == 1 and rounds > 1 else None
    axes = _mesh_constant_loops(nest, forall, items) if choice.mesh_share else (None, None)
    own = set(range(len(nest.sizes)))
    out = {"get_bytes": 0, "put_bytes": 0, "get_requests": 0, "put_requests": 0}
    for (b, _blk, init, loops, sl), (gets, puts) in zip(transfers, _directions(model)):
        if init:
            out["get_bytes"] += gets * items * b
            out["get_requests"] += gets * items
            out["put_bytes"] += puts * items * b
            out["put_requests"] += puts * items
        else:
            shared = sl and any(ax is not None and loops & own <= ax for ax in axes)
            times = active if varying is not None and not loops & varying else items * steps
            out["get_bytes"] += times * (b // 8 if shared else b)
            out["get_requests"] += times
    return out


def _directions(model: GroupModel) -> list[tuple[int, int]]:
    """Per transfer of transfers_of: (gets, puts). The root's destination is put, and fetched first when it
    comes from main memory and the body reads it; a member's destination is moved only when it is fetched."""
    g = model.group
    if g is None:   # a lone op
        return [((1 if o.is_read else 0), 1) if o.is_init else (1, 0) for o in model.nest.operands]
    out = []
    for j, (op, (_nest, _tiling, _rank, staged)) in enumerate(zip(g.ops, g._staged_operands(model.nests))):
        ext = set(g.external_operands(op))
        for o, _per_step, _ldm, moved in staged:
            if not moved:
                continue
            if not o.is_init:
                out.append((1, 0))
            elif j == 0:
                out.append((1 if (o.is_read and o.index in ext) else 0, 1))
            else:
                out.append((1, 0))
    return out
