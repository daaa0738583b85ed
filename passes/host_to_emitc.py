"""sunway-host-to-emitc: the host (MPE) function becomes C through EmitC: the model's public C API.

The host function only allocates, takes views, copies whole buffers and launches kernels, so it is rewritten
directly into EmitC on byte pointers:
  memref.alloc        -> a slice of one arena allocated at init (`swmlir_arena + offset`), placed by the static
                         memory plan (swmlir/analysis/memory_plan.py): buffers with disjoint lifetimes share bytes
  memref.get_global   -> a slice of the weights file loaded at init (`swmlir_weights + offset`)
  views               -> the same pointer plus the view's static byte offset
  memref.copy         -> memcpy of a contiguous buffer
  sunway.spawn / join -> `struct <kernel>_args a = {...}; athread_spawn(<kernel>, &a); athread_join();`
Every tensor handed to a kernel (an input or output, a weight, an arena slot) is registered where it is defined:
`swmlir_register_tensor(p, bytes, "weight w0");` (swmlir_runtime.h: under the emulator a DMA must stay inside the
tensor it starts in; nothing on the machine). Arena slots are registered before the first op that touches their
bytes (memory_plan.first_touches), where the memory plan has ended every slot they share bytes with.
It also writes swmlir_init (athread_init, weights, arena), swmlir_run_packed and swmlir_finalize (athread_halt).
For a CRTS target (SW26010-Pro, runtime_api "crts"; the `target` option, else the module's swmlir.target
attribute) the file includes crts.h instead of athread.h and swmlir_init starts the CPEs with CRTS_init();
spawn, join and halt keep the athread names, which crts.h defines for C hosts (athread_spawn(f, arg) starts
slave_f; athread_halt is a no-op there).
On several core groups (a target `<name>:cgs<N>`, swmlir compile --cgs N) one process drives the N CGs, as on
SW26010-Pro: the file starts with `#define SWMLIR_CGS N`, swmlir_init calls athread_init_cgs() (which also starts
CRTS), a launch is athread_spawn_cgs(kernel, &a) + athread_join_cgs(). SW26010's athread has no such calls (one
MPI rank per CG there): for sw26010 that C is the emulator's and the performance model's form.
Module attributes `swmlir.arena_bytes` / `swmlir.weights_bytes` / `swmlir.intermediate_bytes` record the sizes.
"""
from __future__ import annotations


from mlir import ir
from mlir.dialects import emitc

from swmlir import c_names
from swmlir.analysis.memory_plan import first_touches, plan
from swmlir.analysis.weights import align, weight_layout
from swmlir.attrs import ARENA_BYTES_ATTR, INTERMEDIATE_BYTES_ATTR, NUM_INPUTS_ATTR, WEIGHTS_BYTES_ATTR
from swmlir.errors import LoweringError
from swmlir.schedule.loop_nest import elem_bytes
from swmlir.targets import module_target

from . import register_pass
from ._emitc import T, call, cast, idx, include, literal, opaque, ptr_t, variable
from ._emitc import func as efunc
from ._util import defining_op, funcs, memref_bytes

I64 = "i64"


def _byte_offset(view_op: ir.Operation) -> int:
    """Static byte offset of a view relative to its source."""
    if view_op.name in ("memref.collapse_shape", "memref.expand_shape"):
        return 0
    if view_op.name == "memref.subview":
        t = view_op.results[0].type
        strides, offset = t.get_strides_and_offset()
        src_strides, src_offset = view_op.operands[0].type.get_strides_and_offset()
        if offset == ir.ShapedType.get_dynamic_stride_or_offset():
            raise LoweringError("a view with a dynamic offset on the host", op=view_op.name,
                                location=view_op.location)
        return (offset - src_offset) * elem_bytes(t.element_type)
    raise LoweringError(f"unsupported view {view_op.name} on the host", op=view_op.name, location=view_op.location)


def _is_contiguous(t: ir.MemRefType) -> bool:
    strides, _ = t.get_strides_and_offset()
    shape = list(t.shape)
    expect = 1
    for n, s in reversed(list(zip(shape, strides))):
        if n != 1 and s != expect:
            return False
        expect *= n
    return True


def _comment(text: str) -> None:
    """A C comment line in the emitted code (verbatim text: braces would be format placeholders)."""
    emitc.VerbatimOp(text.replace("{", "{{").replace("}", "}}"), [])


