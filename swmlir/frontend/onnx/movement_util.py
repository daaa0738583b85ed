"""Data movement for the shape / gather / resize converters, in IR the Sunway pipeline tiles (no `tensor.extract`).

Every byte moved here is moved by a `linalg.generic` whose output is indexed by plain loop dims and whose input
map selects what to read:
  copy        out[d] = x[f(d)] with f affine: `c + s * d` or `c + (s * d + r) floordiv k` per axis (s, k >= 1);
              tiling computes each tile's input window from f, so the DMA only fetches what the tile reads;
  take        a gather along one axis with indices known at compile time, split into runs of that affine form
              (a run is written into its slice of the result); negative runs (reversals) and irregular index
              lists that would need too many runs fall back to
  select      a masked reduction: out[.., m, ..] = the x[.., n, ..] whose n equals idx[m], over a reduction
              loop n (cost: the axis length per output element). The indices are read through a map like any
              operand, so they may also be values computed at run time.
Affine maps with a negative coefficient (a reversal, `c - d`) abort MLIR's tiling (an assertion), so they are
never built; `mod` maps give wrong tiles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, tensor

from . import builders as b
from .dtypes import is_float

C = ir.AffineConstantExpr.get

#: kernel-launch overhead of one run, in element copies, for choosing runs over the masked reduction.
RUN_OVERHEAD = 4096
#: never more runs than this for one gather (each run is a kernel).
MAX_RUNS = 64
#: periods tried when fitting `a + (s*d + r) floordiv k` to an index list.
MAX_PERIOD = 32


# ----------------------------------------------------------------------------------------------- small helpers
def amap(n: int, exprs: Sequence[ir.AffineExpr]) -> ir.AffineMap:
    return ir.AffineMap.get(n, 0, list(exprs))


def zero_of(elem: ir.Type):
    return 0.0 if is_float(elem) else 0


def index_cast(v: ir.Value, to: ir.Type) -> ir.Value:
    return arith.IndexCastOp(to, v).result


def loop_index(dim: int) -> ir.Value:
    return linalg.IndexOp(dim).result


def copy(x: ir.Value, out_shape: Sequence[int], exprs: Callable[[list[ir.AffineExpr]], Sequence[ir.AffineExpr]],
         init: ir.Value | None = None) -> ir.Value:
    """out[d] = x[exprs(d)]: one all-parallel generic; `init` (a slice of a bigger result) or a new empty."""
    n = len(out_shape)
    d = b.dims(n)
    if init is None:
        init = b.empty(out_shape, b.elem_of(x))
    return b.generic([x], [amap(n, exprs(d)), b.identity_map(n)], init, lambda v, _o: v)


def slice_of(dest: ir.Value, offsets: Sequence[int], sizes: Sequence[int]) -> ir.Value:
    t = b.ranked(sizes, b.elem_of(dest))
    return tensor.extract_slice(t, dest, [], [], [], list(offsets), list(sizes), [1] * len(sizes))


def insert(piece: ir.Value, dest: ir.Value, offsets: Sequence[int]) -> ir.Value:
    sizes = list(b.shape_of(piece))
    return tensor.insert_slice(piece, dest, [], [], [], list(offsets), sizes, [1] * len(sizes))


def strided(x: ir.Value, starts: Sequence[int], steps: Sequence[int], sizes: Sequence[int]) -> ir.Value:
    """x[starts[i] :: steps[i]][:sizes[i]] along every axis (steps >= 1); nothing when it is all of x."""
    s = b.shape_of(x)
    if tuple(sizes) == s and not any(starts) and all(st == 1 for st in steps):
        return x
    return copy(x, sizes, lambda d: [C(a) + e * st if st != 1 else C(a) + e for e, a, st in zip(d, starts, steps)])


# ----------------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """Output positions [start, start + length) of a gather read, at local position j,
    affine:  a + (s * j + r) floordiv k        (s >= 0, k >= 1, 0 <= r < k)
    reverse: a - s * j                         (s >= 1)"""
    start: int
    length: int
    kind: str
    a: int
    s: int
    r: int = 0
    k: int = 1

    def values(self) -> np.ndarray:
        j = np.arange(self.length, dtype=np.int64)
        if self.kind == "reverse":
            return self.a - self.s * j
        return self.a + (self.s * j + self.r) // self.k

    def expr(self, d: ir.AffineExpr) -> ir.AffineExpr:
        assert self.kind == "affine"
        if self.k == 1:
            e = d * self.s if self.s != 1 else d
            return C(self.a) + (e if self.s else C(0))
        inner = d * self.s if self.s != 1 else d
        if self.r:
            inner = inner + C(self.r)
        return C(self.a) + ir.AffineExpr.get_floor_div(inner, self.k)


def _fit_affine(idx: np.ndarray, p: int) -> Run:
    """The longest affine run starting at p (ties: the smallest period)."""
    m = len(idx)
    a = int(idx[p])
    best = Run(p, 1, "affine", a, 0)
    rest = idx[p:]
    for k in range(1, min(MAX_PERIOD, m - p - 1) + 1):
        if best.length == m - p:
            break
        s = int(rest[k] - rest[0])
        if s < 0:
            continue
        bad = np.nonzero(rest[k:] - rest[:-k] != s)[0]
        length = k + (int(bad[0]) if len(bad) else len(rest) - k)
        if length <= best.length:
            continue
        head = rest[:k] - a
        j = np.arange(k)
        for r in range(k):
            if np.array_equal((s * j + r) // k, head):
                best = Run(p, length, "affine", a, s, r, k)
                break
    return best


def _fit_reverse(idx: np.ndarray, p: int) -> Run | None:
    m = len(idx)
    if p + 1 >= m or idx[p + 1] >= idx[p]:
        return None
    s = int(idx[p] - idx[p + 1])
    length = 2
    while p + length < m and idx[p + length - 1] - idx[p + length] == s:
        length += 1
    return Run(p, length, "reverse", int(idx[p]), s)


def plan_runs(idx: np.ndarray, limit: int = MAX_RUNS) -> list[Run] | None:
    """Split an index list into runs (greedy, longest first); None when more than `limit` runs are needed."""
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    runs, p = [], 0
    while p < len(idx):
        aff = _fit_affine(idx, p)
        rev = _fit_reverse(idx, p)
        run = rev if rev is not None and rev.length > aff.length else aff
        runs.append(run)
        if len(runs) > limit:
            return None
        p += run.length
    return runs


def _runs_cost(runs: list[Run], inner: int) -> int:
    cost = 0
    for r in runs:
        window = r.s * (r.length - 1) + 1 if r.kind == "reverse" else 1
        cost += RUN_OVERHEAD + r.length * window * inner
    return cost


# ----------------------------------------------------------------------------------------------- gathers
def _with_axis(seq: Sequence, axis: int, items: Sequence) -> list:
    return list(seq[:axis]) + list(items) + list(seq[axis + 1:])


def _reverse_run(x: ir.Value, axis: int, run: Run, init: ir.Value) -> ir.Value:
    """init[.., j, ..] = x[.., run.a - run.s * j, ..] as a masked reduction over the run's input window."""
    s = b.shape_of(x)
    rank = len(s)
    elem = b.elem_of(x)
    window = run.s * (run.length - 1) + 1
    lo = run.a - run.s * (run.length - 1)
    d = b.dims(rank + 1)
    w = d[rank]
    x_map = amap(rank + 1, _with_axis(d[:rank], axis, [C(lo) + w]))
    out_map = amap(rank + 1, d[:rank])
    init = linalg.fill(b.scalar(elem, zero_of(elem)), outs=[init])
    idx_t = ir.IndexType.get()

    def body(v, acc):
        # window position w holds output j when w + s*j == window - 1
        j = loop_index(axis)
        wi = loop_index(rank)
        sj = arith.MulIOp(j, arith.ConstantOp(idx_t, run.s).result).result if run.s != 1 else j
        hit = arith.CmpIOp(arith.CmpIPredicate.eq, arith.AddIOp(wi, sj).result,
                           arith.ConstantOp(idx_t, window - 1).result).result
        return arith.SelectOp(hit, v, acc).result

    return b.generic([x], [x_map, out_map], init, body, ["parallel"] * rank + ["reduction"])


