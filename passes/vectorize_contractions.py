"""sunway-vectorize-contractions: register-blocked SIMD micro-kernels for the contractions of CPE kernels.

A CPE issues one vector FMA per cycle (8 flop/cycle, the core group's peak) only if the loads that feed it stay
below one per FMA and the accumulators stay in registers across the reduction. The scalar loops that
convert-linalg-to-loops makes of a matmul or conv tile do neither: each multiply-add loads and stores its output
element in LDM. This pass rewrites every f32 contraction `out += a * b` on LDM buffers of a kernel into:

  for the parallel loops, stepping by the register block:
    acc[0..n) = the output block (vectors along the vector loop)            (or zeros, for a reduction vector loop)
    for the reduction loops (accumulators carried as scf.for iter_args):
      per distinct input element of the block: one vector load, or one scalar load + broadcast
      n x vector.fma
    store the accumulators (or add their horizontal sums)

The vector loop is a parallel loop along which the output and every input are contiguous or constant (conv along
output width, matmul along N), or a reduction loop along which both inputs are contiguous (matmul with a
transposed weight). Up to two more parallel loops are unrolled into the register block (at most 16 accumulators:
SW26010's 32 vector registers hold 16 accumulators plus the operands), chosen to minimise loads per FMA.
Contractions that fit none of these shapes (odd extents, other element types) stay scalar. The vector width is the
target's (4 floats on SW26010, whose 256-bit floatv4 holds floats in double-width lanes; 8 on SW26010-Pro); sunway-vector-to-simd turns the vector ops into the
SIMD API.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import affine, arith, memref, scf, vector

from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, index_const, is_ldm_type

MAX_ACCUMULATORS = 16
UNROLLS = (4, 2, 1)


@dataclass
class Contraction:
    op: ir.Operation
    sizes: list[int]
    parallel: list[bool]
    maps: list[ir.AffineMap]            # a, b, out
    strides: list[list[int]]            # per operand, per loop: element stride (0 = does not move)
    swapped: bool                       # body multiplies (b, a): keep the product's operand order


@dataclass
class Plan:
    vdim: int                           # the vector loop
    vreduce: bool                       # the vector loop is a reduction (horizontal sums at the end)
    unroll: dict[int, int]              # loop -> register-block factor (for vdim: vectors per block)
    loads_per_fma: float


def _row_major(shape: list[int]) -> list[int]:
    return [math.prod(shape[i + 1:]) for i in range(len(shape))]


def _coefficients(expr, n_dims: int) -> list[int] | None:
    """Per-loop coefficients of a linear affine expression (None if it is not linear)."""
    c = [0] * n_dims

    def walk(e, scale):
        if isinstance(e, ir.AffineDimExpr):
            c[e.position] += scale
        elif isinstance(e, ir.AffineConstantExpr):
            pass
        elif isinstance(e, ir.AffineAddExpr):
            return walk(e.lhs, scale) and walk(e.rhs, scale)
        elif isinstance(e, ir.AffineMulExpr) and isinstance(e.rhs, ir.AffineConstantExpr):
            return walk(e.lhs, scale * e.rhs.value)
        elif isinstance(e, ir.AffineMulExpr) and isinstance(e.lhs, ir.AffineConstantExpr):
            return walk(e.rhs, scale * e.lhs.value)
        else:
            return False
        return True

    return c if walk(expr, 1) else None


def _identity_static(t: ir.Type) -> bool:
    if not isinstance(t, ir.MemRefType) or not t.has_static_shape or not is_ldm_type(t):
        return False
    layout = t.layout
    return isinstance(layout, ir.AffineMapAttr) and layout.value == ir.AffineMap.get_identity(t.rank)


def match_contraction(op: ir.Operation) -> Contraction | None:
    """`out[...] += a[...] * b[...]` on f32 LDM buffers with linear index maps, or None."""
    if op.name != "linalg.generic" or len(op.operands) != 3 or len(op.results):
        return None
    if not all(_identity_static(v.type) and isinstance(v.type.element_type, ir.F32Type) for v in op.operands):
        return None
    body = op.regions[0].blocks[0]
    ops = [o.operation for o in body.operations]
    if [o.name for o in ops] != ["arith.mulf", "arith.addf", "linalg.yield"]:
        return None
    mul, add, yld = ops
    a, b, out = body.arguments
    if {mul.operands[0], mul.operands[1]} != {a, b} or mul.operands[0] == mul.operands[1]:
        return None
    if not ((add.operands[0] == out and add.operands[1] == mul.results[0])
            or (add.operands[1] == out and add.operands[0] == mul.results[0])):
        return None
    if yld.operands[0] != add.results[0]:
        return None
    maps = [ir.AffineMapAttr(m).value for m in op.attributes["indexing_maps"]]
    n = maps[0].n_dims
    iters = ["parallel" in str(x) for x in op.attributes["iterator_types"]]
    sizes: list[int | None] = [None] * n
    strides = []
    for v, m in zip(op.operands, maps):
        shape = list(v.type.shape)
        rm = _row_major(shape)
        st = [0] * n
        for e, d, r in zip(m.results, shape, rm):
            c = _coefficients(e, n)
            if c is None:
                return None
            if isinstance(e, ir.AffineDimExpr) and sizes[e.position] is None:
                sizes[e.position] = d
            st = [s + ci * r for s, ci in zip(st, c)]
        strides.append(st)
    if any(s is None for s in sizes):
        return None
    # the output must be indexed by the parallel loops only, each once (a projected permutation)
    out_map = maps[2]
    if not all(isinstance(e, ir.AffineDimExpr) and iters[e.position] for e in out_map.results):
        return None
    return Contraction(op, [int(s) for s in sizes], iters, maps, strides, mul.operands[0] == b)


def plan(c: Contraction, lanes: int) -> Plan | None:
    """The register block with the fewest loads per FMA, or None when no loop can be vectorized."""
    best = None
    a_st, b_st, o_st = c.strides
    n = len(c.sizes)
    for v in range(n):
        if c.sizes[v] % lanes:
            continue
        if c.parallel[v]:
            if o_st[v] != 1 or any(s[v] not in (0, 1) for s in (a_st, b_st)):
                continue
        elif a_st[v] != 1 or b_st[v] != 1:
            continue
        others = [d for d in range(n) if d != v and c.parallel[d] and c.sizes[d] > 1]
        vec_opts = [u for u in UNROLLS if (c.sizes[v] // lanes) % u == 0] if c.parallel[v] else [1]
        for chosen in itertools.chain([()], itertools.combinations(others, 1), itertools.combinations(others, 2)):
            factor_opts = [[u for u in UNROLLS if c.sizes[d] % u == 0] for d in chosen]
            for uv in vec_opts:
                for us in itertools.product(*factor_opts):
                    unroll = {v: uv, **dict(zip(chosen, us))}
                    accs = math.prod(unroll.values())
                    if accs > MAX_ACCUMULATORS:
                        continue
                    loads = sum(_distinct_loads(st, unroll) for st in (a_st, b_st))
                    score = (loads / accs, -accs)
                    if best is None or score < best[0]:
                        best = (score, Plan(v, not c.parallel[v], unroll, loads / accs))
    return best[1] if best else None


def _distinct_loads(st: list[int], unroll: dict[int, int]) -> int:
    """Loads of one input per step of the reduction loops: one per distinct element (or vector) of the block."""
    return math.prod(u for d, u in unroll.items() if st[d] != 0)


def _apply(expr_map: ir.AffineMap, ivs: list[ir.Value]) -> list[ir.Value]:
    out = []
    for e in expr_map.results:
        m = ir.AffineMap.get(expr_map.n_dims, 0, [e])
        out.append(affine.AffineApplyOp(m, ivs).result)
    return out


def _offset(iv: ir.Value, k: int) -> ir.Value:
    return iv if k == 0 else arith.AddIOp(iv, index_const(k)).result


def rewrite(c: Contraction, p: Plan, lanes: int) -> None:
    """Replace the linalg.generic by the register-blocked loop nest of `p`."""
    op = c.op
    a, b, out = op.operands
    f32 = ir.F32Type.get()
    vt = ir.VectorType.get([lanes], f32)
    n = len(c.sizes)
    step = [1] * n
    for d, u in p.unroll.items():
        step[d] = u * lanes if d == p.vdim else u
    if p.vreduce:
        step[p.vdim] = lanes
    par = [d for d in range(n) if c.parallel[d]]
    red = [d for d in range(n) if not c.parallel[d]]
    block_dims = sorted(p.unroll)
    points = list(itertools.product(*[range(p.unroll[d]) for d in block_dims]))
    with ir.InsertionPoint(op), op.location:
        ivs: list[ir.Value | None] = [None] * n
        nest = []
        for d in par:
            loop = scf.ForOp(index_const(0), index_const(c.sizes[d]), index_const(step[d]))
            nest.append(loop)
            ivs[d] = loop.induction_variable
            ir.InsertionPoint(loop.body).__enter__()

        def point_ivs(pt) -> list[ir.Value]:
            out_ivs = list(ivs)
            for d, k in zip(block_dims, pt):
                scale = lanes if d == p.vdim and not p.vreduce else 1
                out_ivs[d] = _offset(ivs[d], k * scale)
            return out_ivs

        zero_f = arith.ConstantOp(f32, 0.0).result
        if p.vreduce:
            inits = [vector.BroadcastOp(vt, zero_f).result for _ in points]
        else:
            inits = [vector.LoadOp(vt, out, _out_indices(c, point_ivs(pt))).result for pt in points]
        accs = inits
        red_loops = []
        for d in red:
            loop = scf.ForOp(index_const(0), index_const(c.sizes[d]), index_const(step[d]), accs)
            red_loops.append(loop)
            ivs[d] = loop.induction_variable
            accs = list(loop.inner_iter_args)
            ir.InsertionPoint(loop.body).__enter__()
        cache: dict = {}

        def load(which: int, pt) -> ir.Value:
            st = c.strides[which]
            key = (which,) + tuple(k if st[d] else 0 for d, k in zip(block_dims, pt))
            if key not in cache:
                mem = (a, b)[which]
                idx = _apply(c.maps[which], point_ivs(pt))
                if st[p.vdim] == 1:
                    cache[key] = vector.LoadOp(vt, mem, idx).result
                else:
                    cache[key] = vector.BroadcastOp(vt, memref.LoadOp(mem, idx).result).result
            return cache[key]

        new_accs = []
        for pt, acc in zip(points, accs):
            x, y = load(0, pt), load(1, pt)
            if c.swapped:
                x, y = y, x
            new_accs.append(vector.FMAOp(x, y, acc).result)
        for loop in reversed(red_loops):
            scf.YieldOp(new_accs)
            ir.InsertionPoint.current.__exit__(None, None, None)
            new_accs = list(loop.results)
        for pt, acc in zip(points, new_accs):
            idx = _out_indices(c, point_ivs(pt))
            if p.vreduce:
                total = vector.ReductionOp(f32, vector.CombiningKind.ADD, acc).result
                old = memref.LoadOp(out, idx).result
                memref.StoreOp(arith.AddFOp(old, total).result, out, idx)
            else:
                vector.StoreOp(acc, out, idx)
        for loop in reversed(nest):
            scf.YieldOp([])
            ir.InsertionPoint.current.__exit__(None, None, None)
    op.erase()


def _out_indices(c: Contraction, ivs: list[ir.Value]) -> list[ir.Value]:
    return [ivs[ir.AffineDimExpr(e).position] for e in c.maps[2].results]


@register_pass("sunway-vectorize-contractions",
               "Rewrite f32 contractions on LDM buffers into register-blocked vector FMA micro-kernels",
               options={"target": ("sw26010", "target whose SIMD width sets the vector length")})
def vectorize_contractions(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    lanes = get_target(target).simd_f32_lanes
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, "linalg.generic"):
            c = match_contraction(op)
            if c is None:
                continue
            p = plan(c, lanes)
            if p is not None:
                rewrite(c, p, lanes)
