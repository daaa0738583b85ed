"""Small IR helpers shared by the passes (walking, building constants, reading memref types)."""
from __future__ import annotations

from mlir import ir
from mlir.dialects import arith

from swmlir.attrs import KERNEL_ATTR  # noqa: F401  (re-exported: the passes import it from here)
from swmlir.dialects import LDM_SPACE, load_sunway_dialect, memory_space


def collect(root: ir.Operation, name: str | tuple[str, ...]) -> list[ir.Operation]:
    """All ops named `name` under `root`, in pre-order (safe to mutate afterwards)."""
    names = (name,) if isinstance(name, str) else name
    found: list[ir.Operation] = []

    def visit(op):
        if op.name in names:
            found.append(op)
        return ir.WalkResult.ADVANCE

    root.walk(visit, ir.WalkOrder.PRE_ORDER)
    return found


def funcs(module: ir.Operation, *, kernels: bool | None = None) -> list[ir.Operation]:
    """func.func ops of the module; kernels=True/False selects CPE kernels / host functions.
    Given a func.func (a pass nested in `func.func(...)`), the function itself when it is of the kind asked."""
    out = []
    ops = [module] if module.name == "func.func" else module.regions[0].blocks[0].operations
    for op in ops:
        op = op.operation
        if op.name != "func.func":
            continue
        is_kernel = KERNEL_ATTR in op.attributes
        if kernels is None or kernels == is_kernel:
            out.append(op)
    return out


def sym_name(op: ir.Operation) -> str:
    return ir.StringAttr(op.attributes["sym_name"]).value


def str_attr(op: ir.Operation, name: str, default: str = "") -> str:
    return ir.StringAttr(op.attributes[name]).value if name in op.attributes else default


