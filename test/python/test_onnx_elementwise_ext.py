"""Elementwise ops, activations and casts (ops/unary.py, ops/binary.py, ops/cast.py, ops/elementwise.py) over
grids of attributes, shapes, dtypes and opsets, through the full path (Sunway schedule, emitted C, host
emulator), compared with onnxruntime.

Where onnxruntime has no kernel for a case (a dtype it does not register, or an opset newer than it knows) the
expected values come from onnx's reference evaluator instead; `_expected` says which. Tolerances: rtol 1e-4 /
atol 1e-5 for float32 and float64, rtol/atol 1e-3 for float16 (one rounding to half is 5e-4 relative);
integers and booleans exactly.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from onnx import TensorProto, helper

from swmlir.errors import ImportError_
from swmlir.testing.compare import graph_inputs, run_onnxruntime, sunway_runner
from swmlir.testing.models import make_model, single_node

F16, F32, F64 = np.float16, np.float32, np.float64
SIGNED = [np.int8, np.int16, np.int32, np.int64]
UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _name(dt) -> str:
    return np.dtype(dt).name


def _expected(model, inputs):
    """onnxruntime's outputs, or the onnx reference evaluator's where onnxruntime cannot run the model."""
    try:
        return run_onnxruntime(model, inputs)
    except Exception as e:  # NOT_IMPLEMENTED kernels, opsets newer than onnxruntime's
        if not any(w in str(e) for w in ("NOT_IMPLEMENTED", "Could not find an implementation", "opset",
                                          "not supported", "Opset")):
            raise
    from onnx.reference import ReferenceEvaluator

    with np.errstate(all="ignore"):
        return ReferenceEvaluator(model).run(None, inputs)


def check(model, inputs: dict, rtol=None, atol=None):
    names = graph_inputs(model)
    want = _expected(model, {n: inputs[n] for n in names})
    got = sunway_runner(model, [inputs[n] for n in names])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"shape {g.shape}, expected {w.shape}"
        if w.dtype.kind in "iub":
            if g.dtype != w.dtype and g.dtype.itemsize == w.dtype.itemsize:
                g = g.view(w.dtype)
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)
        else:
            assert g.dtype == w.dtype, f"dtype {g.dtype}, expected {w.dtype}"
            half = w.dtype == np.float16
            r = rtol if rtol is not None else (1e-3 if half else 1e-4)
            a = atol if atol is not None else (1e-3 if half else 1e-5)
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=r, atol=a, equal_nan=True)


def unary_model(op, shape, dtype, opset, out_dtype=None, **attrs):
    return single_node(op, {"x": (shape, dtype)}, {"y": (shape, out_dtype or dtype)}, opset=opset, **attrs)


def values(rng, shape, dtype, lo=-3.0, hi=3.0):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100) + 1, shape).astype(dtype)
    return rng.uniform(lo, hi, shape).astype(dtype)


# ----------------------------------------------------------------------------------------------- float unary
# op -> (input range, opsets to try: the oldest we support and the newest)
FLOAT_UNARY = {
    "Abs": ((-3, 3), (7, 13)), "Neg": ((-3, 3), (7, 13)), "Exp": ((-5, 5), (7, 13)), "Log": ((0.01, 5), (7, 13)),
    "Sqrt": ((0, 5), (7, 13)), "Reciprocal": ((0.5, 3), (7, 13)), "Sin": ((-4, 4), (7, 22)),
    "Cos": ((-4, 4), (22,)), "Tan": ((-1.4, 1.4), (22,)), "Asin": ((-0.99, 0.99), (7, 22)),
    "Acos": ((-0.99, 0.99), (22,)), "Atan": ((-5, 5), (22,)), "Sinh": ((-3, 3), (9, 22)),
    "Cosh": ((-3, 3), (22,)), "Asinh": ((-5, 5), (22,)), "Acosh": ((1.01, 5), (22,)),
    "Atanh": ((-0.99, 0.99), (22,)), "Sigmoid": ((-20, 20), (7, 13)), "Tanh": ((-5, 5), (7, 13)),
    "Erf": ((-3, 3), (9, 13)), "Floor": ((-5, 5), (7, 13)), "Ceil": ((-5, 5), (13,)),
    "Sign": ((-3, 3), (9, 13)), "Softplus": ((-30, 30), (7, 22)), "Softsign": ((-5, 5), (7, 22)),
    "HardSwish": ((-5, 5), (14, 22)), "Mish": ((-10, 10), (18, 22)),
}


UNARY_CASES = [(op, v[1][-1]) for op, v in sorted(FLOAT_UNARY.items())] + [
    (op, FLOAT_UNARY[op][1][0]) for op in ("Abs", "Sin", "Sinh", "Erf", "Sign", "HardSwish")]


@pytest.mark.parametrize("op,opset", UNARY_CASES, ids=[f"{o}-{v}" for o, v in UNARY_CASES])
def test_float_unary(op, opset):
    (lo, hi), _ = FLOAT_UNARY[op]
    rng = rng_for(op, opset)
    shape = (3, 4, 5)
    x = values(rng, shape, F32, lo, hi)
    if op == "Sign":
        x[0, 0, :2] = 0.0
    check(unary_model(op, shape, F32, opset), {"x": x})


@pytest.mark.parametrize("dtype", [F16, F64], ids=_name)
@pytest.mark.parametrize("op", ["Exp", "Sqrt", "Tanh", "Sigmoid", "Erf", "Abs", "Neg", "Softplus", "Acosh"])
def test_float_unary_dtypes(op, dtype):
    (lo, hi), opsets = FLOAT_UNARY[op]
    rng = rng_for(op, dtype)
    x = values(rng, (4, 6), dtype, lo, hi)
    check(unary_model(op, (4, 6), dtype, opsets[-1]), {"x": x})


@pytest.mark.parametrize("dtype", [F16, F32, F64], ids=_name)
def test_round_half_to_even(dtype):
    big = 1000.5 if dtype == F16 else 1e6 + 0.5
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4, 0.6, -0.6, 3.0, big, -7.5], dtype)
    check(unary_model("Round", x.shape, dtype, 22), {"x": x})


def test_float_unary_rank0_and_rank1():
    check(unary_model("Exp", (), F32, 13), {"x": np.array(0.7, F32)})
    check(unary_model("Tanh", (7,), F32, 13), {"x": np.linspace(-2, 2, 7).astype(F32)})


# ----------------------------------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("Elu", {}, 22), ("Elu", {"alpha": 0.5}, 7), ("Selu", {}, 22), ("Selu", {"alpha": 2.0, "gamma": 3.0}, 7),
    ("Celu", {}, 12), ("Celu", {"alpha": 2.0}, 12), ("LeakyRelu", {}, 16), ("LeakyRelu", {"alpha": 0.3}, 7),
    ("ThresholdedRelu", {}, 22), ("ThresholdedRelu", {"alpha": 0.5}, 10), ("HardSigmoid", {}, 22),
    ("HardSigmoid", {"alpha": 0.5, "beta": 0.6}, 7), ("Gelu", {}, 20), ("Gelu", {"approximate": "tanh"}, 20),
    ("Gelu", {"approximate": "none"}, 20),
]


@pytest.mark.parametrize("op,attrs,opset", ACTIVATIONS, ids=[f"{o}-{a}-{v}" for o, a, v in ACTIVATIONS])
def test_activation(op, attrs, opset):
    rng = rng_for(op, sorted(attrs.items()), opset)
    x = values(rng, (2, 3, 8), F32, -4, 4)
    check(unary_model(op, (2, 3, 8), F32, opset, **attrs), {"x": x})


ACT_DTYPES = [(op, F16) for op in ("Elu", "Selu", "LeakyRelu", "HardSigmoid", "Gelu", "ThresholdedRelu", "Mish")] + [
    (op, F64) for op in ("Elu", "Gelu", "HardSigmoid")]


@pytest.mark.parametrize("op,dtype", ACT_DTYPES, ids=[f"{o}-{_name(d)}" for o, d in ACT_DTYPES])
def test_activation_dtypes(op, dtype):
    rng = rng_for(op, dtype)
    opset = 22 if op != "Gelu" else 20
    check(unary_model(op, (4, 5), dtype, opset), {"x": values(rng, (4, 5), dtype, -4, 4)})


@pytest.mark.parametrize("opset", [7, 13, 14])
@pytest.mark.parametrize("dtype", [F32, F16, np.int8, np.int32, np.int64], ids=_name)
def test_relu_dtypes(dtype, opset):
    if np.dtype(dtype).kind == "i" and opset < 14:
        pytest.skip("integer Relu is opset 14")
    rng = rng_for("Relu", dtype, opset)
    check(unary_model("Relu", (3, 7), dtype, opset), {"x": values(rng, (3, 7), dtype)})


# ----------------------------------------------------------------------------------------------- integer unary
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64, np.uint8, np.uint32, np.uint64], ids=_name)
@pytest.mark.parametrize("op", ["Abs", "Neg", "Sign"])
def test_integer_unary(op, dtype):
    if op == "Neg" and np.dtype(dtype).kind == "u":
        pytest.skip("Neg has no unsigned types")
    rng = rng_for(op, dtype)
    x = values(rng, (3, 5), dtype)
    x.flat[0] = 0
    check(unary_model(op, (3, 5), dtype, 13), {"x": x})


# ----------------------------------------------------------------------------------------------- predicates
NAN_INF = [("IsNaN", {}, F32), ("IsNaN", {}, F16), ("IsNaN", {}, F64), ("IsInf", {}, F32), ("IsInf", {}, F16),
           ("IsInf", {}, F64), ("IsInf", {"detect_negative": 0}, F32), ("IsInf", {"detect_positive": 0}, F32)]


@pytest.mark.parametrize("op,attrs,dtype", NAN_INF, ids=[f"{o}-{a}-{_name(d)}" for o, a, d in NAN_INF])
def test_nan_inf(op, attrs, dtype):
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -2.5, np.nan, 7.0], dtype)
    check(unary_model(op, x.shape, dtype, 20, out_dtype=np.bool_, **attrs), {"x": x})


def test_not():
    x = rng_for("Not").integers(0, 2, (3, 4, 5)).astype(bool)
    check(unary_model("Not", (3, 4, 5), np.bool_, 7), {"x": x})
    check(unary_model("Not", (3, 4, 5), np.bool_, 1), {"x": x})


# ----------------------------------------------------------------------------------------------- Clip
@pytest.mark.parametrize("attrs", [{}, {"min": -0.5}, {"max": 0.3}, {"min": -1.0, "max": 1.0}],
                         ids=["none", "min", "max", "both"])
def test_clip_attributes(attrs):
    rng = rng_for("clip6", sorted(attrs.items()))
    check(unary_model("Clip", (3, 4), F32, 7, **attrs), {"x": values(rng, (3, 4), F32)})


CLIP_CASES = [(F32, b) for b in ("min", "max", "both", "none", "swapped")] + [
    (d, b) for d in (F16, np.int8, np.uint8, np.int64) for b in ("both", "swapped")]


@pytest.mark.parametrize("dtype,bounds", CLIP_CASES, ids=[f"{_name(d)}-{b}" for d, b in CLIP_CASES])
def test_clip_inputs(dtype, bounds):
    """min/max as graph inputs (read at run time) and as constants; `swapped` has min > max (max wins)."""
    rng = rng_for("clip", dtype, bounds)
    x = values(rng, (4, 5), dtype)
    lo, hi = np.array(-20 if np.dtype(dtype).kind != "u" else 10, dtype), np.array(40, dtype)
    if np.dtype(dtype).kind == "f":
        lo, hi = np.array(-0.5, dtype), np.array(1.5, dtype)
    if bounds == "swapped":
        lo, hi = hi, lo
    inputs = {"x": ((4, 5), dtype)}
    data = {"x": x}
    node_inputs = ["x", "", ""]
    inits = {}
    if bounds in ("min", "both", "swapped"):
        inputs["lo"] = ((), dtype)
        data["lo"] = lo
        node_inputs[1] = "lo"
    if bounds in ("max", "both", "swapped"):
        inits["hi"] = hi  # a constant bound
        node_inputs[2] = "hi"
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    model = single_node("Clip", inputs, {"y": ((4, 5), dtype)}, opset=13, initializers=inits or None,
                        node_inputs=node_inputs)
    check(model, data)


def test_clip_opset11_float():
    rng = rng_for("clip11")
    model = single_node("Clip", {"x": (6,), "lo": ()}, {"y": (6,)}, opset=11)
    check(model, {"x": values(rng, (6,), F32), "lo": np.array(0.1, F32)})


# ----------------------------------------------------------------------------------------------- comparisons, logic
BCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((), (2, 3))]
CMP_TYPES = [F32, F16, np.int8, np.uint64]


@pytest.mark.parametrize("dtype", CMP_TYPES, ids=_name)
@pytest.mark.parametrize("op", ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"])
def test_compare(op, dtype):
    rng = rng_for(op, dtype)
    sa, sb = (2, 1, 5), (3, 1)
    a, b = values(rng, sa, dtype, -2, 2), values(rng, sb, dtype, -2, 2)
    if np.dtype(dtype).kind == "f":
        a, b = np.round(a), np.round(b)  # make ties happen
    else:
        a, b = a % 3, b % 3
    opset = 16 if "Or" in op else 13
    model = single_node(op, {"a": (sa, dtype), "b": (sb, dtype)}, {"y": ((2, 3, 5), np.bool_)}, opset=opset)
    check(model, {"a": a.astype(dtype), "b": b.astype(dtype)})


@pytest.mark.parametrize("op,opset", [("Equal", 7), ("Equal", 11), ("Equal", 19), ("Less", 7), ("Less", 9),
                                      ("Greater", 7), ("LessOrEqual", 12), ("GreaterOrEqual", 12)])
def test_compare_opsets(op, opset):
    rng = rng_for(op, opset)
    dtype = np.int32 if op == "Equal" and opset == 7 else F32
    a, b = values(rng, (3, 4), dtype, -2, 2), values(rng, (4,), dtype, -2, 2)
    a[0] = b
    model = single_node(op, {"a": ((3, 4), dtype), "b": ((4,), dtype)}, {"y": ((3, 4), np.bool_)}, opset=opset)
    check(model, {"a": a, "b": b})


def test_equal_bool():
    rng = rng_for("eqb")
    a, b = values(rng, (3, 4), np.bool_), values(rng, (4,), np.bool_)
    model = single_node("Equal", {"a": ((3, 4), np.bool_), "b": ((4,), np.bool_)}, {"y": ((3, 4), np.bool_)},
                        opset=13)
    check(model, {"a": a, "b": b})


@pytest.mark.parametrize("op,shapes", [("And", BCAST[0]), ("And", BCAST[2]), ("Or", BCAST[1]), ("Or", BCAST[3]),
                                       ("Xor", BCAST[2])], ids=lambda v: v if isinstance(v, str) else f"{v[0]}x{v[1]}")
def test_logic(op, shapes):
    rng = rng_for(op, shapes)
    sa, sb = shapes
    out = np.broadcast_shapes(sa, sb)
    model = single_node(op, {"a": (sa, np.bool_), "b": (sb, np.bool_)}, {"y": (out, np.bool_)}, opset=7)
    check(model, {"a": values(rng, sa, np.bool_), "b": values(rng, sb, np.bool_)})


# ----------------------------------------------------------------------------------------------- BitShift
@pytest.mark.parametrize("dtype", UNSIGNED + [np.int8, np.int32, np.int64], ids=_name)
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift(direction, dtype):
    """Signed types (opset 28) and out-of-range amounts (negative, >= the width) give the sign fill."""
    rng = rng_for(direction, dtype)
    bits = np.dtype(dtype).itemsize * 8
    x = values(rng, (2, 8), dtype)
    y = rng.integers(0, bits, (2, 8)).astype(dtype)
    y[0, :3] = [bits, bits + 3, 0]
    if np.dtype(dtype).kind == "i":
        y[1, :2] = [-1, -bits]
        x[1, :3] = [-7, -1, np.iinfo(dtype).min]
    opset = 28 if np.dtype(dtype).kind == "i" else 11
    model = single_node("BitShift", {"x": ((2, 8), dtype), "y": ((2, 8), dtype)}, {"z": ((2, 8), dtype)},
                        opset=opset, direction=direction)
    want = _np_bitshift(x, y, direction == "LEFT")
    got = sunway_runner(model, [x, y])[0]
    np.testing.assert_array_equal(got.view(dtype), want)
    if opset == 11:
        check(model, {"x": x, "y": y % bits})  # in-range amounts against onnxruntime as well


def _np_bitshift(x, y, left):
    bits = x.dtype.itemsize * 8
    amount = y.astype(np.int64)
    ok = (amount >= 0) & (amount < bits)
    safe = np.where(ok, amount, 0).astype(x.dtype)
    shifted = np.left_shift(x, safe) if left else np.right_shift(x, safe)
    fill = np.where(x < 0, -1, 0).astype(x.dtype) if (not left and x.dtype.kind == "i") else np.zeros_like(x)
    return np.where(ok, shifted, fill)


def test_bitshift_broadcast():
    x = np.arange(12, dtype=np.uint32).reshape(3, 4) * 7
    model = single_node("BitShift", {"x": ((3, 4), np.uint32), "y": ((4,), np.uint32)}, {"z": ((3, 4), np.uint32)},
                        opset=11, direction="LEFT")
    check(model, {"x": x, "y": np.array([0, 1, 5, 31], np.uint32)})


# ----------------------------------------------------------------------------------------------- Mod
@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.uint64], ids=_name)
def test_mod_integer(dtype, fmod):
    rng = rng_for("mod", dtype, fmod)
    x = values(rng, (3, 6), dtype)
    y = values(rng, (6,), dtype)
    y[y == 0] = 3
    if np.dtype(dtype).kind == "i":
        x[0, :4] = [-7, 7, -7, 7]
        y[:4] = [3, -3, -3, 3]
    model = single_node("Mod", {"x": ((3, 6), dtype), "y": ((6,), dtype)}, {"z": ((3, 6), dtype)}, opset=13,
                        fmod=fmod)
    check(model, {"x": x, "y": y})


def test_mod_integer_by_zero_and_minus_one():
    """Lanes that would trap in C (x % 0, INT_MIN % -1) give numpy's 0."""
    x = np.array([7, -7, np.iinfo(np.int32).min, 5], np.int32)
    y = np.array([0, 0, -1, -1], np.int32)
    model = single_node("Mod", {"x": ((4,), np.int32), "y": ((4,), np.int32)}, {"z": ((4,), np.int32)}, opset=13)
    np.testing.assert_array_equal(sunway_runner(model, [x, y])[0], [0, 0, 0, 0])


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", [F16, F32, F64], ids=_name)
def test_mod_float(dtype, fmod):
    """fmod=1 is C fmod; fmod=0 is numpy's mod (the sign of the divisor; opset 28 defines it for floats)."""
    x = np.array([-4.3, 7.2, 5.0, 4.3, -7.2, 8.0, 0.0, -3.0, 6.0], dtype)
    y = np.array([2.1, -3.4, 8.0, -2.1, 3.4, 5.0, 2.0, 3.0, -3.0], dtype)
    model = single_node("Mod", {"x": ((9,), dtype), "y": ((9,), dtype)}, {"z": ((9,), dtype)},
                        opset=13 if fmod else 28, fmod=fmod)
    check(model, {"x": x, "y": y})


