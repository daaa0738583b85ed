"""Control flow resolved at compile time: If with a constant condition (the taken branch inlined), Loop and
Scan with a static iteration count (unrolled).

Why this covers real models: exporters emit If for shape-dependent code (torch.onnx of `if x.size(0) == 1`,
squeeze-or-not, a padding that only some sizes need; tf2onnx conds on static shapes). Once the graph stage has
fixed the input shapes and folded the shape arithmetic (swmlir/graph/shapes.py, resolve-shapes: it folds the
main graph even when nodes hold subgraphs), the condition is a constant and only one branch can ever run. That
branch is first folded as the main graph was (resolve-shapes' constant_fold.fold_to_fixed_point, with the
outer values it reads given their static types, so the shape arithmetic of a nested If's condition folds too),
then its nodes are converted in place, in the enclosing function, by the importer's own node conversion:
they read outer-scope values by name (ONNX forbids a subgraph to redefine a name of an enclosing scope, so
one name table serves both), its initializers become constants, nested Ifs inline the same way, and the If's
outputs are the branch's outputs.

Loop (a trip count and conditions that fold: `for i in range(n)` of torch.onnx, tf2onnx's while loops over
static shapes) and Scan (the scan axis of its inputs is static) are unrolled the same way: each iteration is a
copy of the body whose own names carry an iteration prefix (so iterations do not collide), inlined with its
inputs bound to the iteration number, the condition, the loop-carried / state values of the iteration before
and (Scan) the iteration's slice of each scan input; constants stay numpy across iterations, so the body's
shape arithmetic and a condition computed from the iteration number fold. Scan outputs are stacked along
their axes (reversed for a reverse direction).

Refused, naming the node: a condition or trip count computed at run time (that needs host control flow
around the kernels, an scf.if / scf.while on the MPE, which the pipeline does not have), more than
MAX_ITERATIONS iterations, zero iterations with scan outputs (zero-size tensors), values whose shape changes
between iterations in a scan output, Scan-8 (batch axis and sequence_lens), malformed bodies, and ops
without a converter inside the inlined graph (all listed at once).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ....errors import UnsupportedOpsError
from .. import builders as b
from .. import registry
from ..dtypes import mlir_to_numpy
from ..registry import converter


def _missing_ops(node, graph: onnx.GraphProto, prefix: str) -> list[tuple[str, int, str]]:
    out = []
    for i, n in enumerate(graph.node):
        domain = "" if n.domain in registry.DEFAULT_DOMAINS else n.domain
        opset = node.ctx.opsets.get(domain, 0)
        if registry.lookup(n.op_type, opset, domain) is None:
            out.append((n.op_type if not domain else f"{domain}.{n.op_type}", opset, prefix + (n.name or
                                                                                             f"{n.op_type}_{i}")))
    return out


def _outer_reads(graph: onnx.GraphProto, into: list[str], defined: set[str]) -> list[str]:
    """Names `graph` (and its subgraphs) read that it does not define, in first-use order."""
    defined = defined | {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}
    for n in graph.node:
        for i in n.input:
            if i and i not in defined and i not in into:
                into.append(i)
        for sub in _subgraphs(n):   # a nested body's own inputs are its own
            _outer_reads(sub, into, defined | {i.name for i in sub.input})
        defined |= {o for o in n.output if o}
    return into


def _folded(ctx, branch: onnx.GraphProto) -> onnx.GraphProto:
    """`branch` with its shape arithmetic folded, as the graph stage folds the main graph (which never looks
    inside subgraphs): a model of the branch whose inputs are the outer values it reads, typed with their static
    shapes (small outer constants as initializers), through constant_fold.fold_to_fixed_point."""
    from swmlir.graph import constant_fold, shapes

    g = onnx.GraphProto()
    g.CopyFrom(branch)
    del g.input[:]   # a body's inputs are bound in ctx by the caller: typed below like the outer values
    outer = _outer_reads(branch, [], set())
    for name in outer:
        c = ctx.constant_value(name)
        if c is not None and c.size <= shapes.SHAPE_ELEMENTS:
            g.initializer.append(onnx.numpy_helper.from_array(c, name))
            continue
        if c is not None:
            shape, dt = c.shape, c.dtype
        elif name in ctx.values:
            v = ctx.values[name]
            vi = ctx.info.get(name)
            shape = b.shape_of(v)
            dt = vi.dtype if vi is not None and vi.dtype is not None else mlir_to_numpy(b.elem_of(v))
        else:
            continue   # undefined: reported when the node that reads it is converted
        g.input.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dt)),
                                                     list(shape)))
    m = helper.make_model(g, opset_imports=list(ctx.model.opset_import), ir_version=ctx.model.ir_version)
    constant_fold.fold_to_fixed_point(m, max_elements=shapes.SHAPE_ELEMENTS)
    outer_set = set(outer)
    folded = m.graph
    keep = [t for t in folded.initializer if t.name not in outer_set]
    del folded.initializer[:]
    folded.initializer.extend(keep)
    return folded


def _subgraphs(n: onnx.NodeProto):
    for a in n.attribute:
        yield from [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)


def _defined(graph: onnx.GraphProto, into: set[str]) -> set[str]:
    """Every name `graph` and its subgraphs define (inputs, initializers, node outputs)."""
    into |= {i.name for i in graph.input} | {t.name for t in graph.initializer}
    into |= {s.values.name for s in graph.sparse_initializer}
    for n in graph.node:
        into |= {o for o in n.output if o}
        for sub in _subgraphs(n):
            _defined(sub, into)
    return into


def _rename(graph: onnx.GraphProto, names: dict[str, str]) -> None:
    """Apply `names` (old -> new) to every definition and use in `graph` and its subgraphs, in place."""
    def ren(x):
        return names.get(x, x) if x else x

    for coll in (graph.input, graph.output, graph.value_info):
        for vi in coll:
            vi.name = ren(vi.name)
    for t in graph.initializer:
        t.name = ren(t.name)
    for sp in graph.sparse_initializer:
        sp.values.name = ren(sp.values.name)
    for n in graph.node:
        n.input[:] = [ren(i) for i in n.input]
        n.output[:] = [ren(o) for o in n.output]
        for sub in _subgraphs(n):
            _rename(sub, names)


def _instance(ctx, graph: onnx.GraphProto, prefix: str) -> onnx.GraphProto:
    """A copy of a loop body whose own names all carry `prefix`: one per unrolled iteration, so that the
    iterations' values do not collide (names read from outer scopes are kept). The element types ONNX knows of
    the body's values go with the new names (shapes not: they may change between iterations)."""
    from ..importer import ValueInfo
    g = onnx.GraphProto()
    g.CopyFrom(graph)
    names = {name: prefix + name for name in _defined(graph, set())}
    _rename(g, names)
    for old, new in names.items():
        vi = ctx.info.get(old)
        if vi is not None and vi.dtype is not None:
            ctx.info[new] = ValueInfo(None, vi.dtype)
    return g


