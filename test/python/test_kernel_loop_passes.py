"""Passes on the kernels' loops, on whole models: results bit-identical to the build without the pass (every element
computed by the same ops in the same order) and matching onnxruntime.
- sunway-unroll-microkernel (passes/unroll_microkernel.py): the micro-kernels' accumulator loads and stores share
  blocks with peeled iterations; the modeled cycles of the GEMM and conv kernels drop, no kernel gets slower.
- sunway-stream-puts (passes/stream_puts.py): a conv's output tile (with a bias + ReLU epilogue) is put in two
  halves, both marked for the model, and the kernel's cycles do not grow."""
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
        b = numpy_helper.from_array(rng.standard_normal(64).astype(np.float32), "b")
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3],
                                  pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["c"], ["y"], name="relu")]
        shape = [1, 64, 56, 56]
    inits = [w] if kind == "matmul" else [w, b]
    g = helper.make_graph(nodes, kind, [t("x", shape)], [t("y", None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m, {"x": rng.standard_normal(shape).astype(np.float32)}


def _without_pass(monkeypatch, name):
    original = pipeline.kernel_loops
    monkeypatch.setattr(pipeline, "kernel_loops", lambda *a, **k: [p for p in original(*a, **k)
                                                                   if not p.startswith(name)])


@pytest.mark.parametrize("kind", ["matmul", "conv"])
def test_bit_identical_and_faster(kind, monkeypatch):
    model, feeds = _model(kind)
    peeled = swmlir.compile(model)
    got = peeled.run(feeds)[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, feeds)[0], rtol=1e-4, atol=1e-4)
    _without_pass(monkeypatch, "sunway-unroll-microkernel")
    plain = swmlir.compile(model)
    assert np.array_equal(got, plain.run(feeds)[0])
    cycles = {k: m["cycles"] for k, m in peeled.kernel_mix.items()}
    before = {k: m["cycles"] for k, m in plain.kernel_mix.items()}
    assert cycles.keys() == before.keys()
    assert all(cycles[k] <= before[k] for k in cycles)
    contraction = next(k for k in cycles if ("mm" if kind == "matmul" else "conv") in k)
    assert cycles[contraction] < 0.97 * before[contraction], (cycles, before)


def test_stream_puts_bit_identical(monkeypatch):
    model, feeds = _model("conv")
    streamed = swmlir.compile(model)
    got = streamed.run(feeds)[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, feeds)[0], rtol=1e-4, atol=1e-4)
    (name, mix), = streamed.kernel_mix.items()
    assert mix["streamed_puts"] == mix["put_ops"] == 2 and mix["streamed_cycles"] > 0
    _without_pass(monkeypatch, "sunway-stream-puts")
    plain = swmlir.compile(model)
    assert np.array_equal(got, plain.run(feeds)[0])
    assert plain.kernel_mix[name]["streamed_puts"] == 0
    assert mix["cycles"] <= plain.kernel_mix[name]["cycles"] * 1.001
