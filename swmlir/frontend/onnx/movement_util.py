"""Data movement for the shape / gather / resize converters, in IR the Sunway pipeline tiles (no `tensor.extract`).

Every byte moved here is moved by a linalg op whose output is indexed by plain loop dims:
  read        out[d] = x[o_i + sum_j c_ij * d_j] per axis i of x, with c_ij >= 0: an extract_slice of the window
              of x that is read (the offsets o_i), then a generic whose input map has no constant term (or a
              linalg.copy when the map is the identity);
  take        a gather along one axis with indices known at compile time, split into runs; a run covers Q * k
              consecutive output positions, position (q, u) reading index a + s*q + t*u (k = 1: an arithmetic
              progression; t = 0: each source repeated k times, as nearest upsampling does). Each run is a `read`
              (into a result shaped [Q, k] along the axis, collapsed), the runs are copied into slices of a fresh
              tensor. Decreasing runs
              (reversals) are masked reductions over their source window; index lists that need too many runs
              fall back to
  select      a masked reduction: out[.., m, ..] = the x[.., n, ..] whose n equals idx[m], over a reduction
              loop n (cost: the axis length per output element). The indices are read through a map like any
              operand, so they may also be values computed at run time.
Maps the tiling of this pipeline gets wrong are never built: a negative coefficient (a reversal, `c - d`) aborts
MLIR's tiling; `floordiv` and `mod` make it compute too small an input window for tiles that do not start at a
multiple of the divisor; constant terms inflate the computed window (hence the extract_slice of the window).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, bufferization, linalg, tensor

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


def fit_to_loops(x: ir.Value, m: ir.AffineMap, loop_sizes: Sequence[int]) -> ir.Value:
    """linalg infers a loop's range from the first operand indexed by the bare loop dim: where x is read at a bare
    `d_i` but is longer than that loop, read the leading slice of x of the loop's length instead."""
    s = b.shape_of(x)
    sizes = list(s)
    for k, e in enumerate(m.results):
        if isinstance(e, ir.AffineDimExpr) and loop_sizes[e.position] < s[k]:
            sizes[k] = loop_sizes[e.position]
    return x if tuple(sizes) == s else slice_of(x, [0] * len(s), sizes)


def slice_of(x: ir.Value, offsets: Sequence[int], sizes: Sequence[int]) -> ir.Value:
    if list(offsets) == [0] * len(offsets) and tuple(sizes) == b.shape_of(x):
        return x
    t = b.ranked(sizes, b.elem_of(x))
    return tensor.extract_slice(t, x, [], [], [], list(offsets), list(sizes), [1] * len(sizes))


def insert(piece: ir.Value, dest: ir.Value, offsets: Sequence[int]) -> ir.Value:
    sizes = list(b.shape_of(piece))
    return tensor.insert_slice(piece, dest, [], [], [], list(offsets), sizes, [1] * len(sizes))


def fresh(shape: Sequence[int], elem: ir.Type) -> ir.Value:
    """A new uninitialised tensor that is never merged with another: the destination of a chain of
    insert_slices. (Two chains into CSE-merged `tensor.empty`s make bufferization copy one of them on the host,
    notes/pipeline-bugs/shared-empty-destination-host-copy.md.)"""
    return bufferization.alloc_tensor(b.ranked(shape, elem), [])


def filled(shape: Sequence[int], elem: ir.Type, value) -> ir.Value:
    """A fresh tensor filled with `value`: the init of a masked reduction."""
    return linalg.fill(b.scalar(elem, value), outs=[fresh(shape, elem)])


def concat(parts: Sequence[ir.Value], axis: int) -> ir.Value:
    """The parts joined along `axis`, each copied into its slice of a fresh tensor."""
    if len(parts) == 1:
        return parts[0]
    shape = list(b.shape_of(parts[0]))
    shape[axis] = sum(b.shape_of(p)[axis] for p in parts)
    dest = fresh(shape, b.elem_of(parts[0]))
    off = 0
    for p in parts:
        dest = insert(p, dest, [off if i == axis else 0 for i in range(len(shape))])
        off += b.shape_of(p)[axis]
    return dest


def pad_constant(x: ir.Value, low: Sequence[int], high: Sequence[int], value) -> ir.Value:
    """x padded with a constant: a tensor.pad, which the schedule builds whole in LDM or decomposes into a fill
    of a fresh tensor and a copy of x into its box (passes/schedule.py)."""
    return b.pad(x, low, high, value)


Terms = Sequence[tuple[int, int]]  # (loop dim, coefficient >= 1) pairs of one axis of x


