"""MatMul (numpy semantics: 1-D promotion, batch broadcasting) and Gemm, on linalg.matmul / batch_matmul.

Batch dims are folded so that only two named ops appear: `linalg.matmul` (2-D, and N-D x 2-D with the batch
folded into M) and `linalg.batch_matmul` (one collapsed batch dim). Accumulators are zero-filled; bias and
scaling are a separate elementwise generic that the graph stage may fuse.
"""
from __future__ import annotations

import math

from mlir.dialects import arith, linalg

from .. import builders as b
from ..registry import converter


# Below this many rows of A, a product streams its constant B once and is bound by that DMA: B is stored (N, K),
# so a tile of N columns is N_t rows of K contiguous floats (long DMA blocks). From this many rows on, B is
# reused across the rows and kept (K, N): the micro-kernel's vectors run along N, where C and B are contiguous,
# with no horizontal sums (sunway-vectorize-contractions), unless the target keeps weights (N, K)
# (Target.kn_weights).
STREAMED_ROWS = 32


def constant_b(node, cb, m: int, transposed: bool):
    """A constant B (stored (N, K) when `transposed`) as the layout matmul_2d wants for M = m rows: (value,
    y_is_nk)."""
    nk = m < STREAMED_ROWS or not node.ctx.kn_weights
    if nk == transposed:
        return b.constant(cb, node.input_names[1]), nk
    return b.constant(cb.T.copy(), f"{node.input_names[1]}_T"), nk


def matmul_2d(x, y, *, y_is_nk: bool = False):
    """(M, K) x (K, N) into a zero-filled (M, N). With y_is_nk, y is stored (N, K): Gemm's transB on a run-time
    B, read in place, or a constant B of a product with few rows (see STREAMED_ROWS)."""
    from mlir import ir
    m = b.shape_of(x)[0]
    n = b.shape_of(y)[0] if y_is_nk else b.shape_of(y)[1]
    out = b.fill([m, n], b.elem_of(x), 0.0)
    if not y_is_nk:
        return linalg.matmul(x, y, outs=[out])
    d = [ir.AffineDimExpr.get(i) for i in range(3)]
    maps = [ir.AffineMap.get(3, 0, [d[0], d[2]]), ir.AffineMap.get(3, 0, [d[1], d[2]]),
            ir.AffineMap.get(3, 0, [d[0], d[1]])]
    return linalg.matmul(x, y, outs=[out], indexing_maps=maps)


def _float_operands(node, x, y):
    node.require_float(x, "A")
    node.require_float(y, "B")
    if b.elem_of(x) != b.elem_of(y):
        raise node.error(f"operands have different element types {b.elem_of(x)} and {b.elem_of(y)}")


def matmul_shapes(node, sa, sb):
    """numpy matmul shapes: A and B promoted to >= 2-D, (M, K, N), and the broadcast batch dims."""
    if not sa or not sb:
        raise node.error(f"operands must have rank >= 1, got shapes {list(sa)} and {list(sb)}")
    a2 = sa if len(sa) >= 2 else (1, sa[0])
    b2 = sb if len(sb) >= 2 else (sb[0], 1)
    (m, k), (k2, n) = a2[-2:], b2[-2:]
    if k != k2:
        raise node.error(f"inner dimensions differ: A {list(sa)} x B {list(sb)}")
    try:
        batch = b.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError as e:
        raise node.error(f"batch dimensions do not broadcast: {e}") from None
    return a2, b2, m, k, n, batch


