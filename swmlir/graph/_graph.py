"""Helpers over onnx.GraphProto: constants, uses, replacing values."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Initializers and outputs of Constant nodes with a `value` tensor, by name."""
    out = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and n.domain in ("", "ai.onnx") and len(n.attribute) == 1:
            a = n.attribute[0]
            if a.name == "value":
                out[n.output[0]] = numpy_helper.to_array(a.t)
            elif a.name in ("value_float", "value_int"):
                out[n.output[0]] = np.array(a.f if a.name == "value_float" else a.i,
                                            dtype=np.float32 if a.name == "value_float" else np.int64)
            elif a.name in ("value_floats", "value_ints"):
                out[n.output[0]] = np.array(list(a.floats) if a.name == "value_floats" else list(a.ints),
                                            dtype=np.float32 if a.name == "value_floats" else np.int64)
    return out


def uses(graph: onnx.GraphProto) -> dict[str, int]:
    """How many node inputs (and graph outputs) read each value."""
    count: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            if i:
                count[i] = count.get(i, 0) + 1
    for o in graph.output:
        count[o.name] = count.get(o.name, 0) + 1
    return count


def graph_inputs(graph: onnx.GraphProto) -> set[str]:
    inits = {t.name for t in graph.initializer}
    return {i.name for i in graph.input if i.name not in inits}


def rename_uses(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Every reader of `old` reads `new` instead (graph outputs keep their names: callers avoid that case)."""
    for n in graph.node:
        for k, i in enumerate(n.input):
            if i == old:
                n.input[k] = new


def set_initializer(graph: onnx.GraphProto, name: str, value: np.ndarray) -> None:
    for k, t in enumerate(graph.initializer):
        if t.name == name:
            graph.initializer[k].CopyFrom(numpy_helper.from_array(value, name))
            return
    graph.initializer.append(numpy_helper.from_array(value, name))


def default_opset(model: onnx.ModelProto) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 1


def has_subgraphs(graph: onnx.GraphProto) -> bool:
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in graph.node
               for a in n.attribute)
