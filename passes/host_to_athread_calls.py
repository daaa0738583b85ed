"""sunway-host-to-athread-calls: the host (MPE) function becomes the model's C API on pointers, for the LLVM IR
output (the twin of sunway-host-to-emitc, which writes the same functions through EmitC).

The host function only allocates, takes views, copies whole buffers and launches kernels; it is rewritten into
`func.func @swmlir_run(!llvm.ptr, ...)` on byte pointers (LLVM dialect ops inside func.func, converted by the
upstream convert-func/arith-to-llvm after this pass):
  memref.alloc        -> `swmlir_arena + offset`: one arena allocated at init, placed by the static memory plan
                         (swmlir/analysis/memory_plan.py, the C host's), buffers of disjoint lifetimes share bytes
  memref.get_global   -> `swmlir_weights + offset`: the weights file loaded at init (analysis/weights.py layout)
  views               -> the same pointer plus the view's static byte offset
  memref.copy         -> memcpy of a contiguous buffer
  sunway.spawn        -> the argument words stored in the arena's argument slot (main memory, which the kernel
                         entry fetches by DMA), then __real_athread_spawn(slave_<k>, slot): what athread.h's
                         `athread_spawn(k, arg)` macro expands to on SW26010
  sunway.join         -> athread_join()
and adds swmlir_init (athread_init, swmlir_load_weights, swmlir_alloc), swmlir_run_packed, swmlir_finalize
(swmlir_free, athread_halt) and the constant arrays swmlir_input_bytes / swmlir_output_bytes, as model.h
declares them: the generic driver (runtime/driver.c) links against either host. The swmlir_* functions are
the host runtime's (runtime/swmlir_runtime.c). Module attributes swmlir.arena_bytes / weights_bytes /
intermediate_bytes record the sizes, as sunway-host-to-emitc does.

The host API follows the target (the `target` option, else the module's swmlir.target attribute), with the calls
the vendor's headers expand the C host's macros to (reference/sunway.md 2.1; SW26010-Pro's athread.h):
                 athread (SW26010)                       CRTS (SW26010-Pro)
  init           athread_init()                          CRTS_init()
  spawn          __real_athread_spawn(slave_k, arg)      __real_athread_spawn(slave_k, arg, 1) (flush the dcache)
  join           athread_join()                          athread_join()
  finalize       athread_halt()                          nothing (athread_halt is an empty macro on Pro)
On several core groups (a target `<name>:cgs<N>`, --cgs N): init athread_init_cgs() (on Pro followed by
CRTS_init(), as its athread_init_cgs macro does), spawn __real_athread_spawn_cgs(slave_k, arg, 1), join
athread_join_cgs(); SW26010's athread has none of these (one MPI rank per CG there): for sw26010 that form is the
emulator's, as in the C host. The job's CG count is the machine's (`-mpecg N`); the emulator's build of the LLVM
output gets it as -DSWMLIR_CGS=N (swmlir/llvmir).

Every tensor handed to a kernel is registered, as the C host does with swmlir_register_tensor:
`swmlir_llvm_register_tensor(p, bytes, name)` (swmlir/llvmir/swmlir_llvm_host.c: the emulator's record, nothing on
the machine), with the C host's names ("input 0 (1x4xf32)", "weight w1", "intermediate 8x8xf32 at arena byte
128"). Inputs, outputs and the argument slot at the start of swmlir_run, a weight where it is taken, an arena slot
before every launch that receives it: the slots a launch receives are live together, so a slot registered there
replaces only dead ones of the bytes it shares (the emulator forgets tensors a new one overlaps), whatever the
memory plan's order.

The argument struct lives in the arena rather than on the host stack (as the C host has it) so that it is in
main memory the emulator knows without a size: `__real_athread_spawn(fn, arg)` has no size argument.
"""
from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, func, llvm

from swmlir import c_names
from swmlir.analysis.memory_plan import ALIGN, plan
from swmlir.analysis.weights import align, weight_layout
from swmlir.attrs import NUM_INPUTS_ATTR
from swmlir.errors import LoweringError
from swmlir.targets import module_target

