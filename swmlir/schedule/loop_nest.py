"""A static description of a linalg.generic's iteration space, enough to size tiles against the LDM."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlir import ir

from .pads import HALO_ATTR, halo_geometry, widened_dims


@dataclass
class Operand:
    index: int                 # operand number in the linalg op
    shape: tuple[int, ...]
    elem_bytes: int
    exprs: list                # affine result expressions of its indexing map
    is_init: bool
    is_read: bool              # its block argument is used by the body (an init that is only written is not)
    constant: bool = False     # a constant tensor (a weight): stored tile-major (passes/pack_weights.py)
    # a padded tensor read with its halo (passes/fetch_halos.py): (source shape, low, high) of the pad; the tile
    # is then a stage of the source's window (fetched) and the padded tile it lands in (LDM only)
    halo: tuple | None = None
    _coeffs: list | None = field(default=None, repr=False, compare=False)
    _extents: dict = field(default_factory=dict, repr=False, compare=False)
    _loops: frozenset | None = field(default=None, repr=False, compare=False)

    def extent(self, tiles: list[int], sizes: list[int]) -> list[int]:
        """Box of elements this operand needs for one tile (tile 0 = the whole loop). Remembered per tiles: the
        tile search asks for the same box several times per candidate, over tens of thousands of candidates."""
        key = (tuple(tiles), tuple(sizes))
        box = self._extents.get(key)
        if box is None:
            full = [t if t else s for t, s in zip(tiles, sizes)]
            if self._coeffs is None:
                self._coeffs = [_coefficients(e, dim) for e, dim in zip(self.exprs, self.shape)]
            box = [dim if c is None else min(dim, sum(abs(k) * (full[d] - 1) for d, k in c.items()) + 1)
                   for c, dim in zip(self._coeffs, self.shape)]
            self._extents[key] = box
        return list(box)

    def tile_bytes(self, tiles: list[int], sizes: list[int]) -> int:
        if self.halo is None:
            return math.prod(self.extent(tiles, sizes)) * self.elem_bytes
        stage = self.fetched(tiles, sizes)[0]
        landing = self._halo_boxes(self.extent(tiles, sizes))[1]
        return (math.prod(stage) + math.prod(landing)) * self.elem_bytes

    def halo_copied(self, tiles: list[int], sizes: list[int]) -> int:
        """Elements copied in LDM from the stage into the padded tile per tile of a halo operand (0 for others)."""
        return math.prod(self._halo_boxes(self.extent(tiles, sizes))[0]) if self.halo is not None else 0

    def _halo_boxes(self, window: list[int]) -> tuple[list[int], list[int]]:
        """(stage box in the source, LDM tile it lands in) of a window over the padded tensor."""
        geo = [halo_geometry(h, w, lo, hi) for h, w, lo, hi in zip(self.halo[0], window, self.halo[1], self.halo[2])]
        return [f for f, _, _ in geo], [t for _, _, t in geo]

    def fetched(self, tiles: list[int], sizes: list[int]) -> tuple[list[int], tuple[int, ...]]:
        """(box fetched by DMA, shape of the tensor it is fetched from) for one tile."""
        ext = self.extent(tiles, sizes)
        if self.halo is None:
            return ext, self.shape
        box, base = self._halo_boxes(ext)[0], self.halo[3]
        wide = widened_dims(box, list(self.halo[0]), base)
        if not wide:
            return box, tuple(self.halo[0])
        return [base[d] if d in wide else b for d, b in enumerate(box)], tuple(base)

    def loops(self) -> set[int]:
        """The loops its indexing map reads."""
        if self._loops is None:
            self._loops = frozenset().union(*(expr_dims(e) for e in self.exprs))
        return set(self._loops)

    def sliceable(self, tiles: list[int], sizes: list[int], parts: int = 8) -> bool:
        """Its tile splits into `parts` contiguous slices along its first non-unit dimension (the slices the
        CPEs of a mesh row fetch before sunway-share-tiles gathers them)."""
        return _first_extent_divides(self.fetched(tiles, sizes)[0], parts)

    def transfer(self, tiles: list[int], sizes: list[int]) -> tuple[int, int]:
        """(bytes, contiguous block bytes) of the DMA that stages this operand's tile: the block is the innermost
        run of the box that is contiguous in the row-major tensor, or the whole tile for a constant read one
        aligned tile at a time (pack_weights stores those tiles contiguously)."""
        ext, shape = self.fetched(tiles, sizes)
        if self.constant and all(d % e == 0 for d, e in zip(shape, ext)) \
                and all(isinstance(x, ir.AffineDimExpr) for x in self.exprs):
            return math.prod(ext) * self.elem_bytes, math.prod(ext) * self.elem_bytes
        run = 1
        for e, full in zip(reversed(ext), reversed(shape)):
            run *= e
            if e != full:
                break
        return math.prod(ext) * self.elem_bytes, run * self.elem_bytes


def _first_extent_divides(ext: list[int], parts: int) -> bool:
    first = next((e for e in ext if e > 1), 1)
    return first % parts == 0


def _coefficients(expr, dim: int) -> dict[int, int] | None:
    """Loop -> coefficient of a linear affine expression; None where it is not linear (the whole dimension)."""
    coeffs: dict[int, int] = {}

    def walk(e, scale):
        if isinstance(e, ir.AffineDimExpr):
            coeffs[e.position] = coeffs.get(e.position, 0) + scale
        elif isinstance(e, ir.AffineConstantExpr):
            pass
        elif isinstance(e, ir.AffineAddExpr):
            walk(e.lhs, scale)
            walk(e.rhs, scale)
        elif isinstance(e, ir.AffineMulExpr) and isinstance(e.rhs, ir.AffineConstantExpr):
            walk(e.lhs, scale * e.rhs.value)
        elif isinstance(e, ir.AffineMulExpr) and isinstance(e.lhs, ir.AffineConstantExpr):
            walk(e.rhs, scale * e.lhs.value)
        else:  # mod, floordiv, ...: be conservative, the whole dimension
            coeffs[-1] = dim

    walk(expr, 1)
    return None if -1 in coeffs else coeffs


def expr_dims(e) -> set[int]:
    """The loops an affine expression reads."""
    if isinstance(e, ir.AffineDimExpr):
        return {e.position}
    if isinstance(e, ir.AffineBinaryExpr):
        return expr_dims(e.lhs) | expr_dims(e.rhs)
    return set()


def _nonlinear_dims(expr, out: set, negative: list) -> None:
    """Loops of `expr` that appear under floordiv/mod/ceildiv or with a negative coefficient."""
    dims_of = expr_dims

    def walk(e):
        if isinstance(e, (ir.AffineFloorDivExpr, ir.AffineCeilDivExpr, ir.AffineModExpr)):
            out.update(dims_of(e))
        elif isinstance(e, ir.AffineMulExpr):
            for a, b in ((e.lhs, e.rhs), (e.rhs, e.lhs)):
                if isinstance(b, ir.AffineConstantExpr) and b.value < 0:
                    negative.extend(dims_of(a))
                    out.update(dims_of(a))
            walk(e.lhs)
            walk(e.rhs)
        elif isinstance(e, ir.AffineAddExpr):
            walk(e.lhs)
            walk(e.rhs)

    walk(expr)


@dataclass
class LoopNest:
    sizes: list[int]
    parallel: list[bool]
    operands: list[Operand]
    # loops read through floordiv/mod or a negative coefficient: tiling them would take a wrong input window
    # (linalg sizes windows as f(T - 1) + 1), so they are never tiled
    untileable: set = field(default_factory=set)
    negative_coefficients: bool = False

    @property
    def parallel_dims(self) -> list[int]:
        return [i for i, p in enumerate(self.parallel) if p]

    @property
    def reduction_dims(self) -> list[int]:
        return [i for i, p in enumerate(self.parallel) if not p]

    def ldm_bytes(self, tiles: list[int]) -> int:
        """LDM needed by one tile: every tensor operand is staged in LDM (scalars are not)."""
        return sum(o.tile_bytes(tiles, self.sizes) for o in self.operands)

    def transfers(self, tiles: list[int]) -> list[tuple[int, int, bool, set, bool]]:
        """(bytes, block bytes, is an init, loops it reads, sliceable in 8) per staged operand of one tile."""
        return [o.transfer(tiles, self.sizes) + (o.is_init, o.loops(), o.sliceable(tiles, self.sizes))
                for o in self.operands]

    def halo(self, tiles: list[int]) -> tuple[int, int]:
        """(elements copied in LDM, bytes fetched) per tile of the halo operands (sunway-fetch-halos)."""
        ops = [o for o in self.operands if o.halo is not None and not o.is_init]
        return (sum(o.halo_copied(tiles, self.sizes) for o in ops),
                sum(o.transfer(tiles, self.sizes)[0] for o in ops))

    def work_items(self, tiles: list[int]) -> int:
        return math.prod(math.ceil(s / t) for s, t, p in zip(self.sizes, tiles, self.parallel) if p and t)


def elem_bytes(t: ir.Type) -> int:
    if isinstance(t, ir.IntegerType):
        return max(1, t.width // 8)
    if isinstance(t, ir.F64Type):
        return 8
    if isinstance(t, (ir.F16Type, ir.BF16Type)):
        return 2
    if isinstance(t, ir.IndexType):
        return 8
    return 4


def is_weight(v: ir.Value) -> bool:
    """A constant that pack_weights can store tile-major: a dense resource or a dense array that is no splat."""
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "arith.constant":
        return False
    value = owner.operation.attributes["value"].maybe_downcast()
    if isinstance(value, ir.DenseResourceElementsAttr):
        return True
    return isinstance(value, ir.DenseElementsAttr) and not value.is_splat


def halo_of(v: ir.Value) -> tuple | None:
    """(source shape, low, high) when `v` is a pad that sunway-schedule marked to be fetched with its halo."""
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "tensor.pad" \
            or HALO_ATTR not in owner.operation.attributes:
        return None
    pad = owner.operation
    base = static_slice(pad.operands[0])
    return (tuple(pad.operands[0].type.shape), tuple(ir.DenseI64ArrayAttr(pad.attributes["static_low"])),
            tuple(ir.DenseI64ArrayAttr(pad.attributes["static_high"])),
            tuple(base[0].type.shape) if base else None)


def static_slice(v: ir.Value):
    """(source, offsets, sizes) of a non-rank-reducing, unit-stride, static extract_slice producing `v`: the
    source of a halo pad behind a conv's vector-width cut, an input that sunway-sink-slices moves past."""
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "tensor.extract_slice" \
            or len(owner.operation.operands) != 1:
        return None
    op = owner.operation
    src = op.operands[0]
    if not (isinstance(src.type, ir.RankedTensorType) and src.type.has_static_shape):
        return None
    offs, sizes, strides = (list(ir.DenseI64ArrayAttr(op.attributes[k]))
                            for k in ("static_offsets", "static_sizes", "static_strides"))
    if any(x != 1 for x in strides) or len(sizes) != src.type.rank or list(v.type.shape) != sizes:
        return None
    return src, offs, sizes