# ----------------------------------------------------------------------------------------------- Pow
POW_TYPES = [(F32, F32), (F64, F64), (F16, F16), (F32, np.int32), (F32, np.int64), (F32, np.uint8),
             (np.int32, np.int32), (np.int64, np.int64), (np.int32, F32), (np.int64, F32)]


@pytest.mark.parametrize("tx,ty", POW_TYPES, ids=[f"{_name(a)}-{_name(b)}" for a, b in POW_TYPES])
def test_pow_types(tx, ty):
    rng = rng_for("pow", tx, ty)
    x = (rng.integers(1, 6, (3, 4)) * (1 if np.dtype(tx).kind != "f" else 0.7)).astype(tx)
    y = rng.integers(0, 4, (4,)).astype(ty)
    model = single_node("Pow", {"x": ((3, 4), tx), "y": ((4,), ty)}, {"z": ((3, 4), tx)}, opset=15)
    check(model, {"x": x, "y": y})


@pytest.mark.parametrize("opset", [7, 12, 13, 15])
def test_pow_float_broadcast(opset):
    rng = rng_for("powb", opset)
    x = values(rng, (2, 3, 4), F32, 0.1, 3)
    y = values(rng, (3, 1), F32, -2, 2)
    model = single_node("Pow", {"x": ((2, 3, 4), F32), "y": ((3, 1), F32)}, {"z": ((2, 3, 4), F32)}, opset=opset)
    check(model, {"x": x, "y": y})


