"""Small ONNX models for tests: one node (or a few) with the IR version onnxruntime accepts for the opset."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _split(spec):
    """spec: a shape (float32), or (shape, numpy dtype); a shape of None means unknown."""
    if isinstance(spec, tuple) and len(spec) == 2 and not isinstance(spec[1], (int, str, type(None))):
        return spec
    return spec, np.float32


def _value_info(name: str, spec) -> onnx.ValueInfoProto:
    shape, dtype = _split(spec)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def make_model(nodes: Sequence[onnx.NodeProto], inputs: dict, outputs: dict, *, opset: int,
               initializers: dict[str, np.ndarray] | None = None, name: str = "test") -> onnx.ModelProto:
    """A checked model. `inputs`/`outputs` map names to shapes (float32) or (shape, dtype); outputs may have
    shape None (left to shape inference and the importer)."""
    graph = helper.make_graph(
        list(nodes), name,
        [_value_info(n, s) for n, s in inputs.items()],
        [_value_info(n, s) for n, s in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in (initializers or {}).items()],
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))
    if all(_split(s)[0] is not None for s in outputs.values()):  # the checker wants shapes on every graph output
        onnx.checker.check_model(model)
    return model


def single_node(op_type: str, inputs: dict, outputs: dict | Sequence[str] = ("y",), *, opset: int,
                initializers: dict[str, np.ndarray] | None = None, node_name: str | None = None,
                node_inputs: Sequence[str] | None = None, **attrs) -> onnx.ModelProto:
    """A model around one node whose inputs are `node_inputs` (default: graph inputs then initializers)."""
    if not isinstance(outputs, dict):
        outputs = {o: None for o in outputs}
    ins = list(node_inputs) if node_inputs is not None else list(inputs) + list(initializers or {})
    node = helper.make_node(op_type, ins, list(outputs), name=node_name or op_type.lower(), **attrs)
    return make_model([node], inputs, outputs, opset=opset, initializers=initializers)
