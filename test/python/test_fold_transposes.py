"""sunway-fold-transposes: transposes read only by a MatMul are folded into its indexing maps (no copy kernel),
for 2-D and batched products and for attention's head split (Reshape + Transpose of [1, S, H, D]); results
match onnxruntime."""
import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import swmlir


def _run(m, feeds):
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    with swmlir.compile(m, target="sw26010") as cm:
        names = [k for k, _ in cm.kernels]
        out = cm.run(feeds)
    for o, r in zip(out, ref):
        np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-5)
    return names


def _model(nodes, inputs, output, shape, inits=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, 1, s) for n, s in inputs],
                          [helper.make_tensor_value_info(output, 1, shape)], list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("perm_a,perm_b", [([1, 0], [0, 1]), ([0, 1], [1, 0]), ([1, 0], [1, 0])])
def test_2d_matmul_of_transposed_operands(perm_a, perm_b):
    r = np.random.default_rng(0)
    a = r.standard_normal((48, 64) if perm_a == [1, 0] else (64, 48)).astype(np.float32)
    b = r.standard_normal((32, 48) if perm_b == [1, 0] else (48, 32)).astype(np.float32)
    N = helper.make_node
    m = _model([N("Transpose", ["a"], ["at"], perm=perm_a, name="ta"),
                N("Transpose", ["b"], ["bt"], perm=perm_b, name="tb"),
                N("MatMul", ["at", "bt"], ["y"], name="mm")],
               [("a", list(a.shape)), ("b", list(b.shape))], "y", [64, 32])
    names = _run(m, {"a": a, "b": b})
    assert names == ["main_k0_mm"], names   # one kernel: no copy kernel for either transpose


def test_attention_head_split_reads_the_projections_directly():
    r = np.random.default_rng(1)
    s, h, d = 32, 2, 16
    inits = [numpy_helper.from_array(np.array([1, s, h, d], np.int64), "split")]
    N = helper.make_node
    nodes = [N("Reshape", ["q", "split"], ["qh"], name="qs"), N("Transpose", ["qh"], ["qt"], perm=[0, 2, 1, 3],
                                                               name="q_transpose"),
             N("Reshape", ["k", "split"], ["kh"], name="ks"), N("Transpose", ["kh"], ["kt"], perm=[0, 2, 3, 1],
                                                               name="k_transpose"),
             N("MatMul", ["qt", "kt"], ["y"], name="qk")]
    m = _model(nodes, [("q", [1, s, h * d]), ("k", [1, s, h * d])], "y", [1, h, s, s], inits)
    feeds = {n: r.standard_normal((1, s, h * d)).astype(np.float32) for n in ("q", "k")}
    names = _run(m, feeds)
    assert not any("transpose" in n for n in names), names
    assert len(names) == 1, names
