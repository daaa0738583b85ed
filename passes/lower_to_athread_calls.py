"""sunway-lower-to-athread-calls: the sunway ops of CPE kernels become calls of external functions, the target's
slave API (the SW26010 athread API, or the CRTS API of SW26010-Pro where the target's runtime_api is "crts"), for
the LLVM IR output (the C output's twin is sunway-lower-to-athread, through EmitC, which emits the same calls).

Runs on the kernel module after the kernels' linalg ops are loops (swmlir.pipeline.kernel_loops), before the
upstream conversions to the LLVM dialect (swmlir.pipeline.KERNEL_LLVM). Each call is a `func.call` of a
`func.func private` declaration with the C signature, so convert-func-to-llvm makes it an `llvm.call` of a
`declare`d function:

  sunway op         athread (SW26010)                              CRTS (SW26010-Pro)
  cpe_id            athread_get_id(-1)                             swmlir_llvm_crts_tid()     (CRTS_tid)
  cpe_row / col     athread_get_id(-1) / 8, % 8                    swmlir_llvm_crts_rid/cid() (CRTS_rid / _cid)
  cg_id             swmlir_llvm_cg_id()   (swmlir_cg_id())         swmlir_llvm_crts_cgn()     (CRTS_cgn)
  ldm_alloc         memref.alloca (32-byte aligned: the CPE stack is in LDM, as in the C output), then
                    swmlir_llvm_ldm_array(buf, bytes, "ldm<i> (<shape>)") (the C output's swmlir_ldm_array: the
                    emulator registers the LDM array; nothing on the machine)
  reply             a stack i32 set to 0 (volatile int / crts_rply_t)
  dma_get           athread_get(PE_MODE, mem, ldm, len, &reply,    CRTS_dma_iget(ldm, mem, len, &rply), or
                      0, stride, bsize)                              CRTS_dma_iget_stride(ldm, mem, len, bsize,
                                                                      stride, &rply) for a strided request
  dma_put           athread_put(PE_MODE, ldm, mem, len, &reply,    CRTS_dma_iput[_stride](mem, ldm, len,
                      stride, bsize)                                  [bsize, stride,] &rply)
  dma_wait          swmlir_llvm_dma_wait(&reply, n)                CRTS_dma_wait_value(&rply, n); rply = 0
  barrier           athread_syn(ARRAY_SCOPE, 0xffff)               CRTS_ssync_array()
  mesh_allgather    swmlir_llvm_mesh_allgather(buf, slice bytes, axis) (register communication; RMA under CRTS)
  mesh_gather_rows  swmlir_llvm_mesh_gather_rows(tile, strip, tile rows, row bytes, first, rows) (athread only)

One request per strided box, outer levels in scf.for loops (passes/_dma_views.py, shared with the EmitC
lowering); n of a wait is the number of requests issued on the word since the last wait.
The swmlir_llvm_* functions are compiled from swmlir/llvmir/swmlir_llvm_slave.c with the slave code: out-of-line
forms of the static inline helpers of swmlir_slave.h (swmlir_dma_wait, swmlir_mesh_allgather, ...) and of the
CRTS ids, which crts.h defines as registers (_PEN, _ROW, _COL, _CGN), not functions. The vendor's crts.h also
makes CRTS_dma_* / CRTS_dma_wait_value / CRTS_ssync_array macros; swmlir_llvm_slave.c compiles them out of line
under their own names for the machine (the emulator has them as functions).
Pointers are the buffers' aligned addresses plus the view's byte offset (memref.extract_aligned_pointer_as_index,
llvm.inttoptr). The LDM memory space (2) is dropped from every memref type of a kernel: in LLVM IR, as in C, the
LDM is where the array lives (the CPE stack), not part of its type, and both APIs take plain pointers.
Enum values (PE_MODE = 0, ARRAY_SCOPE = 2) are those of the emulator's slave.h. The target comes from the
`target` option, else the module's `swmlir.target` attribute (swmlir.targets).
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, func, llvm, memref, scf

from swmlir.errors import LoweringError
from swmlir.schedule.loop_nest import elem_bytes
from swmlir.targets import module_target

from . import register_pass
from ._dma_views import plan_requests, request_words, require_dense_ldm, strides_of, view_chain
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
    i8, i32, i64, p = _i(8), _i(32), _i(64), _ptr()
    return {
        "athread_get_id": ([i32], [i32]),
        "athread_get": ([i32, p, p, i32, p, i8, i32, i32], [i32]),
        "athread_put": ([i32, p, p, i32, p, i32, i32], [i32]),
        "athread_syn": ([i32, i32], [i32]),
        # CRTS (crts.h): int CRTS_dma_iget(void *ldm, const void *mem, int len, crts_rply_t *rply), ...
        "CRTS_dma_iget": ([p, p, i32, p], [i32]),
        "CRTS_dma_iput": ([p, p, i32, p], [i32]),
        "CRTS_dma_iget_stride": ([p, p, i32, i32, i32, p], [i32]),
        "CRTS_dma_iput_stride": ([p, p, i32, i32, i32, p], [i32]),
        "CRTS_dma_wait_value": ([p, i32], [i32]),
        "CRTS_ssync_array": ([], [i32]),
        "swmlir_llvm_crts_tid": ([], [i32]),
        "swmlir_llvm_crts_rid": ([], [i32]),
        "swmlir_llvm_crts_cid": ([], [i32]),
        "swmlir_llvm_crts_cgn": ([], [i32]),
        "swmlir_llvm_cg_id": ([], [i32]),
        "swmlir_llvm_ldm_array": ([p, i64, p], []),
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


def _lower_dma(op: ir.Operation, calls: _Calls, reply_ptr: dict, pending: dict, api: str) -> None:
    is_get = op.name == "sunway.dma_get"
    src, dst, reply = op.operands[0], op.operands[1], op.operands[2]
    main_view, ldm_view = (src, dst) if is_get else (dst, src)
    mt = main_view.type
    strides, _ = strides_of(mt)
    eb = elem_bytes(mt.element_type)
    require_dense_ldm(ldm_view, op)
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
        if api == "crts":   # CRTS_dma_iget[_stride](ldm, mem, len, [bsize, stride,] &rply); iput: (mem, ldm, ...)
            strided = rows > 1
            sizes = [_c(length)] + ([_c(bsize), _c(stride)] if strided else [])
            name = ("CRTS_dma_iget" if is_get else "CRTS_dma_iput") + ("_stride" if strided else "")
            calls(name, *((lptr, mptr) if is_get else (mptr, lptr)), *sizes, rptr)
        elif is_get:
            calls("athread_get", _c(PE_MODE), mptr, lptr, _c(length), rptr, _c(0, 8), _c(stride), _c(bsize))
        else:
            calls("athread_put", _c(PE_MODE), lptr, mptr, _c(length), rptr, _c(stride), _c(bsize))
        for _ in reversed(loops):
            scf.YieldOp([])
            ir.InsertionPoint.current.__exit__(None, None, None)
    pending[reply] = pending.get(reply, 0) + math.prod(c for c, _, _ in outer)
    op.erase()


def _index(v: ir.Value) -> ir.Value:
    return arith.IndexCastOp(ir.IndexType.get(), v).result


def _cpe_index(calls: _Calls, api: str, which: str, mesh_cols: int) -> ir.Value:
    """The calling CPE's id, row or column (which: "id", "row", "col") as an index; `mesh_cols`: the target's
    CPE mesh width (Target.mesh)."""
    if api == "crts":   # CRTS_tid / CRTS_rid / CRTS_cid, out of line
        return _index(calls({"id": "swmlir_llvm_crts_tid", "row": "swmlir_llvm_crts_rid",
                             "col": "swmlir_llvm_crts_cid"}[which]))
    val = _index(calls("athread_get_id", _c(-1)))
    if which != "id":   # the mesh (8x8), row-major: row = id / cols, column = id % cols
        val = (arith.DivSIOp if which == "row" else arith.RemSIOp)(val, index_const(mesh_cols)).result
    return val


class _Strings:
    """Constant C strings of the module (llvm.mlir.global internal constant), one global per distinct text."""

    def __init__(self, module: ir.Operation, prefix: str):
        self.module, self.prefix, self.names = module, prefix, {}

    def __call__(self, text: str) -> ir.Value:
        if text not in self.names:
            name = f"{self.prefix}{len(self.names)}"
            data = text.encode() + b"\0"
            with ir.InsertionPoint(self.module.regions[0].blocks[0]), ir.Location.unknown():
                llvm.GlobalOp(ir.Type.parse(f"!llvm.array<{len(data)} x i8>"), name,
                              ir.Attribute.parse("#llvm.linkage<internal>"), constant=True,
                              value=ir.StringAttr.get(text + "\0"))
            self.names[text] = name
        return llvm.AddressOfOp(_ptr(), self.names[text]).result


def _shape(t: ir.MemRefType) -> str:
    return "x".join(str(d) for d in t.shape) + f"x{t.element_type}" if t.shape else str(t.element_type)


@register_pass("sunway-lower-to-athread-calls",
               "Lower sunway ops in CPE kernels to calls of the target's slave API, athread or CRTS (func.call of "
               "external functions, for the LLVM IR output)",
               options={"target": ("", "target whose runtime_api decides the API (default: the module's "
                                       "swmlir.target attribute, else sw26010)")})
def lower_to_athread_calls(module: ir.Operation, *, target: str = "") -> None:
    ensure_sunway(module)
    tgt = module_target(module, target)
    api = tgt.runtime_api
    if api not in ("athread", "crts"):
        raise LoweringError(f"runtime API '{api}' of the target is not athread or crts", stage="emit")
    calls = _Calls(module, _signatures())
    strings = _Strings(module, "swmlir_ldm_name_")
    for kfn in funcs(module, kernels=True):
        _drop_ldm_space(kfn)
        for op in collect(kfn, ("sunway.cpe_id", "sunway.cpe_row", "sunway.cpe_col")):
            with ir.InsertionPoint(op), op.location:
                val = _cpe_index(calls, api, {"sunway.cpe_id": "id", "sunway.cpe_row": "row",
                                              "sunway.cpe_col": "col"}[op.name], tgt.mesh[1])
            op.results[0].replace_all_uses_with(val)
            op.erase()
        for op in collect(kfn, "sunway.cg_id"):   # a kernel spawned on several core groups (--cgs N)
            with ir.InsertionPoint(op), op.location:
                val = _index(calls("swmlir_llvm_crts_cgn" if api == "crts" else "swmlir_llvm_cg_id"))
            op.results[0].replace_all_uses_with(val)
            op.erase()
        for n, op in enumerate(collect(kfn, "sunway.ldm_alloc")):
            t = op.results[0].type
            with ir.InsertionPoint(op), op.location:
                new = memref.AllocaOp(t, [], [], alignment=LDM_ALIGN)
                nbytes = math.prod(t.shape) * elem_bytes(t.element_type)
                calls("swmlir_llvm_ldm_array", _address(new.result, index_const(0), 1), _c(nbytes, 64),
                      strings(f"ldm{n} ({_shape(t)})"))
            op.results[0].replace_all_uses_with(new.result)
            op.erase()
        for op in collect(kfn, "sunway.barrier"):
            with ir.InsertionPoint(op), op.location:
                if api == "crts":
                    calls("CRTS_ssync_array")
                else:
                    calls("athread_syn", _c(ARRAY_SCOPE), _c(0xffff))
            op.erase()
        reply_ptr: dict = {}
        reply_word: dict = {}
        replies = collect(kfn, "sunway.reply")
        for op in replies:
            with ir.InsertionPoint(op), op.location:
                word = memref.AllocaOp(ir.MemRefType.get([], _i(32)), [], [])
                memref.StoreOp(_c(0), word.result, [])
                reply_ptr[op.results[0]] = _address(word.result, index_const(0), 4)
                reply_word[op.results[0]] = word.result
        pending: dict = {}
        for op in collect(kfn, ("sunway.dma_get", "sunway.dma_put", "sunway.dma_wait")):
            if op.name == "sunway.dma_wait":
                reply = op.operands[0]
                if reply not in reply_ptr:
                    raise LoweringError("sunway.dma_wait on a reply word not made by sunway.reply",
                                        op=op.name, location=op.location)
                with ir.InsertionPoint(op), op.location:
                    n = _c(pending.pop(reply, 0))
                    if api == "crts":   # spins until the word reaches n; it counts the next requests from 0
                        calls("CRTS_dma_wait_value", reply_ptr[reply], n)
                        memref.StoreOp(_c(0), reply_word[reply], [])
                    else:
                        calls("swmlir_llvm_dma_wait", reply_ptr[reply], n)
                op.erase()
            else:
                _lower_dma(op, calls, reply_ptr, pending, api)
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
            if api == "crts":
                raise LoweringError("sunway.mesh_gather_rows is register communication (SW26010 only): no CRTS form",
                                    op=op.name, stage="emit", location=op.location)
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
