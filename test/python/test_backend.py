"""The ONNX backend API: onnx's own node-test harness drives swmlir through the full Sunway path.

A representative subset through onnx's own harness; test_conformance_suite.py runs the whole suite as
`swmlir conformance` does."""
import json
import subprocess
import sys

import onnx.backend.test

from swmlir.backend import SwmlirBackend

# one or two tests per supported op family, chosen to cover attributes (pads, strides, broadcast, axis, ...)
SUBSET = [
    "test_relu", "test_add_bcast", "test_sub_bcast", "test_mul_bcast", "test_div_bcast",
    "test_matmul_2d", "test_matmul_3d", "test_matmul_4d", "test_gemm_all_attributes", "test_gemm_broadcast",
    "test_gemm_default_scalar_bias", "test_conv_with_strides_and_asymmetric_padding",
    "test_conv_with_strides_padding", "test_basic_conv_without_padding", "test_maxpool_2d_pads",
    "test_maxpool_2d_strides", "test_maxpool_2d_ceil", "test_averagepool_2d_pads_count_include_pad",
    "test_averagepool_2d_strides", "test_globalaveragepool", "test_flatten_axis0", "test_flatten_negative_axis1",
    "test_reshape_negative_dim", "test_reshape_reordered_all_dims", "test_softmax_axis_1",
    "test_softmax_axis_0_expanded", "test_softmax_default_axis", "test_identity", "test_dropout_default",
]

bt = onnx.backend.test.BackendTest(SwmlirBackend, __name__)
bt.include(r"^(" + "|".join(SUBSET) + r")_cpu$")
bt.exclude(r"(OnnxBackendRealModelTest|OnnxBackendSimpleModelTest|OnnxBackendPyTorch)")
globals().update(bt.enable_report().test_cases)


def test_backend_answers_truthfully():
    from swmlir.testing.networks import lenet
    assert SwmlirBackend.supports_device("CPU") and not SwmlirBackend.supports_device("CUDA")
    assert SwmlirBackend.is_compatible(lenet())
    m = lenet()
    m.graph.node[0].op_type = "NoSuchOp"
    assert not SwmlirBackend.is_compatible(m)


def test_conformance_command_json(tmp_path):
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", "conformance", "--filter", "^test_(relu|flatten_axis0)$",
                        "--jobs", "1", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "2 passed, 0 failed, 0 unsupported"
    data = json.loads(out.read_text())
    assert {t["name"]: t["status"] for t in data["tests"]} == {"test_relu": "passed", "test_flatten_axis0": "passed"}


def test_specialization_follows_the_typed_error():
    """A converter that needs an input constant raises ConstantInputRequired naming it; the backend freezes that
    input (a float one too: no integer input decides here) and compiles for its value at run time."""
    import numpy as np
    import pytest
    from onnx import TensorProto, helper

    from swmlir import compile as swcompile
    from swmlir.errors import ConstantInputRequired
    g = helper.make_graph(
        [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(ConstantInputRequired) as e:
        swcompile(m, "sw26010")
    assert e.value.inputs == ("scales",)
    rep = SwmlirBackend.prepare(m)
    assert rep.compiled is None and rep.needed_inputs == {"scales"}
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    (y,) = rep.run([x, np.array([1, 1, 2, 2], dtype=np.float32)])
    assert rep.specialized_on == ["scales"]
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
