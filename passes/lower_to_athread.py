"""sunway-lower-to-athread: the sunway ops of CPE kernels become calls of the target's slave API (EmitC): the
SW26010 athread API, or the CRTS API of SW26010-Pro (crts.h) where the target's runtime_api is "crts".

Runs after the kernels' linalg ops are loops, right before convert-to-emitc:

  sunway op              athread (SW26010)                          CRTS (SW26010-Pro)
  cpe_id                 athread_get_id(-1)                         CRTS_tid
  cpe_row / cpe_col      athread_get_id(-1) / 8, % 8                CRTS_rid / CRTS_cid
  cg_id                  swmlir_cg_id() (swmlir_slave.h; the        CRTS_cgn
                           emulator's CG: see there)
  ldm_alloc              memref.alloca (a local array: the CPE stack is in LDM) + `swmlir_ldm_array(buf, bytes);`
                         (swmlir_slave.h: the emulator registers the LDM buffer; nothing on the machine), both APIs
  reply                  `volatile int reply = 0;`                  `crts_rply_t rply = 0;`
  dma_get, contiguous    athread_get(PE_MODE, mem, ldm, len,        CRTS_dma_iget(ldm, mem, len, &rply)
                           &reply, 0, 0, 0)
  dma_get, strided       athread_get(PE_MODE, mem, ldm, len,        CRTS_dma_iget_stride(ldm, mem, len, bsize,
                           &reply, 0, stride, bsize)                  stride, &rply)
  dma_put                athread_put(PE_MODE, ldm, mem, len,        CRTS_dma_iput[_stride](mem, ldm, len,
                           &reply, stride, bsize)                     [bsize, stride,] &rply)
  dma_wait               swmlir_dma_wait(&reply, n)                 CRTS_dma_wait_value(&rply, n); rply = 0;
  barrier                athread_syn(ARRAY_SCOPE, 0xffff)           CRTS_ssync_array()
  mesh_allgather         swmlir_mesh_allgather(buffer, slice bytes, axis) (swmlir_slave.h): register
                         communication on SW26010, RMA row/column broadcasts under CRTS
  mesh_gather_rows       swmlir_mesh_gather_rows(tile, strip, tile rows, row bytes, first, rows) (swmlir_slave.h):
                         register communication, SW26010 only (sunway-gather-put-rows)

A view is split into requests: the innermost contiguous run is the block (bsize), the next level the rows
(stride = bytes skipped between blocks, as both APIs count it), outer levels become loops of requests. n of a wait
is the number of requests issued on the reply word since the last wait; the word is reset after it (a CRTS reply
word counts completed requests and CRTS_dma_wait_value spins until it reaches n).
Sizes and strides are static (tiles are static), so every len/bsize/stride is a literal in the C code.
The target comes from the `target` option, else the module's `swmlir.target` attribute (swmlir.targets).
"""
from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, emitc, memref, scf

from swmlir.errors import LoweringError
from swmlir.schedule.loop_nest import elem_bytes
from swmlir.targets import module_target

from . import register_pass
from ._dma_views import plan_requests, request_words, require_dense_ldm, view_chain as _view_chain  # shared with sunway-lower-to-athread-calls
from ._dma_views import strides_of as _strides_of
from ._util import collect, ensure_sunway, funcs, index_const, is_ldm_type


def _opaque(text: str) -> ir.Attribute:
    return ir.Attribute.parse(f'#emitc.opaque<"{text}">')


def _type(text: str) -> ir.Type:
    return ir.Type.parse(text)


SIZE_T = "!emitc.size_t"


def _to_size_t(v: ir.Value) -> ir.Value:
    return ir.Operation.create("builtin.unrealized_conversion_cast", results=[_type(SIZE_T)],
                               operands=[v]).results[0]


def _pointer(buffer: ir.Value, offset: ir.Value, elem: ir.Type) -> ir.Value:
    """`&buffer[0]...[0] + offset` as an EmitC pointer."""
    t = buffer.type
    arr_t = _type(f"!emitc.array<{'x'.join(str(d) for d in t.shape)}x{elem}>")
    arr = ir.Operation.create("builtin.unrealized_conversion_cast", results=[arr_t], operands=[buffer]).results[0]
    zero = _to_size_t(index_const(0))
    el = emitc.SubscriptOp(_type(f"!emitc.lvalue<{elem}>"), arr, [zero] * t.rank).result
    ptr = emitc.AddressOfOp(_type(f"!emitc.ptr<{elem}>"), el).result
    off = arith.IndexCastOp(ir.IntegerType.get_signless(64), offset).result
    return emitc.AddOp(_type(f"!emitc.ptr<{elem}>"), ptr, off).result