def _inline(ctx, node, graph: onnx.GraphProto, prefix: str, bindings: dict) -> list:
    """Convert the nodes of `graph` in place (after binding its inputs to `bindings`: name -> SSA value or
    numpy constant, and folding its shape arithmetic); its outputs as SSA values, numpy for constants."""
    from ..importer import _convert_node   # the importer's node conversion, for the subgraph's nodes

    for name, v in bindings.items():
        ctx.define(name, v)
    graph = _folded(ctx, graph)
    missing = _missing_ops(node, graph, prefix)
    if missing:
        raise UnsupportedOpsError(missing)
    for t in graph.initializer:
        ctx.define(t.name, ctx.tensor_to_numpy(t))
    for sp in graph.sparse_initializer:
        ctx.define(sp.values.name, ctx.sparse_to_numpy(sp))
    for k, proto in enumerate(graph.node):
        inner = onnx.NodeProto()
        inner.CopyFrom(proto)
        inner.name = prefix + (proto.name or f"{proto.op_type}_{k}")   # errors name the enclosing node
        _convert_node(ctx, inner, k)
    ctx.node = node
    results = []
    for o in graph.output:
        c = ctx.constant_value(o.name)
        if c is not None and o.name not in ctx.values:
            results.append(c)   # a constant stays numpy: a later Reshape or Slice may need its value
        elif ctx.has(o.name):
            results.append(ctx.value(o.name))
        else:
            raise node.error(f"output '{o.name}' of the subgraph is not produced by it nor defined outside it")
    return results


def _graph_attr(node, name: str) -> onnx.GraphProto:
    g = node.attr(name)
    if not isinstance(g, onnx.GraphProto):
        raise node.error(f"attribute '{name}' is missing or not a graph")
    return g


def _compile_time(node, i: int, what: str, why: str) -> np.ndarray:
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"the {what} '{node.input_names[i]}' is computed at run time; {why} (an "
                                  "initializer, a "
                         "Constant, or shape arithmetic that folds once the input shapes are fixed, e.g. with "
                         "--input-shape): host control flow around the kernels is not implemented")
    if c.size != 1:
        raise node.error(f"the {what} must have one element, got shape {list(c.shape)}")
    return c.reshape(-1)[0]


