"""Shape and data movement ops through the FULL path (import, Sunway schedule, emitted C, host emulator):
Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Gather*, Scatter*, Expand, Tile, Pad, the shape ops that fold
to constants, DepthToSpace, SpaceToDepth, Resize, Upsample, Trilu, EyeLike, OneHot, NonZero.

Compared with onnxruntime: exact for data movement (every dtype), rtol 1e-4 / atol 1e-5 for interpolation
(float32). Parameter inputs (axes, starts, pads, scales, ...) are initializers; gather/scatter indices are tested
both as initializers (static data movement) and as graph inputs (masked reductions).
"""
from __future__ import annotations

import zlib

import numpy as np
import onnx
import pytest
from mlir import ir
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from swmlir.errors import ImportError_
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.compare import check_against_onnxruntime, sunway_runner
from swmlir.testing.models import make_model, single_node

I64 = np.int64


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def sample(rng, shape, dtype=np.float32):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -100
        return rng.integers(lo, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def full_path(model, feeds, **tol):
    return check_against_onnxruntime(model, feeds, runner=sunway_runner, **tol)


def one(op, x_shape, *, opset, dtype=np.float32, init=None, key=None, extra_inputs=None, out_dtype=None, **attrs):
    """A one-node model on input x (of dtype) plus initializers `init`; run against onnxruntime."""
    rng = rng_for(op, x_shape, opset, str(dtype), repr(init), repr(attrs), key)
    inputs = {"x": (x_shape, dtype)}
    feeds = {"x": sample(rng, x_shape, dtype)}
    for name, (shape, dt) in (extra_inputs or {}).items():
        inputs[name] = (shape, dt)
        feeds[name] = sample(rng, shape, dt)
    model = single_node(op, inputs, {"y": (None, out_dtype or dtype)}, opset=opset, initializers=init, **attrs)
    return full_path(model, feeds)


def ints(*v):
    return np.array(v, dtype=I64)


def _id(v):
    return str(v).replace(" ", "")


# ----------------------------------------------------------------------------------------------- Squeeze / Unsqueeze
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("shape,axes", [((1, 3, 1, 5), [0, 2]), ((1, 3, 1, 5), [-2]), ((3, 1), None)], ids=_id)
def test_squeeze(shape, axes, opset):
    if opset < 13:
        attrs = {} if axes is None else {"axes": axes}
        one("Squeeze", shape, opset=opset, **attrs)
    else:
        one("Squeeze", shape, opset=opset, init=None if axes is None else {"axes": np.array(axes, I64)})


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("shape,axes", [((3, 4), [0]), ((3, 4), [1, -1]), ((3, 4, 5), [5, 0, 2])], ids=_id)
def test_unsqueeze(shape, axes, opset):
    if opset < 13:
        one("Unsqueeze", shape, opset=opset, axes=axes)
    else:
        one("Unsqueeze", shape, opset=opset, dtype=np.int32, init={"axes": np.array(axes, I64)})


# ----------------------------------------------------------------------------------------------- Transpose
@pytest.mark.parametrize("shape,perm", [
    ((3, 4), None), ((2, 3, 4), [1, 0, 2]), ((2, 3, 4), [2, 0, 1]), ((2, 3, 4, 5), [0, 2, 3, 1]),
    ((1, 3, 1, 4), [2, 0, 1, 3]),  # only size-1 dims move: a reshape
    ((64, 300), [1, 0]),
], ids=_id)
def test_transpose(shape, perm):
    one("Transpose", shape, opset=13, **({} if perm is None else {"perm": perm}))


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.uint8, np.float16])
def test_transpose_dtypes(dtype):
    one("Transpose", (3, 5, 2), opset=21, dtype=dtype, perm=[2, 0, 1])


# ----------------------------------------------------------------------------------------------- Concat
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_concat(axis, dtype):
    rng = rng_for("concat", axis, str(dtype))
    shapes = {"a": (2, 3, 4), "b": (2, 3, 4), "c": (2, 3, 4)}
    model = single_node("Concat", {n: (s, dtype) for n, s in shapes.items()}, {"y": (None, dtype)}, opset=13,
                        axis=axis)
    full_path(model, {n: sample(rng, s, dtype) for n, s in shapes.items()})


