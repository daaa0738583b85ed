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


def is_leading_identity(m: ir.AffineMap, rank: int) -> bool:
    res = list(m.results)
    return len(res) == rank and all(isinstance(e, ir.AffineDimExpr) and e.position == i for i, e in enumerate(res))


def parallel_loops(op: ir.Operation) -> list[bool]:
    """Per loop of a linalg op: whether it is parallel (not a reduction)."""
    return ["parallel" in str(a) for a in op.attributes["iterator_types"]]


def _producer(v: ir.Value) -> ir.Operation | None:
    owner = v.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation if hasattr(owner, "operation") else owner
    return op if op.name == "linalg.generic" else None


def _readers(p: ir.Operation) -> list[ir.Operation]:
    return [u.owner.operation if hasattr(u.owner, "operation") else u.owner for u in p.results[0].uses]


def _fusible(p: ir.Operation, c: ir.Operation, operand: int, group: list[ir.Operation] | None = None) -> bool:
    """Whether producer `p` may join the group of its reader `c` (operand `operand` of c). A producer read
    only by c joins when the maps line up; one with several readers joins once all of them are in the group
    (`group`) and it computes without a reduction (softmax's exp, read by the row sum and the division; the
    GELU's input, read by the Erf and the Mul): each reader then reads its tile in LDM, and nothing of it leaves
    the kernel. A contraction with several readers stays a kernel of its own (its tiles are its own choice)."""
    if len(p.results) != 1:
        return False
    readers = _readers(p)
    if len(readers) != 1:
        if group is None or not all(parallel_loops(p)) or len(readers) == 0:
            return False
        if not all(any(r == g for g in group) for r in readers):
            return False
    rank = p.results[0].type.rank
    if rank == 0:
        return False
    pm, cm = _maps(p), _maps(c)
    if not is_leading_identity(pm[-1], rank) or not all(parallel_loops(p)[:rank]):
        return False
    return is_leading_identity(cm[operand], rank) and all(parallel_loops(c)[:rank])