def static_trip_count(loop: ir.Operation) -> int | None:
    """The iteration count of an scf.for with constant bounds and step, None otherwise."""
    lb, ub, step = (constant_int(v) for v in loop.operands[:3])
    if lb is None or ub is None or not step:
        return None
    return max(0, -(-(ub - lb) // step))


def block_ops(block: ir.Block) -> list[ir.Operation]:
    """The ops of a block, as Operations (safe to mutate the block afterwards)."""
    return [o.operation for o in block.operations]


def index_const(value: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), value).result


def constant_int(v: ir.Value) -> int | None:
    """The value of an integer/index arith.constant, or None for anything else."""
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "arith.constant":
        return None
    attr = owner.operation.attributes["value"]
    return ir.IntegerAttr(attr).value if isinstance(attr, ir.IntegerAttr) else None


def is_ldm_type(t: ir.Type) -> bool:
    return isinstance(t, ir.MemRefType) and memory_space(t) == LDM_SPACE


def is_main_memref(t: ir.Type) -> bool:
    return isinstance(t, ir.MemRefType) and memory_space(t) == 0


def memref_bytes(t: ir.MemRefType) -> int:
    from swmlir.schedule.loop_nest import elem_bytes
    n = 1
    for d in t.shape:
        n *= d
    return n * elem_bytes(t.element_type)


def as_operation(op) -> ir.Operation:
    """OpView or Operation -> Operation (use.owner and value.owner return OpViews)."""
    return op.operation if hasattr(op, "operation") else op


def is_inside(op: ir.Operation, ancestor: ir.Operation) -> bool:
    p = as_operation(op)
    ancestor = as_operation(ancestor)
    while p is not None:
        if p == ancestor:
            return True
        p = p.parent
    return False


def ensure_sunway(module: ir.Operation) -> None:
    load_sunway_dialect(module.context)


def defining_op(v: ir.Value) -> ir.Operation | None:
    """The op that defines `v`, or None for a block argument."""
    owner = v.owner
    if isinstance(owner, ir.Block):
        return None
    return owner.operation if hasattr(owner, "operation") else owner


def defined_inside(v: ir.Value, ancestor: ir.Operation) -> bool:
    """Whether `v` is defined by an op (or is an argument of a block) nested in `ancestor`."""
    op = defining_op(v)
    if op is None:
        parent = v.owner.owner  # block argument: the op owning the block
        parent = parent.operation if hasattr(parent, "operation") else parent
        return parent is not None and is_inside(parent, ancestor)
    return is_inside(op, ancestor)


def splatted_load(op: ir.Operation) -> ir.Operation | None:
    """The memref.load that a vector.broadcast `op` only re-broadcasts, or None. Such a pair is one instruction
    on the CPE (simd_loade: load one element into every lane), so sunway-vector-to-simd emits it as one call and
    the performance model (sim.mix) counts it as one LDM load and no vector op."""
    if op.name != "vector.broadcast":
        return None
    load = defining_op(op.operands[0])
    if load is None or load.name != "memref.load":   # in a kernel, every load reads LDM
        return None
    if len(list(load.results[0].uses)) != 1:
        return None
    return load


def is_index_arithmetic(op: ir.Operation) -> bool:
    """An op computing indices only (arith, affine.apply, the CPE's coordinates): pure, safe to compute again or
    to move out of a loop whose ivs it does not read."""
    return op.name.startswith("arith.") or op.name in ("affine.apply", "sunway.cpe_row", "sunway.cpe_col",
                                                        "sunway.cpe_id", "sunway.cg_id")


def is_work_item_start(v: ir.Value) -> bool:
    """Whether `v` is where sunway-map-cpes starts a work-item loop: the CPE id (one core group), or the global
    CPE id `cg_id * 64 + cpe_id` of a kernel spawned on several core groups."""
    op = defining_op(v)
    if op is None:
        return False
    if op.name == "sunway.cpe_id":
        return True
    if op.name != "arith.addi":
        return False
    names = sorted((defining_op(x).name if defining_op(x) is not None else "") for x in op.operands)
    if names != ["arith.muli", "sunway.cpe_id"]:
        return False
    mul = next(defining_op(x) for x in op.operands if defining_op(x).name == "arith.muli")
    factors = [defining_op(x) for x in mul.operands]
    return any(f is not None and f.name == "sunway.cg_id" for f in factors)


def static_ints(op: ir.Operation, name: str) -> list[int]:
    """An op's dense i64 array attribute (static offsets, sizes, strides, pads) as a list."""
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def transform_main(lines: list[str] | str) -> str:
    """A transform module whose @__transform_main runs `lines` (transform IR, one op per line) on the payload."""
    body = lines if isinstance(lines, str) else "\n    ".join(lines)
    return ("module attributes {transform.with_named_sequence} {\n"
            "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n    "
            + body + "\n    transform.yield\n  }\n}\n")


def untag(module: ir.Operation, tag: str, names: str | tuple[str, ...]) -> None:
    """Drop the attribute `tag` that a pass put on ops (`names`) of kernels for its transform script to match."""
    for kfn in funcs(module, kernels=True):
        for op in collect(kfn, names):
            if tag in op.attributes:
                del op.attributes[tag]


def apply_transform(module: ir.Operation, script: str, error) -> None:
    """Run the transform script's @__transform_main on `module`; `error(message)` is raised on failure."""
    from mlir.dialects.transform import interpreter
    ts = ir.Module.parse(script, module.context)
    options = interpreter.TransformOptions()
    options.expensive_checks = False  # they re-verify the whole payload after every transform: quadratic
    try:
        interpreter.apply_named_sequence(module, ts.body.operations[0], ts, options)
    except Exception as e:  # the interpreter reports diagnostics as ValueError / MLIRError
        raise error(f"{e}") from None


def rewrite_to_fixpoint(module: ir.Operation, rewrite_one) -> None:
    """Apply `rewrite_one(op) -> bool` to the ops of every host function's body until none changes (a rewrite
    may make the next op qualify: a chain of elementwise ops moves one op at a time)."""
    for f in funcs(module, kernels=False):
        changed = True
        while changed:
            changed = False
            for o in list(f.regions[0].blocks[0].operations):
                if rewrite_one(o.operation):
                    changed = True