def loop_nest_of(op: ir.Operation) -> LoopNest:
    """Loop sizes of a static linalg.generic, read off the operands that index a loop directly."""
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    iters = [str(a) for a in op.attributes["iterator_types"]]
    n_loops = len(iters)
    sizes: list[int | None] = [None] * n_loops
    n_inputs = len(op.operands) - len(op.results)
    body = op.regions[0].blocks[0]
    operands = []
    for i, (v, m) in enumerate(zip(op.operands, maps)):
        if not isinstance(v.type, ir.ShapedType):
            continue
        st = v.type
        shape = tuple(st.shape)
        for e, d in zip(m.results, shape):
            if isinstance(e, ir.AffineDimExpr) and sizes[e.position] is None:
                sizes[e.position] = d
        used = len(list(body.arguments[i].uses)) > 0
        if st.rank == 0:
            continue
        operands.append(Operand(i, shape, elem_bytes(st.element_type), list(m.results), i >= n_inputs, used,
                                is_weight(v), halo=halo_of(v)))
    if any(s is None for s in sizes):
        raise ValueError("a loop of this op is not indexed directly by any operand")
    untileable: set = set()
    negative: list = []
    for m in maps:
        for e in m.results:
            _nonlinear_dims(e, untileable, negative)
    # a halo window is fetched whole in each reduction step: its landing place in the padded LDM tile then stays
    # the same over the steps, and the tile is filled with the pad value once per work item (sunway-hoist-fills)
    for o in operands:
        if o.halo is not None:
            for e, lo, hi in zip(o.exprs, o.halo[1], o.halo[2]):
                if lo or hi:
                    untileable.update(d for d in expr_dims(e) if "parallel" not in iters[d])
    return LoopNest([int(s) for s in sizes], ["parallel" in it for it in iters], operands, untileable, bool(negative))
