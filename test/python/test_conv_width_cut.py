"""Convs computed a vector width wide (14 -> 16, 7 -> 8 columns) and cut: the elementwise ops after them run on
the whole width (sunway-sink-slices), fuse into the conv's kernel, and the cut is taken where the rows are
staged whole (sunway-stage-whole-rows); results unchanged (onnxruntime)."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.compiler import lower_to_stage
from swmlir.passes.stage_whole_rows import contiguous_run, widened_sizes
from swmlir.sim.dma import curve_of
from swmlir.targets import get_target


def _block(c, h):
    """conv -> relu -> conv -> add(residual) -> relu, as in a ResNet basic block."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array((rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b1"),
             numpy_helper.from_array((rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32), "w2"),
             numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             helper.make_node("Add", ["c2", "r1"], ["a"], name="add"),
             helper.make_node("Relu", ["a"], ["y"], name="relu2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, h])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, h, h])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("c,h", [(128, 14), (64, 7)])
def test_cut_sinks_and_matches_onnxruntime(c, h):
    model = _block(c, h)
    ctx, module, _ = lower_to_stage(model, "schedule")
    with ctx:
        text = str(module)
    # two convs with their elementwise ops fused (their padded inputs fetched with the halo: no pad kernels,
    # passes/fetch_halos.py), the copy of the result: no bias/relu kernels
    assert text.count("scf.forall (") == 3, text.count("scf.forall (")
    assert "tensor.pad" not in text
    assert "conv2+add+relu2" in text
    x = np.random.default_rng(1).standard_normal((1, c, h, h)).astype(np.float32)
    got = swmlir.compile(model).run({"x": x})[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, {"x": x})[0], rtol=1e-4, atol=1e-4)


def test_widened_sizes_by_the_curve():
    curve = curve_of(get_target("sw26010"))
    assert contiguous_run([1, 128, 14, 16], [1, 2, 14, 14]) == 14
    assert contiguous_run([1, 128, 14, 16], [1, 2, 14, 16]) == 2 * 14 * 16
    # 56-byte rows: whole rows pay; no room in LDM: they do not
    assert widened_sizes([1, 128, 14, 16], [1, 2, 14, 14], 4, curve, 60000) == [1, 2, 14, 16]
    assert widened_sizes([1, 128, 14, 16], [1, 2, 14, 14], 4, curve, 100) is None
    # rows already long: the curve is flat there
    assert widened_sizes([64, 8200], [1, 8192], 4, curve, 60000) is None


@pytest.mark.parametrize("bias", [False, True])
def test_patch_embedding_reshaped_after_the_cut(bias):
    """A ViT's patch embedding: a 4x4 stride-4 conv (14 columns computed 16 wide and cut), its [C, H, W] collapsed
    to [C, H*W] and transposed. The reshape of the cut slice is no view of one run: the slice is copied by a CPE
    kernel first (it was a strided copy on the host, which the emit stage refused)."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((32, 3, 4, 4)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(32).astype(np.float32), "b"),
             numpy_helper.from_array(np.array([1, 32, 196], np.int64), "s")]
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c"], kernel_shape=[4, 4],
                              strides=[4, 4], name="patch"),
             helper.make_node("Reshape", ["c", "s"], ["r"], name="flatten"),
             helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 1], name="to_seq")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 56, 56])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal((1, 3, 56, 56)).astype(np.float32)
    np.testing.assert_allclose(swmlir.compile(model).run({"x": x})[0], onnxruntime_outputs(model, {"x": x})[0],
                               rtol=1e-4, atol=1e-4)
