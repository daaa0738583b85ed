"""Neural-network ops through the FULL path (import, Sunway schedule, emitted C, host emulator): Conv and
ConvTranspose in 1-3 D with groups, pools in 1-3 D, global pools, Einsum, and the integer / quantized ops.

Compared with onnxruntime (rtol 1e-4, atol 1e-5 for float32; exact for integers); where onnxruntime has no
kernel (GlobalLpPool) or refuses the zero-point layout, with the ONNX reference evaluator instead.
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest
from mlir import ir
from onnx.reference import ReferenceEvaluator

from swmlir.errors import ImportError_
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.compare import check_against_onnxruntime, graph_inputs, sunway_runner
from swmlir.testing.models import single_node

# ceil_mode / output_shape cases where ONNX shape inference and onnxruntime disagree: the importer warns
pytestmark = pytest.mark.filterwarnings("ignore::swmlir.frontend.onnx.ShapeMismatchWarning")


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def full_path(model, feeds, **tol):
    return check_against_onnxruntime(model, feeds, runner=sunway_runner, **tol)


def against_reference(model, feeds, rtol=1e-4, atol=1e-5):
    """Our full path against the ONNX reference evaluator (ops onnxruntime does not implement)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = ReferenceEvaluator(model).run(None, feeds)
    got = sunway_runner(model, [feeds[n] for n in graph_inputs(model)])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        if w.dtype.kind in "iu":
            np.testing.assert_array_equal(g.view(w.dtype) if g.dtype != w.dtype else g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _id(v):
    if isinstance(v, dict):
        return "-".join(f"{k}={v_}" for k, v_ in v.items()) or "default"
    return str(v).replace(" ", "")


# ----------------------------------------------------------------------------------------------- Conv
CONV_CASES = [
    # (x shape, w shape, attrs); every case also runs with a bias
    ((2, 3, 11), (4, 3, 3), dict(pads=[1, 2], strides=[2])),
    ((1, 4, 10), (6, 2, 3), dict(group=2, dilations=[2])),
    ((1, 4, 9), (4, 1, 4), dict(group=4, auto_pad="SAME_UPPER")),
    ((1, 4, 7, 6), (6, 2, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),
    ((2, 4, 7, 6), (4, 1, 3, 3), dict(group=4, strides=[2, 1], pads=[1, 0, 1, 1])),      # depthwise
    ((1, 3, 8, 7), (6, 1, 3, 2), dict(group=3, dilations=[2, 1])),                         # multiplier 2
    ((1, 4, 7, 7), (4, 2, 3, 3), dict(group=2, auto_pad="SAME_LOWER", strides=[2, 2])),
    ((1, 6, 6, 5), (3, 2, 2, 2), dict(group=3, auto_pad="VALID", kernel_shape=[2, 2])),
    ((1, 2, 5, 6, 7), (3, 2, 2, 3, 2), dict(strides=[1, 2, 1], pads=[1, 0, 1, 0, 1, 1])),
    ((1, 4, 4, 5, 6), (4, 2, 3, 2, 3), dict(group=2, dilations=[1, 2, 1], pads=[1, 2, 1, 1, 2, 1])),
    ((1, 3, 4, 4, 4), (3, 1, 2, 2, 2), dict(group=3, strides=[2, 2, 2])),                  # 3-D depthwise
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{_id(c[2])}")
def test_conv(case):
    xs, ws, attrs = case
    rng = rng_for("conv", case)
    inits = {"w": randn(rng, ws), "b": randn(rng, (ws[0],))}
    full_path(single_node("Conv", {"x": xs}, opset=22, initializers=inits, **attrs), {"x": randn(rng, xs)})


@pytest.mark.parametrize("opset", [7, 11])
def test_conv_grouped_weight_as_input(opset):
    rng = rng_for("conv_w_input", opset)
    model = single_node("Conv", {"x": (1, 4, 6, 5), "w": (2, 2, 3, 2)}, opset=opset, group=2, strides=[1, 2])
    full_path(model, {"x": randn(rng, (1, 4, 6, 5)), "w": randn(rng, (2, 2, 3, 2))})


# ----------------------------------------------------------------------------------------------- ConvTranspose
CONV_T_CASES = [
    ((1, 2, 4), (2, 3, 3), {}),
    ((1, 2, 4), (2, 3, 3), dict(strides=[3], pads=[1, 2], output_padding=[1])),
    ((2, 1, 3, 3), (1, 2, 3, 3), dict(strides=[2, 2])),
    ((1, 2, 3, 4), (2, 3, 3, 2), dict(strides=[3, 2], pads=[1, 2, 1, 0], output_padding=[1, 1])),
    ((1, 1, 3, 3), (1, 2, 3, 3), dict(strides=[2, 2], dilations=[2, 1])),
    ((1, 1, 3, 3), (1, 1, 3, 3), dict(strides=[2, 2], output_shape=[6, 5])),     # odd totals: 1, 2
    ((1, 1, 3, 3), (1, 1, 3, 3), dict(strides=[3, 2], output_shape=[9, 8])),     # beyond the full output
    ((1, 1, 3, 4), (1, 2, 3, 3), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 1, 3, 4), (1, 2, 3, 3), dict(strides=[2, 3], auto_pad="SAME_LOWER")),
    ((1, 1, 3, 4), (1, 2, 2, 3), dict(strides=[2, 2], auto_pad="VALID")),
    ((1, 4, 3, 3), (4, 3, 3, 2), dict(group=2, strides=[2, 1])),
    ((1, 3, 4, 3), (3, 1, 3, 3), dict(group=3, strides=[2, 2], pads=[1, 1, 1, 1])),  # depthwise
    ((1, 1, 3, 4, 2), (1, 2, 3, 3, 2), dict(strides=[2, 1, 2])),
    ((1, 2, 2, 3, 2), (2, 2, 2, 2, 3), dict(group=2, pads=[0, 1, 1, 0, 0, 1], strides=[1, 2, 2])),
]


# every case with the kernel as a graph input (flipped at run time), a few with a constant (flipped in numpy)
CONV_T_RUNS = [(c, "input") for c in CONV_T_CASES] + [(CONV_T_CASES[i], "constant") for i in (1, 3, 7, 11, 13)]


@pytest.mark.parametrize("case, weight", CONV_T_RUNS, ids=lambda c: c if isinstance(c, str) else
                         f"{c[0]}-{c[1]}-{_id(c[2])}")
def test_conv_transpose(case, weight):
    xs, ws, attrs = case
    rng = rng_for("convT", case, weight)
    group = attrs.get("group", 1)
    w, bias = randn(rng, ws), randn(rng, (ws[1] * group,))
    if weight == "constant":
        model = single_node("ConvTranspose", {"x": xs}, opset=22, initializers={"w": w, "b": bias}, **attrs)
        feeds = {"x": randn(rng, xs)}
    else:
        model = single_node("ConvTranspose", {"x": xs, "w": ws}, opset=22, **attrs)
        feeds = {"x": randn(rng, xs), "w": w}
    full_path(model, feeds)


@pytest.mark.parametrize("opset", [7, 11])
def test_conv_transpose_opsets(opset):
    rng = rng_for("convT_opset", opset)
    model = single_node("ConvTranspose", {"x": (1, 2, 3, 3), "w": (2, 2, 2, 2)}, opset=opset, strides=[2, 2],
                        pads=[0, 1, 1, 0])
    full_path(model, {"x": randn(rng, (1, 2, 3, 3)), "w": randn(rng, (2, 2, 2, 2))})


# ----------------------------------------------------------------------------------------------- pools
POOL_CASES = [
    ((1, 3, 9), dict(kernel_shape=[3], strides=[2], pads=[1, 1])),
    ((2, 2, 10), dict(kernel_shape=[2], strides=[3], ceil_mode=1)),
    ((1, 2, 11), dict(kernel_shape=[3], dilations=[2], pads=[2, 1])),
    ((1, 2, 6, 5, 7), dict(kernel_shape=[2, 3, 2], strides=[2, 1, 2], ceil_mode=1)),
    ((1, 2, 5, 6, 5), dict(kernel_shape=[3, 2, 3], pads=[1, 0, 1, 1, 1, 0], strides=[2, 2, 1])),
    ((1, 1, 7, 6, 8), dict(kernel_shape=[2, 2, 3], dilations=[2, 1, 2], auto_pad="VALID")),
    ((1, 2, 5, 5, 6), dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2], auto_pad="SAME_LOWER")),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}-{_id(c[1])}")
