"""DMA time of one launch from the emulator's exact counters and the target's bandwidth-versus-block curve.

The curve (target.dma_curve, MB/s against the contiguous block size) was measured with all 64 CPEs of a core
group streaming at once (reference/sunway.md 1.2), so it is the core group's aggregate bandwidth. Each block of
the histogram is charged its bytes over the curve at its size (piecewise linear in log2 of the size; below the
first point the bandwidth falls in proportion to the size, a fixed cost per block; above the last it stays flat).
A launch whose busiest CPE moves more than its 1/64 share is stretched by that imbalance: a CPE is assumed to get
no more than 1/64 of the aggregate bandwidth.
"""
from __future__ import annotations

import math

from ..targets import Target


def curve_of(target: Target) -> tuple[tuple[int, float], ...]:
    """SW26010: measured. SW26010-Pro has no published curve: the SW26010 curve scaled by the ratio of the two
    memories' theoretical bandwidths (51.2 / 34.13 GB/s per core group), an ASSUMPTION."""
    if target.dma_curve:
        return target.dma_curve
    from ..targets import TARGETS
    base = TARGETS["sw26010"].dma_curve
    return tuple((b, mbs * 51.2 / 34.13) for b, mbs in base)


def bandwidth(block: int, curve: tuple[tuple[int, float], ...]) -> float:
    """Bytes per second of the core group for blocks of `block` bytes."""
    b0, bw0 = curve[0]
    if block <= b0:
        return bw0 * 1e6 * block / b0
    for (b1, w1), (b2, w2) in zip(curve, curve[1:]):
        if block <= b2:
            t = (math.log2(block) - math.log2(b1)) / (math.log2(b2) - math.log2(b1))
            return (w1 + t * (w2 - w1)) * 1e6
    return curve[-1][1] * 1e6


def dma_seconds(block_sizes: dict, max_cpe_bytes: int, cpes: int, target: Target) -> float:
    """Modeled DMA time of a launch; block_sizes maps a block size in bytes (str or int) to its count."""
    curve = curve_of(target)
    total = 0
    t = 0.0
    for size, count in block_sizes.items():
        size, count = int(size), int(count)
        total += size * count
        t += size * count / bandwidth(size, curve)
    if not total:
        return 0.0
    imbalance = max(1.0, max_cpe_bytes * cpes / total)
    return t * imbalance