def read(x: ir.Value, out_shape: Sequence[int], terms: Sequence[Terms], offsets: Sequence[int], *,
         materialize: bool = True) -> ir.Value:
    """out[d] = x[offsets[i] + sum(c * d[j] for j, c in terms[i])] for every axis i of x. When that is a plain
    slice of x and `materialize` is false, the slice itself (for consumers that copy it anyway: concat, pad)."""
    n = len(out_shape)
    extents = [1 + sum(c * (out_shape[j] - 1) for j, c in t) for t in terms]
    window = slice_of(x, offsets, extents)
    elem = b.elem_of(x)
    d = b.dims(n)
    exprs = []
    for t in terms:
        e = C(0)
        for j, c in t:
            e = e + (d[j] * c if c != 1 else d[j])
        exprs.append(e)
    if len(terms) == n and all(list(t) == [(i, 1)] for i, t in enumerate(terms)):
        if not materialize:
            return window
        # a named copy: an identity generic would be folded away by canonicalization
        return linalg.copy(window, outs=[b.empty(out_shape, elem)])
    return b.generic([window], [amap(n, exprs), b.identity_map(n)], b.empty(out_shape, elem), lambda v, _o: v)


def strided(x: ir.Value, starts: Sequence[int], steps: Sequence[int], sizes: Sequence[int], *,
            materialize: bool = True) -> ir.Value:
    """x[starts[i] :: steps[i]][:sizes[i]] along every axis (steps >= 1); nothing when it is all of x."""
    s = b.shape_of(x)
    if tuple(sizes) == s and not any(starts) and all(st == 1 for st in steps):
        return x
    terms = [[(i, st if n > 1 else 1)] for i, (st, n) in enumerate(zip(steps, sizes))]
    return read(x, sizes, terms, starts, materialize=materialize)


# ----------------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """Output positions [start, start + q * k) of a gather. Position (i, u) of the run (i < q, u < k) reads
    affine:  a + s * i + t * u      (s, t >= 0; k = 1 for an arithmetic progression)
    reverse: a - s * i              (k = 1, s >= 1)"""
    start: int
    q: int
    kind: str
    a: int
    s: int
    k: int = 1
    t: int = 0

    @property
    def length(self) -> int:
        return self.q * self.k

    def values(self) -> np.ndarray:
        j = np.arange(self.length, dtype=np.int64)
        if self.kind == "reverse":
            return self.a - self.s * j
        return self.a + self.s * (j // self.k) + self.t * (j % self.k)


def _fit_affine(idx: np.ndarray, p: int) -> Run:
    """The longest affine run starting at p (ties: the smallest period k)."""
    m = len(idx)
    rest = idx[p:]
    a = int(rest[0])
    best = Run(p, 1, "affine", a, 0)
    if m - p >= 2 and rest[1] >= rest[0]:  # k = 1: an arithmetic progression
        s = int(rest[1] - rest[0])
        bad = np.nonzero(np.diff(rest) != s)[0]
        best = Run(p, 1 + (int(bad[0]) if len(bad) else m - p - 1), "affine", a, s)
    for k in range(2, min(MAX_PERIOD, (m - p) // 2) + 1):
        if best.length == m - p:
            break
        t = int(rest[1] - rest[0])
        s = int(rest[k] - rest[0])
        if t < 0 or s < 0 or (m - p) // k * k <= best.length:
            continue
        blocks = rest[: (m - p) // k * k].reshape(-1, k)
        want = a + s * np.arange(len(blocks))[:, None] + t * np.arange(k)[None, :]
        bad = np.nonzero((blocks != want).any(axis=1))[0]
        q = int(bad[0]) if len(bad) else len(blocks)
        if q >= 2 and q * k > best.length:
            best = Run(p, q, "affine", a, s, k, t)
    return best


def _fit_reverse(idx: np.ndarray, p: int) -> Run | None:
    """The longest decreasing run at p with a step of 1 or 2 (a reversal walks its whole source window)."""
    m = len(idx)
    if p + 1 >= m or idx[p + 1] >= idx[p] or idx[p] - idx[p + 1] > 2:
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


def runs_cost(runs: list[Run], inner: int) -> int:
    cost = 0
    for r in runs:
        window = r.s * (r.length - 1) + 1 if r.kind == "reverse" else 1
        cost += RUN_OVERHEAD + r.length * window * inner
    return cost


# ----------------------------------------------------------------------------------------------- gathers
def _with_axis(seq: Sequence, axis: int, items: Sequence) -> list:
    return list(seq[:axis]) + list(items) + list(seq[axis + 1:])


def _reverse_run(x: ir.Value, axis: int, run: Run) -> ir.Value:
    """out[.., j, ..] = x[.., run.a - run.s * j, ..] as a masked reduction over the run's input window."""
    s = b.shape_of(x)
    rank = len(s)
    elem = b.elem_of(x)
    width = run.s * (run.length - 1) + 1
    lo = run.a - run.s * (run.length - 1)
    window = slice_of(x, _with_axis([0] * rank, axis, [lo]), _with_axis(s, axis, [width]))
    d = b.dims(rank + 1)
    x_map = amap(rank + 1, _with_axis(d[:rank], axis, [d[rank]]))
    out_map = amap(rank + 1, d[:rank])
    init = filled(_with_axis(s, axis, [run.length]), elem, zero_of(elem))
    idx_t = ir.IndexType.get()

    def body(v, acc):
        # window position w holds output j when w + s*j == width - 1
        j = loop_index(axis)
        wi = loop_index(rank)
        sj = arith.MulIOp(j, arith.ConstantOp(idx_t, run.s).result).result if run.s != 1 else j
        hit = arith.CmpIOp(arith.CmpIPredicate.eq, arith.AddIOp(wi, sj).result,
                           arith.ConstantOp(idx_t, width - 1).result).result
        return arith.SelectOp(hit, v, acc).result

    return b.generic([window], [x_map, out_map], init, body, ["parallel"] * rank + ["reduction"])