def _shape(t: ir.MemRefType) -> str:
    return "x".join(str(d) for d in t.shape) + f"x{t.element_type}" if t.shape else str(t.element_type)


def kernel_struct(name: str) -> str:
    return f"struct {name}_args"


def _kernel_tensors(block: ir.Block) -> set:
    """The root buffers (function arguments, memref.alloc, memref.get_global results) that a sunway.spawn receives,
    through views and extract_aligned_pointer_as_index."""
    roots = set()
    for op in block.operations:
        if op.operation.name != "sunway.spawn":
            continue
        for v in op.operation.operands:
            while True:
                d = defining_op(v)
                if d is None or d.name not in ("memref.extract_aligned_pointer_as_index", "memref.subview",
                                               "memref.collapse_shape", "memref.expand_shape"):
                    break
                v = d.operands[0]
            roots.add(v)
    return roots


def _register_tensor(p: ir.Value, nbytes: int, name: str) -> None:
    """`swmlir_register_tensor(p, nbytes, "name");`: `name` has only characters safe in a C string (from
    c_names.fragment and shapes)."""
    call("swmlir_register_tensor", [p], args=[idx(0), opaque(str(nbytes)), opaque(f'\\"{name}\\"')])


RUN_INPUTS_ATTR = NUM_INPUTS_ATTR   # on the emitted swmlir_run: how many of its parameters are inputs


def run_signature(module: ir.Operation) -> tuple[int, int]:
    """(inputs, outputs) of the swmlir_run this pass emitted: what model.h declares (swmlir/codegen/files.py)."""
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "emitc.func" and ir.StringAttr(op.attributes["sym_name"]).value == "swmlir_run":
            n = len(op.regions[0].blocks[0].arguments)
            k = ir.IntegerAttr(op.attributes[RUN_INPUTS_ATTR]).value if RUN_INPUTS_ATTR in op.attributes else n
            return k, n - k
    raise LoweringError("the host module has no swmlir_run (run sunway-host-to-emitc first)", stage="emit")


@register_pass("sunway-host-to-emitc",
               "Rewrite the host function (allocations, views, copies, kernel launches) into the C API via EmitC",
               options={"num_inputs": (-1, "leading function arguments that are model inputs (-1: read "
                                           "the swmlir.num_inputs attribute)"),
                        "target": ("", "target whose runtime_api decides the API (default: the module's "
                                       "swmlir.target attribute, else sw26010)")})