def _lower_dma(op: ir.Operation, reply_ptr: dict, pending: dict, api: str) -> None:
    is_get = op.name == "sunway.dma_get"
    src, dst, reply = op.operands[0], op.operands[1], op.operands[2]
    main_view, ldm_view = (src, dst) if is_get else (dst, src)
    mt = main_view.type
    strides, _ = _strides_of(mt)
    shape = list(mt.shape)
    elem = mt.element_type
    eb = elem_bytes(elem)
    require_dense_ldm(ldm_view, op)
    outer, block, rows, pitch = plan_requests(shape, strides)
    with ir.InsertionPoint(op), op.location:
        main_buf, main_off = _view_chain(main_view)
        ldm_buf, ldm_off = _view_chain(ldm_view)
        ivs_main, ivs_ldm = main_off, ldm_off
        loops = []
        for count, ms, ls in outer:
            loop = scf.ForOp(index_const(0), index_const(count), index_const(1))
            loops.append(loop)
            ip = ir.InsertionPoint(loop.body)
            ip.__enter__()
            iv = loop.induction_variable
            ivs_main = arith.AddIOp(ivs_main, arith.MulIOp(iv, index_const(ms)).result).result
            ivs_ldm = arith.AddIOp(ivs_ldm, arith.MulIOp(iv, index_const(ls)).result).result
        mptr = _pointer(main_buf, ivs_main, elem)
        lptr = _pointer(ldm_buf, ivs_ldm, elem)
        length, stride, bsize = request_words(block, rows, pitch, eb)
        if api == "crts":
            rptr = reply_ptr[_key(reply)]
            sizes = [_opaque(str(length))] + ([_opaque(str(bsize)), _opaque(str(stride))] if rows > 1 else [])
            suffix = "_stride" if rows > 1 else ""
            if is_get:   # CRTS_dma_iget[_stride](ldm, mem, len, [bsize, stride,] &rply)
                emitc.CallOpaqueOp([], f"CRTS_dma_iget{suffix}", [lptr, mptr, rptr],
                                   args=ir.ArrayAttr.get([_idx(0), _idx(1), *sizes, _idx(2)]))
            else:        # CRTS_dma_iput[_stride](mem, ldm, len, [bsize, stride,] &rply)
                emitc.CallOpaqueOp([], f"CRTS_dma_iput{suffix}", [mptr, lptr, rptr],
                                   args=ir.ArrayAttr.get([_idx(0), _idx(1), *sizes, _idx(2)]))
        elif is_get:
            rptr = emitc.CastOp(_type('!emitc.ptr<!emitc.opaque<"void">>'), reply_ptr[_key(reply)]).result
            emitc.CallOpaqueOp([], "athread_get", [mptr, lptr, rptr],
                               args=ir.ArrayAttr.get([_opaque("PE_MODE"), _idx(0), _idx(1), _opaque(str(length)),
                                                      _idx(2), _opaque("0"), _opaque(str(stride)),
                                                      _opaque(str(bsize))]))
        else:
            rptr = emitc.CastOp(_type('!emitc.ptr<!emitc.opaque<"void">>'), reply_ptr[_key(reply)]).result
            emitc.CallOpaqueOp([], "athread_put", [lptr, mptr, rptr],
                               args=ir.ArrayAttr.get([_opaque("PE_MODE"), _idx(0), _idx(1), _opaque(str(length)),
                                                      _idx(2), _opaque(str(stride)), _opaque(str(bsize))]))
        for loop in reversed(loops):
            scf.YieldOp([])
            ir.InsertionPoint.current.__exit__(None, None, None)
    pending[_key(reply)] = pending.get(_key(reply), 0) + math.prod(c for c, _, _ in outer)
    op.erase()


def _register_ldm_array(buffer: ir.Value) -> None:
    """`swmlir_ldm_array(buf, bytes);` after the local array: the emulator's record of the LDM buffer (swmlir_slave.h;
    nothing on the machine), so that it counts in the LDM in use and a DMA or SIMD access overflowing it is caught."""
    t = buffer.type
    arr_t = _type(f"!emitc.array<{'x'.join(str(d) for d in t.shape)}x{t.element_type}>")
    arr = ir.Operation.create("builtin.unrealized_conversion_cast", results=[arr_t], operands=[buffer]).results[0]
    emitc.CallOpaqueOp([], "swmlir_ldm_array", [arr],
                       args=ir.ArrayAttr.get([_idx(0), _opaque(str(math.prod(t.shape) * elem_bytes(t.element_type)))]))


def _lower_allgather(op: ir.Operation) -> None:
    """sunway.mesh_allgather -> swmlir_mesh_allgather(&buf[0]..., bytes of one slice, axis) (swmlir_slave.h)."""
    buf = op.operands[0]
    t = buf.type
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    slice_bytes = math.prod(t.shape) * elem_bytes(t.element_type) // 8
    with ir.InsertionPoint(op), op.location:
        root, off = _view_chain(buf)
        ptr = _pointer(root, off, t.element_type)
        emitc.CallOpaqueOp([], "swmlir_mesh_allgather", [ptr],
                           args=ir.ArrayAttr.get([_idx(0), _opaque(str(slice_bytes)), _opaque(str(axis))]))
    op.erase()