# ----------------------------------------------------------------------------------------------- PRelu
@pytest.mark.parametrize("slope_shape", [(5,), (4, 1), (3, 4, 5), (1,), ()])
def test_prelu_broadcast(slope_shape):
    rng = rng_for("prelu", slope_shape)
    model = single_node("PRelu", {"x": (3, 4, 5), "slope": slope_shape}, {"y": (3, 4, 5)}, opset=16)
    check(model, {"x": values(rng, (3, 4, 5), F32), "slope": values(rng, slope_shape, F32, 0, 1)})


PRELU_CASES = [(F32, 7), (F32, 16), (F16, 16), (np.int32, 9), (np.int64, 16), (np.uint32, 16)]


@pytest.mark.parametrize("dtype,opset", PRELU_CASES, ids=[f"{_name(d)}-{v}" for d, v in PRELU_CASES])
def test_prelu_dtypes(dtype, opset):
    rng = rng_for("prelu", dtype, opset)
    x, slope = values(rng, (4, 6), dtype), values(rng, (6,), dtype, 0, 1)
    if opset < 9:  # IR version 3: initializers must also be graph inputs, so feed the slope as an input
        model = single_node("PRelu", {"x": ((4, 6), dtype), "slope": ((6,), dtype)}, {"y": ((4, 6), dtype)},
                            opset=opset)
        check(model, {"x": x, "slope": slope})
        return
    model = single_node("PRelu", {"x": ((4, 6), dtype)}, {"y": ((4, 6), dtype)}, opset=opset,
                        initializers={"slope": slope})
    check(model, {"x": x})


