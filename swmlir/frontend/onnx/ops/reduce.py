"""Reductions: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare}, ArgMax/ArgMin, CumSum, TopK,
Hardmax and LogSoftmax, all as `linalg.generic` reductions whose outputs are indexed by plain loop dims.

- A Reduce* op is one reduction generic (the per-element part, |x| or x*x, is in its body) followed by at most
  one elementwise generic on the reduced tensor (divide, sqrt, log); keepdims is an expand_shape. Reducing over
  the empty set of axes (noop_with_empty_axes=1 and no axes) applies the per-element formula, as onnxruntime
  and the ONNX reference do (ReduceSumSquare -> x*x, ReduceL2 -> |x|, ...). float16 accumulates in float32.
- ReduceLogSumExp subtracts the maximum first: log(sum(exp(x - m))) + m.
- ArgMax/ArgMin: a max (min) reduction, then a second reduction that keeps the smallest (largest with
  select_last_index) position where x equals it, read from `linalg.index`. A line holding a NaN gives the
  NaN's position (numpy's answer; onnxruntime skips NaNs): always a valid index.
- CumSum / CumProd: y[i] = sum (product) over j of x[j] where j <= i (j < i exclusive, j >= i reverse): a generic
  with one extra reduction loop over the axis, O(n^2) per line but gather-free.
- TopK: the rank of each element (how many elements come before it: larger, or equal with a smaller index;
  smaller for largest=0) is one reduction generic; the k outputs then pick the element whose rank is their
  position (a reduction over the axis with a select). Sorted output always (also valid for sorted=0).
- Hardmax: ArgMax then a one-hot generic. LogSoftmax: x - m - log(sum(exp(x - m))).
Opsets before 13 of Hardmax and LogSoftmax work on the input coerced to 2-D at `axis` (the flattened tail).

Refused: non-constant `axes` / `axis` / `K` inputs (they decide shapes), ReduceL2/LogSum/LogSumExp on integers,
K outside [1, size of the axis].
"""
from __future__ import annotations

import math as pymath
from typing import Callable, Sequence

from mlir import ir
from mlir.dialects import arith, linalg, math

from .. import builders as b
from ..dtypes import input_is_unsigned as is_unsigned
from ..dtypes import is_float, is_int
from ..registry import converter


def I64() -> ir.Type:  # noqa: N802
    return ir.IntegerType.get_signless(64)


# ================================================================================================ helpers

def is_bool(t: ir.Type) -> bool:
    return isinstance(t, ir.IntegerType) and t.width == 1


def constant_ints(node, i: int, what: str) -> list[int]:
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"{what} (input #{i}) must be a constant (initializer or Constant node): it decides "
                         "the output shape, and only static shapes are supported")
    if c.dtype.kind not in "iu":
        raise node.error(f"{what} must be an integer tensor, got {c.dtype}")
    return [int(v) for v in c.reshape(-1)]


def normalize_axes(node, axes: Sequence[int], rank: int, what: str = "axes") -> list[int]:
    out = []
    for a in axes:
        if not -rank <= a < max(rank, 1) or rank == 0:
            raise node.error(f"{what} {list(axes)} out of range for an input of rank {rank}")
        a %= rank
        if a in out:
            raise node.error(f"{what} {list(axes)} names dim {a} twice")
        out.append(a)
    return sorted(out)


