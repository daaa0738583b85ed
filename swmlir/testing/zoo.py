"""The nine architectures of onnx's `light` model zoo (bvlc_alexnet, vgg19, resnet50, ...), made meaningful for
testing: their weights are generated in the graph by ConstantOfShape with one value, so a wrong compiler can
match their shipped outputs. `randomized(name)` replaces every generated weight with seeded random values of the
same shape, scaled per role (He-scaled conv/gemm weights, BatchNorm statistics near identity) so activations
stay finite and the softmax is far from uniform."""
from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import numpy_helper

LIGHT = ["bvlc_alexnet", "vgg19", "resnet50", "densenet121", "inception_v1", "inception_v2", "shufflenet",
         "squeezenet", "zfnet512"]


def light_dir() -> str:
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def load(name: str) -> onnx.ModelProto:
    return onnx.load(os.path.join(light_dir(), f"light_{name}.onnx"))


def _consumers(graph: onnx.GraphProto) -> dict[str, list[tuple[onnx.NodeProto, int]]]:
    out: dict[str, list] = {}
    for n in graph.node:
        for i, x in enumerate(n.input):
            out.setdefault(x, []).append((n, i))
    return out


def _role(name: str, consumers) -> tuple[str, int]:
    """(role, input index) of a generated tensor, looking through Unsqueeze/Reshape."""
    seen = name
    for _ in range(4):
        users = consumers.get(seen, [])
        if not users:
            return "other", 0
        node, idx = users[0]
        if node.op_type in ("Unsqueeze", "Reshape", "Identity", "Squeeze") and idx == 0:
            seen = node.output[0]
            continue
        return node.op_type, idx
    return "other", 0


def _value(role: str, idx: int, shape: tuple, rng: np.random.Generator, gemm_transb: bool) -> np.ndarray:
    if role in ("Conv", "ConvTranspose") and idx == 1:
        fan_in = int(np.prod(shape[1:])) or 1
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if role in ("Gemm", "MatMul") and idx == 1:
        fan_in = shape[1] if (role == "Gemm" and gemm_transb) else shape[0]
        return rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))
    if role == "BatchNormalization":
        return {1: rng.uniform(0.3, 0.6, shape), 2: rng.normal(0, 0.1, shape), 3: rng.normal(0, 0.1, shape),
                4: rng.uniform(0.5, 1.5, shape)}.get(idx, rng.normal(0, 0.1, shape))
    if role == "Mul":
        return rng.uniform(0.8, 1.2, shape)
    return rng.normal(0, 0.1, shape)


def randomized(name_or_model, seed: int = 0) -> onnx.ModelProto:
    """The model with every ConstantOfShape-generated weight replaced by an initializer of random values."""
    m = load(name_or_model) if isinstance(name_or_model, str) else name_or_model
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    rng = np.random.default_rng(seed)
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    consumers = _consumers(g)
    keep = []
    for n in g.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in consts:
            shape = tuple(int(d) for d in consts[n.input[0]])
            role, idx = _role(n.output[0], consumers)
            transb = False
            if role == "Gemm":
                node = consumers[n.output[0]][0][0]
                transb = any(a.name == "transB" and a.i for a in node.attribute)
            arr = _value(role, idx, shape, rng, transb).astype(np.float32)
            g.initializer.append(numpy_helper.from_array(arr, n.output[0]))
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    return m


def random_input(model: onnx.ModelProto, seed: int = 1) -> dict[str, np.ndarray]:
    inits = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(seed)
    out = {}
    for i in model.graph.input:
        if i.name in inits:
            continue
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out