def take(x: ir.Value, axis: int, idx: np.ndarray, *, name: str = "indices") -> ir.Value:
    """x gathered along `axis` at the compile-time indices `idx` (1-D, already in [0, x.shape[axis]))."""
    s = b.shape_of(x)
    n = s[axis]
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    if len(idx) == 0:
        raise ValueError("empty index list")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"indices out of range [0, {n})")
    out_shape = _with_axis(s, axis, [len(idx)])
    inner = math.prod(s) // n
    runs = plan_runs(idx)
    select_cost = len(idx) * n * inner
    if runs is None or (len(runs) > 1 and _runs_cost(runs, inner) > select_cost):
        return select_take(x, axis, b.constant(idx.astype(np.int32 if n < 2**31 else np.int64), name))
    if len(runs) == 1 and runs[0].kind == "affine":
        run = runs[0]
        if run.k == 1 and run.s == 1 and run.a == 0 and len(idx) == n:
            return x
        return copy(x, out_shape, lambda d: _with_axis(d, axis, [run.expr(d[axis])]))
    dest = b.empty(out_shape, b.elem_of(x))
    for run in runs:
        offsets = _with_axis([0] * len(s), axis, [run.start])
        sizes = _with_axis(s, axis, [run.length])
        part = slice_of(dest, offsets, sizes)
        if run.kind == "affine":
            part = copy(x, sizes, lambda d, run=run: _with_axis(d, axis, [run.expr(d[axis])]), init=part)
        else:
            part = _reverse_run(x, axis, run, part)
        dest = insert(part, dest, offsets)
    return dest