def normalize_axis(node, axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise node.error(f"{what}={axis} is out of range for an input of rank {rank}")
    return axis % rank


def keep_dims(v: ir.Value, in_shape: Sequence[int], axes: Sequence[int]) -> ir.Value:
    """The reduced `v` reshaped to `in_shape` with the reduced axes as size-1 dims (keepdims=1)."""
    return b.reshape(v, [1 if i in axes else n for i, n in enumerate(in_shape)])


def index(dim: int, elem: ir.Type | None = None) -> ir.Value:
    """Inside a generic body: the iteration index of loop `dim`, cast to `elem` (default i64)."""
    i = linalg.IndexOp(dim).result
    return arith.index_cast(elem or I64(), i)


def cast_scalar(v: ir.Value, to: ir.Type) -> ir.Value:
    """Float <-> float conversion inside a body (extf / truncf); identity when the types agree."""
    fr = v.type
    if fr == to:
        return v
    if ir.FloatType(fr).width < ir.FloatType(to).width:
        return arith.extf(to, v)
    return arith.truncf(to, v)


def cast_tensor(v: ir.Value, to: ir.Type) -> ir.Value:
    if b.elem_of(v) == to:
        return v
    return b.elementwise([v], lambda x: cast_scalar(x, to), out_elem=to)


def accumulator_type(elem: ir.Type) -> ir.Type:
    """float16 sums and products accumulate in float32; other types in themselves."""
    return ir.F32Type.get() if isinstance(elem, ir.F16Type) else elem


def generic_multi(inputs: Sequence[ir.Value], maps: Sequence[ir.AffineMap], inits: Sequence[ir.Value],
                  body: Callable[..., Sequence[ir.Value]], iterators: Sequence[str]) -> list[ir.Value]:
    """A `linalg.generic` with several results; `body(*in_elems, *out_elems)` returns one value per init."""
    out_ts = [ir.RankedTensorType(i.type) for i in inits]
    kinds = ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{k}>") for k in iterators])
    op = linalg.GenericOp(out_ts, list(inputs), list(inits),
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]), kinds)
    block = op.regions[0].blocks.append(*[b.elem_of(v) for v in inputs], *[t.element_type for t in out_ts])
    with ir.InsertionPoint(block):
        linalg.YieldOp(list(body(*block.arguments)))
    return list(op.results)


def swap_map(rank: int, axis: int, extra: int) -> ir.AffineMap:
    """(d0..d{rank}) -> (d0.., d{extra} at position `axis`, ..): reads a rank-`rank` tensor along loop `extra`
    instead of loop `axis` (the second index of a pairwise loop nest)."""
    d = b.dims(rank + 1)
    return ir.AffineMap.get(rank + 1, 0, [d[extra] if i == axis else d[i] for i in range(rank)])


def lowest(elem: ir.Type, unsigned: bool = False):
    """The identity of max: -inf, the smallest integer, false."""
    if is_float(elem):
        return float("-inf")
    if is_bool(elem):
        return 0
    return 0 if unsigned else -(1 << (elem.width - 1))


def highest(elem: ir.Type, unsigned: bool = False):
    """The identity of min: +inf, the largest integer (-1 as a signless unsigned), true."""
    if is_float(elem):
        return float("inf")
    if is_bool(elem):
        return 1
    return -1 if unsigned else (1 << (elem.width - 1)) - 1


def maximum(elem: ir.Type, unsigned: bool = False):
    if is_float(elem):
        return arith.maximumf
    if is_bool(elem):
        return arith.ori
    return arith.maxui if unsigned else arith.maxsi


def minimum(elem: ir.Type, unsigned: bool = False):
    if is_float(elem):
        return arith.minimumf
    if is_bool(elem):
        return arith.andi
    return arith.minui if unsigned else arith.minsi


def cmp_gt(elem: ir.Type, unsigned: bool = False):
    if is_float(elem):
        return lambda a, c: arith.cmpf(arith.CmpFPredicate.OGT, a, c)
    return lambda a, c: arith.cmpi(arith.CmpIPredicate.ugt if unsigned else arith.CmpIPredicate.sgt, a, c)


def cmp_lt(elem: ir.Type, unsigned: bool = False):
    if is_float(elem):
        return lambda a, c: arith.cmpf(arith.CmpFPredicate.OLT, a, c)
    return lambda a, c: arith.cmpi(arith.CmpIPredicate.ult if unsigned else arith.CmpIPredicate.slt, a, c)


def cmp_eq(elem: ir.Type):
    if is_float(elem):
        return lambda a, c: arith.cmpf(arith.CmpFPredicate.OEQ, a, c)
    return lambda a, c: arith.cmpi(arith.CmpIPredicate.eq, a, c)


def reduce_with(x: ir.Value, axes: Sequence[int], acc_elem: ir.Type, init_value,
                combine: Callable[[ir.Value, ir.Value], ir.Value], extra: Sequence[ir.Value] = ()) -> ir.Value:
    """Reduce `x` over `axes` into a `acc_elem` tensor without those dims; `extra` are tensors of the reduced
    shape read next to each element (`combine(elem, *extra_elems, acc)`)."""
    s = b.shape_of(x)
    r = len(s)
    keep = [i for i in range(r) if i not in axes]
    init = b.fill([s[i] for i in keep], acc_elem, init_value)
    kinds = ["reduction" if i in axes else "parallel" for i in range(r)]
    maps = [b.identity_map(r)] + [b.projection_map(r, keep)] * (len(extra) + 1)
    return b.generic([x, *extra], maps, init, combine, kinds)


