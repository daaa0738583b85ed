"""BitwiseAnd/Or/Xor/Not (opset 18) through the full path, against onnxruntime, over dtypes and broadcasting."""
import numpy as np
import pytest
from onnx import helper

from swmlir.testing.compare import check_against_onnxruntime
from swmlir.testing.models import make_model

DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _data(shape, dt, rng):
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((5, 1), (1, 6))])
def test_bitwise_binary(op, dt, shapes):
    rng = np.random.default_rng(0)
    a, b = _data(shapes[0], dt, rng), _data(shapes[1], dt, rng)
    m = make_model([helper.make_node(op, ["a", "b"], ["y"])], {"a": (a.shape, dt), "b": (b.shape, dt)},
                   {"y": (None, dt)}, opset=18)
    check_against_onnxruntime(m, {"a": a, "b": b})


@pytest.mark.parametrize("dt", DTYPES)
def test_bitwise_not(dt):
    x = _data((4, 5), dt, np.random.default_rng(1))
    m = make_model([helper.make_node("BitwiseNot", ["x"], ["y"])], {"x": (x.shape, dt)}, {"y": (None, dt)},
                   opset=18)
    check_against_onnxruntime(m, {"x": x})


def test_bitwise_refuses_floats():
    import swmlir
    m = make_model([helper.make_node("BitwiseAnd", ["a", "b"], ["y"])], {"a": (3,), "b": (3,)}, {"y": None},
                   opset=18)
    with pytest.raises(swmlir.CompileError, match="BitwiseAnd"):
        swmlir.compile(m)