# ----------------------------------------------------------------------------------------------- Where
WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((), (2, 3), (3,)), ((2, 1, 4), (3, 1), (1, 4))]
WHERE_CASES = [(s, F32) for s in WHERE_SHAPES] + [(WHERE_SHAPES[1], d) for d in (np.int64, np.uint8, np.bool_, F16)]


@pytest.mark.parametrize("shapes,dtype", WHERE_CASES,
                         ids=[f"{'x'.join(map(str, s))}-{_name(d)}" for s, d in WHERE_CASES])
def test_where(shapes, dtype):
    rng = rng_for("where", shapes, dtype)
    sc, sx, sy = shapes
    out = np.broadcast_shapes(*shapes)
    model = single_node("Where", {"c": (sc, np.bool_), "x": (sx, dtype), "y": (sy, dtype)}, {"z": (out, dtype)},
                        opset=16)
    check(model, {"c": values(rng, sc, np.bool_), "x": values(rng, sx, dtype), "y": values(rng, sy, dtype)})


# ----------------------------------------------------------------------------------------------- variadic
VARIADIC_SHAPES = [[(3, 4)], [(3, 4), (3, 4)], [(3, 4), (4,), (2, 1, 1)], [(), (5,), (2, 5)]]


@pytest.mark.parametrize("shapes", VARIADIC_SHAPES, ids=lambda s: "+".join(map(str, s)))
@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic(op, shapes):
    rng = rng_for(op, shapes)
    names = [f"x{i}" for i in range(len(shapes))]
    out = np.broadcast_shapes(*shapes)
    model = single_node(op, dict(zip(names, shapes)), {"y": out}, opset=13)
    check(model, {n: values(rng, s, F32) for n, s in zip(names, shapes)})


