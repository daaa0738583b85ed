"""sunway-outline-kernels: each top-level scf.forall of a host function becomes a CPE kernel.

The forall moves into a new `func.func` marked `sunway.kernel` (with the ONNX node and tile sizes of the op it
computes); the host calls it with `sunway.spawn @kernel(addresses)` followed by `sunway.join`.
A kernel receives whole main-memory buffers only (identity layout, as the athread ABI passes bare addresses):
views of a buffer used in the loop (subview, expand/collapse_shape) and constants are cloned into the kernel.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import func, memref

from swmlir import c_names
from swmlir.attrs import GROUP_ATTR, NODE_ATTR, TILES_ATTR
from swmlir.errors import LoweringError

from . import register_pass
from ._util import (KERNEL_ATTR, as_operation, collect, defined_inside, defining_op, ensure_sunway, funcs, is_inside, is_ldm_type,
                    str_attr, sym_name)


def _captured(loop: ir.Operation) -> list[ir.Value]:
    """Values used inside `loop` but defined outside it, in first-use order."""
    seen: list[ir.Value] = []

    def visit(op):
        for v in op.operands:
            if not defined_inside(v, loop) and not any(v == s for s in seen):
                seen.append(v)
        return ir.WalkResult.ADVANCE

    loop.walk(visit)
    return seen


_CLONABLE = ("arith.constant", "memref.subview", "memref.expand_shape", "memref.collapse_shape")


def _is_identity(t: ir.MemRefType) -> bool:
    return t.layout.is_identity if hasattr(t.layout, "is_identity") else "strided" not in str(t)


def _clone_views_and_constants(loop: ir.Operation, captured: list[ir.Value]) -> None:
    """Clone into the loop the captured constants and views of buffers, recursively down to the buffers."""
    entry = loop.regions[0].blocks[0]
    work = list(captured)
    while work:
        v = work.pop(0)
        op = defining_op(v)
        if op is None or op.name not in _CLONABLE:
            continue
        if op.name == "memref.expand_shape" and op.operands[0].type.rank == 0:
            continue  # C has no rank-0 arrays: the kernel receives the one-element view
        clone = op.clone(ir.InsertionPoint.at_block_begin(entry))
        for use in list(v.uses):
            if is_inside(use.owner, loop) and use.owner != clone:
                use.owner.operands[use.operand_number] = clone.results[0]
        for operand in clone.operands:
            if not defined_inside(operand, loop):
                work.append(operand)


def _sink_ldm_staging(loop: ir.Operation, captured: list[ir.Value]) -> None:
    """A tile operand the forall does not slice (e.g. a bias read through a constant index) is promoted to LDM
    where it is defined, outside the loop, sometimes through a chain (promoted twice, or filled by an op). LDM
    belongs to a CPE, so the allocation and every host op that writes it are cloned into the loop body, with
    the LDM buffers they read staged first; the host keeps none of it."""
    entry = loop.regions[0].blocks[0]
    state = {"after": None}
    staged: dict = {}
    clones: set = set()

    def place(op: ir.Operation) -> ir.Operation:
        ip = (ir.InsertionPoint.at_block_begin(entry) if state["after"] is None
              else ir.InsertionPoint.after(state["after"]))
        clone = op.clone(ip)
        state["after"] = clone
        clones.add(clone)
        return clone

    def stage(v: ir.Value) -> ir.Value:
        if v in staged:
            return staged[v]
        alloc = defining_op(v)
        if alloc is None or alloc.name not in ("memref.alloc", "memref.alloca"):
            raise LoweringError(f"an LDM buffer {v.type} made by {alloc.name if alloc else 'an argument'} "
                                "outside a kernel", op="scf.forall", location=alloc.location if alloc else None)
        new = place(alloc).results[0]
        staged[v] = new
        writers = []
        for use in v.uses:
            owner = as_operation(use.owner)
            if is_inside(owner, loop) or owner.name == "memref.dealloc" or owner.parent != alloc.parent:
                continue
            writes = (owner.name == "memref.copy" and owner.operands[1] == v) or (
                owner.name == "linalg.generic" and any(
                    owner.operands[i] == v for i in range(len(owner.operands) - _n_outs(owner), len(owner.operands))))
            if writes:
                writers.append(owner)
        for w in sorted(writers, key=_block_position):
            sources = {i: stage(x) for i, x in enumerate(w.operands) if is_ldm_type(x.type) and x != v}
            c = place(w)
            for i, x in enumerate(w.operands):
                if x == v:
                    c.operands[i] = new
                elif i in sources:
                    c.operands[i] = sources[i]
        return new

    for v in captured:
        if is_ldm_type(v.type):
            new = stage(v)
            for use in list(v.uses):
                owner = as_operation(use.owner)
                if is_inside(owner, loop) and owner not in clones:
                    owner.operands[use.operand_number] = new


def _n_outs(op: ir.Operation) -> int:
    seg = op.attributes["operandSegmentSizes"] if "operandSegmentSizes" in op.attributes else None
    return list(ir.DenseI32ArrayAttr(seg))[1] if seg is not None else 1


def _block_position(op: ir.Operation) -> int:
    for i, o in enumerate(op.block.operations):
        if o.operation == op:
            return i
    return 0


def _describe(loop: ir.Operation) -> tuple[str, str]:
    """The ONNX node(s) a kernel computes (its fusion group) and its tile sizes: the forall's own (a pad kernel,
    which has no linalg op before bufferization) or those of its tagged linalg op."""
    if GROUP_ATTR in loop.attributes:
        return str_attr(loop, GROUP_ATTR), str_attr(loop, TILES_ATTR)
    for op in collect(loop, "linalg.generic"):
        if GROUP_ATTR in op.attributes:
            return str_attr(op, GROUP_ATTR), str_attr(op, TILES_ATTR)
    for op in collect(loop, "linalg.generic"):
        if NODE_ATTR in op.attributes:
            return str_attr(op, NODE_ATTR), str_attr(op, TILES_ATTR)
    return "copy", ""


@register_pass("sunway-outline-kernels",
               "Outline each top-level scf.forall into a CPE kernel launched with sunway.spawn/sunway.join")
def outline_kernels(module: ir.Operation) -> None:
    ensure_sunway(module)
    body = module.regions[0].blocks[0]
    count = 0
    for host in funcs(module, kernels=False):
        loops = [op.operation for op in host.regions[0].blocks[0].operations if op.operation.name == "scf.forall"]
        for loop in loops:
            node, tiles = _describe(loop)
            # unique by the count; the node names are untrusted text, reduced to identifier characters
            name = f"{sym_name(host)}_k{count}_{c_names.fragment(node) or 'op'}"
            count += 1
            captured = _captured(loop)
            _sink_ldm_staging(loop, captured)
            captured = _captured(loop)
            _clone_views_and_constants(loop, captured)
            args = _captured(loop)
            for v in args:
                if isinstance(v.type, ir.MemRefType) and not _is_identity(v.type):
                    raise LoweringError(f"kernel {name} would receive the strided view {v.type}", op="scf.forall",
                                        location=loop.location)
                if not isinstance(v.type, (ir.MemRefType, ir.IndexType)):
                    raise LoweringError(f"kernel {name} captures a value of type {v.type}", op="scf.forall",
                                        location=loop.location)
            with ir.InsertionPoint(body), loop.location:
                kfn = func.FuncOp(name, ([a.type for a in args], []), visibility="private")
                kfn.operation.attributes[KERNEL_ATTR] = ir.UnitAttr.get()
                kfn.operation.attributes[NODE_ATTR] = ir.StringAttr.get(node)
                if tiles:
                    kfn.operation.attributes[TILES_ATTR] = ir.StringAttr.get(tiles)
                entry = kfn.add_entry_block()
                with ir.InsertionPoint(entry):
                    ret = func.ReturnOp([])
            for a, barg in zip(args, entry.arguments):
                for use in list(a.uses):
                    if is_inside(use.owner, loop):
                        use.owner.operands[use.operand_number] = barg
            with ir.InsertionPoint(loop), loop.location:
                words = [memref.ExtractAlignedPointerAsIndexOp(a).result if isinstance(a.type, ir.MemRefType)
                         else a for a in args]
                ir.Operation.create("sunway.spawn", operands=words,
                                    attributes={"kernel": ir.FlatSymbolRefAttr.get(name)})
                ir.Operation.create("sunway.join")
            loop.move_before(ret.operation)
        _drop_host_ldm(host)


def _drop_host_ldm(host: ir.Operation) -> None:
    """With every loop outlined, the host-level LDM stagings (cloned into the kernels) are dead: remove them."""
    block = host.regions[0].blocks[0]
    for op in reversed([o.operation for o in block.operations]):
        if op.name in ("memref.alloc", "memref.alloca") and is_ldm_type(op.results[0].type):
            users = [as_operation(u.owner) for u in op.results[0].uses]
            for u in users:
                if u.name not in ("memref.copy", "memref.dealloc", "linalg.generic", "linalg.copy"):
                    raise LoweringError(f"LDM buffer used on the host by {u.name}", op=u.name, location=u.location)
            for u in reversed(sorted(set(users), key=_block_position)):
                u.erase()
            op.erase()