def test_concat_with_constant_and_uneven_sizes():
    rng = rng_for("concat_const")
    model = single_node("Concat", {"a": (2, 3)}, {"y": None}, opset=11, axis=-1,
                        initializers={"w": rng.standard_normal((2, 5)).astype(np.float32)})
    full_path(model, {"a": sample(rng, (2, 3))})


# ----------------------------------------------------------------------------------------------- Split
@pytest.mark.parametrize("case", [
    dict(opset=11, shape=(6, 4), axis=0, split=[2, 4], n=2),
    dict(opset=13, shape=(2, 9), axis=-1, split=[3, 1, 5], n=3),
    dict(opset=13, shape=(4, 6), axis=1, split=None, n=3),
    dict(opset=18, shape=(2, 7), axis=1, num_outputs=3, n=3),
], ids=lambda c: f"opset{c['opset']}-{c.get('split') or c.get('num_outputs')}")
def test_split(case):
    rng = rng_for("split", repr(case))
    outs = {f"y{i}": None for i in range(case["n"])}
    attrs = {"axis": case["axis"]}
    init = None
    if case.get("split") is not None:
        if case["opset"] < 13:
            attrs["split"] = case["split"]
        else:
            init = {"split": np.array(case["split"], I64)}
    if "num_outputs" in case:
        attrs["num_outputs"] = case["num_outputs"]
    model = single_node("Split", {"x": case["shape"]}, outs, opset=case["opset"], initializers=init, **attrs)
    full_path(model, {"x": sample(rng, case["shape"])})


# ----------------------------------------------------------------------------------------------- Slice
SLICES = [
    # starts, ends, axes, steps
    ([1, 0], [3, 4], None, None),
    ([0, 1], [-1, 1000], [0, 2], [2, 3]),
    ([-1], [-1000], [1], [-1]),
    ([8, 5], [1, -7], [2, 0], [-3, -2]),
    ([2, -3, 0], [2 ** 63 - 1, -1, 9], [0, 1, 2], [1, 1, 4]),
    ([-100], [3], [-1], [1]),
]


@pytest.mark.parametrize("spec", SLICES, ids=_id)
def test_slice(spec):
    starts, ends, axes, steps = spec
    init = {"starts": np.array(starts, I64), "ends": np.array(ends, I64)}
    if axes is not None:
        init["axes"] = np.array(axes, I64)
    if steps is not None:
        init["steps"] = np.array(steps, I64)
    one("Slice", (6, 7, 10), opset=13, init=init)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_slice_dtypes(dtype):
    one("Slice", (5, 8), opset=13, dtype=dtype,
        init={"starts": ints(4, 1), "ends": ints(0, 8), "axes": ints(0, 1), "steps": ints(-2, 3)})


def test_slice_opset9_attributes():
    one("Slice", (6, 7), opset=9, starts=[1, -3], ends=[5, 100], axes=[0, 1])


def test_slice_large_reverse():
    one("Slice", (3, 300), opset=13, init={"starts": ints(-1), "ends": ints(-(2 ** 63)), "axes": ints(1),
                                           "steps": ints(-1)})


# ----------------------------------------------------------------------------------------------- Gather
GATHER = [
    (0, [3, 0, 4]), (1, [[0, -1], [2, 2]]), (-1, 3), (0, [4, 3, 2, 1, 0]), (2, [0, 1, 2, 3, 4, 5][::2]),
    (1, [1, 1, 1, 0]),
]


@pytest.mark.parametrize("axis,indices", GATHER, ids=_id)
def test_gather_constant_indices(axis, indices):
    one("Gather", (5, 4, 6), opset=13, init={"i": np.array(indices, I64)}, axis=axis)


@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("axis", [0, 1])
def test_gather_runtime_indices(axis, itype):
    rng = rng_for("gather_rt", axis, str(itype))
    model = single_node("Gather", {"x": (5, 4), "i": ((2, 3), itype)}, {"y": None}, opset=13, axis=axis)
    n = (5, 4)[axis]
    full_path(model, {"x": sample(rng, (5, 4)), "i": rng.integers(-n, n, (2, 3)).astype(itype)})


def test_gather_runtime_scalar_index():
    model = single_node("Gather", {"x": ((4, 5), np.int32), "i": ((), I64)}, {"y": (None, np.int32)}, opset=13,
                        axis=1)
    full_path(model, {"x": sample(rng_for("gather_scalar"), (4, 5), np.int32), "i": np.array(-2, I64)})


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16])
def test_gather_dtypes(dtype):
    one("Gather", (6, 3), opset=13, dtype=dtype, init={"i": ints(5, 0, 5, 2)}, axis=0)