def _lower_gather_rows(op: ir.Operation) -> None:
    """sunway.mesh_gather_rows -> swmlir_mesh_gather_rows(&tile[0].., &strip[0].., tile rows, row bytes, first,
    strip rows) (swmlir_slave.h)."""
    tile, strip = op.operands[0], op.operands[1]
    eb = elem_bytes(strip.type.element_type)
    rows, width = strip.type.shape[-2], strip.type.shape[-1] // 8
    first = ir.IntegerAttr(op.attributes["first"]).value
    with ir.InsertionPoint(op), op.location:
        ptrs = [_pointer(*_view_chain(v), v.type.element_type) for v in (tile, strip)]
        emitc.CallOpaqueOp([], "swmlir_mesh_gather_rows", ptrs,
                           args=ir.ArrayAttr.get([_idx(0), _idx(1), *(_opaque(str(n)) for n in (
                               tile.type.shape[-2], width * eb, first, rows))]))
    op.erase()


def _idx(i: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IndexType.get(), i)


def _key(v: ir.Value):
    return v


# math ops -> C99 libm (float suffix `f` for f32). convert-math-to-emitc covers only a few of these.
_LIBM = {"math.erf": "erf", "math.tanh": "tanh", "math.tan": "tan", "math.atan": "atan", "math.sinh": "sinh",
         "math.cosh": "cosh", "math.asinh": "asinh", "math.acosh": "acosh", "math.atanh": "atanh",
         "math.asin": "asin", "math.acos": "acos", "math.log1p": "log1p", "math.expm1": "expm1",
         "math.exp2": "exp2", "math.log2": "log2", "math.log10": "log10", "math.cbrt": "cbrt",
         "math.sin": "sin", "math.cos": "cos", "math.exp": "exp", "math.log": "log", "math.sqrt": "sqrt",
         "math.floor": "floor", "math.ceil": "ceil", "math.absf": "fabs", "math.powf": "pow",
         "math.atan2": "atan2", "math.round": "round", "math.roundeven": "rint", "math.trunc": "trunc",
         "math.copysign": "copysign", "math.fma": "fma", "math.erfc": "erfc", "arith.remf": "fmod"}


def _lower_libm(kfn: ir.Operation) -> None:
    """Scalar float math ops become libm calls (expf, erff, tanhf, ...); rsqrt becomes 1 / sqrt."""
    for op in collect(kfn, tuple(_LIBM) + ("math.rsqrt",)):
        t = op.results[0].type
        if not isinstance(t, (ir.F16Type, ir.F32Type, ir.F64Type)):
            continue
        half = isinstance(t, ir.F16Type)  # C has no half-precision libm: compute in float, round once
        ct = ir.F32Type.get() if half else t
        suffix = "" if isinstance(ct, ir.F64Type) else "f"
        with ir.InsertionPoint(op), op.location:
            args = [arith.ExtFOp(ct, v).result if half else v for v in op.operands]
            if op.name == "math.rsqrt":
                root = emitc.CallOpaqueOp([ct], f"sqrt{suffix}", [args[0]]).results[0]
                new = arith.DivFOp(arith.ConstantOp(ct, 1.0).result, root).result
            else:
                new = emitc.CallOpaqueOp([ct], f"{_LIBM[op.name]}{suffix}", args).results[0]
            if half:
                new = arith.TruncFOp(t, new).result
        op.results[0].replace_all_uses_with(new)
        op.erase()


def _cpe_index(api: str, which: str, mesh_cols: int) -> ir.Value:
    """The calling CPE's id, row or column (which: "id", "row", "col") as an index; `mesh_cols`: the target's
    CPE mesh width (Target.mesh)."""
    i32 = ir.IntegerType.get_signless(32)
    if api == "crts":
        name = {"id": "CRTS_tid", "row": "CRTS_rid", "col": "CRTS_cid"}[which]
        return arith.IndexCastOp(ir.IndexType.get(), emitc.LiteralOp(i32, name).result).result
    call = emitc.CallOpaqueOp([i32], "athread_get_id", [], args=ir.ArrayAttr.get([ir.IntegerAttr.get(i32, -1)]))
    idx = arith.IndexCastOp(ir.IndexType.get(), call.results[0]).result
    if which == "id":
        return idx
    # the mesh (8x8): row = id / cols, column = id % cols (athread numbers CPEs row-major)
    cols = index_const(mesh_cols)
    return (arith.DivSIOp(idx, cols) if which == "row" else arith.RemSIOp(idx, cols)).result


