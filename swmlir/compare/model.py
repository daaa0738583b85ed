"""The debug build's model: what each ONNX node output of the user's model becomes, and a model that keeps them all.

swmlir's ONNX graph passes run first, as in a normal build (so their folds are checked too: a Conv folded with
its BatchNormalization computes the BatchNormalization's output, compared with onnxruntime's). Then every value
a node of the optimized graph computes is made a graph output: a graph output is never shared in the arena and
the host writes each to its own file, so every stage keeps the value of every node. A value of the user's model
that the graph passes removed is reported as fused into the first node downstream that is still computed, or as
dead when no graph output depends on it; one they folded to a constant (an initializer of the optimized graph)
is made a graph output too, so each stage returns it as it stores it (the weights file, at stage c).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

KEPT, CONSTANT, FUSED, DEAD, INLINED = "kept", "constant", "fused", "dead", "inlined"
CONTROL_FLOW = ("If", "Loop", "Scan")


@dataclass
class Value:
    """One output of one node of the user's model (top-level graph), in graph order."""
    node: str          # the node's label, as the importer names it in errors (its name, else OpType_index)
    op: str
    name: str          # the value's name in the graph
    kind: str          # KEPT / CONSTANT (compared: graph outputs of the debug build) or FUSED / DEAD (not computed)
    #                    or INLINED (a node of an If/Loop/Scan body: compared as that node's outputs)
    fused_into: str = ""   # FUSED: the node whose output includes this value; INLINED: the If/Loop/Scan node
    inputs: tuple[str, ...] = ()   # the node's inputs (to tell a divergence from one it inherits)
    where: str = ""    # INLINED: which body, and whether it is taken (If) or unrolled (Loop, Scan)


@dataclass
class DebugModel:
    proto: onnx.ModelProto         # the optimized model, every compared value a graph output
    values: list[Value]
    outputs: list[str]             # the debug model's graph outputs, in order (what each stage writes)
    original: onnx.ModelProto | None = None   # the user's model, validated (stage fused builds it as it is)


def node_label(node: onnx.NodeProto, index: int) -> str:
    from ..frontend.onnx.validate import node_label as label
    return label(node, index)


def _outer_names(g: onnx.GraphProto) -> list[str]:
    """The values a body reads from the scopes around it (outer-scope references), in first-use order."""
    local = {i.name for i in g.input} | {t.name for t in g.initializer} | {t.values.name for t in g.sparse_initializer}
    out: list[str] = []
    for n in g.node:
        for x in node_inputs(n):
            if x and x not in local and x not in out:
                out.append(x)
        local.update(o for o in n.output if o)
    return out


def node_inputs(n: onnx.NodeProto) -> tuple[str, ...]:
    """A node's inputs, with the outer-scope values its bodies read (an If's branch reads them by name)."""
    out = [x for x in n.input if x]
    for a in n.attribute:
        if a.HasField("g"):
            out += [x for x in _outer_names(a.g) if x not in out]
        for g in a.graphs:
            out += [x for x in _outer_names(g) if x not in out]
    return tuple(out)


def node_values(graph: onnx.GraphProto) -> list[Value]:
    """Every named output of every node, graph order (kind to be filled)."""
    out = []
    for i, n in enumerate(graph.node):
        for o in n.output:
            if o:
                out.append(Value(node_label(n, i), n.op_type, o, KEPT, inputs=node_inputs(n)))
    return out


def _folded_condition(node: onnx.NodeProto, optimized: onnx.GraphProto | None) -> bool | None:
    """An If's condition when the graph passes folded it to an initializer of `optimized`, else None."""
    if optimized is None or not node.input:
        return None
    from onnx import numpy_helper
    for t in optimized.initializer:
        if t.name == node.input[0]:
            a = numpy_helper.to_array(t)
            return bool(a.reshape(-1)[0]) if a.size == 1 else None
    return None


