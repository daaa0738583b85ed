"""The tile search runs once per distinct group signature: repeated blocks reuse the tiles (compile time), and
the schedule is the same as searching each group on its own."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

import swmlir.passes.schedule as schedule
from swmlir.compiler import lower_to_stage


def _chain(n):
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for i in range(n):
        inits.append(numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32), f"w{i}"))
        nodes += [helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"], name=f"mm{i}"),
                  helper.make_node("Relu", [f"m{i}"], [f"r{i}"], name=f"relu{i}")]
        x = f"r{i}"
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [128, 64])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [128, 64])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _tiles(model):
    ctx, module, _ = lower_to_stage(model, "schedule")
    with ctx:
        return [line.split('swmlir.tiles = "')[1].split('"')[0] for line in str(module).splitlines()
                if "swmlir.tiles" in line and "swmlir.group" in line]


def test_repeated_groups_are_searched_once(monkeypatch):
    calls = []
    search = schedule._search_tiles
    monkeypatch.setattr(schedule, "_search_tiles", lambda *a: calls.append(1) or search(*a))
    schedule._TILE_MEMO.clear()
    tiles = _tiles(_chain(4))
    assert len(tiles) == 4 and len(set(tiles)) == 1
    first = len(calls)
    assert 1 <= first < 4             # the first matmul+relu searched, the other three reused
    schedule._TILE_MEMO.clear()
    monkeypatch.setattr(schedule, "_signature", lambda g, *a: id(g))   # no reuse: every group searched
    assert _tiles(_chain(4)) == tiles
    assert len(calls) > first
