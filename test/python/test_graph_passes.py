"""Graph-level passes on ONNX models: each changes the graph as intended and keeps the numbers."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir import graph
from swmlir.cli import onnxruntime_outputs


def _model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
                          [numpy_helper.from_array(v, n) for n, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _conv_bn(bias: bool, rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    inits = [("w", w), ("g", rng.uniform(0.5, 2, 4).astype(np.float32)), ("bt", rng.standard_normal(4).astype(np.float32)),
             ("mu", rng.standard_normal(4).astype(np.float32)), ("var", rng.uniform(0.5, 2, 4).astype(np.float32))]
    conv_in = ["x", "w"]
    if bias:
        inits.append(("b", rng.standard_normal(4).astype(np.float32)))
        conv_in.append("b")
    nodes = [helper.make_node("Conv", conv_in, ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "bt", "mu", "var"], ["y"], epsilon=1e-3)]
    return _model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 8, 8])], inits)


@pytest.mark.parametrize("bias", [True, False])
def test_batchnorm_folds_into_conv(bias):
    rng = np.random.default_rng(0)
    m = _conv_bn(bias, rng)
    folded = graph.PASSES["fold-batchnorm-into-conv"](onnx.ModelProto.FromString(m.SerializeToString()))
    assert [n.op_type for n in folded.graph.node] == ["Conv"]
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(onnxruntime_outputs(folded, {"x": x})[0], onnxruntime_outputs(m, {"x": x})[0],
                               rtol=1e-4, atol=1e-5)


def test_batchnorm_with_two_readers_of_the_conv_is_kept():
    rng = np.random.default_rng(1)
    m = _conv_bn(True, rng)
    m.graph.node.append(helper.make_node("Relu", ["c"], ["r"]))
    m.graph.output.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 4, 8, 8]))
    folded = graph.PASSES["fold-batchnorm-into-conv"](m)
    assert "BatchNormalization" in [n.op_type for n in folded.graph.node]


def test_constant_folding_removes_weight_generators_and_shape_arithmetic():
    shape = numpy_helper.from_array(np.array([4, 6], dtype=np.int64), "s")
    nodes = [helper.make_node("Constant", [], ["ws"], value=shape),
             helper.make_node("ConstantOfShape", ["ws"], ["w"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("MatMul", ["x", "w"], ["m"]),
             helper.make_node("Reshape", ["m", "xs2"], ["y"]),
             helper.make_node("Mul", ["xs", "two"], ["xs2"])]
    # xs2 = shape(x) * [1, 1] keeps the shape: the Reshape's shape input is computed, then folded
    m = _model([nodes[0], nodes[1], nodes[2], nodes[5], nodes[3], nodes[4]], [("x", [3, 4])], [("y", [3, 6])],
               [("two", np.array([1, 1], np.int64))])
    m.graph.node[4].input[1] = "w"
    m.graph.node[3].output[0] = "xs2"
    m.graph.node[5].input[1] = "m_shape"
    m.graph.node.insert(5, helper.make_node("Shape", ["m"], ["m_shape"]))
    out = graph.optimize(m)
    ops = [n.op_type for n in out.graph.node]
    assert "ConstantOfShape" not in ops and "Shape" not in ops and "Constant" not in ops
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(swmlir.compile(out).run([x])[0], onnxruntime_outputs(m, {"x": x})[0], rtol=1e-5)


def test_cse_and_dead_code():
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["x"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"]), helper.make_node("Exp", ["x"], ["unused"]),
             helper.make_node("Identity", ["y"], ["z"]), helper.make_node("Relu", ["z"], ["out"])]
    m = _model(nodes, [("x", [2, 3])], [("out", [2, 3])])
    out = graph.optimize(m)
    assert [n.op_type for n in out.graph.node] == ["Relu", "Add", "Relu"]
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(swmlir.compile(m).run([x])[0], onnxruntime_outputs(m, {"x": x})[0], rtol=1e-5)


def test_optimizations_cut_kernel_launches_and_dma():
    from swmlir.testing.networks import lenet
    on = swmlir.compile(lenet())
    off = swmlir.compile(lenet(), optimize=False)
    assert len(on.kernels) < len(off.kernels)
    from swmlir.stats import summarize
    assert summarize(on.kernel_stats)["dma_bytes"] < summarize(off.kernel_stats)["dma_bytes"]
