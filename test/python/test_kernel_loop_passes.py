"""sunway-unroll-microkernel (passes/unroll_microkernel.py) on whole models: the micro-kernels' accumulator loads
and stores share blocks with peeled iterations. Results are bit-identical to the build without the pass (each
accumulator's FMAs keep their order) and match onnxruntime; the modeled cycles of the GEMM and conv kernels drop,
and no kernel gets slower."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir import pipeline
from swmlir.cli import onnxruntime_outputs


def _model(kind):
    rng = np.random.default_rng(3)
    t = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)  # noqa: E731
    if kind == "matmul":
        w = numpy_helper.from_array(rng.standard_normal((256, 256)).astype(np.float32) * 0.1, "w")
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
        shape = [256, 256]
    else:
        w = numpy_helper.from_array(rng.standard_normal((64, 64, 3, 3)).astype(np.float32) * 0.1, "w")
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["c"], ["y"], name="relu")]
        shape = [1, 64, 56, 56]
    g = helper.make_graph(nodes, kind, [t("x", shape)], [t("y", None)], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m, {"x": rng.standard_normal(shape).astype(np.float32)}


def _without_pass(monkeypatch):
    original = pipeline.kernel_loops
    monkeypatch.setattr(pipeline, "kernel_loops", lambda *a, **k: [p for p in original(*a, **k)
                                                                   if not p.startswith("sunway-unroll-microkernel")])


@pytest.mark.parametrize("kind", ["matmul", "conv"])
def test_bit_identical_and_faster(kind, monkeypatch):
    model, feeds = _model(kind)
    peeled = swmlir.compile(model)
    got = peeled.run(feeds)[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, feeds)[0], rtol=1e-4, atol=1e-4)
    _without_pass(monkeypatch)
    plain = swmlir.compile(model)
    assert np.array_equal(got, plain.run(feeds)[0])
    cycles = {k: m["cycles"] for k, m in peeled.kernel_mix.items()}
    before = {k: m["cycles"] for k, m in plain.kernel_mix.items()}
    assert cycles.keys() == before.keys()
    assert all(cycles[k] <= before[k] for k in cycles)
    contraction = next(k for k in cycles if ("mm" if kind == "matmul" else "conv") in k)
    assert cycles[contraction] < 0.97 * before[contraction], (cycles, before)
