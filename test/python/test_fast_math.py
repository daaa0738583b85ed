"""sunway-fast-math: exp and erf as polynomials, divisions as reciprocal multiplies, in kernels run on the
emulator against onnxruntime over the whole float range the rewrites keep (the edge cases included)."""
import numpy as np
import onnxruntime as ort
from onnx import helper, numpy_helper

import swmlir


def _model(n: int):
    N = helper.make_node
    inits = [numpy_helper.from_array(np.array(3.0, np.float32), "three")]
    nodes = [N("Exp", ["x"], ["e"], name="exp"), N("Erf", ["x"], ["f"], name="erf"),
             N("Div", ["x", "three"], ["d"], name="div"),
             N("Softmax", ["x"], ["s"], name="softmax", axis=-1)]
    outs = [helper.make_tensor_value_info(v, 1, [4, n]) for v in ("e", "f", "d", "s")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [4, n])], outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_exp_erf_and_divisions_match_onnxruntime_over_the_float_range():
    n = 256
    x = np.concatenate([np.linspace(-100, 100, 3 * n - 16), np.linspace(-5, 5, n),
                        [-87.0, -86.6, -86.0, -1e-30, 0.0, 1e-30, 88.0, 88.5, 88.7, 88.8, 89.5, 4.0, -4.0, 3.99,
                         1e-3, -1e-3]]).astype(np.float32).reshape(4, n)
    m = _model(n)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    with swmlir.compile(m, target="sw26010") as cm:
        kernels = "".join(str(v) for k, v in cm.files.items() if k.endswith("_slave.c"))
        out = cm.run({"x": x})
    # no libm exp/erf call and no division left in the elementwise kernels' loops
    assert "expf(" not in kernels and "erff(" not in kernels
    e, f, d, s = out
    ok = x > -86.6        # below, exp returns exp(-86.6) ~ 2.4e-38: absolutely close to the true value
    np.testing.assert_allclose(e[ok], ref[0][ok], rtol=4e-7)
    np.testing.assert_allclose(e[~ok], ref[0][~ok], atol=3e-38)
    assert np.isinf(e[x > 88.73]).all()
    np.testing.assert_allclose(f, ref[1], atol=3e-7)
    np.testing.assert_allclose(d, ref[2], rtol=2e-7)
    np.testing.assert_allclose(s, ref[3], rtol=1e-6, atol=1e-30)
