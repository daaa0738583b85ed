"""Small real models built with onnx.helper: the bundled examples and the end-to-end tests use them."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def lenet(batch: int = 1, seed: int = 0, opset: int = 13) -> onnx.ModelProto:
    """LeNet-5 style CNN on 1x28x28: Conv-Relu-MaxPool x2, Flatten, Gemm-Relu x2, Gemm, Softmax."""
    rng = np.random.default_rng(seed)

    def w(*shape):
        fan_in = int(np.prod(shape[1:]))
        return rng.standard_normal(shape).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))

    inits = [
        _init("c1_w", w(6, 1, 5, 5)), _init("c1_b", rng.standard_normal(6) * 0.1),
        _init("c2_w", w(16, 6, 5, 5)), _init("c2_b", rng.standard_normal(16) * 0.1),
        _init("f1_w", w(120, 400)), _init("f1_b", rng.standard_normal(120) * 0.1),
        _init("f2_w", w(84, 120)), _init("f2_b", rng.standard_normal(84) * 0.1),
        _init("f3_w", w(10, 84)), _init("f3_b", rng.standard_normal(10) * 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "c1_w", "c1_b"], ["c1"], name="conv1", pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2_w", "c2_b"], ["c2"], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "f1_w", "f1_b"], ["g1"], name="fc1", transB=1),
        helper.make_node("Relu", ["g1"], ["h1"], name="relu3"),
        helper.make_node("Gemm", ["h1", "f2_w", "f2_b"], ["g2"], name="fc2", transB=1),
        helper.make_node("Relu", ["g2"], ["h2"], name="relu4"),
        helper.make_node("Gemm", ["h2", "f3_w", "f3_b"], ["logits"], name="fc3", transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "lenet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def mlp(batch: int = 4, sizes=(784, 256, 128, 10), seed: int = 1, opset: int = 13) -> onnx.ModelProto:
    """A multilayer perceptron: MatMul + Add + Relu layers, a Softmax at the end."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    cur = "x"
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        inits += [_init(f"w{i}", rng.standard_normal((a, b)) * np.sqrt(2.0 / a)),
                  _init(f"b{i}", rng.standard_normal(b) * 0.1)]
        nodes += [helper.make_node("MatMul", [cur, f"w{i}"], [f"m{i}"], name=f"matmul{i}"),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"add{i}")]
        cur = f"a{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [cur], [f"h{i}"], name=f"relu{i}"))
            cur = f"h{i}"
    nodes.append(helper.make_node("Softmax", [cur], ["prob"], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, sizes[0]])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, sizes[-1]])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")