def arg_index(x: ir.Value, extreme: ir.Value, axis: int, last: bool) -> ir.Value:
    """int64 position along `axis` of the first (last) element of `x` equal to `extreme` (the reduced max/min)."""
    s = b.shape_of(x)
    elem = b.elem_of(x)
    eq = cmp_eq(elem)
    init_value = -1 if last else s[axis]
    pick = arith.maxsi if last else arith.minsi

    def body(v, m, acc):
        hit = eq(v, m)
        if is_float(elem):  # the max of a line with a NaN is NaN: then the NaN's position (as numpy)
            hit = arith.ori(hit, arith.cmpf(arith.CmpFPredicate.UNO, v, v))
        return arith.select(hit, pick(acc, index(axis)), acc)

    return reduce_with(x, [axis], I64(), init_value, body, extra=[extreme])


def arg_extreme(x: ir.Value, axis: int, largest: bool, last: bool, unsigned: bool) -> ir.Value:
    elem = b.elem_of(x)
    if largest:
        m = b.reduce(x, [axis], lowest(elem, unsigned), maximum(elem, unsigned))
    else:
        m = b.reduce(x, [axis], highest(elem, unsigned), minimum(elem, unsigned))
    return arg_index(x, m, axis, last)


def coerce_2d(x: ir.Value, axis: int) -> ir.Value:
    """The input coerced to 2-D at `axis`: [prod(shape[:axis]), prod(shape[axis:])] (Softmax-family < 13)."""
    s = b.shape_of(x)
    return b.reshape(x, [pymath.prod(s[:axis]), pymath.prod(s[axis:])])


# ================================================================================================ Reduce*
#: op -> (element types accepted: "f" float, "i" integer, "b" bool; opset from which `axes` is an input)
_REDUCE = {
    "ReduceSum": ("fi", 13),
    "ReduceMean": ("fi", 18),
    "ReduceMax": ("fib", 18),
    "ReduceMin": ("fib", 18),
    "ReduceProd": ("fi", 18),
    "ReduceL1": ("fi", 18),
    "ReduceL2": ("f", 18),
    "ReduceLogSum": ("f", 18),
    "ReduceLogSumExp": ("f", 18),
    "ReduceSumSquare": ("fi", 18),
}


def _reduce_axes(node, rank: int) -> list[int]:
    axes_input_since = _REDUCE[node.op_type][1]
    noop = 0
    if node.opset >= axes_input_since:
        axes = constant_ints(node, 1, "axes") if node.has_input(1) else None
        noop = node.attr("noop_with_empty_axes", 0)
    else:
        if node.has_input(1):
            raise node.error(f"{node.op_type} takes `axes` as an input only from opset {axes_input_since}")
        axes = node.attr("axes", None)
    if not axes:
        return [] if noop else list(range(rank))
    return normalize_axes(node, axes, rank)


def _element_kind(elem: ir.Type) -> str:
    if is_float(elem):
        return "f"
    if is_bool(elem):
        return "b"
    if is_int(elem):
        return "i"
    return "?"


