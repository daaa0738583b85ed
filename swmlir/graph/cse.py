"""eliminate-common-subexpressions: nodes with the same op, attributes and inputs are computed once."""
from __future__ import annotations

import onnx

from ._graph import has_subgraphs, rename_uses

_IMPURE = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def run(model: onnx.ModelProto) -> onnx.ModelProto:
    if has_subgraphs(model.graph):
        return model  # values captured by subgraphs are not tracked: leave such models alone
    graph = model.graph
    outputs = {o.name for o in graph.output}
    seen: dict[tuple, onnx.NodeProto] = {}
    remove = []
    for n in graph.node:
        if n.op_type in _IMPURE or any(o in outputs for o in n.output):
            continue
        key = (n.domain, n.op_type, tuple(n.input), tuple(a.SerializeToString() for a in n.attribute),
               len(n.output))
        first = seen.get(key)
        if first is None:
            seen[key] = n
            continue
        for old, new in zip(n.output, first.output):
            if old:
                rename_uses(graph, old, new)
        remove.append(n)
    for n in remove:
        graph.node.remove(n)
    return model
