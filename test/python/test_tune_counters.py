"""The compiler's DMA counts of a configuration (swmlir.tune.cost.predicted_dma, the bytes and requests the
analytic cost charges) against the emulator's exact counters of the compiled kernel."""
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.tune.cost import group_model, predicted_dma
from swmlir.tune.hook import using


def _matmul(m, n, k):
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((k, n)).astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


class _Probe:
    """Applies one configuration to the matmul group and records what the compiler predicts for it."""

    def __init__(self, forall, reduction):
        self.forall, self.reduction, self.predicted, self.choice = forall, reduction, None, None

    def tiles_for(self, g, tgt, signature, heuristic):
        model = group_model(g, tgt)
        if model.kind != "matmul":
            return None
        self.choice = model.choice(self.forall, self.reduction)
        assert self.choice is not None, "the configuration must fit"
        self.predicted = predicted_dma(model, self.choice)
        return self.choice


@pytest.mark.parametrize("target, forall, reduction", [
    ("sw26010pro", [16, 64, 0], [0, 0, 0]),      # one step, 32 work items
    ("sw26010pro", [32, 32, 0], [0, 0, 64]),     # split-K, 4 steps (double-buffered)
    ("sw26010", [16, 32, 0], [0, 0, 32]),        # split-K on SW26010: tiles shared over the mesh when costed so
    ("sw26010", [4, 32, 0], [0, 0, 0]),          # 256 work items: the B tile hoisted out of the work-item loop
])
def test_predicted_dma_matches_emulator(tmp_path, target, forall, reduction):
    probe = _Probe(forall, reduction)
    with using(probe):
        m = swmlir.compile(_matmul(128, 256, 256), target)
    stats = tmp_path / "stats.json"
    with m:
        m.run({"x": np.ones((128, 256), np.float32)}, stats_json=str(stats))
    launches = [l for l in json.loads(stats.read_text())["launches"] if "mm" in l["kernel"]]
    assert len(launches) == 1
    got = launches[0]
    # every CPE fetches the kernel's argument struct (8 bytes per argument: x, w, y) by one DMA at entry
    args_bytes, args_requests = 64 * 8 * 3, 64
    want = probe.predicted
    assert got["get_bytes"] - args_bytes == want["get_bytes"]
    assert got["put_bytes"] == want["put_bytes"]
    assert got["get_requests"] - args_requests == want["get_requests"]
    # sunway-stream-puts (on the kernel's loops, after the schedule the prediction is about) puts a work item's
    # output tile in two halves where it is the kernel's last write: one request each here, same bytes and blocks
    (mix,) = [x for k, x in m.kernel_mix.items() if "mm" in k]
    halves = 2 if mix["streamed_puts"] and mix["streamed_puts"] == mix["put_ops"] else 1
    assert got["put_requests"] == want["put_requests"] * halves