@dataclass
class Group:
    root: ir.Operation
    members: list[ir.Operation] = field(default_factory=list)  # producers, nearest to the root first
    # the model's schedule: a contraction member may be the tiling op, epilogues write in place; off for the
    # baseline schedule (the first round's greedy tiles over the root's loops)
    epilogues: bool = True

    @property
    def ops(self) -> list[ir.Operation]:
        return [self.root] + self.members

    def tiling_op(self, nests: dict) -> ir.Operation:
        """The op whose loops the tiles are chosen over: the root, or a contraction member whose consumers in
        the group are an elementwise epilogue (bias, ReLU, a residual add, the copy into a padded buffer). Such
        a member keeps its reduction loop: the epilogue runs once per tile, on the finished accumulator in
        LDM, and the tiles are those of the contraction's loops (its leading, parallel loops are the root's)."""
        cached = getattr(self, "_tiling", None)
        if cached is not None and cached[0] is nests:
            return cached[1]
        found = self.root
        reducing = [m for m in self.members if nests[m].reduction_dims]
        if self.epilogues and len(reducing) == 1 and not nests[self.root].reduction_dims:
            c = reducing[0]
            rank = c.results[0].type.rank
            rest = [m for m in self.members if m != c]
            if (len(c.results) == 1 and all(nests[c].parallel[:rank]) and not any(nests[c].parallel[rank:])
                    and all(all(nests[m].parallel) for m in rest)
                    and all(len(nests[o].sizes) == rank for o in [self.root] + rest)):
                found = c
        self._tiling = (nests, found)
        return found

    def shared_members(self) -> list[ir.Operation]:
        """Members that several ops of the group read (see _fusible)."""
        return [m for m in self.members if len(_readers(m)) > 1]

    def whole_dims(self) -> set[int]:
        """Loops of the root a tile must cover whole: those along which a reader of a shared member reduces
        (softmax's row sum reads the exp over the whole row; the division must then read that same whole row,
        so that every reader takes the same slice and the member is computed once per tile). A shared member's
        tensor dim k is the root's loop k: members are read with the identity over the root's leading loops."""
        whole = set()
        for j, i in self.repeated_reads():
            v = self.ops[j].operands[i]
            for op in self.ops:
                par = parallel_loops(op)
                n_in = len(op.operands) - len(op.results)
                for k, u in enumerate(list(op.operands)[:n_in]):
                    if u == v:
                        whole |= {d for d, e in enumerate(_maps(op)[k].results)
                                  if isinstance(e, ir.AffineDimExpr) and not par[e.position]}
        for m in self.shared_members():
            for r in _readers(m):
                rmaps, par = _maps(r), parallel_loops(r)
                for i, v in enumerate(r.operands):
                    if v == m.results[0]:
                        for k, e in enumerate(rmaps[i].results):
                            if isinstance(e, ir.AffineDimExpr) and not par[e.position]:
                                whole.add(k)
        return whole

    def repeated_reads(self) -> set[tuple[int, int]]:
        """(op position in `ops`, operand number) of the inputs from main memory that an earlier op of the group
        (in `ops` order) already reads through the same map, dim k of the tensor being loop k of both (a
        LayerNorm's input, read by the mean, the variance and the normalization). With the loops they reduce
        over kept whole (whole_dims) both take the same slice: cse makes it one value, and the schedule merges
        the promotions of one value into one LDM tile (merge_repeated_promotions)."""
        seen: list[tuple[ir.Value, str]] = []   # (value, map): ir.Value is not hashable
        repeated = set()
        for j, op in enumerate(self.ops):
            maps = _maps(op)
            n_in = len(op.operands) - len(op.results)
            for i in self.external_operands(op):
                v = op.operands[i]
                if i >= n_in or not is_leading_identity(maps[i], v.type.rank):
                    continue
                key = str(maps[i])
                if any(u == v and m == key for u, m in seen):
                    repeated.add((j, i))
                else:
                    seen.append((v, key))
        return repeated

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

    def writes_in_place(self, op: ir.Operation) -> bool:
        """An elementwise op of the group that can write its result over one of its inputs: an input computed
        in the group, read with the identity map and of the result's type, while the op never reads its own
        init. The schedule then points the op's destination at that input's LDM tile (reuse_input_tiles), so
        an epilogue adds no LDM tile of its own."""
        n_in = len(op.operands) - len(op.results)
        if not self.epilogues or len(op.results) != 1 or not all(parallel_loops(op)):
            return False
        body = op.regions[0].blocks[0]
        if len(list(body.arguments[n_in].uses)):
            return False
        maps, rtype = _maps(op), op.results[0].type
        return any(_producer(op.operands[i]) is not None and any(_producer(op.operands[i]) == m for m in self.ops)
                   and op.operands[i].type == rtype and is_leading_identity(maps[i], rtype.rank)
                   for i in range(n_in))

    def _staged_operands(self, nests: dict) -> list:
        """(op's loop nest, is the tiling op, op's result rank, [(operand, staged per reduction step, takes
        LDM, moved by DMA)]) per op; the tile search asks for them hundreds of thousands of times and they do not
        change, so they are read once. Inputs from main memory take LDM and a get. A destination takes LDM
        unless it is computed in the group or written in place; only the root's result is put (and a member's
        destination fetched only when the op reads it)."""
        if getattr(self, "_staged_nests", None) is not nests:
            table = []
            tiling = self.tiling_op(nests)
            repeated = self.repeated_reads()
            for j, op in enumerate(self.ops):
                nest: LoopNest = nests[op]
                is_tiling = op == tiling
                is_root = op == self.root
                rank = len(nest.sizes) if is_tiling else op.results[0].type.rank
                ext = set(self.external_operands(op))
                per_step = is_tiling or tiling == self.root
                in_place = self.writes_in_place(op)
                staged = []
                for o in nest.operands:
                    if not o.is_init:
                        if o.index in ext:
                            # a repeated read is fetched once (passes/schedule.py merges the promotions); its
                            # LDM is still counted, so the estimate is never short if a merge does not happen
                            staged.append((o, per_step, True, (j, o.index) not in repeated))
                        continue
                    takes_ldm = o.index in ext and not in_place
                    moved = is_root or (o.is_read and o.index in ext)
                    if takes_ldm or moved:
                        staged.append((o, False, takes_ldm, moved))
                table.append((nest, is_tiling, rank, staged))
            self._staged_nests, self._staged_table = nests, table
        return self._staged_table

    def _staged(self, root_tiles: list[int], nests: dict):
        """(op's loop nest, op's tiles, operand, staged per reduction step, takes LDM, moved by DMA) for every
        operand of the group that takes LDM or DMA; `root_tiles` are over the tiling op's loops. Operands of
        ops other than the tiling op (the init and the epilogue of a contraction member) are staged once per
        tile, not per reduction step."""
        for nest, is_tiling, rank, staged in self._staged_operands(nests):
            n = len(nest.sizes)
            tiles = [root_tiles[i] if i < rank and i < len(root_tiles) and nest.parallel[i] else
                     (root_tiles[i] if is_tiling else 0) for i in range(n)]
            for o, per_step, takes_ldm, moved in staged:
                yield nest, tiles, o, per_step, takes_ldm, moved

    def ldm_bytes(self, root_tiles: list[int], nests: dict) -> int:
        """LDM of one root tile: every staged operand of every op, each op tiled like the root's leading loops."""
        return sum(o.tile_bytes(tiles, nest.sizes)
                   for nest, tiles, o, _, takes_ldm, _ in self._staged(root_tiles, nests) if takes_ldm)

    def halo(self, root_tiles: list[int], nests: dict) -> tuple[int, int]:
        """(elements copied in LDM, bytes fetched) per reduction step of the halo operands (sunway-fetch-halos)."""
        copied = fetched = 0
        for nest, tiles, o, per_step, _, moved in self._staged(root_tiles, nests):
            if o.halo is not None and moved and per_step:
                copied += o.halo_copied(tiles, nest.sizes)
                fetched += o.transfer(tiles, nest.sizes)[0]
        return copied, fetched

    def transfers(self, root_tiles: list[int], nests: dict) -> list[tuple[int, int, bool, set, bool]]:
        """(bytes, contiguous block bytes, staged once per tile, loops it reads, sliceable in 8) of each DMA of
        one tile of the tiling op (a member's leading loops are the root's)."""
        return [o.transfer(tiles, nest.sizes) + (not per_step, o.loops(), o.sliceable(tiles, nest.sizes))
                for nest, tiles, o, per_step, _, moved in self._staged(root_tiles, nests) if moved]


