"""Convs and pools reading their unpadded input with its halo (passes/fetch_halos.py): no pad kernel, results
unchanged (onnxruntime) over pads (symmetric, asymmetric, large), strides, kernel sizes, dilations, pad values
(a max pool's -inf), windows that tile the rows, and the halo geometry itself."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.compiler import lower_to_stage
from swmlir.schedule.pads import halo_geometry


def _conv_model(c, h, w, oc, k, pads, strides=(1, 1), dilations=(1, 1), group=1, pool=None):
    rng = np.random.default_rng(1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    if pool:
        node = helper.make_node(pool, ["x"], ["y"], name="p0", kernel_shape=[k, k], pads=pads, strides=strides)
        inits = []
    else:
        wt = rng.standard_normal((oc, c // group, k, k)).astype(np.float32) * 0.1
        b = rng.standard_normal(oc).astype(np.float32)
        inits = [numpy_helper.from_array(wt, "w"), numpy_helper.from_array(b, "b")]
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c0", kernel_shape=[k, k], pads=pads,
                                strides=strides, dilations=dilations, group=group)
    g = helper.make_graph([node], "g", [x], [y], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _has_pad_kernel(model) -> bool:
    ctx, module, _ = lower_to_stage(model, "schedule")
    with ctx:
        text = str(module)
    return "tensor.pad" in text or ".pad\"" in text


@pytest.mark.parametrize("args,kw", [
    ((16, 32, 32, 16, 3, [1, 1, 1, 1]), {}),
    ((8, 30, 40, 16, 3, [2, 0, 1, 3]), {}),                        # asymmetric pads
    ((8, 33, 29, 8, 5, [2, 2, 2, 2]), {}),                         # odd sizes, a 5x5 window
    ((8, 32, 32, 16, 3, [1, 1, 1, 1]), {"strides": (2, 2)}),
    ((8, 32, 32, 8, 3, [2, 2, 2, 2]), {"dilations": (2, 2)}),
    ((16, 32, 32, 16, 3, [1, 1, 1, 1]), {"group": 16}),          # depthwise
    ((8, 40, 40, 0, 3, [1, 1, 1, 1]), {"pool": "MaxPool"}),       # pad value -inf
    ((8, 40, 40, 0, 3, [1, 1, 1, 1]), {"pool": "AveragePool"}),
])
def test_halo_matches_onnxruntime(args, kw):
    model = _conv_model(*args, **kw)
    if not kw.get("strides"):
        assert not _has_pad_kernel(model)
    x = np.random.default_rng(0).standard_normal((1, args[0], args[1], args[2])).astype(np.float32)
    got = swmlir.compile(model).run({"x": x})[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, {"x": x})[0], rtol=1e-4, atol=1e-4)


def test_pad_kernel_kept_where_copies_cost_more():
    """256 output channels over 14-float rows: every window is copied by 64 work items, in short rows; one pad
    kernel is cheaper (passes/schedule.py _halo_pays). 16 output channels: the halo pays."""
    assert _has_pad_kernel(_conv_model(256, 14, 14, 256, 3, [1, 1, 1, 1]))
    assert not _has_pad_kernel(_conv_model(256, 14, 14, 16, 3, [1, 1, 1, 1]))


@pytest.mark.parametrize("size,window,lo,hi", [(56, 9, 1, 1), (56, 58, 1, 1), (8, 6, 1, 1), (30, 5, 2, 0),
                                               (7, 12, 3, 2), (16, 16, 0, 0)])
def test_halo_geometry_lands_inside(size, window, lo, hi):
    """For every window offset o over the padded dimension, the clamped box lands inside the tile and the window
    read at E covers exactly the source rows it should."""
    f, e, t = halo_geometry(size, window, lo, hi)
    padded = size + lo + hi
    for o in range(0, padded - window + 1):
        s = min(max(o - lo, 0), size - f)
        t0 = s - (o - lo) + e
        assert 0 <= t0 and t0 + f <= t
        assert e + window <= t
        for j in range(window):           # the window's row j is source row o - lo + j, or padding
            src = o - lo + j
            landed = e + j - t0 + s       # the source row that landed at tile row e + j (if any)
            if 0 <= src < size:
                assert landed == src and 0 <= e + j - t0 < f
            else:
                assert not (0 <= e + j - t0 < f)
