"""BitwiseAnd/Or/Xor/Not (opset 18) and CumProd (opset 26) through the full path: bitwise ops against
onnxruntime over dtypes and broadcasting, CumProd against numpy."""
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


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
@pytest.mark.parametrize("dt", [np.float32, np.int32])
def test_cumprod_against_numpy(axis, exclusive, reverse, dt):
    """CumProd (opset 26) has no onnxruntime kernel here: checked against numpy's cumprod."""
    import swmlir
    x = np.random.default_rng(2).uniform(0.5, 1.5, (3, 5)).astype(np.float32)
    x = x.astype(dt) if dt == np.float32 else np.random.default_rng(2).integers(-3, 4, (3, 5)).astype(dt)
    m = make_model([helper.make_node("CumProd", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse)],
                   {"x": (x.shape, dt)}, {"y": (None, dt)}, opset=26,
                   initializers={"axis": np.array(axis, np.int64)})
    a = axis % 2
    v = np.flip(x, a) if reverse else x
    if exclusive:
        ones = np.ones_like(np.take(v, [0], axis=a))
        v = np.concatenate([ones, np.take(v, range(v.shape[a] - 1), axis=a)], axis=a)
    ref = np.cumprod(v, axis=a, dtype=dt)
    ref = np.flip(ref, a) if reverse else ref
    np.testing.assert_allclose(swmlir.compile(m).run([x])[0], ref, rtol=1e-5)
