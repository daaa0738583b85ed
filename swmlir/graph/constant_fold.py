"""fold-constants: nodes whose inputs are all constants are evaluated at compile time (with onnx's reference
evaluator) and become initializers; so do Shape/Size of values whose shape is static. This removes the
ConstantOfShape weight generators of the zoo models and the shape arithmetic in front of Reshape."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ._graph import constants, default_opset, graph_inputs, has_subgraphs, infer_shapes_light, set_initializer

# never folded: random or stateful, or whose result is not a function of its inputs alone
_SKIP = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
         "Dropout", "If", "Loop", "Scan", "SequenceConstruct", "Optional"}
MAX_FOLDED_ELEMENTS = 1 << 28


def _static_shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    inferred = infer_shapes_light(model)
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            out[vi.name] = [d.dim_value for d in t.shape.dim]
    return out


def _evaluate(node: onnx.NodeProto, values: list[np.ndarray], opset: int) -> list[np.ndarray] | None:
    from onnx.reference import ReferenceEvaluator
    ins = [helper.make_tensor_value_info(f"i{k}", helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
           for k, v in enumerate(values)]
    n = onnx.NodeProto()
    n.CopyFrom(node)
    live = [k for k, i in enumerate(node.input) if i]
    for pos, k in enumerate(live):
        n.input[k] = f"i{pos}"
    outs = [f"o{k}" for k in range(len(node.output))]
    del n.output[:]
    n.output.extend(outs)
    g = helper.make_graph([n], "fold", ins, [helper.make_tensor_value_info(o, 0, None) for o in outs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    try:
        with np.errstate(all="ignore"):
            return [np.asarray(r) for r in ReferenceEvaluator(m).run(None, {f"i{k}": v for k, v in enumerate(values)})]
    except Exception:
        return None


def run(model: onnx.ModelProto) -> onnx.ModelProto:
    if has_subgraphs(model.graph):
        return model  # values captured by subgraphs are not tracked: leave such models alone
    graph = model.graph
    opset = default_opset(model)
    consts = constants(graph)
    shapes = _static_shapes(model)
    live_inputs = graph_inputs(graph)
    outputs = {o.name for o in graph.output}
    keep = []
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type in _SKIP or node.op_type == "Constant":
            keep.append(node)
            continue
        ins = [i for i in node.input if i]
        result = None
        if node.op_type in ("Shape", "Size") and ins and ins[0] in shapes and not any(
                o in outputs for o in node.output):
            shape = np.array(shapes[ins[0]], dtype=np.int64)
            if node.op_type == "Size":
                result = [np.array(int(np.prod(shape)), dtype=np.int64)]
            else:
                attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
                result = [shape[attrs.get("start", 0):attrs.get("end", len(shape))]]
        elif ins and all(i in consts for i in ins) and not any(i in live_inputs for i in ins):
            result = _evaluate(node, [consts[i] for i in ins], opset)
        if result is None or any(r.dtype == object or r.size > MAX_FOLDED_ELEMENTS for r in result):
            keep.append(node)
            continue
        for name, value in zip(node.output, result):
            if name:
                consts[name] = value
                set_initializer(graph, name, value)
    del graph.node[:]
    graph.node.extend(keep)
    # Constant nodes become initializers too (one representation for constants)
    for node in list(graph.node):
        if node.op_type == "Constant" and node.output[0] in consts and node.output[0] not in outputs:
            set_initializer(graph, node.output[0], consts[node.output[0]])
            graph.node.remove(node)
    return model
