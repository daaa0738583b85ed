"""If with a condition known at compile time: the taken branch is inlined.

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

Refused, naming the node: a condition computed at run time (that needs host control flow around the kernels,
an scf.if on the MPE, which the pipeline does not have), a condition with other than one element, a branch
with the wrong number of outputs, and ops without a converter inside the taken branch (all listed at once).
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
        for a in n.attribute:
            for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs):
                _outer_reads(sub, into, defined)
        defined |= {o for o in n.output if o}
    return into


def _folded(ctx, branch: onnx.GraphProto) -> onnx.GraphProto:
    """`branch` with its shape arithmetic folded, as the graph stage folds the main graph (which never looks
    inside subgraphs): a model of the branch whose inputs are the outer values it reads, typed with their static
    shapes (small outer constants as initializers), through constant_fold.fold_to_fixed_point."""
    from swmlir.graph import constant_fold, shapes

    g = onnx.GraphProto()
    g.CopyFrom(branch)
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


@converter("If", since=(7, 11, 13, 16, 19, 21, 23, 24, 25))  # later versions only add types
def if_(ctx, node):
    from ..importer import _convert_node   # the importer's node conversion, for the branch's nodes

    cond = node.constant(0)
    if cond is None:
        raise node.error(f"the condition '{node.input_names[0]}' is computed at run time; only an If whose "
                         "condition is a compile-time constant is supported (an initializer, a Constant, or shape "
                         "arithmetic that folds once the input shapes are fixed, e.g. with --input-shape): host "
                         "control flow around the kernels is not implemented")
    if cond.size != 1:
        raise node.error(f"the condition must have one element, got shape {list(cond.shape)}")
    which = "then_branch" if bool(cond.reshape(-1)[0]) else "else_branch"
    branch = node.attr(which)
    if not isinstance(branch, onnx.GraphProto):
        raise node.error(f"attribute '{which}' is missing or not a graph")
    if len(branch.output) != len(node.output_names):
        raise node.error(f"{which} has {len(branch.output)} outputs, the If node {len(node.output_names)}")
    prefix = f"{node.name}/{which}/"
    branch = _folded(ctx, branch)
    missing = _missing_ops(node, branch, prefix)
    if missing:
        raise UnsupportedOpsError(missing)
    for t in branch.initializer:
        ctx.define(t.name, ctx.tensor_to_numpy(t))
    for s in branch.sparse_initializer:
        ctx.define(s.values.name, ctx.sparse_to_numpy(s))
    for k, proto in enumerate(branch.node):
        inner = onnx.NodeProto()
        inner.CopyFrom(proto)
        inner.name = prefix + (proto.name or f"{proto.op_type}_{k}")   # errors name the If and the branch
        _convert_node(ctx, inner, k)
    ctx.node = node
    results = []
    for o in branch.output:
        c = ctx.constant_value(o.name)
        if c is not None and o.name not in ctx.values:
            results.append(c)   # a constant stays numpy: a later Reshape or Slice may need its value
        elif ctx.has(o.name):
            results.append(ctx.value(o.name))
        else:
            raise node.error(f"output '{o.name}' of {which} is not produced by the branch nor defined outside it")
    return results