def host_to_emitc(module: ir.Operation, *, num_inputs: int = -1, target: str = "") -> None:
    tgt = module_target(module, target)
    crts = tgt.runtime_api == "crts"
    cgs = tgt.cgs
    hosts = funcs(module, kernels=False)
    if len(hosts) != 1:
        raise LoweringError(f"expected one host function, found {len(hosts)}", stage="emit",
                            location=hosts[1].location if len(hosts) > 1 else None)
    host = hosts[0]
    if num_inputs < 0:
        num_inputs = (ir.IntegerAttr(host.attributes[NUM_INPUTS_ATTR]).value
                      if NUM_INPUTS_ATTR in host.attributes else len(host.regions[0].blocks[0].arguments))
    body = module.regions[0].blocks[0]
    layout = {e.name: e for e in weight_layout(module)}
    weights_bytes = sum(align(e.nbytes) for e in layout.values())
    args = list(host.regions[0].blocks[0].arguments)
    offsets, arena, intermediates = plan(host.regions[0].blocks[0], memref_bytes)
    starts: dict = {}   # op of the host -> the arena slots whose lifetime begins there
    for a, first in first_touches(host.regions[0].blocks[0], memref_bytes).items():
        starts.setdefault(first, []).append(a)
    to_kernels = _kernel_tensors(host.regions[0].blocks[0])
    loc = host.location
    with ir.InsertionPoint(body), loc:
        if cgs > 1:   # the emulator's athread_init_cgs reads it; on the machine the job's -mpecg N sets the CGs
            emitc.VerbatimOp(f"#define SWMLIR_CGS {cgs} /* core groups every kernel is spawned on */", [])
        include("crts.h" if crts else "athread.h", True)
        include("string.h", True)
        include("stdint.h", True)
        include("stddef.h", True)
        include("stdbool.h", True)
        include("swmlir_runtime.h", False)
        include("model.h", False)
        include("model_kernels.h", False)
        emitc.GlobalOp("swmlir_weights", ptr_t("char"), initial_value=opaque("NULL"), static_specifier=True)
        emitc.GlobalOp("swmlir_arena", ptr_t("char"), initial_value=opaque("NULL"), static_specifier=True)
        run, entry = efunc("swmlir_run", [ptr_t("void")] * len(args))
        run.operation.attributes[RUN_INPUTS_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), num_inputs)
    ptr: dict = {}
    with ir.InsertionPoint(entry), loc:
        for a, p in zip(args, entry.arguments):
            ptr[a] = cast(p, ptr_t("char"))
        for i, a in enumerate(args):
            if a in to_kernels:
                which = f"input {i}" if i < num_inputs else f"output {i - num_inputs}"
                _register_tensor(ptr[a], memref_bytes(a.type), f"{which} ({_shape(a.type)})")
        weights = emitc.GetGlobalOp(T(f"!emitc.lvalue<{ptr_t('char')}>"), "swmlir_weights").result
        arena_g = emitc.GetGlobalOp(T(f"!emitc.lvalue<{ptr_t('char')}>"), "swmlir_arena").result
        wbase = emitc.LoadOp(ptr_t("char"), weights).result
        abase = emitc.LoadOp(ptr_t("char"), arena_g).result

        def offset_ptr(base, off):
            if off == 0:
                return base
            return emitc.AddOp(ptr_t("char"), base, literal(str(off), T(I64))).result

        for op in list(host.regions[0].blocks[0].operations):
            op = op.operation
            name = op.name
            with op.location:
                for a in starts.get(op, ()):
                    if a.results[0] in to_kernels:
                        t = a.results[0].type
                        _register_tensor(ptr[a.results[0]], memref_bytes(t),
                                         f"intermediate {_shape(t)} at arena byte {offsets[a]}")
                if name in ("arith.constant", "func.return", "memref.dealloc"):
                    continue
                if name == "memref.alloc":
                    t = op.results[0].type
                    if not t.has_static_shape:
                        raise LoweringError(f"dynamic allocation {t} on the host", op=name, stage="emit",
                                            location=op.location)
                    _comment(f"/* intermediate {_shape(t)}: arena bytes [{offsets[op]}, "
                                     f"{offsets[op] + memref_bytes(t)}) */")
                    ptr[op.results[0]] = offset_ptr(abase, offsets[op])
                elif name == "memref.get_global":
                    g = ir.FlatSymbolRefAttr(op.attributes["name"]).value
                    if g not in layout:
                        raise LoweringError(f"global {g} has no initial value", op=name, stage="emit",
                                            location=op.location)
                    e = layout[g]
                    _comment(f"/* weight {c_names.comment(e.label or g)} {_shape(op.results[0].type)}: "
                             f"weights file bytes [{e.offset}, {e.offset + e.nbytes}) */")
                    ptr[op.results[0]] = offset_ptr(wbase, e.offset)
                    if op.results[0] in to_kernels:
                        _register_tensor(ptr[op.results[0]], e.nbytes,
                                         f"weight {c_names.fragment(e.label or g) or c_names.fragment(g) or 'w'}")
                elif name in ("memref.subview", "memref.collapse_shape", "memref.expand_shape"):
                    ptr[op.results[0]] = offset_ptr(ptr[op.operands[0]], _byte_offset(op))
                elif name == "memref.extract_aligned_pointer_as_index":
                    ptr[op.results[0]] = ptr[op.operands[0]]
                elif name == "memref.copy":
                    src, dst = op.operands
                    if not (_is_contiguous(src.type) and _is_contiguous(dst.type)):
                        raise LoweringError("strided copy on the host (should have been a kernel)", op=name,
                                            stage="emit", location=op.location)
                    call("memcpy", [ptr[dst], ptr[src]],
                         args=[idx(0), idx(1), opaque(str(memref_bytes(src.type)))])
                elif name == "sunway.spawn":
                    kernel = ir.FlatSymbolRefAttr(op.attributes["kernel"]).value
                    st = T(f'!emitc.opaque<"{kernel_struct(kernel)}">')
                    a = variable(st)
                    for i, v in enumerate(op.operands):
                        field = emitc.MemberOp(T(f"!emitc.lvalue<{ptr_t('void')}>"), f"a{i}", a).result
                        emitc.AssignOp(field, cast(ptr[v], ptr_t("void")))
                    ap = emitc.AddressOfOp(T(f"!emitc.ptr<{st}>"), a).result
                    call("athread_spawn_cgs" if cgs > 1 else "athread_spawn", [ap], args=[opaque(kernel), idx(0)])
                elif name == "sunway.join":
                    call("athread_join_cgs" if cgs > 1 else "athread_join")
                else:
                    raise LoweringError(f"unexpected op on the host: {name}", op=name, stage="emit",
                                        location=op.location)
        emitc.ReturnOp()

    with ir.InsertionPoint(body), loc:
        _init_function(weights_bytes, arena, crts, cgs)
        _packed_function(num_inputs, len(args) - num_inputs)
        _finalize_function()
        _sizes_global("swmlir_input_bytes", [memref_bytes(a.type) for a in args[:num_inputs]])
        _sizes_global("swmlir_output_bytes", [memref_bytes(a.type) for a in args[num_inputs:]])
    for op in list(body.operations):
        if op.operation.name in ("func.func", "memref.global"):
            op.operation.erase()
    module.attributes[ARENA_BYTES_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), arena)
    module.attributes[INTERMEDIATE_BYTES_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                                       intermediates)
    module.attributes[WEIGHTS_BYTES_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                                  weights_bytes)


