"""Fusion groups: a root op and the producers computed inside its tiles, so that they cost no extra kernel
launch and no DMA round trip through main memory.

A producer P joins the group of its consumer C when P's only use is C, P writes its result with the identity
map over its leading (parallel) loops, and C reads it with the identity map over C's leading loops (which are
the root's leading loops, transitively). Then a tile of the root needs exactly the same-index tile of P, so
`fuse_into_containing_op` computes P's tile in the root's forall and the intermediate stays in LDM. Typical
groups: fill -> conv -> bias add -> relu; fill -> matmul -> add; a chain of elementwise ops.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mlir import ir

from .loop_nest import LoopNest, loop_nest_of


def _maps(op: ir.Operation) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]


def _is_leading_identity(m: ir.AffineMap, rank: int) -> bool:
    res = list(m.results)
    return len(res) == rank and all(isinstance(e, ir.AffineDimExpr) and e.position == i for i, e in enumerate(res))


def _parallel(op: ir.Operation) -> list[bool]:
    return ["parallel" in str(a) for a in op.attributes["iterator_types"]]


def _producer(v: ir.Value) -> ir.Operation | None:
    owner = v.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation if hasattr(owner, "operation") else owner
    return op if op.name == "linalg.generic" else None


def _fusible(p: ir.Operation, c: ir.Operation, operand: int) -> bool:
    if len(p.results) != 1 or len(list(p.results[0].uses)) != 1:
        return False
    rank = p.results[0].type.rank
    if rank == 0:
        return False
    pm, cm = _maps(p), _maps(c)
    if not _is_leading_identity(pm[-1], rank) or not all(_parallel(p)[:rank]):
        return False
    return _is_leading_identity(cm[operand], rank) and all(_parallel(c)[:rank])


@dataclass
class Group:
    root: ir.Operation
    members: list[ir.Operation] = field(default_factory=list)  # producers, nearest to the root first

    @property
    def ops(self) -> list[ir.Operation]:
        return [self.root] + self.members

    def external_operands(self, op: ir.Operation) -> list[int]:
        """Operand numbers of `op` staged in LDM: tensors not computed by another op of the group."""
        out = []
        for i, v in enumerate(op.operands):
            if not isinstance(v.type, ir.RankedTensorType) or v.type.rank == 0:
                continue
            p = _producer(v)
            if p is not None and any(p == m for m in self.ops):
                continue
            out.append(i)
        return out

    def _staged_operands(self, nests: dict) -> list:
        """(op's loop nest, is the root, op's result rank, its staged operands) per op; the tile search asks
        for them hundreds of thousands of times and they do not change, so they are read once."""
        if getattr(self, "_staged_nests", None) is not nests:
            table = []
            for op in self.ops:
                nest: LoopNest = nests[op]
                is_root = op == self.root
                rank = len(nest.sizes) if is_root else op.results[0].type.rank
                ext = set(self.external_operands(op))
                table.append((nest, is_root, rank, [o for o in nest.operands if o.index in ext]))
            self._staged_nests, self._staged_table = nests, table
        return self._staged_table

    def _staged(self, root_tiles: list[int], nests: dict):
        """(op's loop nest, op's tiles, staged operand) for every operand of the group staged in LDM."""
        for nest, is_root, rank, operands in self._staged_operands(nests):
            n = len(nest.sizes)
            tiles = [root_tiles[i] if i < rank and i < len(root_tiles) and nest.parallel[i] else
                     (root_tiles[i] if is_root else 0) for i in range(n)]
            for o in operands:
                yield nest, tiles, o

    def ldm_bytes(self, root_tiles: list[int], nests: dict) -> int:
        """LDM of one root tile: every staged operand of every op, each op tiled like the root's leading loops."""
        return sum(o.tile_bytes(tiles, nest.sizes) for nest, tiles, o in self._staged(root_tiles, nests))

    def transfers(self, root_tiles: list[int], nests: dict) -> list[tuple[int, int, bool, set, bool]]:
        """(bytes, contiguous block bytes, is an init, root loops it reads, sliceable in 8) of each DMA of one
        root tile (a member's leading loops are the root's)."""
        return [o.transfer(tiles, nest.sizes) + (o.is_init, o.loops(), o.sliceable(tiles, nest.sizes))
                for nest, tiles, o in self._staged(root_tiles, nests)]


def form_groups(ops: list[ir.Operation], *, enabled: bool = True, fuse_reductions: bool = True) -> list[Group]:
    """Partition `ops` (program order) into groups; roots in program order. fuse_reductions=False keeps ops
    with reduction loops (conv, matmul) out of their consumers' groups."""
    assigned: set = set()
    groups: list[Group] = []
    for op in reversed(ops):
        if any(op == a for a in assigned):
            continue
        g = Group(op)
        assigned.add(op)
        work = [op] if enabled else []
        while work:
            c = work.pop(0)
            for i, v in enumerate(c.operands):
                p = _producer(v)
                if p is None or any(p == a for a in assigned) or not any(p == o for o in ops):
                    continue
                if _fusible(p, c, i) and (fuse_reductions or all(_parallel(p))):
                    g.members.append(p)
                    assigned.add(p)
                    work.append(p)
        groups.append(g)
    groups.reverse()
    return groups


def nests_of(group: Group) -> dict:
    return {op: loop_nest_of(op) for op in group.ops}
