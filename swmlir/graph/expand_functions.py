"""expand-function-ops: an op we have no converter for, but which ONNX defines as a function of other ops
(Attention, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss, Swish, Shrink, CenterCropPad, ...), is replaced
by that function's body, taken from onnx's op schema for the model's opset (context-dependent functions are
instantiated for the node's attributes and input types). The body's ops then go through our converters."""
from __future__ import annotations

import onnx
from onnx import helper

from ._graph import default_opset, has_subgraphs, infer_shapes_light

MAX_ROUNDS = 4


def _input_types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    inferred = infer_shapes_light(model)
    types = {vi.name: vi.type for vi in list(inferred.graph.value_info) + list(inferred.graph.input)
             + list(inferred.graph.output)}
    for t in model.graph.initializer:
        types.setdefault(t.name, helper.make_tensor_type_proto(t.data_type, list(t.dims)))
    return types


def _expansion(node: onnx.NodeProto, model: onnx.ModelProto, types, k: int) -> list[onnx.NodeProto] | None:
    from onnx.backend.test.case.node import function_testcase_helper
    opset = default_opset(model) if node.domain in ("", "ai.onnx") else next(
        (o.version for o in model.opset_import if o.domain == node.domain), 0)
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, domain=node.domain)
    except Exception:
        return None
    if not (schema.has_function or schema.has_context_dependent_function):
        return None
    input_types = [types.get(i, onnx.TypeProto()) for i in node.input]
    n = onnx.NodeProto()
    n.CopyFrom(node)
    try:
        expansions, _ = function_testcase_helper(n, input_types, f"{k}", model.opset_import)
    except Exception:
        return None
    best, best_version = None, -1
    for nodes, imports in expansions:
        v = next((o.version for o in imports if o.domain in ("", "ai.onnx")), 0)
        if v <= opset and v > best_version and nodes:
            best, best_version = nodes, v
    return best


def run(model: onnx.ModelProto, has_converter=None) -> onnx.ModelProto:
    """`has_converter(op_type, opset, domain) -> bool` decides which nodes stay (default: the importer's)."""
    if has_subgraphs(model.graph):
        return model
    if has_converter is None:
        from swmlir.frontend.onnx.registry import _load_converters, lookup
        _load_converters()

        def has_converter(op, opset, domain):
            return lookup(op, opset, domain) is not None
    opset = default_opset(model)
    for _ in range(MAX_ROUNDS):
        todo = [k for k, n in enumerate(model.graph.node)
                if not has_converter(n.op_type, opset, n.domain if n.domain != "ai.onnx" else "")]
        if not todo:
            break
        types = _input_types(model)
        changed = False
        new_nodes = []
        for k, n in enumerate(model.graph.node):
            body = _expansion(n, model, types, k) if k in todo else None
            if body:
                new_nodes.extend(body)
                changed = True
            else:
                new_nodes.append(n)
        if not changed:
            break
        del model.graph.node[:]
        model.graph.node.extend(new_nodes)
    return model