from . import register_pass
from .athread_kernel_entries import ENTRY_PREFIX, _fn_type
from .host_to_emitc import _byte_offset, _is_contiguous, _kernel_tensors, _shape
from ._util import defining_op, funcs, memref_bytes
from .emitc_kernel_entries import ARG_POINTER_BYTES


def _i(bits: int) -> ir.Type:
    return ir.IntegerType.get_signless(bits)


def _ptr() -> ir.Type:
    return llvm.PointerType.get()


def _signatures(crts: bool = False, cgs: int = 1) -> dict:
    """The external functions the host calls, for the API (athread or CRTS) and core-group count."""
    p, i32, i64 = _ptr(), _i(32), _i(64)
    sig = {}
    if cgs > 1:
        sig.update({"athread_init_cgs": ([], [i32]), "__real_athread_spawn_cgs": ([p, p, i32], [i32]),
                    "athread_join_cgs": ([], [i32])})
        if crts:
            sig["CRTS_init"] = ([], [i32])
    elif crts:
        sig.update({"CRTS_init": ([], [i32]), "__real_athread_spawn": ([p, p, i32], [i32]),
                    "athread_join": ([], [i32])})
    else:
        sig.update({"athread_init": ([], [i32]), "__real_athread_spawn": ([p, p], [i32]),
                    "athread_join": ([], [i32])})
    if not crts:
        sig["athread_halt"] = ([], [i32])
    sig.update({
        "swmlir_load_weights": ([p, i64], [p]),
        "swmlir_alloc": ([i64], [p]),
        "swmlir_free": ([p], []),
        "swmlir_name_buffer": ([p, p], []),
        "swmlir_llvm_register_tensor": ([p, i64, p], []),
        "memcpy": ([p, p, i64], [p]),
    })
    return sig


def _call(name: str, *args: ir.Value) -> ir.Value | None:
    ins, outs = _SIGNATURES[name]
    call = func.CallOp(outs, ir.FlatSymbolRefAttr.get(name), list(args))
    return call.results[0] if outs else None


_SIGNATURES: dict = {}   # of the module being rewritten (set by the pass)


class _Names:
    """The tensors' names as constant C strings (one llvm.mlir.global per distinct text)."""

    def __init__(self, block: ir.Block):
        self.block, self.names = block, {}

    def __call__(self, text: str) -> ir.Value:
        if text not in self.names:
            name = f"swmlir_tensor_name_{len(self.names)}"
            with ir.InsertionPoint.at_block_begin(self.block), ir.Location.unknown():
                _string(name, text)
            self.names[text] = name
        return llvm.AddressOfOp(_ptr(), self.names[text]).result


def _root(v: ir.Value) -> ir.Value:
    """The buffer under a chain of views and extract_aligned_pointer_as_index (as _kernel_tensors walks it)."""
    while True:
        d = defining_op(v)
        if d is None or d.name not in ("memref.extract_aligned_pointer_as_index", "memref.subview",
                                       "memref.collapse_shape", "memref.expand_shape"):
            return v
        v = d.operands[0]


def _c(value: int, bits: int = 64) -> ir.Value:
    return arith.ConstantOp(_i(bits), value).result


_DYNAMIC_INDEX = -2**31   # LLVM::GEPOp::kDynamicIndex: this index is an operand


def _gep(base: ir.Value, byte_offset: int) -> ir.Value:
    """`(char *)base + byte_offset` (an operand when the offset does not fit the op's i32 constant indices)."""
    if byte_offset == 0:
        return base
    if byte_offset < 2**31:
        return llvm.GEPOp(_ptr(), base, [], [byte_offset], ir.TypeAttr.get(_i(8)), None).result
    return llvm.GEPOp(_ptr(), base, [_c(byte_offset)], [_DYNAMIC_INDEX], ir.TypeAttr.get(_i(8)), None).result