def test_gather_irregular_long_axis():
    """Irregular indices over a long axis: more runs than allowed, so a masked reduction with constant indices."""
    rng = rng_for("gather_irregular")
    one("Gather", (4, 500), opset=13, init={"i": rng.integers(0, 500, 200).astype(I64)}, axis=1)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("constant", [True, False])
def test_gather_elements(axis, constant):
    rng = rng_for("gather_elements", axis, constant)
    idx = rng.integers(-3, 3, (2, 3)).astype(I64)
    if constant:
        model = single_node("GatherElements", {"x": (3, 4)}, {"y": None}, opset=13, initializers={"i": idx},
                            axis=axis)
        full_path(model, {"x": sample(rng, (3, 4))})
    else:
        model = single_node("GatherElements", {"x": (3, 4), "i": ((2, 3), I64)}, {"y": None}, opset=13, axis=axis)
        full_path(model, {"x": sample(rng, (3, 4)), "i": idx})


def test_gather_elements_regular_constant():
    """Indices that read contiguous rows: a static copy."""
    idx = np.tile(np.array([[2], [0], [1]], I64), (1, 5))
    one("GatherElements", (3, 5), opset=13, init={"i": idx}, axis=0)


@pytest.mark.parametrize("case", [
    dict(data=(2, 3, 4), idx=[[0, 1], [1, 2]], bd=0),
    dict(data=(2, 3, 4), idx=[[[1]], [[-1]]], bd=0),
    dict(data=(2, 3, 4), idx=[[1, 3], [2, 0]], bd=1),
    dict(data=(3, 4), idx=[[2, 3], [0, 0], [1, 2]], bd=0),
], ids=lambda c: f"{c['data']}-{np.shape(c['idx'])}-b{c['bd']}")
@pytest.mark.parametrize("constant", [True, False])
def test_gather_nd(case, constant):
    rng = rng_for("gathernd", repr(case), constant)
    idx = np.array(case["idx"], I64)
    if constant:
        model = single_node("GatherND", {"x": (case["data"], np.int32)}, {"y": (None, np.int32)}, opset=13,
                            initializers={"i": idx}, batch_dims=case["bd"])
        full_path(model, {"x": sample(rng, case["data"], np.int32)})
    else:
        model = single_node("GatherND", {"x": case["data"], "i": (idx.shape, I64)}, {"y": None}, opset=13,
                            batch_dims=case["bd"])
        full_path(model, {"x": sample(rng, case["data"]), "i": idx})


# ----------------------------------------------------------------------------------------------- Scatter
@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
@pytest.mark.parametrize("constant", [True, False])
def test_scatter_elements(reduction, constant):
    rng = rng_for("scatter_elements", reduction, constant)
    # unique targets per column for 'none' (duplicates are unordered in ONNX)
    idx = np.stack([rng.permutation(4)[:3] for _ in range(2)], axis=1).astype(I64)
    if reduction != "none":
        idx[2, 0] = idx[0, 0]
    idx[1, 1] -= 4  # a negative index
    upd = sample(rng, (3, 2))
    ins = {"x": (4, 3), "u": (3, 2)}
    feeds = {"x": sample(rng, (4, 3)), "u": upd}
    if constant:
        model = single_node("ScatterElements", ins, {"y": None}, opset=18, initializers={"i": idx},
                            node_inputs=["x", "i", "u"], axis=0, reduction=reduction)
    else:
        ins = {"x": (4, 3), "i": ((3, 2), I64), "u": (3, 2)}
        feeds["i"] = idx
        model = single_node("ScatterElements", ins, {"y": None}, opset=18, axis=0, reduction=reduction)
    full_path(model, feeds)


@pytest.mark.parametrize("dtype", [np.int32, np.bool_])
def test_scatter_elements_axis1_dtypes(dtype):
    rng = rng_for("scatter_elements_axis1", str(dtype))
    idx = np.array([[3, 0], [1, 4]], I64)
    model = single_node("ScatterElements", {"x": ((2, 5), dtype), "u": ((2, 2), dtype)}, {"y": (None, dtype)},
                        opset=13,
                        initializers={"i": idx}, node_inputs=["x", "i", "u"], axis=1)
    full_path(model, {"x": sample(rng, (2, 5), dtype), "u": sample(rng, (2, 2), dtype)})