def _init_function(weights_bytes: int, arena_bytes: int, crts: bool = False, cgs: int = 1) -> None:
    """int swmlir_init(const char *weights_path): start the CPEs (athread_init, or CRTS_init; athread_init_cgs on
    several core groups), load the weights, allocate the arena."""
    i32 = ir.IntegerType.get_signless(32)
    f, e = efunc("swmlir_init", [ptr_t("const char")], [i32])
    with ir.InsertionPoint(e):
        call("athread_init_cgs" if cgs > 1 else "CRTS_init" if crts else "athread_init")
        w = call("swmlir_load_weights", [e.arguments[0]], args=[idx(0), opaque(str(weights_bytes))],
                 result=ptr_t("void"))
        a = call("swmlir_alloc", args=[opaque(str(max(arena_bytes, 1)))], result=ptr_t("void"))
        call("swmlir_name_buffer", [a], args=[idx(0), opaque('\\"the arena\\"')])  # for the emulator's messages
        for g, v in (("swmlir_weights", w), ("swmlir_arena", a)):
            lv = emitc.GetGlobalOp(T(f"!emitc.lvalue<{ptr_t('char')}>"), g).result
            emitc.AssignOp(lv, cast(v, ptr_t("char")))
        null = literal("NULL", ptr_t("void"))
        bad_w = emitc.CmpOp(ir.IntegerType.get_signless(1), ir.Attribute.parse("0 : i64"), w, null).result
        bad_a = emitc.CmpOp(ir.IntegerType.get_signless(1), ir.Attribute.parse("0 : i64"), a, null).result
        bad = emitc.LogicalOrOp(ir.IntegerType.get_signless(1), bad_w, bad_a).result
        emitc.ReturnOp(operand=cast(bad, i32))


def _packed_function(n_in: int, n_out: int) -> None:
    """void swmlir_run_packed(void *const *inputs, void *const *outputs): the driver's uniform entry."""
    pp = T(f"!emitc.ptr<{ptr_t('void')}>")
    f, e = efunc("swmlir_run_packed", [pp, pp])
    with ir.InsertionPoint(e):
        vals = []
        for arr, count in ((e.arguments[0], n_in), (e.arguments[1], n_out)):
            for i in range(count):
                el = emitc.SubscriptOp(T(f"!emitc.lvalue<{ptr_t('void')}>"), arr,
                                       [literal(str(i), T("!emitc.size_t"))]).result
                vals.append(emitc.LoadOp(ptr_t("void"), el).result)
        call("swmlir_run", vals)
        emitc.ReturnOp()


def _finalize_function() -> None:
    f, e = efunc("swmlir_finalize", [])
    with ir.InsertionPoint(e):
        for g in ("swmlir_arena", "swmlir_weights"):
            lv = emitc.GetGlobalOp(T(f"!emitc.lvalue<{ptr_t('char')}>"), g).result
            call("swmlir_free", [emitc.LoadOp(ptr_t("char"), lv).result])
        call("athread_halt")
        emitc.ReturnOp()


def _sizes_global(name: str, sizes: list[int]) -> None:
    n = max(1, len(sizes))
    vals = sizes or [0]
    attr = ir.DenseIntElementsAttr.get(__import__("numpy").array(vals, dtype="int64"),
                                       type=ir.RankedTensorType.get([n], ir.IntegerType.get_signless(64)))
    emitc.GlobalOp(name, T(f"!emitc.array<{n}xi64>"), initial_value=attr, const_specifier=True)