@register_pass("sunway-lower-to-athread",
               "Lower sunway ops in CPE kernels to the target's slave API, athread or CRTS (EmitC calls, LDM arrays, "
               "reply words)",
               options={"target": ("", "target whose runtime_api decides the API (default: the module's "
                                       "swmlir.target attribute, else sw26010)")},
               nestable=True)
def lower_to_athread(module: ir.Operation, *, target: str = "") -> None:
    ensure_sunway(module)
    tgt = module_target(module, target)
    api = tgt.runtime_api
    if api not in ("athread", "crts"):
        raise LoweringError(f"runtime API '{api}' of the target is not athread or crts", stage="emit")
    reply_c = "crts_rply_t" if api == "crts" else "volatile int"
    for kfn in funcs(module, kernels=True):
        _lower_libm(kfn)
        for op in collect(kfn, ("sunway.cpe_id", "sunway.cpe_row", "sunway.cpe_col")):
            with ir.InsertionPoint(op), op.location:
                val = _cpe_index(api, {"sunway.cpe_id": "id", "sunway.cpe_row": "row",
                                       "sunway.cpe_col": "col"}[op.name], tgt.mesh[1])
            op.results[0].replace_all_uses_with(val)
            op.erase()
        for op in collect(kfn, "sunway.cg_id"):   # a kernel spawned on several core groups
            i32 = ir.IntegerType.get_signless(32)
            with ir.InsertionPoint(op), op.location:
                raw = (emitc.LiteralOp(i32, "CRTS_cgn").result if api == "crts"
                       else emitc.CallOpaqueOp([i32], "swmlir_cg_id", []).results[0])
                val = arith.IndexCastOp(ir.IndexType.get(), raw).result
            op.results[0].replace_all_uses_with(val)
            op.erase()
        for op in collect(kfn, "sunway.ldm_alloc"):
            # In C the memory space is where the array lives (the CPE stack, in LDM), not part of its type.
            t = op.results[0].type
            plain = ir.MemRefType.get(list(t.shape), t.element_type)
            op.results[0].set_type(plain)
            with ir.InsertionPoint(op), op.location:
                new = memref.AllocaOp(plain, [], [])  # convert-memref-to-emitc refuses aligned allocas
                _register_ldm_array(new.result)
            op.results[0].replace_all_uses_with(new.result)
            op.erase()
        for op in collect(kfn, "sunway.barrier"):
            with ir.InsertionPoint(op), op.location:
                if api == "crts":
                    emitc.CallOpaqueOp([], "CRTS_ssync_array", [])
                else:
                    emitc.CallOpaqueOp([], "athread_syn", [],
                                       args=ir.ArrayAttr.get([_opaque("ARRAY_SCOPE"), _opaque("0xffff")]))
            op.erase()
        reply_ptr: dict = {}
        reply_var: dict = {}
        replies = collect(kfn, "sunway.reply")
        for n, op in enumerate(replies):
            with ir.InsertionPoint(op), op.location:
                var = emitc.VariableOp(_type(f'!emitc.lvalue<!emitc.opaque<"{reply_c}">>'), _opaque("0")).result
                ptr = emitc.AddressOfOp(_type(f'!emitc.ptr<!emitc.opaque<"{reply_c}">>'), var).result
            reply_ptr[_key(op.results[0])] = ptr
            reply_var[_key(op.results[0])] = var
        pending: dict = {}
        for op in collect(kfn, ("sunway.dma_get", "sunway.dma_put", "sunway.dma_wait")):
            if op.name == "sunway.dma_wait":
                key = _key(op.operands[0])
                n = pending.pop(key, 0)
                with ir.InsertionPoint(op), op.location:
                    if api == "crts":
                        emitc.CallOpaqueOp([], "CRTS_dma_wait_value", [reply_ptr[key]],
                                           args=ir.ArrayAttr.get([_idx(0), _opaque(str(n))]))
                        zero = emitc.LiteralOp(_type(f'!emitc.opaque<"{reply_c}">'), "0").result
                        emitc.AssignOp(reply_var[key], zero)   # the word counts the next requests from 0
                    else:
                        emitc.CallOpaqueOp([], "swmlir_dma_wait", [reply_ptr[key]],
                                           args=ir.ArrayAttr.get([_idx(0), _opaque(str(n))]))
                op.erase()
            else:
                _lower_dma(op, reply_ptr, pending, api)
        for op in replies:
            op.erase()
        for op in collect(kfn, "sunway.mesh_allgather"):
            _lower_allgather(op)
        for op in collect(kfn, "sunway.mesh_gather_rows"):
            _lower_gather_rows(op)
        # slices of LDM buffers that only DMA requests used (sunway-share-tiles): their addresses are in the calls
        for op in collect(kfn, "memref.subview"):
            if not list(op.results[0].uses) and is_ldm_type(op.results[0].type):
                op.erase()
