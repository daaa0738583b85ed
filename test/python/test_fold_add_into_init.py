"""A residual added to a contraction's result becomes its initial value (passes/fold_add_into_init.py): results
match onnxruntime (the residual enters the sum first: rounding only), on convs and matmuls with and without bias
and ReLU; a sum of two convs (a downsample shortcut) and a value that is also a graph output stay as they were."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.compiler import lower_to_stage


def _graph(nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _t(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _residual_conv(c=16, hw=20, bias=True, relu=True, extra_output=False, shortcut_conv=False):
    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(rng.standard_normal((c, c, 3, 3)).astype(np.float32) * 0.1, "w")]
    ins = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b"))
        ins.append("b")
    nodes = [helper.make_node("Conv", ins, ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    other = "x"
    if shortcut_conv:
        inits.append(numpy_helper.from_array(rng.standard_normal((c, c, 1, 1)).astype(np.float32) * 0.1, "w1"))
        nodes.append(helper.make_node("Conv", ["x", "w1"], ["s"], name="shortcut", kernel_shape=[1, 1]))
        other = "s"
    nodes.append(helper.make_node("Add", ["c", other], ["a"], name="add"))
    out = "a"
    if relu:
        nodes.append(helper.make_node("Relu", ["a"], ["y"], name="relu"))
        out = "y"
    outputs = [_t(out, None)] + ([_t("c", None)] if extra_output else [])
    return _graph(nodes, [_t("x", [1, c, hw, hw])], outputs, inits)


def _residual_matmul(m=64, k=96, n=96):
    rng = np.random.default_rng(6)
    w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32) * 0.1, "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["p"], name="proj"),
             helper.make_node("Add", ["r", "p"], ["y"], name="residual")]
    return _graph(nodes, [_t("x", [m, k]), _t("r", [m, n])], [_t("y", None)], [w])


def _adds(model) -> int:
    ctx, module, _ = lower_to_stage(model, "graph")
    with ctx:
        return str(module).count("swmlir.node = \"add") + str(module).count("swmlir.node = \"residual")


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"relu": False}, {"c": 8, "hw": 28}])
def test_residual_conv_matches(kw):
    model = _residual_conv(**kw)
    assert _adds(model) == 0
    x = np.random.default_rng(0).standard_normal((1, kw.get("c", 16), kw.get("hw", 20), kw.get("hw", 20)))
    x = x.astype(np.float32)
    np.testing.assert_allclose(swmlir.compile(model).run({"x": x})[0], onnxruntime_outputs(model, {"x": x})[0],
                               rtol=1e-4, atol=1e-4)


def test_residual_matmul_matches():
    model = _residual_matmul()
    assert _adds(model) == 0
    rng = np.random.default_rng(1)
    feeds = {"x": rng.standard_normal((64, 96)).astype(np.float32),
             "r": rng.standard_normal((64, 96)).astype(np.float32)}
    np.testing.assert_allclose(swmlir.compile(model).run(feeds)[0], onnxruntime_outputs(model, feeds)[0],
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kw", [{"extra_output": True}, {"shortcut_conv": True}])
def test_left_alone(kw):
    model = _residual_conv(**kw)
    assert _adds(model) == 1
    x = np.random.default_rng(0).standard_normal((1, 16, 20, 20)).astype(np.float32)
    for got, want in zip(swmlir.compile(model).run({"x": x}), onnxruntime_outputs(model, {"x": x})):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