def reduce_op(node, x: ir.Value, axes: list[int], unsigned: bool) -> ir.Value:
    """`node.op_type`'s reduction of `x` over `axes` (dims dropped)."""
    op = node.op_type
    s, elem = b.shape_of(x), b.elem_of(x)
    flt = is_float(elem)
    acc = accumulator_type(elem)
    count = pymath.prod(s[a] for a in axes)

    def up(v):
        return cast_scalar(v, acc) if flt else v

    def post(fn):
        return lambda t: b.elementwise([t], lambda v: cast_scalar(fn(v), elem) if flt else fn(v), out_elem=elem)

    add = arith.addf if flt else arith.addi
    mul = arith.mulf if flt else arith.muli
    finish = post(lambda v: v) if acc != elem else (lambda t: t)

    if op in ("ReduceMax", "ReduceMin"):
        big = op == "ReduceMax"
        return b.reduce(x, axes, lowest(elem, unsigned) if big else highest(elem, unsigned),
                        maximum(elem, unsigned) if big else minimum(elem, unsigned))
    if op == "ReduceProd":
        return finish(reduce_with(x, axes, acc, 1, lambda v, a: mul(up(v), a)))
    if op in ("ReduceSum", "ReduceMean", "ReduceLogSum"):
        total = reduce_with(x, axes, acc, 0, lambda v, a: add(up(v), a))
        if op == "ReduceSum":
            return finish(total)
        if op == "ReduceLogSum":
            return post(math.log)(total)
        if count == 1:
            return finish(total)
        if flt:
            return post(lambda v: arith.divf(v, b.scalar(acc, float(count))))(total)
        div = arith.divui if unsigned else arith.divsi
        return post(lambda v: div(v, b.scalar(acc, count)))(total)
    if op in ("ReduceSumSquare", "ReduceL2"):
        total = reduce_with(x, axes, acc, 0, lambda v, a: add(mul(up(v), up(v)), a))
        return post(math.sqrt)(total) if op == "ReduceL2" else finish(total)
    if op == "ReduceL1":
        if flt:
            absolute = lambda v: math.absf(up(v))  # noqa: E731
        elif unsigned:
            absolute = lambda v: v  # noqa: E731
        else:
            absolute = lambda v: arith.select(  # noqa: E731
                arith.cmpi(arith.CmpIPredicate.slt, v, b.scalar(elem, 0)), arith.subi(b.scalar(elem, 0), v), v)
        return finish(reduce_with(x, axes, acc, 0, lambda v, a: add(absolute(v), a)))
    if op == "ReduceLogSumExp":
        m = b.reduce(x, axes, float("-inf"), arith.maximumf)
        # An all -inf line has m = -inf: use 0 there, so that exp(x - m) is exp(-inf) = 0, not NaN.
        ninf = float("-inf")
        m = b.elementwise([m], lambda v: cast_scalar(arith.select(
            arith.cmpf(arith.CmpFPredicate.OEQ, v, b.scalar(elem, ninf)), b.scalar(elem, 0.0), v), acc), out_elem=acc)
        total = reduce_with(x, axes, acc, 0.0, lambda v, mv, a: arith.addf(math.exp(arith.subf(up(v), mv)), a),
                            extra=[m])
        return b.elementwise([total, m], lambda t, mv: cast_scalar(arith.addf(math.log(t), mv), elem),
                             out_elem=elem)
    raise node.error(f"no reduction for {op}")  # pragma: no cover


def _reduce(ctx, node):
    x = node.require_input(0, "data")
    elem = b.elem_of(x)
    kinds = _REDUCE[node.op_type][0]
    kind = _element_kind(elem)
    if kind not in kinds:
        names = {"f": "floating point", "i": "integer", "b": "bool"}
        raise node.error(f"element type {elem} is not supported ({', '.join(names[k] for k in kinds)} only)")
    s = b.shape_of(x)
    axes = _reduce_axes(node, len(s))
    keepdims = node.attr("keepdims", 1)
    y = reduce_op(node, x, axes, is_unsigned(node, 0))
    return keep_dims(y, s, axes) if keepdims else y


# ONNX versions from 7 on; 11: negative axes; 12 (Max/Min): int8/uint8; 13: bfloat16 (and ReduceSum's axes
# input); 18: axes input; 20 (Max/Min): bool; 28 (LogSum, LogSumExp): integer types dropped.
_REDUCE_VERSIONS = {
    "ReduceSum": (7, 11, 13),
    "ReduceMean": (7, 11, 13, 18),
    "ReduceMax": (7, 11, 12, 13, 18, 20),
    "ReduceMin": (7, 11, 12, 13, 18, 20),
    "ReduceProd": (7, 11, 13, 18),
    "ReduceL1": (7, 11, 13, 18),
    "ReduceL2": (7, 11, 13, 18),
    "ReduceLogSum": (7, 11, 13, 18, 28),
    "ReduceLogSumExp": (7, 11, 13, 18, 28),
    "ReduceSumSquare": (7, 11, 13, 18),
}
for _op, _versions in _REDUCE_VERSIONS.items():
    converter(_op, since=_versions)(_reduce)