def reverse(x: ir.Value, axis: int) -> ir.Value:
    n = b.shape_of(x)[axis]
    if n == 1:
        return x
    return take(x, axis, np.arange(n - 1, -1, -1))


def normalized_index(i: ir.Value, n: int) -> ir.Value:
    """ONNX's negative indices: i < 0 ? i + n : i (in i's own integer type)."""
    t = i.type
    zero = arith.ConstantOp(t, 0).result
    neg = arith.CmpIOp(arith.CmpIPredicate.slt, i, zero).result
    return arith.SelectOp(neg, arith.AddIOp(i, arith.ConstantOp(t, n).result).result, i).result


def select_take(x: ir.Value, axis: int, indices: ir.Value, *, negative: bool = False) -> ir.Value:
    """Gather (ONNX Gather semantics) as a masked reduction: out has shape x[:axis] + indices + x[axis+1:];
    the indices are read through a map, so they may be computed at run time. Indices out of range give 0."""
    s = b.shape_of(x)
    si = b.shape_of(indices)
    elem = b.elem_of(x)
    n = s[axis]
    out_shape = list(s[:axis]) + list(si) + list(s[axis + 1:])
    rank = len(out_shape)
    d = b.dims(rank + 1)
    red = d[rank]
    idx_map = amap(rank + 1, d[axis:axis + len(si)])
    x_map = amap(rank + 1, list(d[:axis]) + [red] + list(d[axis + len(si):rank]))
    out_map = amap(rank + 1, d[:rank])
    init = b.fill(out_shape, elem, zero_of(elem))
    it = b.elem_of(indices)

    def body(i, v, acc):
        if negative:
            i = normalized_index(i, n)
        hit = arith.CmpIOp(arith.CmpIPredicate.eq, i, index_cast(loop_index(rank), it)).result
        return arith.SelectOp(hit, v, acc).result

    return b.generic([indices, x], [idx_map, x_map, out_map], init, body, ["parallel"] * rank + ["reduction"])


def to_numpy_indices(arr: np.ndarray, n: int) -> np.ndarray:
    """Compile-time indices with ONNX's negative convention resolved; ValueError when out of [-n, n)."""
    a = np.asarray(arr).astype(np.int64)
    if a.size and (a.min() < -n or a.max() >= n):
        bad = a[(a < -n) | (a >= n)].reshape(-1)[0]
        raise ValueError(f"index {int(bad)} is out of range for an axis of size {n}")
    return np.where(a < 0, a + n, a)