def _load_global(name: str) -> ir.Value:
    return llvm.LoadOp(_ptr(), llvm.AddressOfOp(_ptr(), name).result, alignment=8).result


def _global(name: str, t: ir.Type, *, value: ir.Attribute | None = None, constant: bool = False,
            internal: bool = True) -> None:
    linkage = ir.Attribute.parse(f"#llvm.linkage<{'internal' if internal else 'external'}>")
    g = llvm.GlobalOp(t, name, linkage, constant=constant or None, value=value, alignment=8)
    if value is None:   # a pointer initialized to null
        block = g.regions[0].blocks.append()
        with ir.InsertionPoint(block):
            llvm.ReturnOp(arg=llvm.ZeroOp(t).result)


def _string(name: str, text: str) -> None:
    data = text.encode() + b"\0"
    _global(name, ir.Type.parse(f"!llvm.array<{len(data)} x i8>"), value=ir.StringAttr.get(data.decode()),
            constant=True)


def _sizes(name: str, sizes: list[int]) -> None:
    vals = sizes or [0]
    attr = ir.DenseIntElementsAttr.get(np.array(vals, dtype="int64"),
                                       type=ir.RankedTensorType.get([len(vals)], _i(64)))
    _global(name, ir.Type.parse(f"!llvm.array<{len(vals)} x i64>"), value=attr, constant=True, internal=False)


def _define(name: str, args: list[ir.Type], results: list[ir.Type]):
    f = func.FuncOp(name, ir.FunctionType.get(args, results))
    return f, f.add_entry_block()


@register_pass("sunway-host-to-athread-calls",
               "Rewrite the host function (allocations, views, copies, kernel launches) into the C API on pointers "
               "with calls of the athread host API and the swmlir runtime (for the LLVM IR output)",
               options={"num_inputs": (-1, "leading function arguments that are model inputs (-1: read "
                                           "the swmlir.num_inputs attribute)"),
                        "target": ("", "target whose runtime_api (athread or crts) and core-group count decide "
                                       "the host API (default: the module's swmlir.target attribute, else sw26010)")})
