"""Gather, GatherElements, GatherND, ScatterElements (and the older Scatter), ScatterND.

The pipeline cannot lower a `tensor.extract` at computed indices inside a kernel, so no gather here reads memory
at an index computed from data:
  - indices known at compile time (initializer, Constant, folded) become static data movement: the gather is
    linearised into one index list, split into affine runs (movement_util.take), each a copy kernel;
  - otherwise (or when the runs would cost more) the op is a masked reduction: for every output element a
    reduction loop walks the gathered axis (or the update positions, for scatters) and keeps the element whose
    index matches. Indices are operands read through maps like any other, so they may be run-time values.
    Cost: the walked extent per output element (the axis length for gathers, the number of updates for
    scatters); an out-of-range index selects nothing (0 for gathers, no update for scatters).
Negative indices count from the end, as ONNX says.
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import arith

from .. import builders as b
from .. import movement_util as mu
from ..dtypes import is_float
from ..registry import converter
from .movement import as_value, data_input, input_dtype, norm_axis, shape_of


def _const_indices(node, i: int, n_of, what="indices"):
    """Compile-time indices with negatives resolved (n_of: the axis size, or an array broadcasting against
    the indices' last axis); None when the input is not a constant."""
    c = node.constant(i)
    if c is None:
        return None
    if c.dtype.kind not in "iu":
        raise node.error(f"{what} must be an integer tensor, got {c.dtype}")
    a = c.astype(np.int64)
    n = np.asarray(n_of, dtype=np.int64)
    if a.size and ((a < -n).any() or (a >= n).any()):
        raise node.error(f"{what} {c.reshape(-1).tolist()[:16]} are out of range for sizes {n.tolist()}")
    return np.where(a < 0, a + n, a)


def _take_wins(lin: np.ndarray, inner: int, select_cost: int) -> bool:
    """Is a static gather by runs over a linear index list cheaper than a masked reduction of `select_cost`?"""
    runs = mu.plan_runs(lin)
    return runs is not None and mu.runs_cost(runs, inner) <= select_cost


def _flat_take(x: ir.Value, lead: int, lin: np.ndarray, out_shape) -> ir.Value:
    """Collapse the `lead` leading dims of x into one, gather rows `lin` from it, reshape to out_shape."""
    s = b.shape_of(x)
    flat = b.reshape(x, [math.prod(s[:lead])] + list(s[lead:]))
    return b.reshape(mu.take(flat, 0, lin.reshape(-1)), out_shape)


def _i_index(v: ir.Value, dim: int) -> ir.Value:
    return mu.index_cast(mu.loop_index(dim), v.type)


def _all(conds):
    c = conds[0]
    for x in conds[1:]:
        c = arith.AndIOp(c, x).result
    return c


def _eq(a, c):
    return arith.CmpIOp(arith.CmpIPredicate.eq, a, c).result


# ----------------------------------------------------------------------------------------------- Gather
@converter("Gather", since=(7, 11, 13))  # 11: negative indices
def gather(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    if not s:
        raise node.error("data must have rank >= 1")
    axis = norm_axis(node, node.attr("axis", 0), len(s))
    idx = _const_indices(node, 1, s[axis])
    if idx is not None:
        out = list(s[:axis]) + list(idx.shape) + list(s[axis + 1:])
        if isinstance(x, np.ndarray):
            return np.asarray(np.take(x, idx, axis=axis))
        if any(d == 0 for d in out):
            raise node.error(f"the output would have the zero-size shape {out}")
        return b.reshape(mu.take(x, axis, idx.reshape(-1)), out)
    iv = node.require_input(1, "indices")
    return mu.select_take(as_value(x), axis, iv, negative=True)


# ----------------------------------------------------------------------------------------------- GatherElements
@converter("GatherElements", since=(11, 13))
def gather_elements(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    rank = len(s)
    if rank == 0:
        raise node.error("data must have rank >= 1")
    axis = norm_axis(node, node.attr("axis", 0), rank)
    si = shape_of(data_input(node, 1, "indices"))
    if len(si) != rank or any(a > c for i, (a, c) in enumerate(zip(si, s)) if i != axis):
        raise node.error(f"indices of shape {list(si)} do not fit data of shape {list(s)} off axis {axis}")
    if any(d == 0 for d in si):
        raise node.error(f"the output would have the zero-size shape {list(si)}")
    idx = _const_indices(node, 1, s[axis])
    if idx is not None:
        if isinstance(x, np.ndarray):
            return np.take_along_axis(x, idx, axis=axis)
        grid = list(np.indices(si, dtype=np.int64))
        grid[axis] = idx
        lin = np.ravel_multi_index(tuple(grid), s)
        if _take_wins(lin.reshape(-1), 1, math.prod(si) * s[axis]):
            return _flat_take(x, rank, lin, si)
        iv = b.constant(idx.astype(np.int32 if s[axis] < 2**31 else np.int64), node.input_names[1])
        negative = False
    else:
        iv, negative = node.require_input(1, "indices"), True
    xv = as_value(x)
    elem = b.elem_of(xv)
    d = b.dims(rank + 1)
    maps = [mu.amap(rank + 1, d[:rank]),
            mu.amap(rank + 1, d[:axis] + [d[rank]] + d[axis + 1:rank]),
            mu.amap(rank + 1, d[:rank])]

    def body(i, v, acc):
        if negative:
            i = mu.normalized_index(i, s[axis])
        return arith.SelectOp(_eq(i, _i_index(i, rank)), v, acc).result

    xv = mu.fit_to_loops(xv, maps[1], list(si) + [s[axis]])
    return b.generic([iv, xv], maps, mu.filled(si, elem, mu.zero_of(elem)), body,
                     ["parallel"] * rank + ["reduction"])


# ----------------------------------------------------------------------------------------------- GatherND
def _gathernd_numpy(x, idx, bd):
    k = idx.shape[-1]
    out = np.empty(idx.shape[:-1] + x.shape[bd + k:], dtype=x.dtype)
    for pos in np.ndindex(*idx.shape[:-1]):
        out[pos] = x[pos[:bd] + tuple(idx[pos])]
    return out


@converter("GatherND", since=(11, 12, 13))  # 12: batch_dims
def gather_nd(ctx, node):
    x = data_input(node, 0, "data")
    s = shape_of(x)
    si = shape_of(data_input(node, 1, "indices"))
    bd = node.attr("batch_dims", 0) if node.opset >= 12 else 0
    if len(si) < 1 or len(s) < 1:
        raise node.error("data and indices must have rank >= 1")
    k = si[-1]
    if k == 0:
        raise node.error("indices with an empty last dim (whole-slice GatherND) are not supported")
    if not 0 <= bd < min(len(s), len(si)) or bd + k > len(s):
        raise node.error(f"batch_dims={bd} and index depth {k} do not fit data of shape {list(s)} and indices "
                         f"of shape {list(si)}")
    if tuple(si[:bd]) != tuple(s[:bd]):
        raise node.error(f"the batch dims of indices {list(si[:bd])} and data {list(s[:bd])} differ")
    out = list(si[:-1]) + list(s[bd + k:])
    if any(d == 0 for d in out):
        raise node.error(f"the output would have the zero-size shape {out}")
    sizes = list(s[bd:bd + k])
    idx = _const_indices(node, 1, sizes)
    inner = math.prod(s[bd + k:])
    if idx is not None:
        if isinstance(x, np.ndarray):
            return _gathernd_numpy(x, idx, bd)
        nb = math.prod(s[:bd])
        per = math.prod(sizes)
        local = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), sizes).reshape(nb, -1)
        lin = (local + per * np.arange(nb).reshape(-1, 1)).reshape(-1)
        if _take_wins(lin, inner, len(lin) * per * inner):
            return _flat_take(as_value(x), bd + k, lin, out)
        iv = b.constant(idx.astype(np.int64), node.input_names[1])
        negative = False
    else:
        iv, negative = node.require_input(1, "indices"), True
    xv = as_value(x)
    elem = b.elem_of(xv)
    rank = len(out)
    n_i = len(si) - 1  # loop dims of the index tuples (batch dims included)
    d = b.dims(rank + k)
    red = d[rank:]
    idx_maps = [mu.amap(rank + k, d[:n_i] + [mu.C(j)]) for j in range(k)]
    x_map = mu.amap(rank + k, d[:bd] + red + d[n_i:rank])
    maps = idx_maps + [x_map, mu.amap(rank + k, d[:rank])]

    def body(*args):
        ids, v, acc = args[:k], args[k], args[k + 1]
        conds = []
        for j, i in enumerate(ids):
            if negative:
                i = mu.normalized_index(i, sizes[j])
            conds.append(_eq(i, _i_index(i, rank + j)))
        return arith.SelectOp(_all(conds), v, acc).result

    return b.generic([iv] * k + [xv], maps, mu.filled(out, elem, mu.zero_of(elem)), body,
                     ["parallel"] * rank + ["reduction"] * k)


# ----------------------------------------------------------------------------------------------- scatters
def _combine(node, elem, reduction: str, unsigned: bool):
    """f(acc, update) of the reduction attribute; None for 'none' (the update replaces)."""
    if reduction == "none":
        return None
    if is_float(elem):
        table = {"add": arith.AddFOp, "mul": arith.MulFOp, "max": arith.MaximumFOp, "min": arith.MinimumFOp}
    elif isinstance(elem, ir.IntegerType) and elem.width > 1:
        table = {"add": arith.AddIOp, "mul": arith.MulIOp,
                 "max": arith.MaxUIOp if unsigned else arith.MaxSIOp,
                 "min": arith.MinUIOp if unsigned else arith.MinSIOp}
    else:  # bool
        table = {"max": arith.OrIOp, "min": arith.AndIOp, "add": arith.OrIOp, "mul": arith.AndIOp}
    if reduction not in table:
        raise node.error(f"reduction '{reduction}' is not supported (none, add, mul, max, min)")
    op = table[reduction]
    return lambda acc, u: op(acc, u).result


def _reduction(node, allowed):
    r = node.attr("reduction", "none")
    if r not in allowed:
        raise node.error(f"reduction '{r}' is not supported at opset {node.opset} ({', '.join(allowed)})")
    return r


def _scatter_elements_numpy(data, idx, upd, axis, reduction):
    out = data.copy()
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[axis] = idx[pos]
        tgt = tuple(tgt)
        u = upd[pos]
        out[tgt] = {"none": lambda a: u, "add": lambda a: a + u, "mul": lambda a: a * u,
                    "max": lambda a: max(a, u), "min": lambda a: min(a, u)}[reduction](out[tgt])
    return out


def _scatter_elements(ctx, node, allowed):
    data = data_input(node, 0, "data")
    upd = data_input(node, 2, "updates")
    s = shape_of(data)
    rank = len(s)
    if rank == 0:
        raise node.error("data must have rank >= 1")
    axis = norm_axis(node, node.attr("axis", 0), rank)
    reduction = _reduction(node, allowed)
    si = shape_of(data_input(node, 1, "indices"))
    if shape_of(upd) != si:
        raise node.error(f"updates of shape {list(shape_of(upd))} must have the indices' shape {list(si)}")
    if len(si) != rank or any(a > c for i, (a, c) in enumerate(zip(si, s)) if i != axis):
        raise node.error(f"indices of shape {list(si)} do not fit data of shape {list(s)} off axis {axis}")
    idx = _const_indices(node, 1, s[axis])
    if idx is not None and isinstance(data, np.ndarray) and isinstance(upd, np.ndarray):
        return _scatter_elements_numpy(data, idx, upd, axis, reduction)
    if any(d == 0 for d in si):
        return data
    # indices and updates grown to the data's extent off the axis; padded indices (= the axis size) never match
    high = [0 if i == axis else c - a for i, (a, c) in enumerate(zip(si, s))]
    if idx is not None:
        idx = np.pad(idx, [(0, h) for h in high], constant_values=s[axis])
        iv, negative = b.constant(idx.astype(np.int32 if s[axis] < 2**31 - 1 else np.int64),
                                  node.input_names[1]), False
    else:
        iv, negative = mu.pad_constant(node.require_input(1, "indices"), [0] * rank, high, s[axis]), True
    uv = mu.pad_constant(as_value(upd), [0] * rank, high, mu.zero_of(b.elem_of(as_value(upd))))
    dv = as_value(data)
    elem = b.elem_of(dv)
    if b.elem_of(uv) != elem:
        raise node.error(f"updates have element type {b.elem_of(uv)}, data {elem}")
    f = _combine(node, elem, reduction, input_dtype(node, 0).kind == "u")
    d = b.dims(rank + 1)
    upd_map = mu.amap(rank + 1, d[:axis] + [d[rank]] + d[axis + 1:rank])

    def body(i, u, acc):
        if negative:
            i = mu.normalized_index(i, s[axis])
        new = u if f is None else f(acc, u)
        return arith.SelectOp(_eq(i, _i_index(i, axis)), new, acc).result

    return b.generic([iv, uv], [upd_map, upd_map, mu.amap(rank + 1, d[:rank])], dv, body,
                     ["parallel"] * rank + ["reduction"])


@converter("ScatterElements", since=(11, 13, 16, 18))  # 16: reduction add/mul; 18: max/min
def scatter_elements(ctx, node):
    allowed = ("none",) if node.opset < 16 else ("none", "add", "mul") if node.opset < 18 else \
        ("none", "add", "mul", "max", "min")
    return _scatter_elements(ctx, node, allowed)


@converter("Scatter", since=(9, 11))  # deprecated at 11 in favour of ScatterElements (same semantics)
def scatter(ctx, node):
    return _scatter_elements(ctx, node, ("none",))


@converter("ScatterND", since=(11, 13, 16, 18))  # 16: reduction add/mul; 18: max/min
def scatter_nd(ctx, node):
    allowed = ("none",) if node.opset < 16 else ("none", "add", "mul") if node.opset < 18 else \
        ("none", "add", "mul", "max", "min")
    reduction = _reduction(node, allowed)
    data = data_input(node, 0, "data")
    upd = data_input(node, 2, "updates")
    s = shape_of(data)
    si = shape_of(data_input(node, 1, "indices"))
    r = len(s)
    if len(si) < 1 or r < 1:
        raise node.error("data and indices must have rank >= 1")
    k = si[-1]
    if k == 0 or k > r:
        raise node.error(f"index depth {k} exceeds the data rank {r}")
    ushape = tuple(si[:-1]) + tuple(s[k:])
    if shape_of(upd) != ushape:
        raise node.error(f"updates must have shape {list(ushape)}, got {list(shape_of(upd))}")
    idx = _const_indices(node, 1, list(s[:k]))
    if idx is not None and isinstance(data, np.ndarray) and isinstance(upd, np.ndarray):
        out = data.copy()
        for pos in np.ndindex(*si[:-1]):
            t = tuple(idx[pos])
            u = upd[pos]
            out[t] = {"none": u, "add": out[t] + u, "mul": out[t] * u, "max": np.maximum(out[t], u),
                      "min": np.minimum(out[t], u)}[reduction]
        return out
    if any(d == 0 for d in si[:-1]):
        return data
    if idx is not None:
        iv, negative = b.constant(idx.astype(np.int64), node.input_names[1]), False
    else:
        iv, negative = node.require_input(1, "indices"), True
    dv, uv = as_value(data), as_value(upd)
    elem = b.elem_of(dv)
    if b.elem_of(uv) != elem:
        raise node.error(f"updates have element type {b.elem_of(uv)}, data {elem}")
    f = _combine(node, elem, reduction, input_dtype(node, 0).kind == "u")
    nu = len(si) - 1
    n = r + nu
    d = b.dims(n)
    red = d[r:]
    maps = [mu.amap(n, red + [mu.C(j)]) for j in range(k)]
    maps += [mu.amap(n, red + d[k:r]), mu.amap(n, d[:r])]

    def body(*args):
        ids, u, acc = args[:k], args[k], args[k + 1]
        conds = []
        for j, i in enumerate(ids):
            if negative:
                i = mu.normalized_index(i, s[j])
            conds.append(_eq(i, _i_index(i, j)))
        new = u if f is None else f(acc, u)
        return arith.SelectOp(_all(conds), new, acc).result

    return b.generic([iv] * k + [uv], maps, dv, body, ["parallel"] * r + ["reduction"] * nu)