# ================================================================================================ ArgMax / ArgMin
@converter("ArgMax", since=(7, 11, 12, 13))  # 11: negative axis; 12: select_last_index; 13: bfloat16
@converter("ArgMin", since=(7, 11, 12, 13))
def arg_max_min(ctx, node):
    x = node.require_input(0, "data")
    elem = b.elem_of(x)
    if not (is_float(elem) or is_int(elem)):
        raise node.error(f"element type {elem} is not supported")
    s = b.shape_of(x)
    if not s:
        raise node.error("the input is a scalar (rank 0); ArgMax/ArgMin need at least one dim")
    axis = normalize_axis(node, node.attr("axis", 0), len(s))
    last = node.attr("select_last_index", 0)
    y = arg_extreme(x, axis, node.op_type == "ArgMax", bool(last), is_unsigned(node, 0))
    return keep_dims(y, s, [axis]) if node.attr("keepdims", 1) else y


# ================================================================================================ CumSum
@converter("CumSum", since=(11, 14))  # 14: bfloat16 / float16
def cumsum(ctx, node):
    return _cumulative(node, product=False)


@converter("CumProd", since=26)
def cumprod(ctx, node):
    """Like CumSum with a product: y[i] = prod over j of x[j] where j <= i (exclusive / reverse likewise)."""
    return _cumulative(node, product=True)


def _cumulative(node, product: bool):
    x = node.require_input(0, "x")
    elem = b.elem_of(x)
    if not (is_float(elem) or is_int(elem)):
        raise node.error(f"element type {elem} is not supported")
    s = b.shape_of(x)
    r = len(s)
    if r == 0:
        raise node.error(f"the input is a scalar (rank 0); {node.op_type} needs at least one dim")
    axis_values = constant_ints(node, 1, "axis")
    if len(axis_values) != 1:
        raise node.error(f"axis must hold one value, got {axis_values}")
    axis = normalize_axis(node, axis_values[0], r)
    exclusive, reverse = node.attr("exclusive", 0), node.attr("reverse", 0)
    acc = accumulator_type(elem)
    flt = is_float(elem)
    pred = {(0, 0): arith.CmpIPredicate.sle, (1, 0): arith.CmpIPredicate.slt,
            (0, 1): arith.CmpIPredicate.sge, (1, 1): arith.CmpIPredicate.sgt}[(bool(exclusive), bool(reverse))]

    unit = 1 if product else 0
    combine = ((arith.mulf if flt else arith.muli) if product else (arith.addf if flt else arith.addi))

    def body(v, a):
        j, i = linalg.IndexOp(r).result, linalg.IndexOp(axis).result
        term = arith.select(arith.cmpi(pred, j, i), cast_scalar(v, acc) if flt else v, b.scalar(acc, unit))
        return combine(a, term)

    # loops: the output's dims, then j (the position combined) along the axis
    maps = [swap_map(r, axis, r), b.projection_map(r + 1, list(range(r)))]
    y = b.generic([x], maps, b.fill(s, acc, unit), body, ["parallel"] * r + ["reduction"])
    return cast_tensor(y, elem)


# ================================================================================================ TopK
def topk(x: ir.Value, k: int, axis: int, largest: bool, unsigned: bool) -> tuple[ir.Value, ir.Value]:
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    before = cmp_gt(elem, unsigned) if largest else cmp_lt(elem, unsigned)
    eq = cmp_eq(elem)

    # rank[j] = #{i : x[i] before x[j], or x[i] == x[j] and i < j}: loops (dims of x, i), i reduction
    def rank_body(xj, xi, acc):
        i, j = index(r), index(axis)
        earlier = arith.cmpi(arith.CmpIPredicate.slt, i, j)
        first = arith.ori(before(xi, xj), arith.andi(eq(xi, xj), earlier))
        return arith.addi(acc, arith.extui(I64(), first))

    ident = b.projection_map(r + 1, list(range(r)))
    rank = b.generic([x, x], [ident, swap_map(r, axis, r), ident], b.fill(s, I64(), 0), rank_body,
                     ["parallel"] * r + ["reduction"])

    # out[t] = x[j] where rank[j] == t: loops (dims of the output, j), j reduction
    out_shape = [k if d == axis else n for d, n in enumerate(s)]
    read = swap_map(r, axis, r)

    def pick(value_of):
        def body(rk, v, acc):
            return arith.select(arith.cmpi(arith.CmpIPredicate.eq, rk, index(axis)), value_of(v), acc)
        return body

    kinds = ["parallel"] * r + ["reduction"]
    values = b.generic([rank, x], [read, read, ident], b.fill(out_shape, elem, 0), pick(lambda v: v), kinds)
    indices = b.generic([rank, x], [read, read, ident], b.fill(out_shape, I64(), 0), pick(lambda v: index(r)),
                        kinds)
    return values, indices


