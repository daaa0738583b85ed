"""Reductions and normalizations (ops/reduce.py, ops/norm.py) over grids of attributes, shapes, dtypes and
opsets, through the FULL path (import, Sunway schedule, emitted C on the host emulator), against onnxruntime.

Tolerances: rtol 1e-4 / atol 1e-5 for float32 unless a case says otherwise (long sums: atol 1e-4).
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from mlir import ir

from swmlir.errors import ImportError_
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.compare import check_against_onnxruntime, run_onnxruntime, sunway_runner
from swmlir.testing.models import single_node

F32, I64 = np.float32, np.int64


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def check(model, feeds, **tol):
    return check_against_onnxruntime(model, feeds, runner=sunway_runner, **tol)


def check_reference(model, feeds, rtol=1e-4, atol=1e-5):
    """Against the ONNX reference implementation, for cases onnxruntime does not implement."""
    from onnx.reference import ReferenceEvaluator
    want = ReferenceEvaluator(model).run(None, feeds)
    got = sunway_runner(model, list(feeds.values()))
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.shape == w.shape
        if w.dtype.kind in "iub":
            np.testing.assert_array_equal(np.asarray(g).view(w.dtype), w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def ties(rng, shape, dtype=F32):
    """Small integers (as `dtype`): many equal values, to exercise tie-breaking."""
    return rng.integers(-3, 4, shape).astype(dtype)


# ================================================================================================ Reduce*
REDUCE_OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
AXES_INPUT_SINCE = {op: (13 if op == "ReduceSum" else 18) for op in REDUCE_OPS}


def reduce_data(op, rng, shape, dtype=F32):
    if op == "ReduceLogSum":  # log of a sum: keep it positive
        return rng.uniform(0.1, 2.0, shape).astype(dtype)
    if op == "ReduceProd":
        return (rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def reduce_model(op, shape, axes, opset, dtype=F32, out_dtype=None, **attrs):
    """axes: None (attribute/input omitted), else a list given as the attribute or as a constant input."""
    inits = {}
    if axes is not None:
        if opset >= AXES_INPUT_SINCE[op]:
            inits["axes"] = np.array(axes, I64)
        else:
            attrs["axes"] = axes
    return single_node(op, {"x": (shape, dtype)}, {"y": (None, out_dtype or dtype)}, opset=opset,
                       initializers=inits, **attrs)


REDUCE_CASES = [  # (axes, keepdims)
    ([1], 1),
    ([0, 2], 0),
    (None, 1),
    (None, 0),  # rank-0 result
    ([-1], 0),
]


@pytest.mark.parametrize("case", REDUCE_CASES, ids=str)
@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce(op, case):
    axes, keepdims = case
    rng = rng_for(op, case)
    shape = (3, 4, 5)
    check(reduce_model(op, shape, axes, 18, keepdims=keepdims), {"x": reduce_data(op, rng, shape)})


@pytest.mark.parametrize("op,opset", [(op, v) for i, op in enumerate(REDUCE_OPS) for v in (7, (11, 13)[i % 2])])
def test_reduce_opsets(op, opset):
    rng = rng_for(op, opset)
    shape = (2, 3, 4)
    axes = [0, -1] if opset >= 11 else [0, 2]
    check(reduce_model(op, shape, axes, opset, keepdims=1), {"x": reduce_data(op, rng, shape)})


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_noop_with_empty_axes(op):
    """No axes and noop_with_empty_axes=1: the per-element formula over one-element groups."""
    rng = rng_for(op, "noop")
    model = reduce_model(op, (3, 4), None, 18, noop_with_empty_axes=1)
    check(model, {"x": reduce_data(op, rng, (3, 4))})


def test_reduce_empty_axes_input_all():
    """An empty `axes` input without noop_with_empty_axes reduces over every dim."""
    rng = rng_for("empty-axes")
    model = reduce_model("ReduceMean", (3, 4), [], 18, keepdims=1)
    check(model, {"x": rng.standard_normal((3, 4)).astype(F32)})


@pytest.mark.parametrize("op,dtype", [(op, np.int32) for op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                                                  "ReduceProd", "ReduceL1", "ReduceSumSquare")]
                         + [("ReduceSum", np.int64), ("ReduceMin", np.int64), ("ReduceMean", np.int64)])
def test_reduce_integer(op, dtype):
    rng = rng_for(op, dtype)
    x = rng.integers(-6, 7, (3, 4, 2)).astype(dtype)
    check(reduce_model(op, (3, 4, 2), [1], 18, dtype=dtype, keepdims=0), {"x": x})


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_reduce_max_min_small_and_unsigned(op, dtype):
    rng = rng_for(op, dtype)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (4, 6), endpoint=True).astype(dtype)
    check(reduce_model(op, (4, 6), [1], 18, dtype=dtype, keepdims=1), {"x": x})


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin"])
def test_reduce_max_min_bool(op):
    x = np.array([[True, True], [True, False], [False, True], [False, False]])
    check(reduce_model(op, (4, 2), [1], 20, dtype=np.bool_, keepdims=1), {"x": x})


def test_reduce_double():
    rng = rng_for("f64")
    x = rng.standard_normal((3, 5)).astype(np.float64)
    check(reduce_model("ReduceLogSumExp", (3, 5), [1], 18, dtype=np.float64, keepdims=0), {"x": x})


def test_reduce_log_sum_exp_large_values():
    """max-subtracted: values whose exp overflows float32 still give finite results."""
    x = np.array([[1000.0, 1000.5, 999.0], [-1000.0, -1001.0, -999.5]], F32)
    check(reduce_model("ReduceLogSumExp", (2, 3), [1], 18, keepdims=1), {"x": x})


def test_reduce_rank0():
    check(reduce_model("ReduceL2", (), None, 18, keepdims=0), {"x": np.array(-3.5, F32)})


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMax", "ReduceLogSumExp"])
def test_reduce_float16(op):
    """float16 sums accumulate in float32."""
    rng = rng_for("f16", op)
    check(reduce_model(op, (4, 50), [1], 18, dtype=np.float16, keepdims=1),
          {"x": rng.standard_normal((4, 50)).astype(np.float16)}, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("case", [((64, 1000), [1]), ((64, 1000), [0]), ((4, 8, 16, 16), [2, 3]),
                                  ((4, 8, 16, 16), [0, 2, 3])], ids=str)
def test_reduce_larger(case):
    shape, axes = case
    rng = rng_for("large", case)
    check(reduce_model("ReduceMean", shape, axes, 18, keepdims=1), {"x": rng.standard_normal(shape).astype(F32)},
          atol=1e-5)
    check(reduce_model("ReduceSum", shape, axes, 13, keepdims=0), {"x": rng.standard_normal(shape).astype(F32)},
          atol=1e-4)


# ================================================================================================ ArgMax / ArgMin
@pytest.mark.parametrize("axis,keepdims,last", [(0, 1, 0), (1, 0, 1), (-1, 1, 1), (2, 0, 0)])
@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_max_min(op, axis, keepdims, last):
    rng = rng_for(op, axis, keepdims, last)
    model = single_node(op, {"x": (3, 4, 5)}, {"y": (None, I64)}, opset=13, axis=axis, keepdims=keepdims,
                        select_last_index=last)
    check(model, {"x": ties(rng, (3, 4, 5))})


@pytest.mark.parametrize("op,opset", [("ArgMax", 7), ("ArgMin", 11), ("ArgMax", 12)])
def test_arg_max_min_opsets(op, opset):
    rng = rng_for(op, opset)
    model = single_node(op, {"x": (4, 6)}, {"y": (None, I64)}, opset=opset, axis=1)
    check(model, {"x": rng.standard_normal((4, 6)).astype(F32)})


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64])
def test_arg_max_min_dtypes(dtype):
    rng = rng_for("argdt", dtype)
    x = rng.integers(0, 9, (5, 7)).astype(dtype)
    for op in ("ArgMax", "ArgMin"):
        check(single_node(op, {"x": ((5, 7), dtype)}, {"y": (None, I64)}, opset=13, axis=1, keepdims=0), {"x": x})


def test_arg_max_larger():
    rng = rng_for("argmax-large")
    model = single_node("ArgMax", {"x": (64, 1000)}, {"y": (None, I64)}, opset=13, axis=1)
    check(model, {"x": rng.standard_normal((64, 1000)).astype(F32)})


# ================================================================================================ CumSum
@pytest.mark.parametrize("axis,exclusive,reverse", [(0, 0, 0), (1, 1, 0), (-1, 0, 1), (2, 1, 1), (1, 0, 0)])
def test_cumsum(axis, exclusive, reverse):
    rng = rng_for("cumsum", axis, exclusive, reverse)
    model = single_node("CumSum", {"x": (3, 4, 5)}, opset=14, initializers={"axis": np.array(axis, np.int64)},
                        exclusive=exclusive, reverse=reverse)
    check(model, {"x": rng.standard_normal((3, 4, 5)).astype(F32)})


@pytest.mark.parametrize("dtype,opset", [(np.int32, 11), (np.int64, 14), (np.float64, 14)])
def test_cumsum_dtypes(dtype, opset):
    rng = rng_for("cumsum", dtype, opset)
    x = rng.integers(-9, 10, (4, 6)).astype(dtype)
    model = single_node("CumSum", {"x": ((4, 6), dtype)}, {"y": (None, dtype)}, opset=opset,
                        initializers={"axis": np.array([1], np.int32)}, reverse=1)
    check(model, {"x": x})


def test_cumsum_long():
    rng = rng_for("cumsum-long")
    model = single_node("CumSum", {"x": (8, 1000)}, opset=14, initializers={"axis": np.array(1, np.int64)})
    check(model, {"x": rng.standard_normal((8, 1000)).astype(F32)}, atol=1e-4)


# ================================================================================================ TopK
def topk_model(shape, k, opset=11, dtype=F32, **attrs):
    outs = {"values": (None, dtype), "indices": (None, I64)}
    if opset >= 10:
        return single_node("TopK", {"x": (shape, dtype)}, outs, opset=opset,
                           initializers={"k": np.array([k], I64)}, **attrs)
    return single_node("TopK", {"x": (shape, dtype)}, outs, opset=opset, k=k, **attrs)


@pytest.mark.parametrize("largest", [1, 0])
@pytest.mark.parametrize("case", [((3, 10), 3, 1), ((3, 10), 10, -1), ((6, 4, 5), 2, 0), ((6, 4, 5), 4, 1),
                                  ((7,), 1, 0)], ids=str)
def test_top_k(case, largest):
    shape, k, axis = case
    rng = rng_for("topk", case, largest)
    check(topk_model(shape, k, axis=axis, largest=largest), {"x": rng.standard_normal(shape).astype(F32)})


@pytest.mark.parametrize("largest", [1, 0])
def test_top_k_ties(largest):
    """Equal values: the lower index comes first."""
    rng = rng_for("topk-ties", largest)
    check(topk_model((4, 9), 5, axis=1, largest=largest), {"x": ties(rng, (4, 9))})


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64, np.float64])
def test_top_k_dtypes(dtype):
    rng = rng_for("topk", dtype)
    x = rng.integers(0, 50, (3, 8)).astype(dtype)
    model = topk_model((3, 8), 3, axis=1, dtype=dtype, opset=24 if dtype == np.uint64 else 11)
    (check_reference if dtype == np.uint64 else check)(model, {"x": x})  # onnxruntime: no TopK-24


@pytest.mark.parametrize("opset", [7, 10])
def test_top_k_opsets(opset):
    rng = rng_for("topk", opset)
    check(topk_model((3, 6), 2, opset=opset, axis=1), {"x": rng.standard_normal((3, 6)).astype(F32)})


def test_top_k_unsorted():
    """sorted=0 leaves the order unspecified: compare as sets."""
    rng = rng_for("topk-unsorted")
    x = rng.standard_normal((3, 8)).astype(F32)
    model = topk_model((3, 8), 4, axis=1, sorted=0)
    want_v, want_i = run_onnxruntime(model, {"x": x})
    got_v, got_i = sunway_runner(model, [x])
    np.testing.assert_allclose(np.sort(got_v, axis=1), np.sort(want_v, axis=1))
    np.testing.assert_array_equal(np.sort(got_i, axis=1), np.sort(want_i, axis=1))


def test_top_k_larger():
    rng = rng_for("topk-large")
    check(topk_model((16, 500), 5, axis=1), {"x": rng.standard_normal((16, 500)).astype(F32)})


# ================================================================================================ Hardmax / LogSoftmax
@pytest.mark.parametrize("case", [(13, 0), (13, 1), (13, -1), (11, 0), (11, 1), (11, 2), (7, 1)], ids=str)
@pytest.mark.parametrize("op", ["Hardmax", "LogSoftmax"])
def test_softmax_family(op, case):
    opset, axis = case
    rng = rng_for(op, case)
    x = ties(rng, (3, 4, 5)) if op == "Hardmax" else rng.standard_normal((3, 4, 5)).astype(F32) * 4
    check(single_node(op, {"x": (3, 4, 5)}, opset=opset, axis=axis), {"x": x})


@pytest.mark.parametrize("op", ["Hardmax", "LogSoftmax"])
def test_softmax_family_default_axis(op):
    rng = rng_for(op, "default")
    for opset in (11, 13):
        check(single_node(op, {"x": (2, 3, 4)}, opset=opset), {"x": rng.standard_normal((2, 3, 4)).astype(F32)})


def test_log_softmax_large_values():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.5, 3.0]], F32)
    check(single_node("LogSoftmax", {"x": (2, 3)}, opset=13), {"x": x})


def test_log_softmax_larger():
    rng = rng_for("lsm-large")
    check(single_node("LogSoftmax", {"x": (64, 1000)}, opset=13), {"x": rng.standard_normal((64, 1000)).astype(F32)})


# ================================================================================================ BatchNormalization
def bn_params(rng, c, extra=()):
    shape = (c, *extra)
    return {"scale": rng.uniform(0.5, 1.5, shape).astype(F32), "B": rng.standard_normal(shape).astype(F32),
            "mean": rng.standard_normal(shape).astype(F32), "var": rng.uniform(0.1, 2.0, shape).astype(F32)}


@pytest.mark.parametrize("case,params", [((15, (2, 3, 4, 5)), "initializers"), ((15, (2, 3, 4, 5)), "inputs"),
                                         ((14, (2, 3)), "inputs"), ((9, (2, 3, 7)), "initializers"),
                                         ((7, (1, 4, 3, 2, 2)), "inputs"), ((15, (2, 16, 9, 9)), "initializers")],
                         ids=str)
def test_batch_norm(case, params):
    opset, shape = case
    rng = rng_for("bn", case, params)
    p = bn_params(rng, shape[1])
    x = rng.standard_normal(shape).astype(F32)
    if params == "initializers":
        model = single_node("BatchNormalization", {"x": shape}, opset=opset, initializers=p, epsilon=1e-3)
        check(model, {"x": x})
    else:
        model = single_node("BatchNormalization", {"x": shape, **{k: v.shape for k, v in p.items()}}, opset=opset,
                            epsilon=1e-3)
        check(model, {"x": x, **p})


@pytest.mark.parametrize("params", ["initializers", "inputs"])
def test_batch_norm_7_not_spatial(params):
    """opset 7, spatial=0: one scale/B/mean/var per activation (C, D1, ...)."""
    rng = rng_for("bn-spatial0", params)
    p = bn_params(rng, 3, (4, 5))
    x = rng.standard_normal((2, 3, 4, 5)).astype(F32)
    if params == "initializers":
        check(single_node("BatchNormalization", {"x": x.shape}, opset=7, initializers=p, spatial=0), {"x": x})
    else:
        model = single_node("BatchNormalization", {"x": x.shape, **{k: v.shape for k, v in p.items()}}, opset=7,
                            spatial=0)
        check(model, {"x": x, **p})


def test_batch_norm_mixed_param_types():
    """opset 15: scale/B (T1) and mean/var (T2) may differ from X (T)."""
    rng = rng_for("bn-mixed")
    p = bn_params(rng, 3)
    p["mean"], p["var"] = p["mean"].astype(np.float64), p["var"].astype(np.float64)
    model = single_node("BatchNormalization", {"x": (2, 3, 4)}, opset=15, initializers=p)
    check_reference(model, {"x": rng.standard_normal((2, 3, 4)).astype(F32)})  # not in onnxruntime


# ============================================================================ Instance / Layer / RMS / Group
@pytest.mark.parametrize("case", [(22, (2, 3, 4, 5)), (7, (1, 2, 6)), (22, (2, 4, 3, 3, 2)), (7, (2, 8, 16, 16))],
                         ids=str)
def test_instance_norm(case):
    opset, shape = case
    rng = rng_for("in", case)
    c = shape[1]
    model = single_node("InstanceNormalization", {"x": shape}, opset=opset, epsilon=1e-4,
                        initializers={"s": rng.uniform(0.5, 1.5, c).astype(F32),
                                      "b": rng.standard_normal(c).astype(F32)})
    check(model, {"x": (rng.standard_normal(shape) * 3 + 1).astype(F32)})


@pytest.mark.parametrize("case", [((2, 3, 4), -1, True), ((2, 3, 4), 1, True), ((2, 3, 4), 0, False),
                                  ((3, 5), -2, True), ((2, 2, 3, 8), 2, False)], ids=str)
def test_layer_norm(case):
    shape, axis, bias = case
    rng = rng_for("ln", case)
    norm_shape = shape[axis:] if axis >= 0 else shape[len(shape) + axis:]
    inits = {"w": rng.uniform(0.5, 1.5, norm_shape).astype(F32)}
    if bias:
        inits["b"] = rng.standard_normal(norm_shape).astype(F32)
    model = single_node("LayerNormalization", {"x": shape}, {"y": shape, "mean": None, "inv": None}, opset=17,
                        initializers=inits, axis=axis, epsilon=1e-3)
    check(model, {"x": (rng.standard_normal(shape) * 2 - 1).astype(F32)})


def test_layer_norm_y_only_broadcast_scale():
    """Only Y requested; Scale given with a leading 1 (broadcast to the normalized shape); Scale as an input."""
    rng = rng_for("ln-y")
    model = single_node("LayerNormalization", {"x": (4, 6, 8), "w": (1, 8)}, {"y": (4, 6, 8)}, opset=17)
    check(model, {"x": rng.standard_normal((4, 6, 8)).astype(F32), "w": rng.standard_normal((1, 8)).astype(F32)})


def test_layer_norm_float16():
    rng = rng_for("ln-f16")
    model = single_node("LayerNormalization", {"x": ((4, 50), np.float16)}, {"y": (None, np.float16)}, opset=17,
                        initializers={"w": rng.uniform(0.5, 1.5, 50).astype(np.float16)})
    check(model, {"x": rng.standard_normal((4, 50)).astype(np.float16)}, rtol=1e-3, atol=1e-3)


def test_layer_norm_larger():
    rng = rng_for("ln-large")
    model = single_node("LayerNormalization", {"x": (8, 64, 256)}, {"y": (8, 64, 256)}, opset=17,
                        initializers={"w": rng.standard_normal(256).astype(F32),
                                      "b": rng.standard_normal(256).astype(F32)})
    check(model, {"x": rng.standard_normal((8, 64, 256)).astype(F32)})


@pytest.mark.parametrize("case", [((2, 3, 8), -1), ((2, 3, 4), 1), ((4, 6), 0)], ids=str)
def test_rms_norm(case):
    shape, axis = case
    rng = rng_for("rms", case)
    norm_shape = shape[axis % len(shape):]
    model = single_node("RMSNormalization", {"x": shape}, {"y": shape}, opset=23, axis=axis, epsilon=1e-4,
                        initializers={"w": rng.uniform(0.5, 1.5, norm_shape).astype(F32)})
    check(model, {"x": rng.standard_normal(shape).astype(F32)})


@pytest.mark.parametrize("case", [((3, 4, 2, 2), 2), ((2, 6, 5), 3), ((2, 8, 4, 4), 8), ((1, 6, 3, 3), 1),
                                  ((2, 32, 8, 8), 4)], ids=str)
def test_group_norm(case):
    shape, groups = case
    rng = rng_for("gn", case)
    c = shape[1]
    model = single_node("GroupNormalization", {"x": shape}, opset=21, num_groups=groups, epsilon=1e-4,
                        initializers={"s": rng.uniform(0.5, 1.5, c).astype(F32),
                                      "b": rng.standard_normal(c).astype(F32)})
    check(model, {"x": rng.standard_normal(shape).astype(F32)})


def test_group_norm_18_per_group_params():
    """GroupNormalization-18: scale and bias per group (onnxruntime implements only 21; compare with numpy)."""
    rng = rng_for("gn18")
    x = rng.standard_normal((2, 6, 3, 3)).astype(F32)
    s, bias = rng.uniform(0.5, 1.5, 3).astype(F32), rng.standard_normal(3).astype(F32)
    model = single_node("GroupNormalization", {"x": (2, 6, 3, 3)}, {"y": None}, opset=18, num_groups=3,
                        initializers={"s": s, "b": bias})
    xg = x.reshape(2, 3, -1).astype(np.float64)
    y = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)
    want = (y * s[None, :, None] + bias[None, :, None]).reshape(x.shape)
    np.testing.assert_allclose(sunway_runner(model, [x])[0], want, rtol=1e-4, atol=1e-5)


# ================================================================================================ LRN / Lp / MVN
@pytest.mark.parametrize("case", [(13, 1, {}), (13, 2, {}), (13, 3, dict(alpha=2e-4, beta=0.5, bias=2.0)),
                                  (7, 4, dict(alpha=1e-2, beta=0.9)), (13, 5, dict(alpha=1e-1)),
                                  (13, 9, dict(alpha=1e-1))], ids=str)
def test_lrn(case):
    opset, size, attrs = case
    rng = rng_for("lrn", case)
    model = single_node("LRN", {"x": (2, 6, 4, 3)}, opset=opset, size=size, **attrs)
    x = rng.standard_normal((2, 6, 4, 3)).astype(F32) * 3
    if size % 2:
        check(model, {"x": x})
    else:  # onnxruntime refuses even sizes (and the ONNX reference loops over N for C): numpy, from the spec
        np.testing.assert_allclose(sunway_runner(model, [x])[0], lrn_numpy(x, size, **attrs), rtol=1e-4, atol=1e-5)


def lrn_numpy(x, size, alpha=1e-4, beta=0.75, bias=1.0):
    """The spec's window: channels [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C)."""
    c = x.shape[1]
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    sq = np.zeros(x.shape, np.float64)
    for k in range(c):
        sq[:, k] = (x[:, max(0, k - lo):min(c, k + hi + 1)].astype(np.float64) ** 2).sum(axis=1)
    return (x / (bias + alpha / size * sq) ** beta).astype(x.dtype)