# ================================================================================================ If
@converter("If", since=(7, 11, 13, 16, 19, 21, 23, 24, 25))  # later versions only add types
def if_(ctx, node):
    cond = _compile_time(node, 0, "condition", "only an If whose condition is a compile-time constant is supported")
    which = "then_branch" if bool(cond) else "else_branch"
    branch = _graph_attr(node, which)
    if len(branch.output) != len(node.output_names):
        raise node.error(f"{which} has {len(branch.output)} outputs, the If node {len(node.output_names)}")
    return _inline(ctx, node, branch, f"{node.name}/{which}/", {})


# ================================================================================================ Loop, Scan
MAX_ITERATIONS = 256   # each unrolled iteration is its own kernels: beyond this, code size and compile time explode


def _value(ctx, v):
    """A loop value as an SSA value (numpy constants materialised)."""
    return b.constant(v, "loop_cst") if isinstance(v, np.ndarray) else v


def _stack(ctx, node, items: list, axis: int, what: str):
    """Per-iteration values stacked along a new `axis` (numpy when all are constants)."""
    if not items:
        raise node.error(f"{what} would be empty (zero iterations): zero-size tensors are not supported")
    shapes = {tuple(i.shape) if isinstance(i, np.ndarray) else b.shape_of(i) for i in items}
    if len(shapes) != 1:
        raise node.error(f"{what} has a different shape in different iterations ({sorted(shapes)})")
    if all(isinstance(i, np.ndarray) for i in items):
        return np.stack(items, axis=axis)
    from ..movement_util import concat
    shape = list(shapes.pop())
    one = shape[:axis] + [1] + shape[axis:]
    return concat([b.reshape(_value(ctx, i), one) for i in items], axis)


def _passes_condition(body: onnx.GraphProto) -> bool:
    """The body hands its condition input on unchanged (torch.onnx's `for` loops): only the trip count ends it."""
    c_in, c_out = body.input[1].name, body.output[0].name
    return c_out == c_in or any(n.op_type == "Identity" and list(n.output) == [c_out] and list(n.input) == [c_in]
                                for n in body.node)


@converter("Loop", since=(7, 11, 13, 16, 19, 21, 23, 24, 25))  # later versions only add types
def loop(ctx, node):
    """Unrolled: the trip count and the condition (initial, and each iteration's condition output) must be
    compile-time constants; each iteration is a renamed copy of the body, inlined with its inputs bound to the
    iteration number, the condition and the loop-carried values of the iteration before."""
    body = _graph_attr(node, "body")
    n_carried = len(node.input_names) - 2
    if n_carried < 0:
        raise node.error("Loop takes the inputs M, cond and the loop-carried values")
    n_scan = len(body.output) - 1 - n_carried
    if len(body.input) != 2 + n_carried or n_scan < 0:
        raise node.error(f"the body has {len(body.input)} inputs and {len(body.output)} outputs; with "
                         f"{n_carried} loop-carried values it must have {2 + n_carried} inputs and at least "
                         f"{1 + n_carried} outputs")
    if len(node.output_names) > n_carried + n_scan:
        raise node.error(f"the node has {len(node.output_names)} outputs, the body gives {n_carried + n_scan}")
    why = "only a Loop whose trip count and conditions are compile-time constants is supported (it is unrolled)"
    trip = int(_compile_time(node, 0, "trip count", why)) if node.has_input(0) else None
    cond = bool(_compile_time(node, 1, "condition", why)) if node.has_input(1) else True
    if trip is None and not node.has_input(1):
        raise node.error("the Loop has neither a trip count nor a condition (it would never end)")
    if trip is not None and trip > MAX_ITERATIONS and (not node.has_input(1) or _passes_condition(body)):
        raise node.error(f"the loop runs {trip} iterations; it is unrolled, and more than {MAX_ITERATIONS} are "
                         "not supported")
    values = []
    for k, name in enumerate(node.input_names[2:]):
        if not name:
            raise node.error(f"loop-carried input #{k + 2} is empty")
        c = ctx.constant_value(name)
        values.append(c if c is not None else ctx.value(name))
    scans: list[list] = [[] for _ in range(n_scan)]
    i = 0
    while cond and (trip is None or i < trip):
        if i >= MAX_ITERATIONS:
            raise node.error(f"the loop runs more than {MAX_ITERATIONS} iterations; it is unrolled, and longer "
                             "loops are not supported")
        prefix = f"{node.name}/iter{i}/"
        g = _instance(ctx, body, prefix)
        bindings = {g.input[0].name: np.array(i, np.int64), g.input[1].name: np.array(cond, np.bool_)}
        bindings.update({vi.name: v for vi, v in zip(g.input[2:], values)})
        outs = _inline(ctx, node, g, prefix, bindings)
        c = outs[0]
        if not isinstance(c, np.ndarray):
            raise node.error(f"the condition output of the body is computed at run time (iteration {i}); {why}")
        cond = bool(c.reshape(-1)[0])
        values = outs[1:1 + n_carried]
        for k, v in enumerate(outs[1 + n_carried:]):
            scans[k].append(v)
        i += 1
    results = list(values)
    for k in range(n_scan):
        results.append(_stack(ctx, node, scans[k], 0, f"scan output #{k}")
                       if node.output_requested(n_carried + k) else None)
    return results