def _affine_read(x: ir.Value, runs: dict[int, Run], *, materialize: bool = True) -> ir.Value:
    """x read along each axis in `runs` by that affine run (other axes whole), in one kernel. A run with k > 1
    is read into an output dim expanded to [q, k], collapsed afterwards."""
    s = b.shape_of(x)
    exp_shape, terms, offsets, groups = [], [], [], []
    for i, n in enumerate(s):
        r = runs.get(i)
        j = len(exp_shape)
        if r is None:
            exp_shape.append(n)
            terms.append([(j, 1)])
            offsets.append(0)
            groups.append([j])
        elif r.k == 1:
            exp_shape.append(r.length)
            terms.append([(j, r.s)] if r.s and r.length > 1 else [])
            offsets.append(r.a)
            groups.append([j])
        else:
            exp_shape += [r.q, r.k]
            terms.append([(d, c) for d, c in ((j, r.s), (j + 1, r.t)) if c])
            offsets.append(r.a)
            groups.append([j, j + 1])
    y = read(x, exp_shape, terms, offsets, materialize=materialize)
    if len(exp_shape) == len(s):
        return y
    out = [s[i] if i not in runs else runs[i].length for i in range(len(s))]
    return tensor.collapse_shape(b.ranked(out, b.elem_of(x)), y, groups)


def _affine_run(x: ir.Value, axis: int, run: Run, *, materialize: bool = True) -> ir.Value:
    return _affine_read(x, {axis: run}, materialize=materialize)


def take_axes(x: ir.Value, indices: dict[int, np.ndarray]) -> ir.Value:
    """x gathered along several axes at compile-time indices: one kernel when every axis is a single affine
    run (a nearest resize, a strided slice), else one `take` per axis."""
    plans = {a: plan_runs(np.asarray(i, dtype=np.int64).reshape(-1), limit=1) for a, i in indices.items()}
    s = b.shape_of(x)
    identity = {a for a, i in indices.items() if len(i) == s[a] and np.array_equal(i, np.arange(s[a]))}
    single = {a: p[0] for a, p in plans.items() if a not in identity and p is not None and p[0].kind == "affine"}
    if len(single) == len(indices) - len(identity):
        return _affine_read(x, single) if single else x
    for a, i in indices.items():
        x = take(x, a, i)
    return x


def take(x: ir.Value, axis: int, idx: np.ndarray, *, name: str = "indices") -> ir.Value:
    """x gathered along `axis` at the compile-time indices `idx` (1-D, already in [0, x.shape[axis]))."""
    s = b.shape_of(x)
    n = s[axis]
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    if len(idx) == 0:
        raise ValueError("empty index list")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"indices out of range [0, {n})")
    inner = math.prod(s) // n
    runs = plan_runs(idx)
    select_cost = len(idx) * n * inner
    if runs is None or (len(runs) > 1 and runs_cost(runs, inner) > select_cost):
        return select_take(x, axis, b.constant(idx.astype(np.int32 if n < 2**31 else np.int64), name))
    if len(runs) == 1 and runs[0].kind == "affine":
        run = runs[0]
        if run.k == 1 and run.s == 1 and run.a == 0 and len(idx) == n:
            return x
        return _affine_run(x, axis, run)
    parts = []
    for run in runs:
        if run.kind == "affine":
            parts.append(_affine_run(x, axis, run, materialize=False))
        else:
            parts.append(_reverse_run(x, axis, run))
    return concat(parts, axis)


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
    init = filled(out_shape, elem, zero_of(elem))
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