def test_scatter_opset10():
    rng = rng_for("scatter10")
    model = single_node("Scatter", {"x": (3, 3), "i": ((2, 3), I64), "u": (2, 3)}, {"y": None}, opset=10)
    full_path(model, {"x": sample(rng, (3, 3)), "i": np.array([[1, 0, 2], [0, 2, 1]], I64),
                      "u": sample(rng, (2, 3))})


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_nd(reduction):
    rng = rng_for("scatternd", reduction)
    idx = np.array([[0], [2]], I64) if reduction == "none" else np.array([[0], [2], [0]], I64)
    upd = sample(rng, (len(idx), 3, 4))
    model = single_node("ScatterND", {"x": (4, 3, 4), "i": (idx.shape, I64), "u": upd.shape}, {"y": None},
                        opset=18, reduction=reduction)
    full_path(model, {"x": sample(rng, (4, 3, 4)), "i": idx, "u": upd})


def test_scatter_nd_elements_constant_indices():
    rng = rng_for("scatternd_elements")
    idx = np.array([[0, 1], [2, -1], [1, 0]], I64)
    model = single_node("ScatterND", {"x": ((3, 4), np.int64), "u": ((3,), np.int64)}, {"y": (None, np.int64)},
                        opset=13,
                        initializers={"i": idx}, node_inputs=["x", "i", "u"])
    full_path(model, {"x": sample(rng, (3, 4), np.int64), "u": sample(rng, (3,), np.int64)})


# ----------------------------------------------------------------------------------------------- Expand / Tile
@pytest.mark.parametrize("shape,target", [((3, 1), [2, 3, 4]), ((3, 1), [3, 1]), ((1, 4), [3, 1]), ((), [2, 2])],
                         ids=_id)
@pytest.mark.parametrize("dtype", [np.float32, np.bool_])
def test_expand(shape, target, dtype):
    one("Expand", shape, opset=13, dtype=dtype, init={"s": np.array(target, I64)})


@pytest.mark.parametrize("shape,reps", [((2, 3), [2, 3]), ((2, 3, 4), [1, 2, 1]), ((5,), [1]), ((1, 4), [3, 1])],
                         ids=_id)
def test_tile(shape, reps):
    one("Tile", shape, opset=13, dtype=np.int64, init={"r": np.array(reps, I64)})


# ----------------------------------------------------------------------------------------------- Pad
PADS = [
    ("constant", [0, 1, 2, 0, 3, 1]),
    ("constant", [1, -1, 0, 0, 2, -2]),
    ("reflect", [1, 2, 0, 2, 1, 3]),
    ("edge", [2, 0, 1, 0, 3, 2]),
    ("wrap", [1, 3, 2, 2, 1, 4]),
]


@pytest.mark.parametrize("mode,pads", PADS, ids=_id)
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_pad(mode, pads, dtype):
    init = {"p": np.array(pads, I64)}
    if mode == "constant":
        init["v"] = np.array(2.5 if dtype == np.float32 else 7, dtype)
    one("Pad", (3, 4, 5), opset=19, dtype=dtype, init=init, mode=mode)


def test_pad_axes():
    one("Pad", (2, 3, 4), opset=18, init={"p": ints(1, 2, 0, 1), "v": np.array(-1.0, np.float32),
                                          "a": ints(-1, 0)}, mode="constant")


def test_pad_runtime_value():
    rng = rng_for("pad_rt")
    model = single_node("Pad", {"x": (2, 3), "v": ((), np.float32)}, {"y": None}, opset=13,
                        initializers={"p": ints(1, 0, 2, 1)}, node_inputs=["x", "p", "v"])
    full_path(model, {"x": sample(rng, (2, 3)), "v": np.array(9.0, np.float32)})


def test_pad_opset7_attribute():
    one("Pad", (1, 2, 4, 4), opset=7, pads=[0, 0, 1, 2, 0, 0, 2, 1], mode="reflect")


def test_pad_reflect_image():
    one("Pad", (1, 8, 32, 32), opset=13, init={"p": ints(0, 0, 3, 3, 0, 0, 3, 3)}, mode="reflect")