@pytest.mark.parametrize("dtype", [F16, F64, np.int8, np.uint64], ids=_name)
@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic_dtypes(op, dtype):
    if np.dtype(dtype).kind != "f" and op in ("Sum", "Mean"):
        pytest.skip("Sum and Mean are float only")
    rng = rng_for(op, dtype)
    model = single_node(op, {"a": ((3, 4), dtype), "b": ((3, 4), dtype), "c": ((4,), dtype)},
                        {"y": ((3, 4), dtype)}, opset=13)
    check(model, {n: values(rng, s, dtype) for n, s in (("a", (3, 4)), ("b", (3, 4)), ("c", (4,)))})


@pytest.mark.parametrize("opset", [7, 8, 12])
@pytest.mark.parametrize("op", ["Max", "Sum", "Mean"])
def test_variadic_opsets(op, opset):
    rng = rng_for(op, opset)
    shapes = [(2, 5), (2, 5)] if opset < 8 else [(2, 5), (5,)]
    model = single_node(op, {"a": shapes[0], "b": shapes[1]}, {"y": (2, 5)}, opset=opset)
    check(model, {"a": values(rng, shapes[0], F32), "b": values(rng, shapes[1], F32)})


# ----------------------------------------------------------------------------------------------- integer arithmetic
INT_ARITH = [("Div", d) for d in SIGNED + UNSIGNED] + [
    (op, d) for op in ("Add", "Sub", "Mul") for d in (np.int8, np.int32, np.uint16, np.uint64)]