def body_values(node: onnx.NodeProto, label: str, optimized: onnx.GraphProto | None = None,
                top: str = "") -> list[Value]:
    """The outputs of every node of an If/Loop/Scan's bodies (nested bodies too), in graph order, as INLINED
    values of `label` (the importer inlines the taken branch of an If whose condition folds, and unrolls a Loop
    or Scan whose trip count folds: the bodies' nodes are computed as part of it, compared as its outputs). Their
    labels are those the importer gives the inlined nodes, with `body` for every iteration of a loop; `top`: the
    top-level node a nested body belongs to (whose outputs are compared)."""
    out = []
    taken = _folded_condition(node, optimized) if node.op_type == "If" else None
    order = ("then_branch", "else_branch", "body")
    for attr in sorted((a for a in node.attribute if a.name in order and a.HasField("g")),
                       key=lambda a: order.index(a.name)):
        if node.op_type == "If":
            state = ("taken where its condition folds at import" if taken is None
                     else "taken" if taken == (attr.name == "then_branch") else "not taken: not computed")
            where = f"{attr.name} of {label} ({state})"
        else:
            where = f"body of {label} (unrolled: every iteration)"
        prefix = f"{label}/{attr.name}/"
        for i, n in enumerate(attr.g.node):
            sub = prefix + node_label(n, i)
            for o in n.output:
                if o:
                    out.append(Value(sub, n.op_type, o, INLINED, fused_into=top or label, inputs=node_inputs(n),
                                     where=where))
            if n.op_type in CONTROL_FLOW:
                out += body_values(n, sub, None, top or label)
    return out


def _fused_into(original: onnx.GraphProto, name: str, present: set[str]) -> str:
    """The label of the first node (graph order) downstream of `name` that the optimized graph still computes."""
    readers: dict[str, list[int]] = {}
    for i, n in enumerate(original.node):
        for x in n.input:
            readers.setdefault(x, []).append(i)
    seen, frontier, hits = {name}, [name], []
    while frontier:
        v = frontier.pop()
        for i in readers.get(v, []):
            n = original.node[i]
            if any(o in present for o in n.output if o):
                hits.append(i)
                continue
            for o in n.output:
                if o and o not in seen:
                    seen.add(o)
                    frontier.append(o)
    return node_label(original.node[min(hits)], min(hits)) if hits else ""


def debug_model(original: onnx.ModelProto, optimized: onnx.ModelProto) -> DebugModel:
    """`original`: the user's model as validated; `optimized`: it after swmlir's graph passes, which becomes the
    debug model (in place: the weights are not copied once more)."""
    import onnx
    graph = optimized.graph
    produced = {o for n in graph.node for o in n.output if o}
    inits = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    values = node_values(original.graph)
    for v in values:
        if v.name in produced:
            v.kind = KEPT
        elif v.name in inits:
            v.kind = CONSTANT
        else:
            v.fused_into = _fused_into(original.graph, v.name, produced | inits)
            v.kind = FUSED if v.fused_into else DEAD
    control = {node_label(n, i): n for i, n in enumerate(original.graph.node) if n.op_type in CONTROL_FLOW}
    with_bodies = []
    for v in values:
        with_bodies.append(v)
        n = control.get(v.node)
        if n is not None and v.name == [o for o in n.output if o][-1]:
            with_bodies += body_values(n, v.node, graph)   # after the node's last output
    values = with_bodies
    proto = optimized
    outputs = [o.name for o in proto.graph.output]
    have = set(outputs)
    for v in values:
        if v.kind in (KEPT, CONSTANT) and v.name not in have:
            # no type: the importer takes the computed one (an initializer's own), validation and onnxruntime
            # accept it
            proto.graph.output.append(onnx.ValueInfoProto(name=v.name))
            outputs.append(v.name)
            have.add(v.name)
    return DebugModel(proto, values, outputs, original)


def with_all_outputs(model: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    """A copy of `model` whose graph outputs are its own followed by `names` (onnxruntime's reference run)."""
    import onnx
    proto = onnx.ModelProto()
    proto.CopyFrom(model)
    have = {o.name for o in proto.graph.output}
    for n in names:
        if n not in have:
            proto.graph.output.append(onnx.ValueInfoProto(name=n))
            have.add(n)
    return proto
