"""A conv with bias and ReLU whose epilogue fuses with the conv's split-K loop (the model's schedule) and the same
model under the baseline schedule (tiles over the root's loops, no epilogue fusion): both run the emitted C and
match onnxruntime."""
import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import swmlir


def conv_relu_model(c: int = 16, hw: int = 12):
    r = np.random.default_rng(0)
    w = numpy_helper.from_array((r.standard_normal((c, c, 3, 3)) * 0.1).astype(np.float32), "w")
    b = numpy_helper.from_array(r.standard_normal(c).astype(np.float32), "b")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w", "b"], ["y"], pads=[1, 1, 1, 1], name="conv2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [1, c, hw, hw])],
                          [helper.make_tensor_value_info("y", 1, [1, c, hw, hw])], [w, b])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("schedule", ["model", "baseline"])
def test_conv_epilogue_matches_onnxruntime(schedule):
    m = conv_relu_model()
    x = np.random.default_rng(1).standard_normal((1, 16, 12, 12)).astype(np.float32)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with swmlir.compile(m, target="sw26010", schedule=schedule) as cm:
        out = cm.run({"x": x})[0]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
