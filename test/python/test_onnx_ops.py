"""Each supported ONNX op over a grid of attributes, shapes and opsets, compared with onnxruntime.

Our side runs through `check_against_onnxruntime`'s default runner (SWMLIR_TEST_PATH: the reference JIT by
default). Inputs are seeded per case, so every run sees the same numbers.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from onnx import helper, numpy_helper

from swmlir.testing.compare import check_against_onnxruntime
from swmlir.testing.models import make_model, single_node

# ONNX shape inference ignores ceil_mode's rule that a last window starting in the end padding is dropped
# (onnxruntime and the ONNX reference drop it); the importer warns and keeps onnxruntime's shape.
ceil_mode_shapes = pytest.mark.filterwarnings("ignore::swmlir.frontend.onnx.ShapeMismatchWarning")


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def away_from_zero(rng, shape):
    """Divisors: |x| in [0.5, 1.5)."""
    return (rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)).astype(np.float32)


# ----------------------------------------------------------------------------------------------- elementwise
BROADCAST_SHAPES = [
    ((7, 5), (7, 5)),
    ((7, 5), (1, 5)),
    ((7, 5), (5,)),
    ((7, 1), (1, 5)),
    ((2, 3, 4), (3, 1)),
    ((), (7, 5)),
    ((1,), (3, 4)),
    ((2, 1, 4, 1), (3, 1, 5)),
    ((3, 1, 5), (2, 1, 4, 1)),
]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary_broadcast(op, shapes):
    rng = rng_for(op, shapes)
    sa, sb = shapes
    model = single_node(op, {"a": sa, "b": sb}, opset=14)
    b = away_from_zero(rng, sb) if op == "Div" else randn(rng, sb)
    check_against_onnxruntime(model, {"a": randn(rng, sa), "b": b})


@pytest.mark.parametrize("opset", [7, 13])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_binary_opsets(op, opset):
    rng = rng_for(op, opset)
    model = single_node(op, {"a": (4, 6)}, opset=opset, initializers={"b": away_from_zero(rng, (6,))})
    check_against_onnxruntime(model, {"a": randn(rng, (4, 6))})


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul"])
def test_binary_integer(op, dtype):
    rng = rng_for(op, dtype)
    model = single_node(op, {"a": ((3, 4), dtype), "b": ((4,), dtype)}, {"y": ((3, 4), dtype)}, opset=14)
    check_against_onnxruntime(model, {"a": rng.integers(-50, 50, (3, 4)).astype(dtype),
                                      "b": rng.integers(-50, 50, (4,)).astype(dtype)})


@pytest.mark.parametrize("opset", [7, 13, 14])
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 4, 5), (), (11,)])
def test_relu(shape, opset):
    rng = rng_for(shape, opset)
    check_against_onnxruntime(single_node("Relu", {"x": shape}, opset=opset), {"x": randn(rng, shape)})


def test_relu_int32():
    model = single_node("Relu", {"x": ((2, 5), np.int32)}, {"y": ((2, 5), np.int32)}, opset=14)
    check_against_onnxruntime(model, {"x": np.arange(-5, 5, dtype=np.int32).reshape(2, 5)})


# ----------------------------------------------------------------------------------------------- matmul / gemm
MATMUL_SHAPES = [
    ((7, 5), (5, 3)),
    ((5,), (5, 3)),
    ((7, 5), (5,)),
    ((5,), (5,)),
    ((2, 7, 5), (5, 3)),
    ((2, 7, 5), (2, 5, 3)),
    ((2, 1, 7, 5), (3, 5, 4)),
    ((5,), (2, 5, 3)),
    ((2, 3, 7, 5), (5,)),
    ((1, 7, 5), (2, 5, 3)),
    ((7, 5), (2, 5, 3)),
    ((1, 1, 7, 5), (1, 5, 3)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matmul(shapes):
    rng = rng_for(shapes)
    sa, sb = shapes
    check_against_onnxruntime(single_node("MatMul", {"a": sa, "b": sb}, opset=13),
                              {"a": randn(rng, sa), "b": randn(rng, sb)})


@pytest.mark.parametrize("opset", [7, 9, 13])
def test_matmul_weight(opset):
    rng = rng_for(opset)
    model = single_node("MatMul", {"a": (3, 7, 6)}, opset=opset, initializers={"w": randn(rng, (6, 9))})
    check_against_onnxruntime(model, {"a": randn(rng, (3, 7, 6))})


GEMM_CASES = [
    # (transA, transB, alpha, beta, C shape or None)
    (0, 0, 1.0, 1.0, (3,)),
    (1, 0, 1.0, 1.0, (7, 3)),
    (0, 1, 1.0, 1.0, (1, 3)),
    (1, 1, 0.5, 2.0, (7, 1)),
    (0, 0, 2.5, 0.0, (7, 3)),
    (0, 1, -1.5, 0.25, ()),
    (0, 0, 1.0, 1.0, None),
    (1, 1, 3.0, 1.0, None),
    (0, 0, 1.0, 1.0, (1,)),
]


@pytest.mark.parametrize("weights", ["inputs", "initializers"])
@pytest.mark.parametrize("case", GEMM_CASES, ids=str)
def test_gemm(case, weights):
    trans_a, trans_b, alpha, beta, c_shape = case
    rng = rng_for(case, weights)
    m, k, n = 7, 5, 3
    a = randn(rng, (k, m) if trans_a else (m, k))
    bm = randn(rng, (n, k) if trans_b else (k, n))
    arrays = {"a": a, "b": bm}
    if c_shape is not None:
        arrays["c"] = randn(rng, c_shape)
    attrs = dict(transA=trans_a, transB=trans_b, alpha=alpha, beta=beta)
    if weights == "inputs":
        model = single_node("Gemm", {k_: v.shape for k_, v in arrays.items()}, opset=13, **attrs)
        feeds = arrays
    else:
        inits = {k_: v for k_, v in arrays.items() if k_ != "a"}
        model = single_node("Gemm", {"a": a.shape}, opset=13, initializers=inits, **attrs)
        feeds = {"a": a}
    check_against_onnxruntime(model, feeds)


@pytest.mark.parametrize("opset", [7, 9, 11])
def test_gemm_opsets(opset):
    rng = rng_for(opset)
    model = single_node("Gemm", {"a": (4, 6)}, opset=opset, transB=1,
                        initializers={"w": randn(rng, (5, 6)), "c": randn(rng, (5,))})
    check_against_onnxruntime(model, {"a": randn(rng, (4, 6))})


# ----------------------------------------------------------------------------------------------- conv
CONV_CASES = [
    # (x shape, w shape, attrs, bias)
    ((1, 3, 7, 5), (4, 3, 3, 3), {}, True),
    ((2, 3, 7, 5), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1]), False),
    ((1, 2, 9, 8), (3, 2, 3, 2), dict(pads=[1, 0, 2, 1], strides=[2, 1]), True),
    ((1, 2, 9, 9), (3, 2, 3, 3), dict(strides=[2, 3], dilations=[1, 2]), True),
    ((1, 3, 8, 8), (2, 3, 3, 3), dict(dilations=[2, 2], pads=[2, 2, 2, 2]), False),
    ((1, 1, 7, 5), (2, 1, 1, 1), {}, True),
    ((1, 2, 7, 5), (3, 2, 3, 3), dict(auto_pad="SAME_UPPER"), True),
    ((1, 2, 7, 6), (3, 2, 4, 4), dict(auto_pad="SAME_UPPER", strides=[2, 2]), False),
    ((1, 2, 7, 6), (3, 2, 4, 4), dict(auto_pad="SAME_LOWER", strides=[2, 2]), True),
    ((1, 2, 8, 5), (3, 2, 3, 2), dict(auto_pad="VALID", strides=[2, 2]), True),
    ((1, 2, 6, 6), (3, 2, 3, 3), dict(kernel_shape=[3, 3], pads=[0, 2, 1, 0], strides=[1, 2]), False),
    ((2, 4, 5, 7), (6, 4, 5, 7), {}, True),  # kernel = whole image
]


@pytest.mark.parametrize("opset", [11, 22])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-bias{c[3]}")
def test_conv(case, opset):
    xs, ws, attrs, bias = case
    rng = rng_for(case, opset)
    inits = {"w": randn(rng, ws)}
    if bias:
        inits["bias"] = randn(rng, (ws[0],))
    model = single_node("Conv", {"x": xs}, opset=opset, initializers=inits, **attrs)
    check_against_onnxruntime(model, {"x": randn(rng, xs)})


def test_conv_weight_as_input_opset7():
    rng = rng_for("conv7")
    model = single_node("Conv", {"x": (1, 2, 6, 5), "w": (3, 2, 2, 2)}, opset=7, strides=[1, 2])
    check_against_onnxruntime(model, {"x": randn(rng, (1, 2, 6, 5)), "w": randn(rng, (3, 2, 2, 2))})


# ----------------------------------------------------------------------------------------------- pooling
POOL_CASES = [
    dict(kernel_shape=[2, 2]),
    dict(kernel_shape=[2, 2], strides=[2, 2]),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 2], strides=[2, 1], pads=[0, 1, 2, 0]),
    dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1, pads=[1, 0, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[3, 3], ceil_mode=1),
    dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
    dict(kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    dict(kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
    dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"),
    dict(kernel_shape=[7, 5]),
    dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="VALID", ceil_mode=1),
    dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER", ceil_mode=1),
]


def _pool_id(a):
    return "-".join(f"{k}={v}" for k, v in a.items())


@ceil_mode_shapes
@pytest.mark.parametrize("attrs", POOL_CASES, ids=_pool_id)
def test_max_pool(attrs):
    rng = rng_for("max", attrs)
    model = single_node("MaxPool", {"x": (2, 3, 7, 5)}, opset=12, **attrs)
    check_against_onnxruntime(model, {"x": randn(rng, (2, 3, 7, 5))})


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], dilations=[2, 2]),
    dict(kernel_shape=[3, 2], dilations=[2, 1], strides=[1, 2], pads=[1, 1, 2, 0]),
    dict(kernel_shape=[2, 2], dilations=[2, 2], strides=[2, 2], ceil_mode=1),
], ids=_pool_id)
def test_max_pool_dilations(attrs):
    rng = rng_for("maxd", attrs)
    model = single_node("MaxPool", {"x": (1, 2, 9, 8)}, opset=12, **attrs)
    check_against_onnxruntime(model, {"x": randn(rng, (1, 2, 9, 8))})


@pytest.mark.parametrize("opset", [7, 8, 10, 11, 22])
def test_max_pool_opsets(opset):
    rng = rng_for("maxo", opset)
    extra = {"storage_order": 1} if opset >= 8 else {}  # only matters for Indices
    model = single_node("MaxPool", {"x": (1, 2, 6, 7)}, opset=opset, kernel_shape=[2, 3], strides=[2, 2],
                        pads=[0, 1, 1, 0], **extra)
    check_against_onnxruntime(model, {"x": randn(rng, (1, 2, 6, 7))})


@ceil_mode_shapes
@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("attrs", POOL_CASES, ids=_pool_id)
def test_average_pool(attrs, count_include_pad):
    rng = rng_for("avg", attrs, count_include_pad)
    model = single_node("AveragePool", {"x": (2, 3, 7, 5)}, opset=11, count_include_pad=count_include_pad, **attrs)
    check_against_onnxruntime(model, {"x": randn(rng, (2, 3, 7, 5))})


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], dilations=[2, 2]),
    dict(kernel_shape=[3, 2], dilations=[2, 1], strides=[1, 2], pads=[1, 1, 2, 0]),
    dict(kernel_shape=[2, 2], dilations=[2, 2], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[2, 2], dilations=[2, 2], strides=[2, 2], ceil_mode=1, pads=[1, 1, 1, 1]),
], ids=_pool_id)
def test_average_pool_dilations(attrs, count_include_pad):
    rng = rng_for("avgd", attrs, count_include_pad)
    model = single_node("AveragePool", {"x": (1, 2, 9, 8)}, opset=19, count_include_pad=count_include_pad, **attrs)
    check_against_onnxruntime(model, {"x": randn(rng, (1, 2, 9, 8))})


@pytest.mark.parametrize("opset", [7, 10, 19, 22])
def test_average_pool_opsets(opset):
    rng = rng_for("avgo", opset)
    model = single_node("AveragePool", {"x": (1, 2, 6, 7)}, opset=opset, kernel_shape=[3, 2], strides=[2, 2],
                        pads=[1, 0, 1, 1])
    check_against_onnxruntime(model, {"x": randn(rng, (1, 2, 6, 7))})


@pytest.mark.parametrize("opset", [7, 22])
@pytest.mark.parametrize("shape", [(1, 3, 7, 5), (2, 4, 3, 3), (2, 3, 7), (1, 2, 3, 4, 5), (1, 1, 1, 1)])
def test_global_average_pool(shape, opset):
    rng = rng_for(shape, opset)
    check_against_onnxruntime(single_node("GlobalAveragePool", {"x": shape}, opset=opset), {"x": randn(rng, shape)})


# ----------------------------------------------------------------------------------------------- shape ops
@pytest.mark.parametrize("opset, axis", [(o, a) for o in (9, 11, 13, 21) for a in (0, 1, 2, 4, -1, -3)
                                          if a >= 0 or o >= 11])  # negative axes from opset 11
def test_flatten(axis, opset):
    rng = rng_for(axis, opset)
    model = single_node("Flatten", {"x": (2, 3, 4, 5)}, opset=opset, axis=axis)
    check_against_onnxruntime(model, {"x": randn(rng, (2, 3, 4, 5))})


def test_flatten_default_axis():
    rng = rng_for("flat")
    check_against_onnxruntime(single_node("Flatten", {"x": (3, 7, 5)}, opset=13), {"x": randn(rng, (3, 7, 5))})


RESHAPE_CASES = [
    ((2, 3, 4), [6, 4]),
    ((2, 3, 4), [2, 12]),
    ((2, 3, 4), [4, 3, 2]),
    ((2, 3, 4), [-1]),
    ((2, 3, 4), [0, -1]),
    ((2, 3, 4), [0, 0, 2, 2]),
    ((2, 3, 4), [1, 24, 1]),
    ((6, 4), [2, 3, 4]),
    ((7, 5), [5, 7]),
    ((1, 7, 5), [7, 5]),
    ((35,), [5, -1, 1]),
    ((2, 1, 3), [3, 2]),
    ((1,), []),
    ((), [1, 1]),
]


@pytest.mark.parametrize("opset", [7, 13, 14, 21])
@pytest.mark.parametrize("case", RESHAPE_CASES, ids=lambda c: f"{c[0]}->{c[1]}")
def test_reshape(case, opset):
    shape, target = case
    rng = rng_for(case, opset)
    model = single_node("Reshape", {"x": shape}, opset=opset, initializers={"shape": np.array(target, np.int64)})
    check_against_onnxruntime(model, {"x": randn(rng, shape)})


@pytest.mark.parametrize("target", [[6, 4], [2, -1, 2], [4, 3, 2]])
def test_reshape_allowzero(target):
    rng = rng_for("allowzero", target)
    model = single_node("Reshape", {"x": (2, 3, 4)}, opset=14, allowzero=1,
                        initializers={"shape": np.array(target, np.int64)})
    check_against_onnxruntime(model, {"x": randn(rng, (2, 3, 4))})


def test_reshape_shape_from_constant_node():
    shape = helper.make_node("Constant", [], ["s"], value_ints=[5, 7])
    reshape = helper.make_node("Reshape", ["x", "s"], ["y"])
    model = make_model([shape, reshape], {"x": (7, 5)}, {"y": None}, opset=13)
    check_against_onnxruntime(model, {"x": randn(rng_for("rc"), (7, 5))})


# ----------------------------------------------------------------------------------------------- softmax
SOFTMAX_CASES = [((7, 5), 1), ((7, 5), 0), ((7, 5), -1), ((2, 3, 4), 1), ((2, 3, 4), -2), ((2, 3, 4, 5), 2),
                 ((2, 3, 4, 5), 0), ((9,), 0)]


@pytest.mark.parametrize("opset, case", [(o, c) for o in (7, 11, 13) for c in SOFTMAX_CASES if c[1] >= 0 or o >= 11],
                         ids=lambda v: f"{v[0]}-axis{v[1]}" if isinstance(v, tuple) else str(v))
def test_softmax(case, opset):
    shape, axis = case
    rng = rng_for(case, opset)
    model = single_node("Softmax", {"x": shape}, opset=opset, axis=axis)
    check_against_onnxruntime(model, {"x": 3 * randn(rng, shape)})


@pytest.mark.parametrize("opset", [7, 13])
def test_softmax_default_axis(opset):
    rng = rng_for("sm", opset)
    model = single_node("Softmax", {"x": (2, 3, 4)}, opset=opset)
    check_against_onnxruntime(model, {"x": randn(rng, (2, 3, 4))})


# ----------------------------------------------------------------------------------------------- misc
CONSTANT_ATTRS = [
    ("value_small", dict(value=numpy_helper.from_array(np.arange(5, dtype=np.float32)))),
    ("value_large", dict(value=numpy_helper.from_array(np.linspace(-1, 1, 35, dtype=np.float32).reshape(7, 5)))),
    ("value_splat", dict(value=numpy_helper.from_array(np.full((7, 5), 0.25, np.float32)))),
    ("value_float", dict(value_float=1.5)),
    ("value_floats", dict(value_floats=[1.0, -2.0, 3.0, 0.5, 4.0])),
]


@pytest.mark.parametrize("opset", [12, 13, 21])
@pytest.mark.parametrize("attr", CONSTANT_ATTRS, ids=lambda a: a[0])
def test_constant_into_add(attr, opset):
    const = helper.make_node("Constant", [], ["c"], name="const", **attr[1])
    add = helper.make_node("Add", ["x", "c"], ["y"], name="add")
    model = make_model([const, add], {"x": (7, 5)}, {"y": None}, opset=opset)
    check_against_onnxruntime(model, {"x": randn(rng_for(attr[0], opset), (7, 5))})


@pytest.mark.parametrize("attr", [dict(value_int=3), dict(value_ints=[1, 2, 3]),
                                  dict(value=numpy_helper.from_array(np.arange(20, dtype=np.int64).reshape(4, 5)))],
                         ids=["value_int", "value_ints", "value_int64_tensor"])
def test_constant_as_output(attr):
    const = helper.make_node("Constant", [], ["c"], **attr)
    relu = helper.make_node("Relu", ["x"], ["y"])
    model = make_model([const, relu], {"x": (3,)}, {"y": None, "c": (None, np.int64)}, opset=13)
    check_against_onnxruntime(model, {"x": randn(rng_for("co"), (3,))})


def test_constant_sparse_value():
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.5, -2.0, 3.0], np.float32)),
                                       numpy_helper.from_array(np.array([1, 7, 23], np.int64)), [4, 6])
    const = helper.make_node("Constant", [], ["c"], sparse_value=sparse)
    add = helper.make_node("Add", ["x", "c"], ["y"])
    model = make_model([const, add], {"x": (4, 6)}, {"y": None}, opset=13)
    check_against_onnxruntime(model, {"x": randn(rng_for("sp"), (4, 6))})


@pytest.mark.parametrize("opset", [7, 13, 14, 16, 21])
def test_identity(opset):
    model = single_node("Identity", {"x": (7, 5)}, opset=opset)
    check_against_onnxruntime(model, {"x": randn(rng_for("id", opset), (7, 5))})


def test_identity_of_initializer():
    w = randn(rng_for("idw"), (4, 5))
    ident = helper.make_node("Identity", ["w"], ["w2"])
    add = helper.make_node("Add", ["x", "w2"], ["y"])
    model = make_model([ident, add], {"x": (4, 5)}, {"y": None}, opset=13, initializers={"w": w})
    check_against_onnxruntime(model, {"x": randn(rng_for("idx"), (4, 5))})


@pytest.mark.parametrize("opset, mask", [(o, m) for o in (7, 10, 12, 13, 22) for m in (False, True)
                                         if not m or o >= 12])  # the mask before 12 is refused (test_onnx_errors)
def test_dropout(opset, mask):
    outputs = {"y": None, "mask": (None, np.bool_)} if mask else {"y": None}
    model = single_node("Dropout", {"x": (7, 5)}, outputs, opset=opset, **({"ratio": 0.3} if opset < 12 else {}))
    check_against_onnxruntime(model, {"x": randn(rng_for("do", opset, mask), (7, 5))})


@pytest.mark.parametrize("training", [False, True])
def test_dropout_training_mode_inputs(training):
    # training_mode=True is only deterministic with ratio 0; that case is accepted too.
    ratio = 0.0 if training else 0.5
    model = single_node("Dropout", {"x": (3, 4)}, {"y": None, "mask": (None, np.bool_)}, opset=13,
                        initializers={"ratio": np.array(ratio, np.float32), "training_mode": np.array(training)})
    check_against_onnxruntime(model, {"x": randn(rng_for("dt", training), (3, 4))})


# ----------------------------------------------------------------------------------------------- other dtypes
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float16, 1e-2)], ids=["f64", "f16"])
@pytest.mark.parametrize("op, inputs, attrs", [
    ("Add", {"a": (3, 4), "b": (4,)}, {}),
    ("MatMul", {"a": (2, 3, 4), "b": (4, 5)}, {}),
    ("Softmax", {"a": (3, 4)}, {}),
    ("Relu", {"a": (3, 4)}, {}),
    ("Conv", {"x": (1, 2, 5, 5), "w": (3, 2, 3, 3)}, {"pads": [1, 1, 0, 0]}),
    ("MaxPool", {"x": (1, 2, 5, 5)}, {"kernel_shape": [2, 2]}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_other_float_types(op, inputs, attrs, dtype, tol):
    if op == "Conv" and dtype == np.float64:
        pytest.skip("onnxruntime has no float64 Conv kernel")
    rng = rng_for(op, dtype)
    model = single_node(op, {k: (v, dtype) for k, v in inputs.items()}, {"y": (None, dtype)}, opset=13, **attrs)
    check_against_onnxruntime(model, {k: randn(rng, v, dtype) for k, v in inputs.items()}, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64, np.int64, np.int32, np.uint8])
def test_resource_constants_of_each_dtype(dtype):
    """Initializers above 16 elements become dense_resource blobs; every dtype must round-trip."""
    rng = rng_for("res", dtype)
    w = (10 * rng.standard_normal(20)).astype(dtype)
    model = single_node("Add", {"x": ((20,), dtype)}, {"y": ((20,), dtype)}, opset=14, initializers={"w": w})
    check_against_onnxruntime(model, {"x": (10 * rng.standard_normal(20)).astype(dtype)}, rtol=1e-3)


def test_bool_constant_output():
    mask = rng_for("bool").random(20) > 0.5
    const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(mask))
    model = make_model([const, helper.make_node("Relu", ["x"], ["y"])], {"x": (3,)},
                       {"y": None, "c": (None, np.bool_)}, opset=13)
    check_against_onnxruntime(model, {"x": randn(rng_for("bx"), (3,))})


# ----------------------------------------------------------------------------------------------- small networks
def test_lenet_like():
    rng = rng_for("lenet")
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", strides=[1, 1]),
        helper.make_node("AveragePool", ["c2"], ["p2"], name="pool2", kernel_shape=[2, 2], ceil_mode=1, strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["g"], name="fc", transB=1),
        helper.make_node("Dropout", ["g"], ["d"], name="drop"),
        helper.make_node("Softmax", ["d"], ["y"], name="softmax"),
    ]
    inits = {"w1": 0.3 * randn(rng, (4, 1, 3, 3)), "b1": randn(rng, (4,)), "w2": 0.3 * randn(rng, (6, 4, 3, 3)),
             "w3": 0.3 * randn(rng, (10, 6 * 2 * 2)), "b3": randn(rng, (10,))}
    model = make_model(nodes, {"x": (2, 1, 11, 10)}, {"y": (2, 10)}, opset=13, initializers=inits)
    check_against_onnxruntime(model, {"x": randn(rng, (2, 1, 11, 10))})


def test_mlp_with_matmul_and_reshape():
    rng = rng_for("mlp")
    nodes = [
        helper.make_node("Reshape", ["x", "s"], ["xr"]),
        helper.make_node("MatMul", ["xr", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["o"]),
        helper.make_node("Softmax", ["o"], ["y"], axis=-1),
    ]
    inits = {"s": np.array([0, -1, 12], np.int64), "w1": randn(rng, (12, 20)), "b1": randn(rng, (20,)),
             "w2": randn(rng, (20, 4))}
    model = make_model(nodes, {"x": (3, 2, 2, 3, 4)}, {"y": None}, opset=14, initializers=inits)
    check_against_onnxruntime(model, {"x": randn(rng, (3, 2, 2, 3, 4))})