def _axes(node, name: str, count: int, ranks: list[int]) -> list[int]:
    axes = [int(a) for a in (node.attr(name) or [0] * count)]
    if len(axes) != count:
        raise node.error(f"attribute '{name}' has {len(axes)} entries, expected {count}")
    out = []
    for a, r in zip(axes, ranks):
        if not -r <= a < r:
            raise node.error(f"attribute '{name}' holds axis {a}, out of range for rank {r}")
        out.append(a % r)
    return out


def _directions(node, name: str, count: int) -> list[int]:
    d = [int(x) for x in (node.attr(name) or [0] * count)]
    if len(d) != count or any(x not in (0, 1) for x in d):
        raise node.error(f"attribute '{name}' must hold {count} values of 0 (forward) or 1 (reverse), got {d}")
    return d


def _slice_step(ctx, x, axis: int, t: int):
    """x[..., t, ...] along `axis`, the axis dropped (numpy for a constant)."""
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(np.take(x, t, axis=axis))
    from ..movement_util import slice_of
    s = list(b.shape_of(x))
    piece = slice_of(x, [t if k == axis else 0 for k in range(len(s))], [1 if k == axis else n
                                                                      for k, n in enumerate(s)])
    return b.reshape(piece, s[:axis] + s[axis + 1:])


@converter("Scan", since=(9, 11, 16, 19, 21, 23, 24, 25))  # 9: no batch dim / sequence_lens (Scan-8 refused)
def scan(ctx, node):
    """Unrolled over the scan axis (static): step t binds the state values and the t-th slice of every scan
    input (the last slice first for a reverse direction); scan outputs are stacked along their axes, in
    reverse order for a reverse direction."""
    body = _graph_attr(node, "body")
    m = node.attr("num_scan_inputs")
    if m is None or m < 1:
        raise node.error("attribute 'num_scan_inputs' is required and must be positive")
    n_state = len(node.input_names) - m
    if n_state < 0 or len(body.input) != len(node.input_names):
        raise node.error(f"the body has {len(body.input)} inputs; the node has {len(node.input_names)} "
                         f"(states and {m} scan inputs)")
    n_out = len(body.output) - n_state
    if n_out < 0 or len(node.output_names) > len(body.output):
        raise node.error(f"the body has {len(body.output)} outputs for {n_state} states")
    ins = []
    for k, name in enumerate(node.input_names):
        if not name:
            raise node.error(f"input #{k} is empty")
        c = ctx.constant_value(name)
        ins.append(c if c is not None else ctx.value(name))
    states, xs = ins[:n_state], ins[n_state:]

    def rank(v):
        return v.ndim if isinstance(v, np.ndarray) else len(b.shape_of(v))

    def shape(v):
        return tuple(v.shape) if isinstance(v, np.ndarray) else b.shape_of(v)

    in_axes = _axes(node, "scan_input_axes", m, [rank(x) for x in xs])
    in_dirs = _directions(node, "scan_input_directions", m)
    lengths = {shape(x)[a] for x, a in zip(xs, in_axes)}
    if len(lengths) != 1:
        raise node.error(f"the scan inputs have different lengths along their scan axes ({sorted(lengths)})")
    T = lengths.pop()
    if T > MAX_ITERATIONS:
        raise node.error(f"the scan runs {T} iterations; it is unrolled, and more than {MAX_ITERATIONS} are not "
                         "supported")
    items: list[list] = [[] for _ in range(n_out)]
    for t in range(T):
        prefix = f"{node.name}/iter{t}/"
        g = _instance(ctx, body, prefix)
        steps = [_slice_step(ctx, x, a, T - 1 - t if d else t) for x, a, d in zip(xs, in_axes, in_dirs)]
        bindings = {vi.name: v for vi, v in zip(g.input, states + steps)}
        outs = _inline(ctx, node, g, prefix, bindings)
        states = outs[:n_state]
        for k, v in enumerate(outs[n_state:]):
            items[k].append(v)
    out_ranks = [rank(v[0]) + 1 if v else 1 for v in items]
    out_axes = _axes(node, "scan_output_axes", n_out, out_ranks)
    out_dirs = _directions(node, "scan_output_directions", n_out)
    results = list(states)
    for k in range(n_out):
        seq = items[k][::-1] if out_dirs[k] else items[k]
        results.append(_stack(ctx, node, seq, out_axes[k], f"scan output #{k}") if node.output_requested(n_state + k)
                       else None)
    return results