# ----------------------------------------------------------------------------------------------- constant folding
def test_shape_subgraph_folds():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and Size: all constants at import."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], start=1),
        helper.make_node("Gather", ["s", "i0"], ["d"], axis=0),
        helper.make_node("Unsqueeze", ["d", "ax"], ["du"]),
        helper.make_node("Concat", ["du", "m1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Size", ["x"], ["n"]),
        helper.make_node("Cast", ["n"], ["nf"], to=onnx.TensorProto.FLOAT),
        helper.make_node("Mul", ["r", "nf"], ["y"]),
    ]
    model = make_model(nodes, {"x": (2, 3, 4)}, {"y": (None, np.float32)}, opset=15,
                       initializers={"i0": np.array(1, I64), "ax": ints(0), "m1": ints(-1)})
    with ir.Context():
        module, _ = import_onnx(model)
        text = str(module)
    assert "-> tensor<4x6xf32>" in text and "arith.constant dense<24> : tensor<i64>" in text
    full_path(model, {"x": sample(rng_for("shape_fold"), (2, 3, 4))})


def test_constant_of_shape_range_eyelike_nonzero_fold():
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["c"], value=numpy_helper.from_array(np.array([1.5],
                                                                                                      np.float32))),
        helper.make_node("Range", ["r0", "r1", "r2"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=onnx.TensorProto.FLOAT),
        helper.make_node("Add", ["c", "rf"], ["cr"]),
        helper.make_node("EyeLike", ["x"], ["e"], k=1),
        helper.make_node("Add", ["cr", "e"], ["a"]),
        helper.make_node("NonZero", ["nz"], ["z"]),
        helper.make_node("Shape", ["z"], ["zs"]),
        helper.make_node("Cast", ["zs"], ["zf"], to=onnx.TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["zf"], ["zsum"], keepdims=0),
        helper.make_node("Add", ["a", "zsum"], ["b"]),
        helper.make_node("Mul", ["b", "x"], ["y"]),
    ]
    model = make_model(nodes, {"x": (3, 4)}, {"y": (None, np.float32)}, opset=13,
                       initializers={"shape": ints(3, 4), "r0": np.array(10, np.int32), "r1": np.array(2, np.int32),
                                     "r2": np.array(-2, np.int32),
                                     "nz": np.array([[1, 0, 2], [0, 0, 3]], np.int32)})
    full_path(model, {"x": sample(rng_for("fold2"), (3, 4))})


@pytest.mark.parametrize("k,dtype", [(0, None), (-1, onnx.TensorProto.INT32), (2, onnx.TensorProto.DOUBLE)])
def test_eyelike(k, dtype):
    attrs = {"k": k}
    if dtype is not None:
        attrs["dtype"] = dtype
    nodes = [helper.make_node("EyeLike", ["x"], ["y"], **attrs)]
    out_dt = {None: np.float32, onnx.TensorProto.INT32: np.int32, onnx.TensorProto.DOUBLE: np.float64}[dtype]
    model = make_model(nodes, {"x": (3, 5)}, {"y": ((3, 5), out_dt)}, opset=22)
    full_path(model, {"x": sample(rng_for("eye"), (3, 5))})


# ----------------------------------------------------------------------------------------------- DepthToSpace
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("opset", [13, 28])
def test_depth_to_space(mode, opset):
    if opset < 11 and mode == "CRD":
        pytest.skip("no mode before 11")
    one("DepthToSpace", (2, 8, 3, 4), opset=opset, blocksize=2, mode=mode)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_space_to_depth(mode):
    one("SpaceToDepth", (2, 3, 4, 6), opset=28, blocksize=2, mode=mode)


def test_space_to_depth_opset13():
    one("SpaceToDepth", (1, 2, 6, 9), opset=13, blocksize=3)


# ----------------------------------------------------------------------------------------------- Trilu / OneHot
@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, -1, 2])
def test_trilu(upper, k):
    one("Trilu", (2, 4, 5), opset=14, dtype=np.int64, upper=upper,
        init=None if k is None else {"k": np.array(k, I64)})


def test_trilu_runtime_k():
    rng = rng_for("trilu_rt")
    model = single_node("Trilu", {"x": (4, 6), "k": ((), I64)}, {"y": None}, opset=14, upper=0)
    full_path(model, {"x": sample(rng, (4, 6)), "k": np.array(-2, I64)})