@converter("TopK", since=(7, 10, 11, 24))  # 10: k is an input; 11: largest, sorted, negative axis
def top_k(ctx, node):
    x = node.require_input(0, "X")
    elem = b.elem_of(x)
    if not (is_float(elem) or is_int(elem)):
        raise node.error(f"element type {elem} is not supported")
    s = b.shape_of(x)
    if not s:
        raise node.error("the input is a scalar (rank 0); TopK needs at least one dim")
    axis = normalize_axis(node, node.attr("axis", -1), len(s))
    if node.opset >= 10:
        ks = constant_ints(node, 1, "K")
        if len(ks) != 1:
            raise node.error(f"K must hold one value, got {ks}")
        k = ks[0]
    else:
        k = node.attr("k", None)
        if k is None:
            raise node.error("attribute k is required")
    if not 1 <= k <= s[axis]:
        raise node.error(f"K={k} must be in [1, {s[axis]}] (the size of axis {axis})")
    largest = bool(node.attr("largest", 1))
    # sorted=0 leaves the order unspecified: the sorted order is one of the valid answers.
    return list(topk(x, k, axis, largest, is_unsigned(node, 0)))


# ================================================================================================ Hardmax
def hardmax_over(x: ir.Value, axis: int) -> ir.Value:
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    idx = arg_extreme(x, axis, largest=True, last=False, unsigned=False)
    keep = [i for i in range(r) if i != axis]

    def body(i, _):
        hit = arith.cmpi(arith.CmpIPredicate.eq, index(axis), i)
        return arith.select(hit, b.scalar(elem, 1.0), b.scalar(elem, 0.0))

    return b.generic([idx], [b.projection_map(r, keep), b.identity_map(r)], b.empty(s, elem), body)


def _softmax_family_input(node, default_axis: int):
    x = node.require_input(0, "input")
    node.require_float(x)
    s = b.shape_of(x)
    if not s:
        raise node.error("the input is a scalar (rank 0); at least one dim is needed")
    return x, s, normalize_axis(node, node.attr("axis", default_axis), len(s))


@converter("Hardmax", since=(7, 11))  # coerced to 2-D at `axis` (default 1)
def hardmax_2d(ctx, node):
    x, s, axis = _softmax_family_input(node, 1)
    return b.reshape(hardmax_over(coerce_2d(x, axis), 1), s)


@converter("Hardmax", since=13)  # one axis (default -1)
def hardmax(ctx, node):
    x, s, axis = _softmax_family_input(node, -1)
    return hardmax_over(x, axis)


# ================================================================================================ LogSoftmax
def log_softmax_over(x: ir.Value, axes: Sequence[int]) -> ir.Value:
    s, elem = b.shape_of(x), b.elem_of(x)
    r = len(s)
    acc = accumulator_type(elem)
    keep = [i for i in range(r) if i not in axes]
    m = b.reduce(x, axes, float("-inf"), arith.maximumf)
    m = cast_tensor(m, acc)
    total = reduce_with(x, axes, acc, 0.0,
                        lambda v, mv, a: arith.addf(math.exp(arith.subf(cast_scalar(v, acc), mv)), a), extra=[m])
    shift = b.elementwise([m, total], lambda mv, t: arith.addf(mv, math.log(t)))  # m + log(sum)
    maps = [b.identity_map(r), b.projection_map(r, keep), b.identity_map(r)]
    return b.generic([x, shift], maps, b.empty(s, elem),
                     lambda v, sh, _: cast_scalar(arith.subf(cast_scalar(v, acc), sh), elem))


@converter("LogSoftmax", since=(7, 11))  # coerced to 2-D at `axis` (default 1): the flattened tail
def log_softmax_2d(ctx, node):
    x, s, axis = _softmax_family_input(node, 1)
    return log_softmax_over(x, list(range(axis, len(s))))


@converter("LogSoftmax", since=13)  # one axis (default -1)
def log_softmax(ctx, node):
    x, s, axis = _softmax_family_input(node, -1)
    return log_softmax_over(x, [axis])