def _is_contraction(op: ir.Operation) -> bool:
    """Two or more inputs vary along a reduction loop (matmul, conv); a norm's variance, which reads its mean
    beside the row, is a plain reduction."""
    par = parallel_loops(op)
    n_in = len(op.operands) - len(op.results)
    maps = _maps(op)
    varying = [i for i in range(n_in) if isinstance(op.operands[i].type, ir.RankedTensorType)
               and any(isinstance(e, ir.AffineDimExpr) and not par[e.position] for e in maps[i].results)]
    return len(varying) > 1


def _joins(p, c, i, g: Group, assigned: set, ops, fuse_reductions: bool) -> bool:
    """Whether p joins g as the producer of operand i of c. A group with a shared member (several readers)
    takes no contraction: the contraction's tiles would be the root's, not its own, and a row-wise
    reduction over its output would need it whole."""
    if p is None or any(p == a for a in assigned) or not any(p == o for o in ops):
        return False
    if not (_fusible(p, c, i, g.ops) and (fuse_reductions or all(parallel_loops(p)))):
        return False
    shared = len(_readers(p)) > 1 or g.shared_members()
    return not (shared and (_is_contraction(p) or any(_is_contraction(o) for o in g.ops)))


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
        waiting: list[tuple[ir.Operation, int]] = []   # (reader, operand) of producers with readers outside
        while work or waiting:
            if not work:
                # a producer with several readers is looked at again once the group stops growing
                ready = [(c, i) for c, i in waiting if _joins(_producer(c.operands[i]), c, i, g, assigned, ops,
                                                             fuse_reductions)]
                if not ready:
                    break
                c, i = ready[0]
                waiting.remove((c, i))
                p = _producer(c.operands[i])
                g.members.append(p)
                assigned.add(p)
                work.append(p)
                continue
            c = work.pop(0)
            for i, v in enumerate(c.operands):
                p = _producer(v)
                if p is None or any(p == a for a in assigned) or not any(p == o for o in ops):
                    continue
                if _joins(p, c, i, g, assigned, ops, fuse_reductions):
                    g.members.append(p)
                    assigned.add(p)
                    work.append(p)
                elif len(p.results) == 1 and len(_readers(p)) > 1:
                    waiting.append((c, i))
        groups.append(g)
    groups.reverse()
    return groups


def nests_of(group: Group) -> dict:
    return {op: loop_nest_of(op) for op in group.ops}