def test_max_pool(case):
    xs, attrs = case
    rng = rng_for("max", case)
    full_path(single_node("MaxPool", {"x": xs}, opset=12, **attrs), {"x": randn(rng, xs)})


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}-{_id(c[1])}")
def test_average_pool(case, count_include_pad):
    xs, attrs = case
    opset = 19 if "dilations" in attrs else 11
    rng = rng_for("avg", case, count_include_pad)
    model = single_node("AveragePool", {"x": xs}, opset=opset, count_include_pad=count_include_pad, **attrs)
    full_path(model, {"x": randn(rng, xs)})


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_max_pool_8bit(dtype):
    rng = rng_for("max8", dtype)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (1, 2, 6, 7)).astype(dtype)
    model = single_node("MaxPool", {"x": ((1, 2, 6, 7), dtype)}, {"y": (None, dtype)}, opset=12,
                        kernel_shape=[3, 2], pads=[1, 1, 1, 0], strides=[2, 1])
    full_path(model, {"x": x})


def test_max_pool_float64():
    rng = rng_for("max64")
    model = single_node("MaxPool", {"x": ((1, 2, 7, 6), np.float64)}, {"y": (None, np.float64)}, opset=12,
                        kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    full_path(model, {"x": randn(rng, (1, 2, 7, 6), np.float64)})


@pytest.mark.parametrize("case", [
    ((2, 3, 7, 6), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]), 0),
    ((2, 3, 7, 6), dict(kernel_shape=[3, 2], pads=[1, 0, 1, 1], strides=[2, 2]), 1),
    ((1, 2, 9), dict(kernel_shape=[3], strides=[2], ceil_mode=1), 0),
    ((1, 2, 4, 5, 6), dict(kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[0, 1, 0, 1, 0, 1]), 0),
    ((1, 2, 4, 5, 6), dict(kernel_shape=[2, 2, 2], dilations=[1, 2, 1]), 1),
], ids=lambda c: f"{c[0]}-{_id(c[1])}-order{c[2]}")
def test_max_pool_indices(case):
    xs, attrs, order = case
    rng = rng_for("argmax", case)
    x = rng.permutation(np.prod(xs)).reshape(xs).astype(np.float32)  # distinct values: one argmax per window
    model = single_node("MaxPool", {"x": xs}, {"y": None, "i": (None, np.int64)}, opset=12, storage_order=order,
                        **attrs)
    full_path(model, {"x": x})