@pytest.mark.parametrize("op,dtype", INT_ARITH, ids=[f"{o}-{_name(d)}" for o, d in INT_ARITH])
def test_integer_arithmetic(op, dtype):
    rng = rng_for(op, dtype)
    a, b = values(rng, (3, 5), dtype), values(rng, (5,), dtype)
    if op == "Div":
        b[b == 0] = 3
        if np.dtype(dtype).kind == "i":
            a[0, :4] = [-7, 7, -7, 7]
            b[:4] = [2, -2, -2, 2]  # truncation toward zero: -3, -3, 3, 3
    model = single_node(op, {"a": ((3, 5), dtype), "b": ((5,), dtype)}, {"y": ((3, 5), dtype)}, opset=14)
    check(model, {"a": a, "b": b})


def test_integer_div_edge_lanes():
    """Lanes that trap in C give numpy's values: x / 0 = 0, INT_MIN / -1 wraps to INT_MIN."""
    mn = np.iinfo(np.int64).min
    x = np.array([7, -7, mn, 9], np.int64)
    y = np.array([0, 0, -1, -1], np.int64)
    model = single_node("Div", {"a": ((4,), np.int64), "b": ((4,), np.int64)}, {"y": ((4,), np.int64)}, opset=14)
    np.testing.assert_array_equal(sunway_runner(model, [x, y])[0], [0, 0, mn, -9])


