"""The static memory plan: every intermediate buffer of the host function gets an offset in one arena, and
buffers whose lifetimes do not overlap share bytes.

A buffer lives from its allocation to the last host op that uses it or any view of it (a kernel launch reads
its address; a copy reads or writes it). Offsets are assigned largest buffer first, each at the lowest
128-byte aligned offset that does not overlap a live-range-intersecting buffer already placed (first fit).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir import ir

ALIGN = 128
_VIEWS = ("memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.reinterpret_cast",
          "memref.cast", "memref.extract_aligned_pointer_as_index")


@dataclass
class Buffer:
    op: ir.Operation
    size: int
    first: int
    last: int
    offset: int = -1


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def plan(block: ir.Block, size_of) -> tuple[dict, int, int]:
    """Offsets for the memref.alloc ops of `block`: ({alloc op: offset}, arena bytes, sum of buffer bytes)."""
    ops = [o.operation for o in block.operations]
    position = {op: i for i, op in enumerate(ops)}
    buffers: list[Buffer] = []
    for op in ops:
        if op.name != "memref.alloc":
            continue
        last = position[op]
        work = [op.results[0]]
        while work:
            v = work.pop()
            for use in v.uses:
                user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
                while user.parent is not None and user not in position:
                    user = user.parent  # a use nested in a region counts at its top-level op
                if user in position:
                    last = max(last, position[user])
                if user.name in _VIEWS:
                    work.extend(user.results)
        buffers.append(Buffer(op, _align(size_of(op.results[0].type)), position[op], last))
    placed: list[Buffer] = []
    arena = 0
    for b in sorted(buffers, key=lambda b: (-b.size, b.first)):
        clashes = sorted((p.offset, p.offset + p.size) for p in placed if p.first <= b.last and b.first <= p.last)
        offset = 0
        for lo, hi in clashes:
            if offset + b.size <= lo:
                break
            offset = max(offset, hi)
        b.offset = offset
        placed.append(b)
        arena = max(arena, offset + b.size)
    return {b.op: b.offset for b in buffers}, arena, sum(b.size for b in buffers)
