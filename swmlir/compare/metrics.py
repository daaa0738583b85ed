"""How one value of a stage is compared with onnxruntime's: max |diff|, cosine similarity, within tolerance.

Streamed in blocks of `BLOCK` elements, so that comparing a tensor costs a few blocks of float64 on top of the
two (memory-mapped) arrays. The tolerance is `run --check`'s: |ours - ref| <= atol * max(1, max |ref|) +
rtol * |ref| for floating values (a float32 sum of K terms differs between summation orders by a few ulps of
its largest terms), exact equality for integers and booleans; NaN matches NaN. A value of a floating type coarser
than float32 (float16, bfloat16) is compared at no finer than 2 ulps of its type (`type_tolerance`: float16
1.95e-3): the same sum rounded to float16 in another order differs by ulps of float16, not of float32.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 1 << 20


@dataclass
class Metrics:
    max_diff: float
    cosine: float
    mismatched: int        # elements outside the tolerance
    size: int
    problem: str = ""      # shape or dtype that does not match (then nothing else is compared)

    @property
    def ok(self) -> bool:
        return not self.problem and self.mismatched == 0


def _as_comparable(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Our bytes seen with the reference's type: MLIR integers are signless, so uint8 comes back as int8."""
    if ours.dtype != ref.dtype and ours.dtype.itemsize == ref.dtype.itemsize and \
            ours.dtype.kind in "iub" and ref.dtype.kind in "iub":
        return ours.view(ref.dtype)
    return ours


def max_abs(ref: np.ndarray) -> float:
    """max |ref| over the finite elements (0 when none), streamed."""
    flat = ref.reshape(-1)
    best = 0.0
    if not np.issubdtype(ref.dtype, np.number):
        return float(flat.size and flat.max()) if ref.dtype == np.bool_ else 0.0
    for s in range(0, flat.size, BLOCK):
        b = np.abs(flat[s:s + BLOCK].astype(np.float64))
        b = b[np.isfinite(b)]
        if b.size:
            best = max(best, float(b.max()))
    return best


def type_tolerance(dtype, rtol: float, atol: float) -> tuple[float, float]:
    """(rtol, atol) for values of `dtype`: raised to 2 ulps (2 x machine epsilon) of a floating type coarser than
    float32; unchanged otherwise."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating) and dtype.itemsize < 4:
        floor = 2 * float(np.finfo(dtype).eps)
        return max(rtol, floor), max(atol, floor)
    if dtype.name == "bfloat16":   # ml_dtypes' bfloat16 (8 bits of mantissa)
        return max(rtol, 2 ** -6), max(atol, 2 ** -6)
    return rtol, atol


def compare(ours: np.ndarray, ref: np.ndarray, *, rtol: float, atol: float, ref_max: float | None = None) -> Metrics:
    ours = _as_comparable(ours, ref)
    rtol, atol = type_tolerance(ref.dtype, rtol, atol)
    if tuple(ours.shape) != tuple(ref.shape):
        return Metrics(float("inf"), 0.0, int(ref.size), int(ref.size),
                       f"shape {list(ours.shape)}, onnxruntime {list(ref.shape)}")
    if ours.dtype != ref.dtype:
        return Metrics(float("inf"), 0.0, int(ref.size), int(ref.size),
                       f"dtype {ours.dtype}, onnxruntime {ref.dtype}")
    floating = np.issubdtype(ref.dtype, np.floating)
    tol_abs = 0.0
    if floating:
        scale = max(1.0, max_abs(ref) if ref_max is None else ref_max)
        tol_abs = atol * scale
    a, r = ours.reshape(-1), ref.reshape(-1)
    worst, dot, na, nr, bad = 0.0, 0.0, 0.0, 0.0, 0
    for s in range(0, r.size, BLOCK):
        x = a[s:s + BLOCK].astype(np.float64)
        y = r[s:s + BLOCK].astype(np.float64)
        nan_x, nan_y = np.isnan(x), np.isnan(y)
        both = nan_x & nan_y
        d = np.abs(x - y)
        d[both] = 0.0
        d[nan_x ^ nan_y] = np.inf
        d[(x == y)] = 0.0                      # equal infinities
        if d.size:
            worst = max(worst, float(d.max()))
        bad += int(np.count_nonzero(d > tol_abs + rtol * np.abs(y))) if floating else int(np.count_nonzero(d))
        fx, fy = np.where(np.isfinite(x), x, 0.0), np.where(np.isfinite(y), y, 0.0)
        dot += float(fx @ fy)
        na += float(fx @ fx)
        nr += float(fy @ fy)
    if na == 0.0 and nr == 0.0:
        cos = 1.0
    elif na == 0.0 or nr == 0.0:
        cos = 0.0
    else:
        cos = dot / (np.sqrt(na) * np.sqrt(nr))
    return Metrics(worst, float(cos), bad, int(r.size))
