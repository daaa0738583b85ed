"""A producer that several ops of one group read (softmax's exp, read by the row sum and the division; a
LayerNorm's mean; the GELU's input, read by the Erf and the Mul) is computed once in the group's kernel: one
kernel per softmax and per GELU instead of two, and the results still match onnxruntime."""
import numpy as np
import onnxruntime as ort
from onnx import helper, numpy_helper

import swmlir


def _model():
    r = np.random.default_rng(0)
    w = numpy_helper.from_array((r.standard_normal((32, 48)) * 0.2).astype(np.float32), "w")
    inits = [w, numpy_helper.from_array(np.array(np.sqrt(2.0), np.float32), "sqrt2"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one"),
             numpy_helper.from_array(np.array(0.5, np.float32), "half")]
    N = helper.make_node
    nodes = [N("MatMul", ["x", "w"], ["m"], name="mm"),
             N("Softmax", ["m"], ["s"], name="softmax", axis=-1),
             N("Div", ["s", "sqrt2"], ["d"], name="gelu_div"),
             N("Erf", ["d"], ["e"], name="gelu_erf"),
             N("Add", ["e", "one"], ["a"], name="gelu_add"),
             N("Mul", ["s", "a"], ["g"], name="gelu_mul"),
             N("Mul", ["g", "half"], ["y"], name="gelu_half")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [64, 32])],
                          [helper.make_tensor_value_info("y", 1, [64, 48])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_softmax_and_gelu_are_one_kernel_each_and_match_onnxruntime():
    m = _model()
    x = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with swmlir.compile(m, target="sw26010") as cm:
        names = [k for k, _ in cm.kernels]
        out = cm.run({"x": x})[0]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    # the matmul, then the softmax and the GELU (whose input, the softmax's output, is read twice) in one
    # kernel: no kernel computes only a softmax's row statistics
    assert len(names) == 2, names


def test_layernorm_reads_its_input_once_in_one_kernel():
    # residual add + LayerNorm: the mean is read by the variance and the normalization, the input by the mean,
    # the variance and the normalization; one kernel, its input staged once
    r = np.random.default_rng(2)
    inits = [numpy_helper.from_array((1 + 0.1 * r.standard_normal(64)).astype(np.float32), "g"),
             numpy_helper.from_array((0.1 * r.standard_normal(64)).astype(np.float32), "b")]
    N = helper.make_node
    nodes = [N("Add", ["x", "y"], ["s"], name="residual"),
             N("LayerNormalization", ["s", "g", "b"], ["o"], name="ln", axis=-1, epsilon=1e-5)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, 1, [128, 64]) for n in ("x", "y")],
                          [helper.make_tensor_value_info("o", 1, [128, 64])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {n: r.standard_normal((128, 64)).astype(np.float32) for n in ("x", "y")}
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    with swmlir.compile(m, target="sw26010") as cm:
        names = [k for k, _ in cm.kernels]
        out = cm.run(feeds)[0]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    assert len(names) == 1, names
