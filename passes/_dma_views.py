"""The decomposition of a DMA between a main-memory view and an LDM tile into athread requests, shared by the
lowerings of the sunway DMA ops (sunway-lower-to-athread: EmitC calls; sunway-lower-to-athread-calls: func.call
of the athread functions, for the LLVM IR output).

A view is reduced to the whole buffer under it and an element offset (`view_chain`); its box is split into
strided requests (`plan_requests`): the innermost contiguous run is the block (bsize), the next level the rows
(stride = bytes skipped between blocks), outer levels become loops of requests. `request_words` turns a plan into
the athread arguments len / bsize / stride in bytes.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith

from swmlir.errors import LoweringError

from ._util import defining_op, index_const


def strides_of(t: ir.MemRefType) -> tuple[list[int], int | None]:
    strides, offset = t.get_strides_and_offset()
    return list(strides), offset


def require_dense_ldm(ldm_view: ir.Value, op: ir.Operation) -> None:
    """The LDM side of a DMA is one dense run in the view's shape (plan_requests walks it so): a strided LDM
    view would be read or written as if dense, so it is refused."""
    t = ldm_view.type
    strides, _ = strides_of(t)
    shape = list(t.shape)
    dense = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    if any(n != 1 and s != d for n, s, d in zip(shape, strides, dense)):
        raise LoweringError(f"DMA with a strided LDM view ({t}): the LDM side of a DMA must be contiguous",
                            op=op.name, location=op.location)


def view_chain(view: ir.Value) -> tuple[ir.Value, ir.Value]:
    """The whole buffer under a view, and the view's element offset in it (an index value built at the current
    insertion point)."""
    off = index_const(0)
    v = view
    while True:
        op = defining_op(v)
        if op is None or op.name in ("memref.alloca", "memref.alloc", "memref.get_global", "sunway.ldm_alloc"):
            return v, off
        if op.name == "memref.subview":
            src = op.operands[0]
            src_strides, _ = strides_of(src.type)
            static_offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
            static_steps = list(ir.DenseI64ArrayAttr(op.attributes["static_strides"]))
            if any(s != 1 for s in static_steps):
                raise LoweringError("DMA of a subview with non-unit steps", op=op.name, location=op.location)
            dyn = list(op.operands[1:])
            dyn_i = 0
            for o, st in zip(static_offsets, src_strides):
                if o == ir.ShapedType.get_dynamic_stride_or_offset():
                    term = arith.MulIOp(dyn[dyn_i], index_const(st)).result
                    dyn_i += 1
                    off = arith.AddIOp(off, term).result
                elif o:
                    off = arith.AddIOp(off, index_const(o * st)).result
            v = src
        elif op.name in ("memref.collapse_shape", "memref.expand_shape", "memref.cast"):
            v = op.operands[0]  # same elements, same addresses (a cast only forgets static layout)
        else:
            raise LoweringError(f"DMA through a view made by {op.name} is not supported", op=op.name,
                                location=op.location)


def plan_requests(shape: list[int], strides: list[int]) -> tuple[list[tuple[int, int, int]], int, int, int]:
    """Split a box copy into DMA requests.

    Returns (outer loops as (count, main stride, ldm stride) in elements, block elements, rows, row pitch).
    The LDM side is dense in `shape`; the main-memory side has `strides`."""
    dense = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    dims = [(n, s, d) for n, s, d in zip(shape, strides, dense) if n != 1]
    if not dims:
        return [], 1, 1, 1
    # merge runs that are contiguous on both sides, innermost first
    groups: list[list[int]] = []  # [count, main stride, ldm stride]
    for n, s, d in reversed(dims):
        if groups and s == groups[-1][1] * groups[-1][0] and d == groups[-1][2] * groups[-1][0]:
            groups[-1][0] *= n
        else:
            groups.append([n, s, d])
    inner = groups[0]
    if inner[1] == 1:
        block = inner[0]
        rest = groups[1:]
    else:  # no contiguous run: element blocks, the innermost level are the rows
        block = 1
        rest = groups
    if rest and rest[0][2] == block:  # rows must be consecutive in LDM
        rows, pitch = rest[0][0], rest[0][1]
        rest = rest[1:]
    else:
        rows, pitch = 1, block
    outer = [(n, s, d) for n, s, d in reversed(rest)]
    return outer, block, rows, pitch


def request_words(block: int, rows: int, pitch: int, elem_bytes: int) -> tuple[int, int, int]:
    """(len, stride, bsize) of one athread request, in bytes: len = all rows; stride = bytes skipped in main memory
    between two blocks (pitch - block, not the pitch); contiguous requests have stride = bsize = 0."""
    length = rows * block * elem_bytes
    if rows > 1:
        return length, (pitch - block) * elem_bytes, block * elem_bytes
    return length, 0, 0
