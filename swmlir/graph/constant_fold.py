"""fold-constants: nodes whose inputs are all constants are evaluated at compile time (with onnx's reference
evaluator) and become initializers; so do Shape/Size of values whose shape is static. This removes the
ConstantOfShape weight generators of the zoo models and the shape arithmetic in front of Reshape."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ._graph import bounded_memory, constants, default_opset, graph_inputs, has_subgraphs, infer_shapes_light, set_initializer

# never folded: random or stateful, or whose result is not a function of its inputs alone
_SKIP = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
         "Dropout", "If", "Loop", "Scan", "SequenceConstruct", "Optional"}
MAX_FOLDED_ELEMENTS = 1 << 28
# ops whose result size their input values decide (and may make huge): folded only when that size is known
_SIZE_FROM_INPUTS = {"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot",
                     "EyeLike", "CenterCropPad"}


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
        with np.errstate(all="ignore"), bounded_memory():
            return [np.asarray(r) for r in ReferenceEvaluator(m).run(None, {f"i{k}": v for k, v in enumerate(values)})]
    except Exception:
        return None


def _result_elements(node: onnx.NodeProto, values: list[np.ndarray], shapes: dict[str, list[int]]) -> int | None:
    """The element count a node would produce from constant inputs, computed before it runs (a hostile
    ConstantOfShape, Expand, Tile or Range must not make the compiler allocate it): from ONNX's inferred
    shapes, else from the inputs of the ops whose output size the inputs alone decide; None if unknown."""
    known = [int(np.prod(shapes[o], dtype=object)) for o in node.output if o in shapes]
    if known:
        return max(known)
    try:
        if node.op_type == "ConstantOfShape":
            return int(np.prod(values[0].astype(object)))
        if node.op_type == "Expand":
            a, b = list(values[0].shape), [int(d) for d in values[1].reshape(-1)]
            r = max(len(a), len(b))
            a, b = [1] * (r - len(a)) + a, [1] * (r - len(b)) + b
            return int(np.prod([max(x, y) for x, y in zip(a, b)], dtype=object))
        if node.op_type == "Tile":
            return int(values[0].size * np.prod(values[1].astype(object)))
        if node.op_type == "Range":
            start, limit, delta = (float(v) for v in values[:3])
            return max(0, int(np.ceil((limit - start) / delta))) if delta else None
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
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
            values = [consts[i] for i in ins]
            size = _result_elements(node, values, shapes)
            if size is not None and size <= MAX_FOLDED_ELEMENTS:
                result = _evaluate(node, values, opset)
            elif size is None and node.op_type not in _SIZE_FROM_INPUTS:
                result = _evaluate(node, values, opset)
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