@pytest.mark.parametrize("opset", [11, 22])
@pytest.mark.parametrize("case", [
    ((1, 2, 9), dict(kernel_shape=[3], strides=[2]), 2),
    ((1, 2, 7, 6), dict(kernel_shape=[3, 2], pads=[1, 1, 0, 0]), 3),
    ((1, 2, 7, 6), dict(kernel_shape=[2, 2], strides=[2, 2]), 1),
    ((1, 2, 4, 5, 4), dict(kernel_shape=[2, 2, 2], strides=[1, 2, 1]), 2),
], ids=lambda c: f"{c[0]}-{_id(c[1])}-p{c[2]}")
def test_lp_pool(case, opset):
    xs, attrs, p = case
    rng = rng_for("lp", case, opset)
    full_path(single_node("LpPool", {"x": xs}, opset=opset, p=p, **attrs), {"x": randn(rng, xs)})


def test_lp_pool_opset7():
    rng = rng_for("lp7")
    full_path(single_node("LpPool", {"x": (1, 2, 7, 6)}, opset=7, p=3, kernel_shape=[3, 2], pads=[1, 0, 1, 1]),
              {"x": randn(rng, (1, 2, 7, 6))})


@pytest.mark.parametrize("attrs", [dict(dilations=[2, 1], kernel_shape=[2, 2], ceil_mode=1, strides=[2, 2]),
                                   dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")], ids=_id)
def test_lp_pool_18(attrs):
    rng = rng_for("lp18", attrs)
    full_path(single_node("LpPool", {"x": (1, 2, 7, 6)}, opset=18, p=2, **attrs), {"x": randn(rng, (1, 2, 7, 6))})


@pytest.mark.parametrize("op", ["GlobalMaxPool", "GlobalAveragePool"])
@pytest.mark.parametrize("shape", [(2, 3, 7), (1, 4, 3, 5), (1, 2, 3, 4, 5)], ids=_id)
def test_global_pool(op, shape):
    rng = rng_for(op, shape)
    full_path(single_node(op, {"x": shape}, opset=22), {"x": randn(rng, shape)})


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("shape", [(2, 3, 7), (1, 2, 3, 4, 5)], ids=_id)
def test_global_lp_pool(shape, p):
    """Neither onnxruntime nor the ONNX reference implement GlobalLpPool: numpy decides."""
    rng = rng_for("glp", shape, p)
    x = randn(rng, shape)
    got = sunway_runner(single_node("GlobalLpPool", {"x": shape}, opset=22, p=p), [x])[0]
    axes = tuple(range(2, len(shape)))
    want = (np.abs(x.astype(np.float64)) ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------- Einsum
EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i", [(5,)] * 2),
    ("ij->i", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("bii->b", [(2, 3, 3)]),
    ("i,->i", [(4,), ()]),
    (",->", [(), ()]),
    ("...ii->...i", [(2, 3, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (1, 5, 4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("ijk->kji", [(2, 3, 4)]),
]


@pytest.mark.parametrize("case", EINSUM_CASES, ids=lambda c: c[0])
def test_einsum(case):
    eq, shapes = case
    rng = rng_for("einsum", case)
    names = [f"x{i}" for i in range(len(shapes))]
    model = single_node("Einsum", dict(zip(names, shapes)), opset=12, equation=eq)
    full_path(model, {n: randn(rng, s) for n, s in zip(names, shapes)})


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64])
def test_einsum_dtypes(dtype):
    rng = rng_for("einsum", dtype)
    model = single_node("Einsum", {"a": ((2, 3, 4), dtype), "b": ((2, 4, 3), dtype)}, {"y": (None, dtype)},
                        opset=12, equation="bij,bjk->bik")
    a = rng.integers(-9, 10, (2, 3, 4)).astype(dtype)
    bb = rng.integers(-9, 10, (2, 4, 3)).astype(dtype)
    full_path(model, {"a": a, "b": bb})


# ----------------------------------------------------------------------------------------------- quantized
def _q(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


@pytest.mark.parametrize("types", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)], ids=_id)
@pytest.mark.parametrize("shapes", [((4, 3), (3, 5)), ((2, 4, 3), (3, 2)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (4, 3))],
                         ids=_id)
def test_matmul_integer(shapes, types):
    (sa, sb), (ta, tb) = shapes, types
    rng = rng_for("mmi", shapes, types)
    model = single_node("MatMulInteger", {"a": (sa, ta), "b": (sb, tb), "az": ((), ta), "bz": ((), tb)},
                        {"y": (None, np.int32)}, opset=10)
    feeds = {"a": _q(rng, sa, ta), "b": _q(rng, sb, tb), "az": _q(rng, (), ta), "bz": _q(rng, (), tb)}
    if (ta, tb) == (np.uint8, np.int8):
        # onnxruntime's u8 x s8 kernels saturate pair sums in int16 on x86 without VNNI (onnxruntime_u8s8_exact):
        # the exact integer product is the reference
        got = sunway_runner(model, [feeds[n] for n in graph_inputs(model)])[0]
        i32 = {k: v.astype(np.int32) for k, v in feeds.items()}
        np.testing.assert_array_equal(got, (i32["a"] - i32["az"]) @ (i32["b"] - i32["bz"]))
        return
    full_path(model, feeds)


def test_matmul_integer_per_column_zero_point():
    rng = rng_for("mmi_cols")
    model = single_node("MatMulInteger", {"a": ((2, 4, 3), np.int8), "b": ((3, 5), np.int8),
                                          "az": ((), np.int8), "bz": ((5,), np.int8)},
                        {"y": (None, np.int32)}, opset=10)
    full_path(model, {"a": _q(rng, (2, 4, 3), np.int8), "b": _q(rng, (3, 5), np.int8),
                      "az": _q(rng, (), np.int8), "bz": _q(rng, (5,), np.int8)})


@pytest.mark.parametrize("az_shape", [(4,), (4, 1), (2, 4, 1)], ids=_id)
def test_matmul_integer_per_row_zero_point(az_shape):
    """onnxruntime takes only a scalar a_zero_point, the ONNX reference only the N-D form: numpy decides."""
    rng = rng_for("mmi_rows", az_shape)
    model = single_node("MatMulInteger", {"a": ((2, 4, 3), np.uint8), "b": ((2, 3, 5), np.uint8),
                                          "az": (az_shape, np.uint8), "bz": ((1, 5), np.uint8)},
                        {"y": (None, np.int32)}, opset=10)
    a, bb = _q(rng, (2, 4, 3), np.uint8), _q(rng, (2, 3, 5), np.uint8)
    az, bz = _q(rng, az_shape, np.uint8), _q(rng, (1, 5), np.uint8)
    got = sunway_runner(model, [a, bb, az, bz])[0]
    azb = az.reshape(4, 1) if az_shape == (4,) else az
    want = (a.astype(np.int32) - azb.astype(np.int32)) @ (bb.astype(np.int32) - bz.astype(np.int32))
    np.testing.assert_array_equal(got, want)


def test_matmul_integer_without_zero_points():
    rng = rng_for("mmi_nozp")
    model = single_node("MatMulInteger", {"a": ((3, 4), np.int8), "b": ((4, 2), np.int8)},
                        {"y": (None, np.int32)}, opset=10)
    full_path(model, {"a": _q(rng, (3, 4), np.int8), "b": _q(rng, (4, 2), np.int8)})


@pytest.mark.parametrize("opset, scale_t", [(10, np.float32), (21, np.float32), (21, np.float16)], ids=_id)
@pytest.mark.parametrize("qt", [np.uint8, np.int8], ids=_id)
@pytest.mark.parametrize("shapes", [((3, 5), (5, 4)), ((2, 3, 5), (2, 5, 4))], ids=_id)
def test_qlinear_matmul(shapes, qt, opset, scale_t):
    sa, sb = shapes
    rng = rng_for("qlmm", shapes, qt, opset, scale_t)
    ins = {"a": (sa, qt), "as": ((), scale_t), "az": ((), qt), "b": (sb, qt), "bs": ((), scale_t),
           "bz": ((), qt), "ys": ((), scale_t), "yz": ((), qt)}
    model = single_node("QLinearMatMul", ins, {"y": (None, qt)}, opset=opset)
    feeds = {"a": _q(rng, sa, qt), "b": _q(rng, sb, qt), "az": _q(rng, (), qt), "bz": _q(rng, (), qt),
             "yz": _q(rng, (), qt), "as": np.array(0.02, scale_t), "bs": np.array(0.03, scale_t),
             "ys": np.array(0.7, scale_t)}
    against_reference(model, feeds)


@pytest.mark.parametrize("case", [
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(pads=[1, 1, 1, 1])),
    ((1, 4, 6, 5), (4, 2, 2, 2), dict(group=2, strides=[2, 1])),
    ((2, 2, 7), (3, 2, 3), dict(dilations=[2])),
], ids=lambda c: f"{c[0]}-{c[1]}-{_id(c[2])}")
def test_conv_integer(case):
    xs, ws, attrs = case
    rng = rng_for("convi", case)
    model = single_node("ConvInteger", {"x": (xs, np.uint8), "w": (ws, np.uint8), "xz": ((), np.uint8)},
                        {"y": (None, np.int32)}, opset=10, **attrs)
    full_path(model, {"x": _q(rng, xs, np.uint8), "w": _q(rng, ws, np.uint8), "xz": _q(rng, (), np.uint8)})


@pytest.mark.parametrize("qt", [np.uint8, np.int8], ids=_id)
@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinear_conv(qt, per_channel):
    rng = rng_for("qlconv", qt, per_channel)
    xs, ws = (1, 2, 6, 5), (3, 2, 3, 3)
    wshape = (3,) if per_channel else ()
    ins = {"x": (xs, qt), "xs": ((), np.float32), "xz": ((), qt), "w": (ws, qt), "ws": (wshape, np.float32),
           "wz": (wshape, qt), "ys": ((), np.float32), "yz": ((), qt), "b": ((3,), np.int32)}
    model = single_node("QLinearConv", ins, {"y": (None, qt)}, opset=10, pads=[1, 1, 0, 1], strides=[1, 2])
    feeds = {"x": _q(rng, xs, qt), "xs": np.array(0.05, np.float32), "xz": _q(rng, (), qt),
             "w": _q(rng, ws, qt), "ws": rng.uniform(0.01, 0.03, wshape).astype(np.float32),
             "wz": np.zeros(wshape, qt), "ys": np.array(3.0, np.float32), "yz": _q(rng, (), qt),
             "b": rng.integers(-500, 500, (3,)).astype(np.int32)}
    against_reference(model, feeds)


# ----------------------------------------------------------------------------------------------- refusals
def _import(model):
    with ir.Context():
        import_onnx(model)


@pytest.mark.parametrize("model, message", [
    (single_node("Einsum", {"x": (3, 3)}, opset=12, equation="ij->ii"), "appears twice in the output"),
    (single_node("Einsum", {"x": (3, 4)}, opset=12, equation="ij->k"), "not in any input term"),
    (single_node("Einsum", {"x": (3, 4), "y": (5, 2)}, opset=12, equation="ij,jk->ik"), "label 'j' has size"),
    (single_node("Einsum", {"x": (3, 4)}, opset=12, equation="ijk->i"), "has 3 labels but its input has rank 2"),
    (single_node("Conv", {"x": (1, 4, 5, 5), "w": (4, 3, 3, 3)}, opset=11, group=2), "input channels per group"),
    (single_node("Conv", {"x": (1, 2, 5, 5), "w": (2, 2, 3, 3)}, opset=11, dilations=[2, 2],
                 auto_pad="SAME_UPPER"), "with dilations"),
    (single_node("ConvTranspose", {"x": (1, 3, 4, 4), "w": (3, 2, 3, 3)}, opset=11, group=2), "does not divide"),
    (single_node("MaxPool", {"x": ((1, 1, 4, 4), np.int8)}, {"y": (None, np.int8)}, opset=11,
                 kernel_shape=[2, 2]), "only floating-point"),
], ids=["einsum-out-repeat", "einsum-out-missing", "einsum-sizes", "einsum-rank", "conv-group", "conv-same-dilated",
        "convT-group", "maxpool-int-opset11"])
def test_refused(model, message):
    with pytest.raises(ImportError_, match=message):
        _import(model)


def test_qlinear_matmul_per_row_and_column():
    """Per-row scale / zero point of A and per-column of B (the spec allows them; onnxruntime and the ONNX
    reference take per-tensor A only): numpy decides, with the reference's arithmetic."""
    rng = rng_for("qlmm_rows")
    m, k, n = 3, 5, 4
    ins = {"a": ((m, k), np.uint8), "as": ((m,), np.float32), "az": ((m,), np.uint8), "b": ((k, n), np.uint8),
           "bs": ((n,), np.float32), "bz": ((n,), np.uint8), "ys": ((), np.float32), "yz": ((), np.uint8)}
    model = single_node("QLinearMatMul", ins, {"y": (None, np.uint8)}, opset=21)
    a, bb = _q(rng, (m, k), np.uint8), _q(rng, (k, n), np.uint8)
    az, bz, yz = _q(rng, (m,), np.uint8), _q(rng, (n,), np.uint8), np.array(7, np.uint8)
    as_ = rng.uniform(0.01, 0.05, (m,)).astype(np.float32)
    bs = rng.uniform(0.01, 0.05, (n,)).astype(np.float32)
    ys = np.array(0.05, np.float32)
    got = sunway_runner(model, [a, as_, az, bb, bs, bz, ys, yz])[0].view(np.uint8)
    acc = (a.astype(np.int32) - az[:, None]) @ (bb.astype(np.int32) - bz[None, :])
    mult = (as_[:, None] * bs[None, :]) / ys                        # float32, as the scales
    want = np.clip(np.rint(acc * mult.astype(np.float64)) + 7, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(got, want)