def test_lrn_larger():
    rng = rng_for("lrn-large")
    check(single_node("LRN", {"x": (1, 64, 28, 28)}, opset=13, size=5),
          {"x": rng.standard_normal((1, 64, 28, 28)).astype(F32)})


@pytest.mark.parametrize("case", [(22, 2, -1), (22, 1, -1), (22, 2, 0), (22, 1, 1), (7, 2, 1), (7, 1, -1)], ids=str)
def test_lp_norm(case):
    opset, p, axis = case
    rng = rng_for("lp", case)
    x = rng.standard_normal((3, 4, 5)).astype(F32)
    x[1, 2, :] = 0.0  # a zero norm along the last axis gives 0
    x[:, 1, :] = 0.0 if axis == 1 else x[:, 1, :]
    check(single_node("LpNormalization", {"x": (3, 4, 5)}, opset=opset, p=p, axis=axis), {"x": x})


@pytest.mark.parametrize("case", [(13, None), (13, [1]), (9, [0, 1, 2, 3]), (13, [2, 3]), (13, [-1])], ids=str)
def test_mvn(case):
    opset, axes = case
    rng = rng_for("mvn", case)
    attrs = {} if axes is None else {"axes": axes}
    check(single_node("MeanVarianceNormalization", {"x": (2, 3, 4, 5)}, opset=opset, **attrs),
          {"x": (rng.standard_normal((2, 3, 4, 5)) * 2 + 1).astype(F32)})


