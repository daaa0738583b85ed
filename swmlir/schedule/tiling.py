"""Tile sizes for one op: enough work items for the CPEs, and tiles whose operands fit in the LDM budget.

Tile sizes are divisors of the loop sizes, so that every tile has a static shape: LDM buffers, DMA lengths and
the emitted C arrays are then all static (EmitC needs static shapes, and the DMA engine wants exact lengths).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .loop_nest import LoopNest


@dataclass
class TileChoice:
    forall: list[int]      # per loop: tile size of the CPE distribution (0 for reduction loops)
    reduction: list[int]   # per loop: tile size of the sequential reduction loop in a CPE (0 = not tiled)
    ldm_bytes: int
    work_items: int
    seconds: float | None = None   # modeled time of the kernel, when the performance model chose the tiles
    mesh_share: bool = False       # costed with tiles shared over the mesh (sunway-share-tiles), not double-buffered

    def describe(self) -> str:
        red = f", reduction tiles {self.reduction}" if any(self.reduction) else ""
        mesh = ", shared over the mesh" if self.mesh_share else ""
        return f"tiles {self.forall}{red} ({self.work_items} work items, {self.ldm_bytes} bytes of LDM{mesh})"


def _next_divisor_below(n: int, t: int) -> int:
    for d in range(t - 1, 0, -1):
        if n % d == 0:
            return d
    return 1


def _combined(forall: list[int], reduction: list[int]) -> list[int]:
    return [f if f else r for f, r in zip(forall, reduction)]


def choose_tiles(nest: LoopNest, *, cpes: int, ldm_budget: int, ldm_of=None,
                 allow_reduction_tiles: bool = True) -> TileChoice:
    """Greedy: first split outer parallel loops until every CPE has work, then shrink the largest tile until
    the tile fits in LDM, then tile reduction loops. Raises ValueError when even unit tiles do not fit.
    `ldm_of(tiles)` overrides the LDM bytes of a tile (a fusion group counts all its ops)."""
    forall = [s if p else 0 for s, p in zip(nest.sizes, nest.parallel)]
    reduction = [0] * len(nest.sizes)
    par = [d for d in nest.parallel_dims if d not in nest.untileable]
    measure = ldm_of or nest.ldm_bytes

    def ldm():
        return measure(_combined(forall, reduction))

    # 1. parallelism: split the outermost splittable parallel loop until there are `cpes` work items.
    while nest.work_items(forall) < cpes:
        cand = [d for d in par if forall[d] > 1]
        if not cand:
            break
        d = cand[0]
        forall[d] = _next_divisor_below(nest.sizes[d], forall[d])
    # 2. LDM: shrink the largest parallel tile (outermost on ties).
    while ldm() > ldm_budget:
        cand = [d for d in par if forall[d] > 1]
        if not cand:
            break
        d = max(cand, key=lambda i: (forall[i], -i))
        forall[d] = _next_divisor_below(nest.sizes[d], forall[d])
    # 3. still too big: tile the reduction loops, largest first.
    while allow_reduction_tiles and ldm() > ldm_budget:
        cand = [d for d in nest.reduction_dims if (reduction[d] or nest.sizes[d]) > 1 and d not in nest.untileable]
        if not cand:
            break
        d = max(cand, key=lambda i: ((reduction[i] or nest.sizes[i]), -i))
        reduction[d] = _next_divisor_below(nest.sizes[d], reduction[d] or nest.sizes[d])
    choice = TileChoice(forall, reduction, ldm(), nest.work_items(forall))
    if choice.ldm_bytes > ldm_budget:
        raise ValueError(f"even the smallest tiles need {choice.ldm_bytes} bytes of LDM, over the budget of "
                         f"{ldm_budget} bytes ({choice.describe()})")
    return choice


def _candidates(n: int) -> list[int]:
    """Tile sizes tried for a loop of size n: its divisors, thinned to powers of two (and their cofactors) when
    there are many."""
    divs = [d for d in range(1, n + 1) if n % d == 0]
    if len(divs) <= 10:
        return divs
    pow2 = lambda x: x & (x - 1) == 0
    return [d for d in divs if pow2(d) or pow2(n // d) or d == n]


def _varying_loops(nest: LoopNest, forall: list[int], cpes: int) -> set[int]:
    """Loops whose work-item coordinate changes between the work items of one CPE. CPE c runs items
    c, c + cpes, ...; the innermost coordinates whose counts divide `cpes` stay fixed (sunway-map-cpes order)."""
    counts = [s // t if t else 1 for s, t in zip(nest.sizes, forall)]
    k = cpes
    varying = set()
    fixed_so_far = True
    for d in reversed(range(len(counts))):
        if counts[d] == 1:
            continue
        if fixed_so_far and k % counts[d] == 0:
            k //= counts[d]
        else:
            fixed_so_far = False
            varying.add(d)
    return varying


def _mesh_constant_loops(nest: LoopNest, forall: list[int], items: int) -> tuple[set | None, set | None]:
    """Loops whose work-item coordinate is the same for the 8 CPEs of every mesh row, and of every mesh column, at
    each step of their work-item loops (None where the item count does not keep the row or column in step).
    Items are numbered row-major over the tile grid (sunway-map-cpes), so a coordinate of stride `st` is constant
    over 8 consecutive items when 8 divides st, and over items 8 apart when 64 divides st or its count divides
    8 / st. A sufficient condition: sunway-share-tiles proves each case on the IR."""
    counts = [s // t if t else 1 for s, t in zip(nest.sizes, forall)]
    stride, st = [0] * len(counts), 1
    for d in reversed(range(len(counts))):
        stride[d] = st
        st *= counts[d]
    rows = {d for d in range(len(counts)) if counts[d] == 1 or stride[d] % 8 == 0}
    cols = {d for d in range(len(counts)) if counts[d] == 1 or stride[d] % 64 == 0
            or (8 % stride[d] == 0 and (8 // stride[d]) % counts[d] == 0)}
    return (rows if items % 8 == 0 else None), (cols if items % 64 == 0 else None)


def _cost(nest, forall, reduction, tiles, ldm, cpes, ldm_budget, transfers_of, dma_seconds, compute_seconds,
          double_buffer, share_seconds=None, halo=None):
    """(modeled seconds, TileChoice) of one candidate: single-buffered, double-buffered (split-K) or with tiles
    shared over the mesh, whichever is fastest and fits. `share_seconds(tile bytes)`: the time of a mesh
    allgather of a tile, None where the target cannot share. `halo(tiles)`: (seconds per step of copying halo
    stages into their padded tiles, bytes of those stages), which need no second buffer (sunway-fetch-halos)."""
    items = nest.work_items(forall)
    steps = math.prod(s // r for s, r in zip(nest.sizes, reduction) if r)
    transfers = transfers_of(tiles)
    rounds = math.ceil(items / cpes)
    # sunway-hoist-invariant-dma fetches once per CPE an input no varying work-item coordinate indexes
    varying = _varying_loops(nest, forall, cpes) if steps == 1 and rounds > 1 else None
    hoisted = [varying is not None and not init and not loops & varying for _, _, init, loops, _ in transfers]
    # sunway-share-tiles: a tile the 8 CPEs of a mesh row (column) fetch at once is fetched in eighths and
    # gathered by register communication
    axes = _mesh_constant_loops(nest, forall, items) if share_seconds else (None, None)
    own = set(range(len(nest.sizes)))   # a fused member's loops past the root's run in step in every CPE
    shareable = [sl and not init and any(ax is not None and loops & own <= ax for ax in axes)
                 for _, _, init, loops, sl in transfers]

    def parts(share: bool):
        """(once per CPE, once per item, per reduction step: DMA, per reduction step: gathers) seconds."""
        fixed = once = step = gather = 0.0
        for (b, blk, init, _, _), h, sh in zip(transfers, hoisted, shareable):
            if share and sh:
                t = dma_seconds(b // 8, min(blk, b // 8))
                g = share_seconds(b)
            else:
                t, g = dma_seconds(b, blk), 0.0
            if init:
                once += t
            elif h:
                fixed += t + g
            else:
                step += t
                gather += g
        return fixed, once, step, gather

    item_compute = compute_seconds * cpes / items
    copy_step, single = halo(tiles) if halo else (0.0, 0)
    second_buffers = sum(b for b, _, init, _, _ in transfers if not init) - single
    options = []
    for share in (False, True) if any(shareable) else (False,):
        fixed, once, step_get, gather = parts(share)
        step_compute = item_compute / steps + gather + copy_step
        options.append((once + steps * (step_get + step_compute), ldm, share, fixed))
        if double_buffer and steps >= 2:
            # sunway-double-buffer: a second buffer per input tile; the next step's gets overlap this step's
            # compute (the gathers are CPE work: they do not overlap)
            overlapped = once + step_get + (steps - 1) * max(step_get, step_compute) + step_compute
            options.append((overlapped, ldm + second_buffers, share, fixed))
        if double_buffer and steps == 1 and rounds >= 2 and items % cpes == 0 and cpes == 64 and not share:
            # sunway-double-buffer on the work-item loop (one core group, every CPE the same item count, tiles
            # not shared): the next item's gets overlap this item's compute and puts; per item on average
            overlapped = (rounds * (once + step_compute) + step_get
                          + (rounds - 1) * max(0.0, step_get - step_compute)) / rounds
            options.append((overlapped, ldm + second_buffers, share, fixed))
    best = None
    for per_item, need, share, once_per_cpe in options:
        cost = rounds * per_item + once_per_cpe
        if need <= ldm_budget and (best is None or cost < best[0]):
            best = (cost, TileChoice(list(forall), list(reduction), need, items, cost, mesh_share=share))
    return best


def tile_cost(nest: LoopNest, forall: list[int], reduction: list[int], *, cpes: int, ldm_budget: int, ldm_of,
              transfers_of, dma_seconds, compute_seconds: float, compute_factor=None, double_buffer: bool = False,
              share_seconds=None, halo=None) -> tuple[float, TileChoice] | None:
    """(modeled seconds, TileChoice) of one configuration, with the micro-kernel factor applied: the cost by which
    choose_tiles_by_model ranks its refined candidates (and the tuner, swmlir.tune, any configuration); None when
    it does not fit the LDM budget. Arguments as for choose_tiles_by_model."""
    tiles = _combined(forall, reduction)
    ldm = ldm_of(tiles)
    if ldm > ldm_budget:
        return None
    factor = compute_factor(tiles) if compute_factor else 1.0
    return _cost(nest, forall, reduction, tiles, ldm, cpes, ldm_budget, transfers_of, dma_seconds,
                 compute_seconds * factor, double_buffer, share_seconds, halo)


# Candidate tilings costed per op before the longest candidate lists are thinned. 4,000 left ResNet-18 and
# VGG-11 7 % and 3 % slower (modeled) than 20,000, which costs ResNet-18 about 30 % more compile time.
MAX_CANDIDATES = 20000


def choose_tiles_by_model(nest: LoopNest, *, cpes: int, ldm_budget: int, ldm_of, transfers_of, dma_seconds,
                          compute_seconds: float, compute_factor=None, allow_reduction_tiles: bool = True,
                          double_buffer: bool = False, share_seconds=None, max_candidates: int = MAX_CANDIDATES,
                          refine: int = 24, halo=None) -> TileChoice:
    """The tiles of least modeled time (DMA of every work item + compute, no overlap) under the LDM budget.

    `transfers_of(tiles)` gives (bytes, block bytes, is_init) per DMA of one tile; `dma_seconds(bytes, block)` is
    the time of one CPE's transfer at its 1/cpes share of the bandwidth; `compute_seconds` is the op's compute time
    on the whole core group at peak, perfectly balanced. `compute_factor(tiles)` (>= 1: how far the tile's
    micro-kernel falls short of peak) is costly, so it is applied to the `refine` best candidates only. Work
    items beyond a multiple of `cpes` leave CPEs idle, which the cost counts. With `double_buffer`, split-K tiles are also costed with a second buffer per input tile and
    the gets of each step overlapping the compute of the previous one (what sunway-double-buffer emits when the
    LDM holds both). With `share_seconds`, tiles that a mesh row or
    column fetches at once are costed as sunway-share-tiles emits them; `halo`: see _cost. Raises ValueError when no tile fits (the greedy chooser then decides)."""
    import itertools
    per_dim = []
    for d, (size, par) in enumerate(zip(nest.sizes, nest.parallel)):
        if d in nest.untileable or size == 1:
            per_dim.append([size if par else 0])
        elif par:
            per_dim.append(_candidates(size))
        else:
            per_dim.append([0] + ([t for t in _candidates(size) if t != size] if allow_reduction_tiles else []))
    while math.prod(len(c) for c in per_dim) > max_candidates:
        d = max(range(len(per_dim)), key=lambda i: len(per_dim[i]))
        per_dim[d] = per_dim[d][1::2] + ([per_dim[d][-1]] if per_dim[d][-1] not in per_dim[d][1::2] else [])
    scored = []
    for combo in itertools.product(*per_dim):
        forall = [t if p else 0 for t, p in zip(combo, nest.parallel)]
        reduction = [0 if p else t for t, p in zip(combo, nest.parallel)]
        tiles = _combined(forall, reduction)
        ldm = ldm_of(tiles)
        if ldm > ldm_budget:
            continue
        best = _cost(nest, forall, reduction, tiles, ldm, cpes, ldm_budget, transfers_of, dma_seconds,
                     compute_seconds, double_buffer, share_seconds, halo)
        if best is not None:
            scored.append((best[0], forall, reduction, tiles, ldm))
    scored.sort(key=lambda x: x[0])
    best = None
    for cost, forall, reduction, tiles, ldm in scored[:refine] if compute_factor else scored[:1]:
        found = tile_cost(nest, forall, reduction, cpes=cpes, ldm_budget=ldm_budget, ldm_of=lambda _: ldm,
                          transfers_of=transfers_of, dma_seconds=dma_seconds, compute_seconds=compute_seconds,
                          compute_factor=compute_factor, double_buffer=double_buffer, share_seconds=share_seconds,
                          halo=halo)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    if best is None:
        raise ValueError("no tile fits the LDM budget")
    return best[1]