def host_to_athread_calls(module: ir.Operation, *, num_inputs: int = -1, target: str = "") -> None:
    global _SIGNATURES
    tgt = module_target(module, target)
    if tgt.runtime_api not in ("athread", "crts"):
        raise LoweringError(f"runtime API '{tgt.runtime_api}' of the target is not athread or crts", stage="emit")
    crts, cgs = tgt.runtime_api == "crts", tgt.cgs
    _SIGNATURES = _signatures(crts, cgs)
    hosts = funcs(module, kernels=False)
    hosts = [h for h in hosts if h.regions[0].blocks]   # not the declarations
    if len(hosts) != 1:
        raise LoweringError(f"expected one host function, found {len(hosts)}", stage="emit",
                            location=hosts[1].location if len(hosts) > 1 else None)
    host = hosts[0]
    block0 = host.regions[0].blocks[0]
    if num_inputs < 0:
        num_inputs = (ir.IntegerAttr(host.attributes[NUM_INPUTS_ATTR]).value
                      if NUM_INPUTS_ATTR in host.attributes else len(block0.arguments))
    body = module.regions[0].blocks[0]
    layout = {e.name: e for e in weight_layout(module)}
    weights_bytes = sum(align(e.nbytes) for e in layout.values())
    args = list(block0.arguments)
    offsets, planned, intermediates = plan(block0, memref_bytes)
    spawns = [op.operation for op in block0.operations if op.operation.name == "sunway.spawn"]
    slot = align(planned, ALIGN)   # the argument struct of the kernel being launched
    arena = slot + ARG_POINTER_BYTES * max([len(op.operands) for op in spawns] or [0])
    kernels = sorted({ir.FlatSymbolRefAttr(op.attributes["kernel"]).value for op in spawns})
    to_kernels = _kernel_tensors(block0)
    names = _Names(body)
    p = _ptr()
    loc = host.location
    with ir.InsertionPoint(body), loc:
        for name, (ins, outs) in _SIGNATURES.items():
            func.FuncOp(name, ir.FunctionType.get(ins, outs), visibility="private")
        for k in kernels:   # the entries of the kernel module (sunway-athread-kernel-entries)
            llvm.LLVMFuncOp(f"{ENTRY_PREFIX}{k}", _fn_type(None, [p]))
        _global("swmlir_weights", p)
        _global("swmlir_arena", p)
        _string("swmlir_arena_name", "the arena")
        _sizes("swmlir_input_bytes", [memref_bytes(a.type) for a in args[:num_inputs]])
        _sizes("swmlir_output_bytes", [memref_bytes(a.type) for a in args[num_inputs:]])
        run, entry = _define("swmlir_run", [p] * len(args), [])
    ptr: dict = {}
    with ir.InsertionPoint(entry), loc:
        for a, v in zip(args, entry.arguments):
            ptr[a] = v
        wbase = _load_global("swmlir_weights")
        abase = _load_global("swmlir_arena")

        def register(q: ir.Value, nbytes: int, what: str) -> None:
            _call("swmlir_llvm_register_tensor", q, _c(nbytes), names(what))

        for i, a in enumerate(args):
            if a in to_kernels:
                which = f"input {i}" if i < num_inputs else f"output {i - num_inputs}"
                register(ptr[a], memref_bytes(a.type), f"{which} ({_shape(a.type)})")
        if spawns:   # the argument struct the kernel entries fetch: main memory in the arena, past every slot
            register(_gep(abase, slot), arena - slot, "the kernel arguments")
        for op in list(block0.operations):
            op = op.operation
            name = op.name
            with op.location:
                if name in ("arith.constant", "func.return", "memref.dealloc"):
                    continue
                if name == "memref.alloc":
                    t = op.results[0].type
                    if not t.has_static_shape:
                        raise LoweringError(f"dynamic allocation {t} on the host", op=name, stage="emit",
                                            location=op.location)
                    ptr[op.results[0]] = _gep(abase, offsets[op])
                elif name == "memref.get_global":
                    g = ir.FlatSymbolRefAttr(op.attributes["name"]).value
                    if g not in layout:
                        raise LoweringError(f"global {g} has no initial value", op=name, stage="emit",
                                            location=op.location)
                    ptr[op.results[0]] = _gep(wbase, layout[g].offset)
                    if op.results[0] in to_kernels:
                        e = layout[g]
                        register(ptr[op.results[0]], e.nbytes,
                                 f"weight {c_names.fragment(e.label or g) or c_names.fragment(g) or 'w'}")
                elif name in ("memref.subview", "memref.collapse_shape", "memref.expand_shape"):
                    ptr[op.results[0]] = _gep(ptr[op.operands[0]], _byte_offset(op))
                elif name == "memref.extract_aligned_pointer_as_index":
                    ptr[op.results[0]] = ptr[op.operands[0]]
                elif name == "memref.copy":
                    src, dst = op.operands
                    if not (_is_contiguous(src.type) and _is_contiguous(dst.type)):
                        raise LoweringError("strided copy on the host (should have been a kernel)", op=name,
                                            stage="emit", location=op.location)
                    _call("memcpy", ptr[dst], ptr[src], _c(memref_bytes(src.type)))
                elif name == "sunway.spawn":
                    kernel = ir.FlatSymbolRefAttr(op.attributes["kernel"]).value
                    seen = set()
                    for v in op.operands:   # the arena slots it receives (live now; see the module docstring)
                        r = _root(v)
                        d = defining_op(r)
                        if d is not None and d.name == "memref.alloc" and r not in seen:
                            seen.add(r)
                            register(ptr[r], memref_bytes(r.type),
                                     f"intermediate {_shape(r.type)} at arena byte {offsets[d]}")
                    args_ptr = _gep(abase, slot)
                    for i, v in enumerate(op.operands):
                        field = _gep(args_ptr, ARG_POINTER_BYTES * i)
                        if v in ptr:
                            llvm.StoreOp(ptr[v], field, alignment=8)
                        else:   # an integer word
                            owner = v.owner
                            if isinstance(owner, ir.Block) or owner.operation.name != "arith.constant":
                                raise LoweringError(f"kernel argument {i} of {kernel} is neither a buffer's address "
                                                    "nor a constant", op=name, stage="emit", location=op.location)
                            word = ir.IntegerAttr(owner.operation.attributes["value"]).value
                            llvm.StoreOp(_c(word), field, alignment=8)
                    fn = llvm.AddressOfOp(p, f"{ENTRY_PREFIX}{kernel}").result
                    flush = [_c(1, 32)] if crts or cgs > 1 else []   # Pro's flush_slave_dcache argument
                    _call("__real_athread_spawn_cgs" if cgs > 1 else "__real_athread_spawn", fn, args_ptr, *flush)
                elif name == "sunway.join":
                    _call("athread_join_cgs" if cgs > 1 else "athread_join")
                else:
                    raise LoweringError(f"unexpected op on the host: {name}", op=name, stage="emit",
                                        location=op.location)
        func.ReturnOp([])

    with ir.InsertionPoint(body), loc:
        _init_function(weights_bytes, arena, crts, cgs)
        _packed_function(num_inputs, len(args) - num_inputs)
        _finalize_function(crts)
    host.erase()
    for op in list(body.operations):
        if op.operation.name == "memref.global":
            op.operation.erase()
    for key, v in (("arena_bytes", arena), ("intermediate_bytes", intermediates), ("weights_bytes", weights_bytes)):
        module.attributes[f"swmlir.{key}"] = ir.IntegerAttr.get(_i(64), v)


