"""sunway-vectorize-contractions: register-blocked SIMD micro-kernels for the contractions of CPE kernels.

A CPE issues one vector FMA per cycle (8 flop/cycle, the core group's peak) only if the loads that feed it stay
below one per FMA and the accumulators stay in registers across the reduction. The scalar loops that
convert-linalg-to-loops makes of a matmul or conv tile do neither: each multiply-add loads and stores its output
element in LDM. This pass rewrites every f32 contraction `out += a * b` on LDM buffers of a kernel into:

  for the parallel loops, stepping by the register block:
    acc[0..n) = the output block (vectors along the vector loop)            (or zeros, for a reduction vector loop)
    for the reduction loops (accumulators carried as scf.for iter_args; the innermost ones unrolled when
    their combined extent is small, as a conv's 3x3 window):
      per distinct input element of the block: one vector load, or one scalar load + broadcast
      n x vector.fma
    store the accumulators (or add their horizontal sums)

The vector loop is a parallel loop along which the output and every input are contiguous or constant (conv along
output width, matmul along N), or a reduction loop along which both inputs are contiguous (matmul with a
transposed weight). Up to two more parallel loops are unrolled into the register block (at most 16 accumulators:
SW26010's 32 vector registers hold 16 accumulators plus the operands), chosen by the cycles per multiply-add
the performance model (swmlir.sim.mix) will count for the nest: FMAs on P0 against loads (an unaligned vector
load is two slots, a broadcast load one: simd_loade), index adds and loop overhead on P1, and the accumulators'
FMA latency. Vectors a full block does not cover get a block with fewer vectors.
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

from swmlir.sim.constants import CPEConstants, cpe_constants
from swmlir.targets import get_target

from . import register_pass
from ._util import collect, ensure_sunway, funcs, index_const, is_ldm_type

MAX_ACCUMULATORS = 16
UNROLLS = (4, 3, 2, 1)
# the innermost reduction loops are unrolled while their combined extent stays within this many steps (a 3x3
# window: 9): their indices become constants, so every load of the body has a fixed offset from addresses
# computed outside the reduction, and one step issues up to 9 x 16 FMAs against its loads and one loop overhead
MAX_UNROLLED_STEPS = 9


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
    vdim: int | None                    # the vector loop (None: a scalar register block)
    vreduce: bool                       # the vector loop is a reduction (horizontal sums at the end)
    unroll: dict[int, int]              # loop -> register-block factor (for vdim: vectors per block)
    cycles_per_mac: float               # modeled CPE cycles per multiply-add, all parts of the nest
    lanes: int = 1
    vector_extent: int = 0              # vdim's iterations done in vectors; the rest is a scalar tail
    main_extent: int = 0                # of those, the ones done with the full block; the rest with fewer vectors


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


def _multiply_add(op: ir.Operation) -> bool | None:
    """Whether the body of the generic `op` is `out + a * b` (None if not); True when it multiplies (b, a)."""
    if op.name != "linalg.generic" or len(op.operands) != 3:
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
    return mul.operands[0] == b


def _contraction(op: ir.Operation, shapes: list[list[int]], swapped: bool) -> Contraction | None:
    """The contraction `op` computes on dense buffers of `shapes` (a, b, out), or None if a map is not linear or
    the output is not indexed by parallel loops alone."""
    maps = [ir.AffineMapAttr(m).value for m in op.attributes["indexing_maps"]]
    n = maps[0].n_dims
    iters = ["parallel" in str(x) for x in op.attributes["iterator_types"]]
    sizes: list[int | None] = [None] * n
    strides = []
    for shape, m in zip(shapes, maps):
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
    if not all(isinstance(e, ir.AffineDimExpr) and iters[e.position] for e in maps[2].results):
        return None
    return Contraction(op, [int(s) for s in sizes], iters, maps, strides, swapped)


def match_contraction(op: ir.Operation) -> Contraction | None:
    """`out[...] += a[...] * b[...]` on f32 LDM buffers with linear index maps, or None."""
    swapped = _multiply_add(op)
    if swapped is None or len(op.results):
        return None
    if not all(_identity_static(v.type) and isinstance(v.type.element_type, ir.F32Type) for v in op.operands):
        return None
    return _contraction(op, [list(v.type.shape) for v in op.operands], swapped)


def tile_cycles_per_mac(op: ir.Operation, shapes: list[list[int]], lanes: int, costs: CPEConstants,
                        chain_cycles: int) -> float | None:
    """Modeled CPE cycles per multiply-add of the micro-kernel this pass would make of `op` (a linalg.generic
    on tensors, before tiling) on a tile whose operands have `shapes`; None if `op` is no f32 contraction. The
    schedule weighs tiles with it. Unvectorizable contractions left to scalar loops run at `chain_cycles` per
    MAC (each multiply-add loads and stores its output element)."""
    swapped = _multiply_add(op)
    if swapped is None or not all(isinstance(v.type.element_type, ir.F32Type) for v in op.operands):
        return None
    c = _contraction(op, shapes, swapped)
    p = plan(c, lanes, costs) if c is not None else None
    return float(chain_cycles) if p is None else p.cycles_per_mac


def _index_ops(m: ir.AffineMap, moving: list[bool]) -> int:
    """Integer instructions left in the innermost loop to index one load through `m`: an index that mixes a
    reduction loop still looped (`moving`) with other terms costs one add per extra term (loop-invariant parts
    are hoisted; an unrolled loop's index is a constant)."""
    ops = 0
    for e in m.results:
        coeffs = _coefficients(e, m.n_dims) or []
        if any(k and moving[d] for d, k in enumerate(coeffs)):
            terms = sum(1 for k in coeffs if k) + (1 if _has_constant(e) else 0)
            ops += terms - 1
    return ops


def _has_constant(e) -> bool:
    if isinstance(e, ir.AffineConstantExpr):
        return e.value != 0
    if isinstance(e, ir.AffineAddExpr):
        return _has_constant(e.lhs) or _has_constant(e.rhs)
    return False


def unrolled_reductions(c: Contraction, vreduce_dim: int | None = None) -> list[int]:
    """The innermost reduction loops that are unrolled into the body: from the innermost outward while their
    extents multiply to at most MAX_UNROLLED_STEPS (a vector reduction loop is never unrolled)."""
    out: list[int] = []
    steps = 1
    for d in reversed(range(len(c.sizes))):
        if c.parallel[d]:
            continue
        if d == vreduce_dim or steps * c.sizes[d] > MAX_UNROLLED_STEPS:
            break
        out.insert(0, d)
        steps *= c.sizes[d]
    return out


def _step_offsets(c: Contraction, which: int, unroll: dict[int, int], unrolled: list[int], scale: dict[int, int]):
    """The distinct element offsets operand `which` is read at in one step: register-block points times the
    unrolled reduction indices, as linear offsets in its buffer (equal offsets are one load)."""
    st = c.strides[which]
    dims = sorted(unroll) + unrolled
    ranges = [range(unroll[d]) for d in sorted(unroll)] + [range(c.sizes[d]) for d in unrolled]
    return {sum(st[d] * k * scale.get(d, 1) for d, k in zip(dims, pt)) for pt in itertools.product(*ranges)}


def _nest_cycles(c: Contraction, unroll: dict[int, int], vdim: int | None, lanes: int, vreduce: bool,
                 k: CPEConstants) -> float:
    """Modeled cycles per multiply-add of one register-blocked nest, as sim.mix will count its IR: per step of
    the innermost reduction loop left (the unrolled ones are its body) max(P0: the FMAs, P1: loads (an
    unaligned vector load is two slots, a broadcast load one), index adds and loop overhead, the accumulators'
    FMA chains), plus the outer reduction loops' overhead and the block's prologue and epilogue, spread over
    the multiply-adds."""
    accs = math.prod(unroll.values()) or 1
    scalar = vdim is None
    unrolled = unrolled_reductions(c, vdim if vreduce else None)
    steps = math.prod(c.sizes[d] for d in unrolled)
    moving = [not c.parallel[d] and d not in unrolled for d in range(len(c.sizes))]
    scale = {vdim: lanes} if vdim is not None and not vreduce else {}
    p0 = steps * (2 * accs / k.scalar_fp_per_cycle if scalar else accs / k.vector_fma_per_cycle)
    p1 = 0.0
    for which in (0, 1):
        contiguous = not scalar and c.strides[which][vdim] == 1
        slots = k.unaligned_vector_access if contiguous else 1
        loads = len(_step_offsets(c, which, unroll, unrolled, scale))
        p1 += loads * (slots / k.mem_per_cycle + _index_ops(c.maps[which], moving) / k.int_per_cycle)
    looped = [d for d in range(len(c.sizes)) if moving[d]]
    step = max(p0, p1 + (k.loop_overhead if looped else 0), steps * k.fp_latency)
    red = [c.sizes[d] // (lanes if vreduce and d == vdim else 1) for d in looped]
    inner = 1
    outer_overhead = 0.0
    for extent in reversed(red):
        outer_overhead += k.loop_overhead / inner if inner > 1 else 0.0
        inner *= max(1, extent)
    mem = 1 if scalar else k.unaligned_vector_access
    if vreduce:   # swmlir_fN_sum: a store, lane loads and a chain of lane adds; then load, add, store of C
        epilogue = accs * (mem + lanes + 3 + lanes * k.fp_latency)
    else:         # load and store of each accumulator
        epilogue = accs * 2 * mem
    macs = accs * lanes * steps
    return (step + outer_overhead) / macs + epilogue / (macs * inner)


def plan(c: Contraction, lanes: int, costs: CPEConstants | None = None) -> Plan | None:
    """The register block with the fewest modeled cycles per multiply-add (_nest_cycles): vectors along a loop
    where the operands allow it (the vectors a full block does not cover done with a smaller block, a scalar
    tail where the extent is no multiple of the vector), else a scalar register block."""
    k = costs or cpe_constants(get_target("sw26010"))
    best = None
    a_st, b_st, o_st = c.strides
    n = len(c.sizes)
    for v in [*range(n), None]:
        if v is None:
            if best is not None:
                break
            vec_extent, vec_opts = 0, [1]
        elif c.parallel[v]:
            if o_st[v] != 1 or any(s[v] not in (0, 1) for s in (a_st, b_st)):
                continue
            vec_extent = c.sizes[v] - c.sizes[v] % lanes
            if not vec_extent:
                continue
            vec_opts = [u for u in UNROLLS if u <= vec_extent // lanes]
        else:
            if a_st[v] != 1 or b_st[v] != 1 or c.sizes[v] % lanes:
                continue
            vec_extent, vec_opts = c.sizes[v], [1]
        others = [d for d in range(n) if d != v and c.parallel[d] and c.sizes[d] > 1]
        vreduce = v is not None and not c.parallel[v]
        for chosen in itertools.chain([()], itertools.combinations(others, 1), itertools.combinations(others, 2)):
            factor_opts = [[u for u in UNROLLS if c.sizes[d] % u == 0] for d in chosen]
            for uv in vec_opts:
                for us in itertools.product(*factor_opts):
                    unroll = {**({v: uv} if v is not None else {}), **dict(zip(chosen, us))}
                    if math.prod(unroll.values()) > MAX_ACCUMULATORS:
                        continue
                    cost, main = _plan_cost(c, unroll, v, lanes, vreduce, vec_extent, k)
                    score = (cost, -math.prod(unroll.values()))
                    if best is None or score < best[0]:
                        best = (score, Plan(v, vreduce, unroll, cost, lanes if v is not None else 1, vec_extent,
                                            main))
    return best[1] if best else None


def _plan_cost(c: Contraction, unroll: dict[int, int], v: int | None, lanes: int, vreduce: bool,
               vec_extent: int, k: CPEConstants) -> tuple[float, int]:
    """(cycles per MAC over the whole contraction, main extent) of a plan: the full-block part, the vectors
    left over (a block with fewer vectors) and the scalar tail, weighted by their share of vdim."""
    if v is None:
        return _nest_cycles(c, unroll, None, 1, False, k), 0
    size = c.sizes[v]
    if vreduce:
        return _nest_cycles(c, unroll, v, lanes, True, k), vec_extent
    block = unroll[v] * lanes
    main = vec_extent - vec_extent % block
    cost = main / size * _nest_cycles(c, unroll, v, lanes, False, k)
    if main < vec_extent:
        cost += (vec_extent - main) / size * _nest_cycles(c, {**unroll, v: (vec_extent - main) // lanes}, v,
                                                          lanes, False, k)
    if vec_extent < size:
        tail = {d: u for d, u in unroll.items() if d != v}
        cost += (size - vec_extent) / size * _nest_cycles(c, tail, None, 1, False, k)
    return cost, main


def _apply(expr_map: ir.AffineMap, ivs: list[ir.Value]) -> list[ir.Value]:
    out = []
    for e in expr_map.results:
        m = ir.AffineMap.get(expr_map.n_dims, 0, [e])
        out.append(affine.AffineApplyOp(m, ivs).result)
    return out


def _offset(iv: ir.Value, k: int) -> ir.Value:
    return iv if k == 0 else arith.AddIOp(iv, index_const(k)).result


def rewrite(c: Contraction, p: Plan) -> None:
    """Replace the linalg.generic by the register-blocked loop nest of `p` (and its scalar tail)."""
    op = c.op
    with ir.InsertionPoint(op), op.location:
        if p.vdim is None:
            _emit_nest(c, p.unroll, None, 1, {})
        else:
            main = p.vector_extent if p.vreduce else p.main_extent
            _emit_nest(c, p.unroll, p.vdim, p.lanes, {p.vdim: (0, main)}, p.vreduce)
            if main < p.vector_extent:   # the vectors a full block does not cover
                rest = {**p.unroll, p.vdim: (p.vector_extent - main) // p.lanes}
                _emit_nest(c, rest, p.vdim, p.lanes, {p.vdim: (main, p.vector_extent)})
            if p.vector_extent < c.sizes[p.vdim]:   # the scalar tail of the vector loop
                tail_unroll = {d: u for d, u in p.unroll.items() if d != p.vdim}
                _emit_nest(c, tail_unroll, None, 1, {p.vdim: (p.vector_extent, c.sizes[p.vdim])})
    op.erase()


def _emit_nest(c: Contraction, unroll: dict[int, int], vdim: int | None, lanes: int,
               ranges: dict[int, tuple[int, int]], vreduce: bool = False) -> None:
    """One register-blocked loop nest at the insertion point. lanes == 1: scalar accumulators."""
    a, b, out = c.op.operands
    f32 = ir.F32Type.get()
    scalar = lanes == 1
    vt = f32 if scalar else ir.VectorType.get([lanes], f32)
    n = len(c.sizes)
    step = [1] * n
    for d, u in unroll.items():
        step[d] = u * lanes if d == vdim and not vreduce else u
    if vreduce:
        step[vdim] = lanes
    par = [d for d in range(n) if c.parallel[d]]
    red = [d for d in range(n) if not c.parallel[d]]
    block_dims = sorted(unroll)
    points = list(itertools.product(*[range(unroll[d]) for d in block_dims]))
    ivs: list[ir.Value | None] = [None] * n

    def loop(d, inits=()):
        lo, hi = ranges.get(d, (0, c.sizes[d]))
        return scf.ForOp(index_const(lo), index_const(hi), index_const(step[d]), list(inits))

    nest = []
    for d in par:
        lp = loop(d)
        nest.append(lp)
        ivs[d] = lp.induction_variable
        ir.InsertionPoint(lp.body).__enter__()

    def point_ivs(pt) -> list[ir.Value]:
        out_ivs = list(ivs)
        for d, k in zip(block_dims, pt):
            scale = lanes if d == vdim and not vreduce else 1
            out_ivs[d] = _offset(ivs[d], k * scale)
        return out_ivs

    def load(mem, idx, contiguous):
        if scalar:
            return memref.LoadOp(mem, idx).result
        if contiguous:
            return vector.LoadOp(vt, mem, idx).result
        return vector.BroadcastOp(vt, memref.LoadOp(mem, idx).result).result

    if vreduce:
        zero = arith.ConstantOp(f32, 0.0).result
        accs = [vector.BroadcastOp(vt, zero).result for _ in points]
    else:
        accs = [load(out, _out_indices(c, point_ivs(pt)), True) for pt in points]
    unrolled = unrolled_reductions(c, vdim if vreduce else None)
    red_loops = []
    for d in red:
        if d in unrolled:
            continue
        lp = loop(d, accs)
        red_loops.append(lp)
        ivs[d] = lp.induction_variable
        accs = list(lp.inner_iter_args)
        ir.InsertionPoint(lp.body).__enter__()
    scale = {d: (lanes if d == vdim and not vreduce else 1) for d in block_dims}
    cache: dict = {}

    def operand(which: int, pt, combo) -> ir.Value:
        st = c.strides[which]
        key = (which, sum(st[d] * k * scale[d] for d, k in zip(block_dims, pt))
               + sum(st[d] * v for d, v in zip(unrolled, combo)))
        if key not in cache:
            contiguous = vdim is not None and st[vdim] == 1
            cache[key] = load((a, b)[which], _apply(c.maps[which], point_ivs(pt)), contiguous)
        return cache[key]

    new_accs = list(accs)
    for combo in itertools.product(*[range(c.sizes[d]) for d in unrolled]):
        for d, v in zip(unrolled, combo):
            ivs[d] = index_const(v)
        for i, pt in enumerate(points):
            x, y = operand(0, pt, combo), operand(1, pt, combo)
            if c.swapped:
                x, y = y, x
            if scalar:
                new_accs[i] = arith.AddFOp(new_accs[i], arith.MulFOp(x, y).result).result
            else:
                new_accs[i] = vector.FMAOp(x, y, new_accs[i]).result
    for lp in reversed(red_loops):
        scf.YieldOp(new_accs)
        ir.InsertionPoint.current.__exit__(None, None, None)
        new_accs = list(lp.results)
    for pt, acc in zip(points, new_accs):
        idx = _out_indices(c, point_ivs(pt))
        if vreduce:
            total = vector.ReductionOp(f32, vector.CombiningKind.ADD, acc).result
            old = memref.LoadOp(out, idx).result
            memref.StoreOp(arith.AddFOp(old, total).result, out, idx)
        elif scalar:
            memref.StoreOp(acc, out, idx)
        else:
            vector.StoreOp(acc, out, idx)
    for lp in reversed(nest):
        scf.YieldOp([])
        ir.InsertionPoint.current.__exit__(None, None, None)


def _out_indices(c: Contraction, ivs: list[ir.Value]) -> list[ir.Value]:
    return [ivs[ir.AffineDimExpr(e).position] for e in c.maps[2].results]


@register_pass("sunway-vectorize-contractions",
               "Rewrite f32 contractions on LDM buffers into register-blocked vector FMA micro-kernels",
               options={"target": ("sw26010", "target whose SIMD width sets the vector length")})
def vectorize_contractions(module: ir.Operation, *, target: str = "sw26010") -> None:
    ensure_sunway(module)
    tgt = get_target(target)
    lanes, costs = tgt.simd_f32_lanes, cpe_constants(tgt)
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, "linalg.generic"):
            c = match_contraction(op)
            if c is None:
                continue
            p = plan(c, lanes, costs)
            if p is not None:
                rewrite(c, p)
