"""sunway-lower-to-athread-calls: the sunway ops of CPE kernels become calls of external functions, the SW26010
athread slave API, for the LLVM IR output (the C output's twin is sunway-lower-to-athread, through EmitC).

Runs on the kernel module after the kernels' linalg ops are loops (swmlir.pipeline.kernel_loops), before the
upstream conversions to the LLVM dialect (swmlir.pipeline.KERNEL_LLVM). Each call is a `func.call` of a
`func.func private` declaration with the C signature, so convert-func-to-llvm makes it an `llvm.call` of a
`declare`d function:

  sunway.cpe_id            -> athread_get_id(-1)                     int athread_get_id(int)
  sunway.cpe_row / cpe_col -> athread_get_id(-1) / 8, % 8
  sunway.ldm_alloc         -> memref.alloca (32-byte aligned): the CPE stack is in LDM, as in the C output
  sunway.reply             -> a stack i32 set to 0
  sunway.dma_get / put     -> athread_get(PE_MODE, mem, ldm, len, &reply, 0, stride, bsize) /
                              athread_put(PE_MODE, ldm, mem, len, &reply, stride, bsize), one request per
                              strided box, outer levels in scf.for loops (passes/_dma_views.py, shared with the
                              EmitC lowering)
  sunway.dma_wait          -> swmlir_llvm_dma_wait(&reply, requests issued since the last wait)
  sunway.barrier           -> athread_syn(ARRAY_SCOPE, 0xffff)
  sunway.mesh_allgather    -> swmlir_llvm_mesh_allgather(buf, slice bytes, axis)
  sunway.mesh_gather_rows  -> swmlir_llvm_mesh_gather_rows(tile, strip, tile rows, row bytes, first, rows)

The two swmlir_llvm_* functions are the out-of-line forms of the static inline helpers of swmlir_slave.h
(swmlir_dma_wait, swmlir_mesh_allgather), compiled from swmlir/llvmir/swmlir_llvm_slave.c with the slave code.
Pointers are the buffers' aligned addresses plus the view's byte offset (memref.extract_aligned_pointer_as_index,
llvm.inttoptr). The LDM memory space (2) is dropped from every memref type of a kernel: in LLVM IR, as in C, the
LDM is where the array lives (the CPE stack), not part of its type, and the athread API takes plain pointers.
Enum values (PE_MODE = 0, ARRAY_SCOPE = 2) are those of the emulator's slave.h.
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, func, llvm, memref, scf

from swmlir.errors import LoweringError
from swmlir.schedule.loop_nest import elem_bytes

from . import register_pass
from ._dma_views import plan_requests, request_words, strides_of, view_chain
from ._util import collect, ensure_sunway, funcs, index_const, is_ldm_type

PE_MODE = 0
ARRAY_SCOPE = 2
LDM_ALIGN = 32   # a floatv4 / doublev4 register (SW26010's 256-bit SIMD)


def _i(bits: int) -> ir.Type:
    return ir.IntegerType.get_signless(bits)


def _ptr() -> ir.Type:
    return llvm.PointerType.get()


# name -> (argument types, result types): the C prototypes, as the declarations the calls need
def _signatures() -> dict[str, tuple[list[ir.Type], list[ir.Type]]]:
    i8, i32, p = _i(8), _i(32), _ptr()
    return {
        "athread_get_id": ([i32], [i32]),
        "athread_get": ([i32, p, p, i32, p, i8, i32, i32], [i32]),
        "athread_put": ([i32, p, p, i32, p, i32, i32], [i32]),
        "athread_syn": ([i32, i32], [i32]),
        "swmlir_llvm_dma_wait": ([p, i32], []),
        "swmlir_llvm_mesh_allgather": ([p, i32, i32], []),
        "swmlir_llvm_mesh_gather_rows": ([p, p, i32, i32, i32, i32], []),
    }


class _Calls:
    """func.call of external functions, declared once in the module when first used."""

    def __init__(self, module: ir.Operation, signatures: dict):
        self.module, self.signatures, self.declared = module, signatures, set()
        for op in module.regions[0].blocks[0].operations:
            if op.operation.name == "func.func":
                self.declared.add(ir.StringAttr(op.operation.attributes["sym_name"]).value)

    def __call__(self, name: str, *args: ir.Value) -> ir.Value | None:
        ins, outs = self.signatures[name]
        if name not in self.declared:
            with ir.InsertionPoint.at_block_begin(self.module.regions[0].blocks[0]), ir.Location.unknown():
                func.FuncOp(name, ir.FunctionType.get(ins, outs), visibility="private")
            self.declared.add(name)
        call = func.CallOp(outs, ir.FlatSymbolRefAttr.get(name), list(args))
        return call.results[0] if outs else None


def _c(value: int, bits: int = 32) -> ir.Value:
    return arith.ConstantOp(_i(bits), value).result


def _address(buffer: ir.Value, elem_offset: ir.Value, eb: int) -> ir.Value:
    """The address of element `elem_offset` of `buffer` as an !llvm.ptr."""
    base = memref.ExtractAlignedPointerAsIndexOp(buffer).result
    byte = arith.AddIOp(base, arith.MulIOp(elem_offset, index_const(eb)).result).result
    return llvm.IntToPtrOp(_ptr(), arith.IndexCastOp(_i(64), byte).result).result


def _plain(t: ir.Type) -> ir.Type:
    """A memref type without its memory space (same shape, element type and layout)."""
    return ir.MemRefType.get(list(t.shape), t.element_type, t.layout)


def _drop_ldm_space(kfn: ir.Operation) -> None:
    def visit(op):
        for r in op.results:
            if is_ldm_type(r.type):
                r.set_type(_plain(r.type))
        for region in op.regions:
            for block in region.blocks:
                for a in block.arguments:
                    if is_ldm_type(a.type):
                        a.set_type(_plain(a.type))
        return ir.WalkResult.ADVANCE

    kfn.walk(visit, ir.WalkOrder.PRE_ORDER)


def _lower_dma(op: ir.Operation, calls: _Calls, reply_ptr: dict, pending: dict) -> None:
    is_get = op.name == "sunway.dma_get"
    src, dst, reply = op.operands[0], op.operands[1], op.operands[2]
    main_view, ldm_view = (src, dst) if is_get else (dst, src)
    mt = main_view.type
    strides, _ = strides_of(mt)
    eb = elem_bytes(mt.element_type)
    outer, block, rows, pitch = plan_requests(list(mt.shape), strides)
    length, stride, bsize = request_words(block, rows, pitch, eb)
    with ir.InsertionPoint(op), op.location:
        main_buf, main_off = view_chain(main_view)
        ldm_buf, ldm_off = view_chain(ldm_view)
        loops = []
        for count, ms, ls in outer:
            loop = scf.ForOp(index_const(0), index_const(count), index_const(1))
            loops.append(loop)
            ir.InsertionPoint(loop.body).__enter__()
            iv = loop.induction_variable
            main_off = arith.AddIOp(main_off, arith.MulIOp(iv, index_const(ms)).result).result
            ldm_off = arith.AddIOp(ldm_off, arith.MulIOp(iv, index_const(ls)).result).result
        mptr = _address(main_buf, main_off, eb)
        lptr = _address(ldm_buf, ldm_off, eb)
        rptr = reply_ptr[reply]
        if is_get:
            calls("athread_get", _c(PE_MODE), mptr, lptr, _c(length), rptr, _c(0, 8), _c(stride), _c(bsize))
        else:
            calls("athread_put", _c(PE_MODE), lptr, mptr, _c(length), rptr, _c(stride), _c(bsize))
        for _ in reversed(loops):
            scf.YieldOp([])
            ir.InsertionPoint.current.__exit__(None, None, None)
    pending[reply] = pending.get(reply, 0) + math.prod(c for c, _, _ in outer)
    op.erase()


def _cpe_id(calls: _Calls) -> ir.Value:
    return arith.IndexCastOp(ir.IndexType.get(), calls("athread_get_id", _c(-1))).result


@register_pass("sunway-lower-to-athread-calls",
               "Lower sunway ops in CPE kernels to calls of the athread slave API (func.call of external "
               "functions, for the LLVM IR output)")
def lower_to_athread_calls(module: ir.Operation) -> None:
    ensure_sunway(module)
    calls = _Calls(module, _signatures())
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, "sunway.cg_id"):
            raise LoweringError("a kernel spawned on several core groups (sunway.cg_id, --cgs > 1) has no LLVM IR "
                                "output yet: emit C", op=op.name, stage="emit", location=op.location)
        _drop_ldm_space(kfn)
        for op in collect(kfn, ("sunway.cpe_id", "sunway.cpe_row", "sunway.cpe_col")):
            with ir.InsertionPoint(op), op.location:
                val = _cpe_id(calls)
                if op.name != "sunway.cpe_id":   # the 8x8 mesh, row-major: row = id / 8, column = id % 8
                    val = (arith.DivSIOp if op.name == "sunway.cpe_row" else arith.RemSIOp)(val, index_const(8)).result
            op.results[0].replace_all_uses_with(val)
            op.erase()
        for op in collect(kfn, "sunway.ldm_alloc"):
            with ir.InsertionPoint(op), op.location:
                new = memref.AllocaOp(op.results[0].type, [], [], alignment=LDM_ALIGN)
            op.results[0].replace_all_uses_with(new.result)
            op.erase()
        for op in collect(kfn, "sunway.barrier"):
            with ir.InsertionPoint(op), op.location:
                calls("athread_syn", _c(ARRAY_SCOPE), _c(0xffff))
            op.erase()
        reply_ptr: dict = {}
        replies = collect(kfn, "sunway.reply")
        for op in replies:
            with ir.InsertionPoint(op), op.location:
                word = memref.AllocaOp(ir.MemRefType.get([], _i(32)), [], [])
                memref.StoreOp(_c(0), word.result, [])
                reply_ptr[op.results[0]] = _address(word.result, index_const(0), 4)
        pending: dict = {}
        for op in collect(kfn, ("sunway.dma_get", "sunway.dma_put", "sunway.dma_wait")):
            if op.name == "sunway.dma_wait":
                reply = op.operands[0]
                if reply not in reply_ptr:
                    raise LoweringError("sunway.dma_wait on a reply word not made by sunway.reply",
                                        op=op.name, location=op.location)
                with ir.InsertionPoint(op), op.location:
                    calls("swmlir_llvm_dma_wait", reply_ptr[reply], _c(pending.pop(reply, 0)))
                op.erase()
            else:
                _lower_dma(op, calls, reply_ptr, pending)
        for op in replies:
            op.erase()
        for op in collect(kfn, "sunway.mesh_allgather"):
            buf = op.operands[0]
            t = buf.type
            slice_bytes = math.prod(t.shape) * elem_bytes(t.element_type) // 8
            with ir.InsertionPoint(op), op.location:
                root, off = view_chain(buf)
                calls("swmlir_llvm_mesh_allgather", _address(root, off, elem_bytes(t.element_type)),
                      _c(slice_bytes), _c(ir.IntegerAttr(op.attributes["axis"]).value))
            op.erase()
        for op in collect(kfn, "sunway.mesh_gather_rows"):
            tile, strip = op.operands[0], op.operands[1]
            eb = elem_bytes(strip.type.element_type)
            with ir.InsertionPoint(op), op.location:
                ptrs = [_address(*view_chain(v), eb) for v in (tile, strip)]
                calls("swmlir_llvm_mesh_gather_rows", *ptrs, _c(tile.type.shape[-2]),
                      _c(strip.type.shape[-1] // 8 * eb), _c(ir.IntegerAttr(op.attributes["first"]).value),
                      _c(strip.type.shape[-2]))
            op.erase()
        # views of LDM buffers that only DMA requests used: their addresses are in the calls now
        for op in reversed(collect(kfn, "memref.subview")):
            if not list(op.results[0].uses):
                op.erase()