def _init_function(weights_bytes: int, arena_bytes: int, crts: bool = False, cgs: int = 1) -> None:
    """int swmlir_init(const char *weights_path): start the CPEs, load the weights, allocate the arena."""
    p = _ptr()
    f, e = _define("swmlir_init", [p], [_i(32)])
    with ir.InsertionPoint(e):
        if cgs > 1:
            _call("athread_init_cgs")
        if crts:
            _call("CRTS_init")
        elif cgs == 1:
            _call("athread_init")
        w = _call("swmlir_load_weights", e.arguments[0], _c(weights_bytes))
        a = _call("swmlir_alloc", _c(max(arena_bytes, 1)))
        _call("swmlir_name_buffer", a, llvm.AddressOfOp(p, "swmlir_arena_name").result)  # emulator messages
        llvm.StoreOp(w, llvm.AddressOfOp(p, "swmlir_weights").result, alignment=8)
        llvm.StoreOp(a, llvm.AddressOfOp(p, "swmlir_arena").result, alignment=8)
        null = llvm.ZeroOp(p).result
        bad = arith.OrIOp(llvm.ICmpOp(llvm.ICmpPredicate.eq, w, null).result,
                          llvm.ICmpOp(llvm.ICmpPredicate.eq, a, null).result).result
        func.ReturnOp([arith.ExtUIOp(_i(32), bad).result])


def _packed_function(n_in: int, n_out: int) -> None:
    """void swmlir_run_packed(void *const *inputs, void *const *outputs): the driver's uniform entry."""
    p = _ptr()
    f, e = _define("swmlir_run_packed", [p, p], [])
    with ir.InsertionPoint(e):
        vals = []
        for arr, count in ((e.arguments[0], n_in), (e.arguments[1], n_out)):
            for i in range(count):
                vals.append(llvm.LoadOp(p, _gep(arr, 8 * i), alignment=8).result)
        func.CallOp([], ir.FlatSymbolRefAttr.get("swmlir_run"), vals)
        func.ReturnOp([])


def _finalize_function(crts: bool = False) -> None:
    f, e = _define("swmlir_finalize", [], [])
    with ir.InsertionPoint(e):
        for g in ("swmlir_arena", "swmlir_weights"):
            _call("swmlir_free", _load_global(g))
        if not crts:   # SW26010-Pro's athread_halt is an empty macro: no function to call
            _call("athread_halt")
        func.ReturnOp([])