# ----------------------------------------------------------------------------------------------- Cast
CAST_TYPES = [F16, F32, F64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
              np.bool_]
# every kind of conversion: float widths, float <-> signed/unsigned of each width, integer widening and narrowing
# (signed and unsigned sources), to and from bool
CAST_PAIRS = ([(F32, d) for d in CAST_TYPES if d != F32] + [(s, F32) for s in CAST_TYPES if s != F32]
              + [(F16, F64), (F64, F16), (F16, np.int32), (F64, np.uint64), (np.int64, F64), (np.uint64, F64),
                 (np.int8, np.int64), (np.uint8, np.int32), (np.uint16, np.uint64), (np.int64, np.int8),
                 (np.uint32, np.int16), (np.int16, np.uint32), (np.int32, np.bool_), (np.bool_, np.int64),
                 (np.bool_, F16), (F16, np.bool_)])


def _cast_source(rng, shape, src, dst):
    """Values every target can hold (float -> int is undefined out of range), with zeros and fractions."""
    src, dst = np.dtype(src), np.dtype(dst)
    hi = 100 if dst.kind != "b" else 3
    if src.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    lo = 0 if (dst.kind in "ub" or src.kind == "u") else -hi
    if dst.itemsize == 1 and dst.kind == "i":
        lo, hi = -100, 100
    v = rng.uniform(lo, hi, shape) if src.kind == "f" else rng.integers(lo, hi, shape)
    v = v.astype(src)
    v.flat[0] = 0
    return v


@pytest.mark.parametrize("src,dst", CAST_PAIRS, ids=[f"{_name(s)}-{_name(d)}" for s, d in CAST_PAIRS])
def test_cast(src, dst):
    rng = rng_for("cast", src, dst)
    x = _cast_source(rng, (3, 5), src, dst)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dst))
    check(unary_model("Cast", (3, 5), src, 21, out_dtype=dst, to=to), {"x": x})


def test_cast_wraps_and_truncates():
    x = np.array([200, -56, 300, 65535], np.int32)
    check(unary_model("Cast", (4,), np.int32, 13, out_dtype=np.int8, to=TensorProto.INT8), {"x": x})
    f = np.array([-2.7, -0.5, 0.5, 2.7, 127.9], F32)
    check(unary_model("Cast", (5,), F32, 13, out_dtype=np.int8, to=TensorProto.INT8), {"x": f})
    n = np.array([np.nan, 0.0, -0.0, 1e-30], F32)
    check(unary_model("Cast", (4,), F32, 13, out_dtype=np.bool_, to=TensorProto.BOOL), {"x": n})


@pytest.mark.parametrize("opset", [7, 9, 13, 19, 25])
def test_cast_opsets(opset):
    rng = rng_for("cast", opset)
    check(unary_model("Cast", (4, 4), F32, opset, out_dtype=np.int64, to=TensorProto.INT64),
          {"x": values(rng, (4, 4), F32, -50, 50)})


@pytest.mark.parametrize("src,dst", [(F32, F16), (F64, F32), (np.int32, F32), (F32, np.uint8), (np.int64, np.int32)],
                         ids=lambda t: _name(t))