def against_reference(model, feeds):
    """Exact comparison with the ONNX reference evaluator (type combinations onnxruntime has no kernel for)."""
    want = ReferenceEvaluator(model).run(None, feeds)
    got = sunway_runner(model, [feeds[i.name] for i in model.graph.input])
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g.view(w.dtype) if g.dtype != w.dtype else g, w)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("itype", [np.int64, np.float32, np.int32, np.uint8])
def test_onehot(axis, itype):
    rng = rng_for("onehot", axis, str(itype))
    lo = 0 if itype == np.uint8 else -5
    idx = rng.integers(lo, 7, (2, 3)).astype(itype)  # negative and out-of-range indices
    model = single_node("OneHot", {"i": ((2, 3), itype)}, {"y": None}, opset=11, axis=axis,
                        initializers={"depth": np.array(5, I64), "values": np.array([0.5, 3.0], np.float32)})
    against_reference(model, {"i": idx})


def test_onehot_runtime_values():
    model = single_node("OneHot", {"i": ((4,), I64), "v": ((2,), np.int32)}, {"y": (None, np.int32)}, opset=11,
                        initializers={"depth": np.array(3.0, np.float32)}, node_inputs=["i", "depth", "v"])
    against_reference(model, {"i": np.array([0, 2, -1, 1], I64), "v": np.array([-4, 8], np.int32)})


# ----------------------------------------------------------------------------------------------- Resize / Upsample
def resize(x_shape, *, opset=19, scales=None, sizes=None, roi=None, dtype=np.float32, reference=False, **attrs):
    init = {}
    names = ["x", "", "", ""]
    if roi is not None:
        init["roi"] = np.array(roi, np.float32)
        names[1] = "roi"
    if scales is not None:
        init["scales"] = np.array(scales, np.float32)
        names[2] = "scales"
    if sizes is not None:
        init["sizes"] = np.array(sizes, I64)
        names[3] = "sizes"
    while names[-1] == "":
        names.pop()
    if opset == 10:
        names = ["x", "scales"]
    elif opset == 11 and not names[1]:  # roi is not optional at opset 11
        init["roi"] = np.zeros(0, np.float32)
        names[1] = "roi"
    model = single_node("Resize", {"x": (x_shape, dtype)}, {"y": (None, dtype)}, opset=opset, initializers=init,
                        node_inputs=names, **attrs)
    rng = rng_for("resize", x_shape, opset, repr(scales), repr(sizes), repr(roi), repr(attrs))
    feeds = {"x": sample(rng, x_shape, dtype)}
    if reference:
        want = ReferenceEvaluator(model).run(None, feeds)[0]
        np.testing.assert_allclose(sunway_runner(model, [feeds["x"]])[0], want, rtol=1e-4, atol=1e-5)
    else:
        full_path(model, feeds)


NEAREST = [
    dict(scales=[1, 1, 2, 3]),
    dict(scales=[1, 1, 0.5, 0.6], nearest_mode="floor", coordinate_transformation_mode="asymmetric"),
    dict(sizes=[1, 2, 7, 5], nearest_mode="ceil", coordinate_transformation_mode="half_pixel"),
    dict(sizes=[1, 2, 9, 10], nearest_mode="round_prefer_ceil", coordinate_transformation_mode="align_corners"),
    dict(sizes=[1, 2, 3, 13], coordinate_transformation_mode="pytorch_half_pixel"),
]


