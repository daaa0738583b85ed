"""Helpers over onnx.GraphProto: constants, uses, replacing values."""
from __future__ import annotations

import contextlib
import os

import numpy as np
import onnx
from onnx import numpy_helper


class _Constants(dict):
    """name -> numpy value of initializers and Constant nodes, converted on first access (weights are big)."""

    def __init__(self, graph: onnx.GraphProto):
        super().__init__()
        self._protos = {t.name: t for t in graph.initializer}
        self._nodes = {n.output[0]: n for n in graph.node
                       if n.op_type == "Constant" and n.domain in ("", "ai.onnx") and len(n.attribute) == 1}

    def __contains__(self, name):
        return dict.__contains__(self, name) or name in self._protos or (
            name in self._nodes and self._node_value(self._nodes[name]) is not None)

    def __getitem__(self, name):
        if not dict.__contains__(self, name):
            if name in self._protos:
                dict.__setitem__(self, name, numpy_helper.to_array(self._protos[name]))
            elif name in self._nodes and self._node_value(self._nodes[name]) is not None:
                dict.__setitem__(self, name, self._node_value(self._nodes[name]))
            else:
                raise KeyError(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    @staticmethod
    def _node_value(n):
        a = n.attribute[0]
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int"):
            return np.array(a.f if a.name == "value_float" else a.i,
                            dtype=np.float32 if a.name == "value_float" else np.int64)
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(a.floats) if a.name == "value_floats" else list(a.ints),
                            dtype=np.float32 if a.name == "value_floats" else np.int64)
        return None


def constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Initializers and outputs of Constant nodes with a value, by name (converted lazily)."""
    return _Constants(graph)


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


EVALUATION_HEADROOM = 3 << 30   # bytes of address space ONNX's own evaluators may add to the process


@contextlib.contextmanager
def bounded_memory(headroom: int = EVALUATION_HEADROOM):
    """Run ONNX's shape inference or reference evaluator with at most `headroom` more bytes of address space.
    Both evaluate values of the model (data propagation computes a Range of constant bounds element by element):
    a hostile model would have them allocate until the kernel kills the process. Over the bound the allocation
    fails, they raise, and the caller treats the result as unknown. (Linux; elsewhere no bound.)"""
    try:
        import resource
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + headroom
    if (soft != resource.RLIM_INFINITY and soft <= limit) or (hard != resource.RLIM_INFINITY and hard <= limit):
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


SMALL = 4096  # initializers up to this many elements keep their values for shape inference (data propagation)


def infer_shapes_light(model: onnx.ModelProto, input_shapes: dict | None = None) -> onnx.ModelProto:
    """onnx shape inference on a skeleton of `model`: big initializers become typed graph inputs, so inference
    (which serializes the model) does not copy the weights; small ones keep their values for data propagation
    (Reshape shapes, Slice starts ...). `input_shapes` overrides graph input shapes. Returns the skeleton with
    the inferred value_info (not the weights)."""
    from onnx import helper
    skeleton = onnx.ModelProto()
    skeleton.ir_version = model.ir_version
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    g = skeleton.graph
    g.name = model.graph.name
    g.node.extend(model.graph.node)
    g.output.extend(model.graph.output)
    g.value_info.extend(model.graph.value_info)
    declared = {i.name for i in model.graph.input}
    g.input.extend(model.graph.input)
    for t in model.graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        if n <= SMALL:
            g.initializer.append(t)
        elif t.name not in declared:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    g.sparse_initializer.extend(model.graph.sparse_initializer)
    for vi in g.input:
        if input_shapes and vi.name in input_shapes and vi.type.HasField("tensor_type"):
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in input_shapes[vi.name]:
                dims.add().dim_value = d
    try:
        with bounded_memory():
            return onnx.shape_inference.infer_shapes(skeleton, strict_mode=False, data_prop=True)
    except Exception:  # inference is advisory (MemoryError included: see bounded_memory)
        return skeleton