def test_castlike(src, dst):
    rng = rng_for("castlike", src, dst)
    x = _cast_source(rng, (2, 6), src, dst)
    model = single_node("CastLike", {"x": ((2, 6), src), "like": ((1,), dst)}, {"y": ((2, 6), dst)}, opset=21)
    check(model, {"x": x, "like": np.zeros((1,), dst)})


def test_castlike_constant_target():
    x = values(rng_for("castlike-c"), (3, 3), F32)
    model = single_node("CastLike", {"x": (3, 3)}, {"y": ((3, 3), F64)}, opset=15,
                        initializers={"like": np.zeros((1,), F64)})
    check(model, {"x": x})


# ----------------------------------------------------------------------------------------------- chains
def test_chain_with_unsigned_intermediate():
    """Signedness of an intermediate value comes from ONNX shape inference: u8 -> Div (unsigned) -> Cast."""
    nodes = [helper.make_node("Cast", ["x"], ["u"], to=TensorProto.UINT8),
             helper.make_node("Div", ["u", "d"], ["q"]),
             helper.make_node("Cast", ["q"], ["y"], to=TensorProto.FLOAT)]
    model = make_model(nodes, {"x": (2, 4)}, {"y": (2, 4)}, opset=14,
                       initializers={"d": np.array([3], np.uint8)})
    check(model, {"x": np.array([[0, 1, 200, 255], [7, 8, 9, 130]], F32)})


# ----------------------------------------------------------------------------------------------- refusals
def _import(model):
    from mlir import ir

    from swmlir.frontend.onnx import import_onnx

    with ir.Context():
        return import_onnx(model)


@pytest.mark.parametrize("to,word", [(TensorProto.STRING, "string"), (TensorProto.BFLOAT16, "bfloat16"),
                                     (TensorProto.FLOAT8E4M3FN, "float8e4m3fn"), (TensorProto.INT4, "int4")])
def test_cast_refuses_unsupported_targets(to, word):
    model = single_node("Cast", {"x": (3,)}, {"y": None}, opset=21, to=to)
    with pytest.raises(ImportError_, match=f"Cast to {word} is not supported"):
        _import(model)


@pytest.mark.parametrize("model,match", [
    (lambda: single_node("Gelu", {"x": (3,)}, opset=20, approximate="fast"), "approximate='fast'"),
    (lambda: single_node("BitShift", {"x": ((3,), np.uint8), "y": ((3,), np.uint8)}, opset=11, direction="UP"),
     "direction"),
    (lambda: single_node("Clip", {"x": (3,), "lo": (2,)}, opset=13), "must be a scalar"),
    (lambda: single_node("Mod", {"x": ((3,), np.int32), "y": ((3,), np.int32)}, opset=13, fmod=2), "fmod"),
    (lambda: single_node("Exp", {"x": ((3,), np.int32)}, opset=13), "element type int32"),
    (lambda: single_node("Sum", {"x": ((3,), np.int32), "y": ((3,), np.int32)}, opset=13), "element type int32"),
    (lambda: single_node("Add", {"x": ((3,), np.int32), "y": ((3,), np.int64)}, opset=14), "different element types"),
    (lambda: single_node("PRelu", {"x": (3, 4), "s": (2,)}, opset=16), "does not broadcast"),
    (lambda: single_node("Celu", {"x": (3,)}, opset=12, alpha=0.0), "alpha"),
], ids=["gelu-approximate", "bitshift-direction", "clip-bound-shape", "mod-fmod", "exp-int", "sum-int",
        "add-mixed", "prelu-slope", "celu-alpha"])
def test_refusals(model, match):
    with pytest.raises(ImportError_, match=match):
        _import(model())


def test_unknown_signedness_is_refused(monkeypatch):
    """Without ONNX shape inference an intermediate integer has no known signedness: an op that needs it
    refuses (naming the value) instead of guessing; an op that does not need it still imports."""
    import swmlir.frontend.onnx.importer as importer

    monkeypatch.setattr(importer, "_infer", lambda m, *args, **kwargs: m)
    cast = helper.make_node("Cast", ["x"], ["u"], to=TensorProto.UINT8)
    div = make_model([cast, helper.make_node("Div", ["u", "u"], ["y"])], {"x": (4,)}, {"y": ((4,), np.uint8)},
                     opset=14)
    with pytest.raises(ImportError_, match="input 'u' .* is unknown"):
        _import(div)
    add = make_model([cast, helper.make_node("Add", ["u", "u"], ["y"])], {"x": (4,)}, {"y": ((4,), np.uint8)},
                     opset=14)
    _import(add)
