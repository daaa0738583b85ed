"""The static memory plan: every intermediate buffer of the host function gets an offset in one arena, and
buffers whose lifetimes do not overlap share bytes.

Liveness. The host function is one block; a buffer's live range is the interval of block positions from the
first to the last op that *touches its bytes*: a kernel launch that receives its address (through any chain of
views and `extract_aligned_pointer_as_index`), a copy that reads or writes it. Taking a view or an address
touches nothing, and neither do the `memref.alloc` itself and a `memref.dealloc`. Allocations are not where
their buffers start: the graph stage's cse merges the `tensor.empty` ops of one type into the first, and the
schedule then gives every user its own clone at that first place (passes/schedule.py `_untie_empty_tensors`), so
on a transformer the allocations of every layer's [seq, hidden] buffers stand together near the top of the
function. Counted from the allocation, they were all live from there on (issue 9: the arena was 95.7 % of the
sum of intermediates on BERT-base, 93.8 % on ViT-B/16; docs/architecture.md). A launch's range runs to the `sunway.join` after it (the kernel
works until then).

Offsets. Intervals that intersect conflict; the others may share bytes. Finding the smallest arena is an
interval-graph coloring with weights (NP-hard), so the plan is a greedy one: buffers are taken in an order
(largest first; a few orders are tried, see `orders`) and each is put at the lowest 128-byte aligned offset where
it overlaps no conflicting buffer placed before it (first fit in the gaps). The plan of least arena is kept, ties
to the earlier order, so it is deterministic. `lower_bound` is the most bytes live at one position: no plan is
below it, and the greedy plan meets it on the models of the tests.
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

from mlir import ir

ALIGN = 128
_VIEWS = ("memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.reinterpret_cast",
          "memref.cast", "memref.extract_aligned_pointer_as_index")


@dataclass
class Buffer:
    op: object          # the memref.alloc (any hashable key for assign())
    size: int           # bytes, aligned
    first: int          # block positions of the first and last op that touch the bytes (inclusive)
    last: int
    offset: int = -1


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _top(op: ir.Operation, position: dict) -> ir.Operation | None:
    """The op of the block that holds `op` (itself, or the top-level op a nested use sits in)."""
    while op is not None and op not in position:
        op = op.parent
    return op


def live_ranges(block: ir.Block, size_of) -> list[Buffer]:
    """One Buffer per memref.alloc of `block`, in block order, with its live range (see the module docstring). A
    buffer no op touches lives at its allocation only."""
    ops = [o.operation for o in block.operations]
    position = {op: i for i, op in enumerate(ops)}
    next_join = [len(ops) - 1] * len(ops)
    join = len(ops) - 1
    for i in range(len(ops) - 1, -1, -1):
        if ops[i].name == "sunway.join":
            join = i
        next_join[i] = join
    buffers: list[Buffer] = []
    for op in ops:
        if op.name != "memref.alloc":
            continue
        touched: list[int] = []
        work = [op.results[0]]
        while work:
            v = work.pop()
            for use in v.uses:
                user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
                if user.name in _VIEWS:
                    work.extend(user.results)
                    continue
                top = _top(user, position)
                if top is None or top.name == "memref.dealloc":   # freeing touches no byte
                    continue
                i = position[top]
                touched.append(i)
                if top.name == "sunway.spawn":
                    touched.append(next_join[i])
        first, last = (min(touched), max(touched)) if touched else (position[op], position[op])
        buffers.append(Buffer(op, _align(size_of(op.results[0].type)), first, last))
    return buffers


def lower_bound(buffers: list[Buffer]) -> int:
    """The most bytes live at one position: every plan's arena is at least this."""
    events = sorted([(b.first, b.size) for b in buffers] + [(b.last + 1, -b.size) for b in buffers],
                    key=lambda e: (e[0], e[1]))   # ends (negative) before starts at the same position
    live = peak = 0
    for _, d in events:
        live += d
        peak = max(peak, live)
    return peak


def _conflicting_bytes(buffers: list[Buffer]) -> dict:
    """{id(b): bytes of the buffers whose range meets b's, b included}: all of them but those that end before b
    starts and those that start after b ends (prefix sums, O(n log n))."""
    by_last = sorted((b.last, b.size) for b in buffers)
    by_first = sorted((b.first, b.size) for b in buffers)
    ends, starts = [e for e, _ in by_last], [f for f, _ in by_first]
    ended = list(itertools.accumulate((n for _, n in by_last), initial=0))     # ended[i]: the i first to end
    started = list(itertools.accumulate((n for _, n in by_first), initial=0))
    total = started[-1]
    return {id(b): total - ended[bisect.bisect_left(ends, b.first)]
            - (total - started[bisect.bisect_right(starts, b.last)]) for b in buffers}


def orders(buffers: list[Buffer]) -> dict:
    """The placement orders assign() tries, as sort keys (ascending; ties keep the buffers' order). On random
    six- and seven-buffer cases checked against every order (the optimum: first fit in the order of an optimal
    plan's offsets reproduces it), each alone is optimal on 82-96 % of them, the four together on all but one in
    450."""
    weight = _conflicting_bytes(buffers)
    return {
        "size": lambda b: (-b.size, b.first),                                    # largest first (TFLite, ORT)
        "conflicts": lambda b: (-weight[id(b)], -b.size, b.first),               # most bytes live beside it
        "area": lambda b: (-b.size * (b.last - b.first + 1), -b.size, b.first),  # bytes x positions
        "first": lambda b: (b.first, -b.size),                                   # in program order
    }


def _place(buffers: list[Buffer], order) -> int:
    placed: list[Buffer] = []
    arena = 0
    for b in sorted(buffers, key=order):
        offset = 0
        for p in sorted((p for p in placed if p.first <= b.last and b.first <= p.last), key=lambda p: p.offset):
            if offset + b.size <= p.offset:
                break
            offset = max(offset, p.offset + p.size)
        b.offset = offset
        placed.append(b)
        arena = max(arena, offset + b.size)
    return arena


def assign(buffers: list[Buffer]) -> int:
    """Set every buffer's offset (a multiple of ALIGN when the sizes are) by the best of the greedy orders, and
    return the arena's bytes. Two buffers whose ranges intersect never share a byte."""
    best, best_offsets = None, None
    bound = lower_bound(buffers)
    for order in orders(buffers).values():
        arena = _place(buffers, order)
        if best is None or arena < best:
            best, best_offsets = arena, [b.offset for b in buffers]
        if best == bound:
            break
    for b, off in zip(buffers, best_offsets or []):
        b.offset = off
    return best or 0


def plan(block: ir.Block, size_of) -> tuple[dict, int, int]:
    """Offsets for the memref.alloc ops of `block`: ({alloc op: offset}, arena bytes, sum of buffer bytes)."""
    buffers = live_ranges(block, size_of)
    arena = assign(buffers)
    return {b.op: b.offset for b in buffers}, arena, sum(b.size for b in buffers)


def first_touches(block: ir.Block, size_of) -> dict:
    """{alloc op: the op of `block` that first touches its bytes}: where the emitted host registers the slot with
    the emulator (after every slot that shares its bytes has died)."""
    ops = [o.operation for o in block.operations]
    return {b.op: ops[b.first] for b in live_ranges(block, size_of)}