@pytest.mark.parametrize("case", NEAREST, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_resize_nearest(case):
    resize((1, 2, 4, 5), mode="nearest", **case)


LINEAR = [
    dict(scales=[1, 1, 2, 2]),
    dict(sizes=[1, 2, 3, 8], coordinate_transformation_mode="align_corners"),
    dict(sizes=[1, 2, 3, 8], coordinate_transformation_mode="asymmetric"),
    dict(sizes=[1, 2, 1, 7], coordinate_transformation_mode="pytorch_half_pixel"),
    dict(scales=[1, 1, 2.5, 0.5], coordinate_transformation_mode="half_pixel_symmetric"),
]


@pytest.mark.parametrize("case", LINEAR, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_resize_linear(case):
    resize((1, 2, 4, 5), mode="linear", **case)


@pytest.mark.parametrize("case", [
    dict(scales=[1, 1, 2, 1.5]),
    dict(sizes=[1, 1, 3, 9], cubic_coeff_a=-0.5, exclude_outside=1),
    dict(scales=[1, 1, 0.5, 0.6], antialias=1),
], ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_resize_cubic(case):
    resize((1, 1, 6, 7), mode="cubic", **case)


def test_resize_align_corners_fractional_scale():
    """align_corners with a scale whose output length is fractional: the ONNX reference divides by
    scale * length - 1 (which we follow), onnxruntime by the rounded output length - 1."""
    resize((1, 2, 4, 5), mode="linear", scales=[1, 1, 0.6, 1.5], coordinate_transformation_mode="align_corners",
           reference=True)


def test_resize_linear_antialias():
    resize((1, 1, 8, 9), mode="linear", sizes=[1, 1, 3, 4], antialias=1)


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
def test_resize_keep_aspect_ratio(policy):
    resize((1, 1, 4, 6), mode="nearest", sizes=[6, 6], axes=[2, 3], keep_aspect_ratio_policy=policy)


def test_resize_axes_reversed():
    resize((1, 3, 4, 4), mode="linear", scales=[1.5, 2.0], axes=[3, 2])


def test_resize_tf_crop_and_resize():
    resize((1, 1, 5, 5), mode="linear", sizes=[1, 1, 4, 4], roi=[0, 0, 0.2, -0.1, 1, 1, 0.9, 1.3],
           coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=5.0)


def test_resize_integer_nearest():
    resize((1, 2, 3, 4), mode="nearest", scales=[1, 1, 2, 0.5], dtype=np.int32)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_opset10(mode):
    resize((1, 1, 4, 10), opset=10, mode=mode, scales=[1, 1, 0.6, 1.7])


def test_resize_opset11_tf_half_pixel_for_nn():
    resize((1, 1, 4, 6), opset=11, mode="nearest", scales=[1, 1, 2, 1.5],
           coordinate_transformation_mode="tf_half_pixel_for_nn")


def test_resize_bilinear_image():
    resize((1, 3, 32, 32), mode="linear", scales=[1, 1, 2, 2])


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample(mode):
    rng = rng_for("upsample", mode)
    model = single_node("Upsample", {"x": (1, 1, 3, 4)}, {"y": None}, opset=9, mode=mode,
                        initializers={"s": np.array([1, 1, 2, 2.5], np.float32)})
    full_path(model, {"x": sample(rng, (1, 1, 3, 4))})


def test_upsample_opset7_attribute():
    one("Upsample", (1, 2, 2, 3), opset=7, mode="nearest", scales=[1.0, 1.0, 3.0, 2.0])


# ----------------------------------------------------------------------------------------------- refusals
def _import_error(model):
    with ir.Context():
        with pytest.raises(ImportError_) as e:
            import_onnx(model)
    return str(e.value)


@pytest.mark.parametrize("op,inputs,init,attrs,message", [
    ("NonZero", {"x": (2, 3)}, None, {}, "NonZero of a value computed at run time is not supported: the input 'x'"),
    ("Slice", {"x": (4,), "s": ((1,), I64)}, {"e": ints(3)}, {}, "starts input 's' must be a constant"),
    ("Resize", {"x": (1, 1, 2, 2), "sc": ((4,), np.float32)}, None, {}, "scales input 'sc' must be a constant"),
    ("Pad", {"x": (3,)}, {"p": ints(1, 1)}, {"mode": "wrap"}, "mode 'wrap' is not supported at opset 18"),
    ("Upsample", {"x": (1, 1, 2, 2)}, {"s": np.array([1, 1, 2, 2], np.float32)}, {}, "deprecated since opset 10"),
], ids=lambda v: v if isinstance(v, str) and v[0].isupper() else None)
def test_refused(op, inputs, init, attrs, message):
    opset = {"Pad": 18, "Upsample": 10, "Resize": 13}.get(op, 13)
    names = list(inputs) + list(init or {})
    if op == "Slice":
        names = ["x", "s", "e"]
    if op == "Resize":
        names = ["x", "", "sc"]
    model = single_node(op, inputs, {"y": None}, opset=opset, initializers=init, node_inputs=names, **attrs)
    assert message in _import_error(model)


def test_resize_cubic_integer_refused():
    model = single_node("Resize", {"x": ((1, 1, 2, 2), np.int32)}, {"y": None}, opset=13, mode="cubic",
                        initializers={"s": np.array([1, 1, 2, 2], np.float32)}, node_inputs=["x", "", "s"])
    assert "needs a floating-point input" in _import_error(model)


# ----------------------------------------------------------------------------------------------- Identity
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint16, np.bool_, np.float64])
def test_identity_dtypes(dtype):
    one("Identity", (3, 4), opset=21, dtype=dtype)
