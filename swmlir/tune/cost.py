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
    return GroupModel(tiling_nest, S._reduction_tileable(g, nests), budget, kwargs, op_kind(g, tiling_nest))
