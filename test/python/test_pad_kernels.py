"""Pads built whole in LDM (swmlir.schedule.pads): one kernel instead of a fill and a copy, results unchanged
(onnxruntime), over pad values, element types, asymmetric pads and the fallback to the decomposed pad."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.compiler import lower_to_stage
from swmlir.schedule.pads import choose_pad_tiles


def _pad_model(shape, pads, value, elem=TensorProto.FLOAT):
    dtype = np.float32 if elem == TensorProto.FLOAT else np.int32
    r = len(shape)
    out = [n + pads[i] + pads[r + i] for i, n in enumerate(shape)]
    inits = [numpy_helper.from_array(np.array(pads, np.int64), "pads"),
             numpy_helper.from_array(np.array(value, dtype), "value")]
    g = helper.make_graph([helper.make_node("Pad", ["x", "pads", "value"], ["y"], name="pad0", mode="constant")],
                          "g", [helper.make_tensor_value_info("x", elem, shape)],
                          [helper.make_tensor_value_info("y", elem, out)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _kernels(model):
    ctx, module, _ = lower_to_stage(model, "schedule")
    with ctx:
        text = str(module)
    return text.count("scf.forall ("), 'swmlir.group = "pad0.pad"' in text


@pytest.mark.parametrize("shape,pads,value,elem", [
    ((1, 64, 10, 12), [0, 0, 1, 1, 0, 0, 1, 1], 0.0, TensorProto.FLOAT),
    ((2, 96, 5, 7), [0, 0, 2, 0, 0, 0, 1, 3], -1.5, TensorProto.FLOAT),     # asymmetric, a value, batch 2
    ((1, 256, 9), [0, 0, 3, 0, 0, 4], 7, TensorProto.INT32),                 # rank 3, integers
])
def test_pad_in_ldm_matches_onnxruntime(shape, pads, value, elem):
    model = _pad_model(shape, pads, value, elem)
    count, in_ldm = _kernels(model)
    assert in_ldm and count == 1
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10).astype(np.float32 if elem == TensorProto.FLOAT else np.int32)
    got = swmlir.compile(model).run({"x": x})[0]
    np.testing.assert_array_equal(got, onnxruntime_outputs(model, {"x": x})[0])


def test_few_planes_or_large_planes_are_decomposed():
    few = _pad_model((1, 3, 8, 8), [0, 0, 1, 1, 0, 0, 1, 1], 0.0)         # 3 planes for 64 CPEs
    large = _pad_model((1, 64, 120, 120), [0, 0, 1, 1, 0, 0, 1, 1], 0.0)  # a padded plane over the LDM
    for model in (few, large):
        count, in_ldm = _kernels(model)
        assert not in_ldm and count == 2                                     # a fill and a copy
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(swmlir.compile(few).run({"x": x})[0], onnxruntime_outputs(few, {"x": x})[0])


def test_choose_pad_tiles():
    t = choose_pad_tiles([1, 512, 7, 7], [0, 0, 1, 1], [0, 0, 1, 1], 4, cpes=64, ldm_budget=60000)
    assert t.tile_sizes == [1, 8, 0, 0] and t.work_items == 64 and t.ldm_bytes == 8 * (49 + 81) * 4
    assert choose_pad_tiles([1, 64, 56, 56], [0, 0, 1, 1], [0, 0, 1, 1], 4, cpes=64,
                            ldm_budget=60000).tile_sizes == [1, 1, 0, 0]
    assert choose_pad_tiles([4, 4, 4], [1, 0, 0], [0, 0, 0], 4, cpes=64, ldm_budget=60000) is None  # dim 0 padded
    assert choose_pad_tiles([64, 4], [0, 0], [0, 0], 4, cpes=64, ldm_budget=60000) is None         # no padding
