"""Tiles for a constant pad (tensor.pad) computed in one kernel: whole padded planes built in LDM.

Decomposed, a pad is two kernels: a fill of the whole padded buffer and a copy of the source into its interior,
whose puts are strided rows (a 56-float row of a 58-float plane is one 224-byte DMA block). Tiled over its
leading, unpadded dimensions only, a work item gets its source planes in one contiguous block, pads them in LDM
(a fill and an LDM-to-LDM copy on the CPE) and puts the padded planes back in one contiguous block: the bytes
moved are the source and the result once, in blocks of whole planes. A source that is a slice of the trailing
dimensions of a larger tensor (the extra columns of a conv's vector width, passes/sink_slices.py) is staged as
whole planes of that tensor and sliced in LDM: contiguous rows again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class PadTiles:
    tile_sizes: list[int]   # per dimension of the result: 1, a channel block, then 0 (whole) on padded ones
    work_items: int
    ldm_bytes: int          # source tile + padded tile

    def describe(self) -> str:
        return f"tiles {self.tile_sizes} ({self.work_items} work items, {self.ldm_bytes} bytes of LDM)"


def choose_pad_tiles(src_shape: list[int], low: list[int], high: list[int], elem_bytes: int, *, cpes: int,
                     ldm_budget: int, staged_shape: list[int] | None = None) -> PadTiles | None:
    """The tiles, or None when whole padded planes of one leading index do not fit in LDM, when there are fewer
    leading indices than CPEs (a few CPEs would move everything; the decomposed kernels use all of them) or when
    every dimension is padded: such a pad is decomposed into a fill and a copy. Along the last unpadded dimension
    a block of `c` indices is taken, the largest divisor that still gives every CPE a work item and fits.
    `staged_shape`: the shape of the tensor the source is a slice of, when whole planes of it are staged instead
    (contiguous rows; the slice is then taken in LDM)."""
    padded = [lo != 0 or hi != 0 for lo, hi in zip(low, high)]
    if not any(padded) or padded[0]:
        return None
    k = padded.index(True)   # dimensions from k on are taken whole (padded or not): the planes stay contiguous
    out_shape = [n + lo + hi for n, lo, hi in zip(src_shape, low, high)]
    staged = staged_shape or src_shape
    plane = (math.prod(staged[k:]) + math.prod(out_shape[k:])) * elem_bytes
    outer = math.prod(src_shape[:k - 1])
    n = src_shape[k - 1]
    best = None
    for c in range(1, n + 1):
        if n % c or c * plane > ldm_budget:
            continue
        items = outer * (n // c)
        if items >= cpes:
            best = c
    if best is None:
        return None
    tiles = [1] * (k - 1) + [best] + [0] * (len(src_shape) - k)
    return PadTiles(tiles, outer * (n // best), best * plane)


HALO_ATTR = "swmlir.halo_pad"   # on a tensor.pad whose readers fetch its source with the halo (passes/fetch_halos.py)


def halo_geometry(size: int, window: int, lo: int, hi: int) -> tuple[int, int, int]:
    """(stage F, shift E, LDM extent T) of one dimension of a window over a padded dimension: the fetched box, the
    offset of the window in the LDM tile, the tile's extent (passes/fetch_halos.py derives them)."""
    f = min(window, size)
    e = max(0, hi + f - window)
    return f, e, max(e + window, lo + e + f)


def widened_dims(box: list[int], src_shape: list[int], base_shape: list[int] | None) -> set[int]:
    """Dimensions in which a box fetched from a source that is a slice of `base_shape` (a conv's vector-width cut)
    is taken whole from the base instead: from the innermost on, the cut dimensions the box spans, so that its
    rows are the base's whole, contiguous rows."""
    if base_shape is None:
        return set()
    wide = set()
    for d in reversed(range(len(box))):
        if box[d] == base_shape[d]:
            continue
        if box[d] == src_shape[d] and src_shape[d] < base_shape[d]:
            wide.add(d)
            continue
        break
    return wide