# ================================================================================================ refusals
def import_error(model) -> str:
    with ir.Context():
        with pytest.raises(ImportError_) as e:
            import_onnx(model)
    return str(e.value)


def test_refuse_dynamic_axes():
    model = single_node("ReduceSum", {"x": (3, 4), "axes": ((1,), I64)}, opset=13)
    assert "axes (input #1) must be a constant" in import_error(model)


def test_refuse_dynamic_k():
    model = single_node("TopK", {"x": (3, 4), "k": ((1,), I64)}, {"v": (None, F32), "i": (None, I64)}, opset=11)
    assert "K (input #1) must be a constant" in import_error(model)


def test_refuse_dynamic_cumsum_axis():
    model = single_node("CumSum", {"x": (3, 4), "axis": ((), np.int32)}, opset=14)
    assert "axis (input #1) must be a constant" in import_error(model)


def test_refuse_batch_norm_training():
    rng = rng_for("bn-train")
    model = single_node("BatchNormalization", {"x": (2, 3, 4)}, opset=15, initializers=bn_params(rng, 3),
                        training_mode=1)
    msg = import_error(model)
    assert "training_mode=1" in msg and "BatchNormalization" in msg


def test_refuse_bad_attrs():
    assert "out of range" in import_error(single_node("ReduceSum", {"x": (3, 4)}, opset=11, axes=[2]))
    assert "twice" in import_error(single_node("ReduceMax", {"x": (3, 4)}, opset=11, axes=[1, -1]))
    assert "K=5" in import_error(topk_model((3, 4), 5, axis=1))
    assert "p=3" in import_error(single_node("LpNormalization", {"x": (3, 4)}, opset=22, p=3))
    assert "num_groups=4" in import_error(single_node("GroupNormalization", {"x": (2, 6, 3)}, opset=21, num_groups=4,
                                                      initializers={"s": np.ones(6, F32), "b": np.zeros(6, F32)}))
    assert "floating point" in import_error(
        single_node("ReduceLogSum", {"x": ((3, 4), np.int32)}, {"y": (None, np.int32)}, opset=18))

