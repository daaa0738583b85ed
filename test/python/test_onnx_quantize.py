"""QuantizeLinear / DequantizeLinear through the full path, against onnxruntime: per tensor and per axis, int8,
uint8 (and 16-bit), with and without a zero point; blocked scales against the ONNX reference."""
import numpy as np
import pytest
from onnx import helper
from onnx.reference import ReferenceEvaluator

import swmlir
from swmlir.testing.compare import check_against_onnxruntime
from swmlir.testing.models import make_model

SHAPE = (3, 4, 5)


def _params(dt, axis, rng):
    n = 1 if axis is None else SHAPE[axis]
    scale = rng.uniform(0.02, 0.2, n).astype(np.float32)
    info = np.iinfo(dt)
    zp = rng.integers(max(info.min, -20), min(info.max, 20), n).astype(dt)
    return (scale[0], zp[0]) if axis is None else (scale, zp)


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int16, np.uint16])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("with_zp", [True, False])
def test_quantize_linear(dt, axis, with_zp):
    if not with_zp and dt != np.uint8:
        pytest.skip("without a zero point the output type is uint8")
    rng = np.random.default_rng(0)
    scale, zp = _params(dt, axis, rng)
    x = rng.uniform(-3, 3, SHAPE).astype(np.float32)
    inits = {"s": np.asarray(scale)}
    ins = ["x", "s"]
    if with_zp:
        inits["z"] = np.asarray(zp)
        ins.append("z")
    attrs = {} if axis is None else {"axis": axis}
    m = make_model([helper.make_node("QuantizeLinear", ins, ["y"], **attrs)], {"x": SHAPE}, {"y": (None, dt)},
                   opset=21 if np.dtype(dt).itemsize == 2 else 19, initializers=inits)
    check_against_onnxruntime(m, {"x": x}, atol=0)


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int16, np.uint16])
@pytest.mark.parametrize("axis", [None, 0, 2])
def test_dequantize_linear(dt, axis):
    rng = np.random.default_rng(1)
    scale, zp = _params(dt, axis, rng)
    info = np.iinfo(dt)
    x = rng.integers(max(info.min, -100), min(info.max, 100), SHAPE).astype(dt)
    attrs = {} if axis is None else {"axis": axis}
    m = make_model([helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], **attrs)], {"x": (SHAPE, dt)},
                   {"y": None}, opset=21 if np.dtype(dt).itemsize == 2 else 19,
                   initializers={"s": np.asarray(scale), "z": np.asarray(zp)})
    check_against_onnxruntime(m, {"x": x})


def test_blocked_quantize_against_reference():
    rng = np.random.default_rng(2)
    x = rng.uniform(-3, 3, (4, 6)).astype(np.float32)
    scale = rng.uniform(0.05, 0.2, (4, 3)).astype(np.float32)
    zp = rng.integers(0, 20, (4, 3)).astype(np.uint8)
    m = make_model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], axis=1, block_size=2)],
                   {"x": (4, 6)}, {"y": (None, np.uint8)}, opset=21, initializers={"s": scale, "z": zp})
    ref = ReferenceEvaluator(m).run(None, {"x": x})[0]
    np.testing.assert_array_equal(swmlir.compile(m).run([x])[0], ref)