@converter("MatMul", since=(7, 9, 13))
def matmul(ctx, node):
    x, y = node.require_input(0, "A"), node.require_input(1, "B")
    _float_operands(node, x, y)
    sa, sb = b.shape_of(x), b.shape_of(y)
    a2, b2, m, k, n, batch = matmul_shapes(node, sa, sb)
    final = batch + ((m,) if len(sa) >= 2 else ()) + ((n,) if len(sb) >= 2 else ())
    x, y = b.reshape(x, a2), b.reshape(y, b2)
    if math.prod(b2[:-2]) == 1:
        # B is one matrix: fold A's batch dims into M and use a plain matmul
        rows = math.prod(a2[:-2]) * m
        xa = b.reshape(x, (rows, k))
        cb = node.constant(1)
        if cb is not None and cb.ndim >= 1:
            yc, nk = constant_b(node, cb.reshape(k, n), rows, False)
            r = matmul_2d(xa, yc, y_is_nk=nk)
        else:
            r = matmul_2d(xa, b.reshape(y, (k, n)))
        return b.reshape(r, final)
    nb = math.prod(batch)
    x3 = b.reshape(b.broadcast_to(x, batch + (m, k)), (nb, m, k))
    y3 = b.reshape(b.broadcast_to(y, batch + (k, n)), (nb, k, n))
    r = linalg.batch_matmul(x3, y3, outs=[b.fill([nb, m, n], b.elem_of(x), 0.0)])
    return b.reshape(r, final)


def _input_shape(node, i, what):
    c = node.constant(i)
    return tuple(c.shape) if c is not None else b.shape_of(node.require_input(i, what))


def _matrix(node, i, what, transpose):
    """Input i, transposed when asked: a constant in numpy (free at run time, and the untransposed copy is never
    materialised), a run-time value by a linalg.transpose."""
    c = node.constant(i)
    if transpose and c is not None:
        return b.constant(c.T, f"{node.input_names[i]}_T")
    v = node.require_input(i, what)
    return b.transpose(v, [1, 0]) if transpose else v


@converter("Gemm", since=(7, 9, 11, 13))  # 11: C became optional
def gemm(ctx, node):
    sa, sb = _input_shape(node, 0, "A"), _input_shape(node, 1, "B")
    c = node.input(2)
    if c is None and node.opset < 11:
        raise node.error("input C is required before opset 11")
    if len(sa) != 2 or len(sb) != 2:
        raise node.error(f"A and B must be 2-D, got shapes {list(sa)} and {list(sb)}")
    trans_a, trans_b = node.attr("transA", 0), node.attr("transB", 0)
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    m, k = (sa[1], sa[0]) if trans_a else sa
    k2, n = (sb[1], sb[0]) if trans_b else sb
    if k != k2:
        ta, tb = "A^T" if trans_a else "A", "B^T" if trans_b else "B"
        raise node.error(f"inner dimensions differ: {ta} is {m}x{k}, {tb} is {k2}x{n}")
    x = _matrix(node, 0, "A", trans_a)
    cb = node.constant(1)
    if cb is not None:  # a constant B in the layout of STREAMED_ROWS
        y, y_is_nk = constant_b(node, cb, m, bool(trans_b))
    else:
        y, y_is_nk = node.require_input(1, "B"), bool(trans_b)
    _float_operands(node, x, y)
    if c is not None:
        sc = b.shape_of(c)
        if b.elem_of(c) != b.elem_of(x):
            raise node.error(f"C has element type {b.elem_of(c)}, A has {b.elem_of(x)}")
        if len(sc) > 2 or any(d not in (1, o) for d, o in zip(reversed(sc), (n, m))):
            raise node.error(f"C of shape {list(sc)} does not broadcast to the result shape [{m}, {n}]")
    acc = matmul_2d(x, y, y_is_nk=y_is_nk)
    t = b.elem_of(acc)
    if c is None or beta == 0.0:
        if alpha == 1.0:
            return acc
        return b.elementwise([acc], lambda v: arith.mulf(v, b.scalar(t, alpha)))

    def body(v, w):
        v = v if alpha == 1.0 else arith.mulf(v, b.scalar(t, alpha))
        w = w if beta == 1.0 else arith.mulf(w, b.scalar(t, beta))
        return arith.addf(v, w)

    return b.elementwise([acc, c], body, out_shape=(m, n))
