"""eliminate-dead-code: nodes none of whose outputs reach a graph output are removed, with unused
initializers; Identity and inference-mode Dropout (a single output) are bypassed."""
from __future__ import annotations

import onnx

from ._graph import has_subgraphs, rename_uses


def _bypass_identities(graph: onnx.GraphProto) -> None:
    outputs = {o.name for o in graph.output}
    read = {i for n in graph.node for i in n.input if i} | outputs
    for n in list(graph.node):
        # a Dropout's mask that nobody reads does not count
        single = n.output and len([o for o in n.output[1:] if o and o in read]) == 0 and n.output[0] not in outputs
        dropout = n.op_type == "Dropout" and len(n.input) < 3  # no training_mode input
        if single and (n.op_type == "Identity" or dropout) and n.input and n.input[0]:
            rename_uses(graph, n.output[0], n.input[0])
            graph.node.remove(n)


def run(model: onnx.ModelProto) -> onnx.ModelProto:
    if has_subgraphs(model.graph):
        return model  # values captured by subgraphs are not tracked: leave such models alone
    graph = model.graph
    _bypass_identities(graph)
    needed = {o.name for o in graph.output}
    live = []
    for n in reversed(list(graph.node)):
        if any(o in needed for o in n.output if o) or (n.op_type in ("If", "Loop", "Scan")):
            live.append(n)
            needed.update(i for i in n.input if i)
    live.reverse()
    del graph.node[:]
    graph.node.extend(live)
    declared = {i.name for i in graph.input}
    dead = [k for k, t in enumerate(graph.initializer) if t.name not in needed and t.name not in declared]
    for k in reversed(dead):  # in place: rebuilding the list would copy every weight
        del graph.initializer[k]
    return model
