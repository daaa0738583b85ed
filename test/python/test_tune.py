"""swmlir tune: the searches on synthetic spaces with a known optimum, the database, the hook and the CLI."""
import json
import math

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.tune.baselines import anneal, exhaustive, random_search, xgb_search
from swmlir.tune.db import TuningDB, TuningDBError
from swmlir.tune.driver import group_space, state_of, tune_model
from swmlir.tune.gbfs import gbfs
from swmlir.tune.hook import using
from swmlir.tune.na2c import na2c
from swmlir.tune.space import Space


def _synthetic():
    """Three loops of 256, 128 and 64 (the last a reduction): a tiling-like cost (a work term falling with the
    tile volume, a penalty for too few work items, a reduction-step overhead) under a volume budget; its optimum
    is not at a corner, and illegal states raise if costed."""
    sizes, parallel = [256, 128, 64], [True, True, False]

    def legal(s):
        t = [v if v else n for v, n in zip(s, sizes)]
        return t[0] * t[2] + t[2] * t[1] + t[0] * t[1] <= 6000

    def cost(s):
        assert legal(s), "an illegal state was costed"
        t = [v if v else n for v, n in zip(s, sizes)]
        items = (256 // t[0]) * (128 // t[1])
        steps = 64 // t[2]
        traffic = items * steps * (t[0] * t[2] + t[2] * t[1]) / max(1, min(items, 64))
        return traffic + 300.0 * max(0, 64 - items) + 40.0 * steps + 0.01 * (math.log2(t[0]) - 3) ** 2
    return Space(sizes, parallel, cost, legal)


def test_synthetic_space_has_a_unique_interior_optimum():
    sp = _synthetic()
    run = exhaustive(sp)
    costs = sorted(run.seen.values())
    assert costs[0] < costs[1]                      # unique
    assert run.best_state not in (sp.unit_state(),)
    assert sp.legal_count() < sp.grid_size()        # the budget bites


@pytest.mark.parametrize("search, budget", [(gbfs, 100), (na2c, 100)])
def test_search_finds_the_known_optimum_within_budget(search, budget):
    sp = _synthetic()
    optimum = exhaustive(sp).best_state
    for seed in (0, 1, 2):
        run = search(_synthetic(), budget, seed=seed)
        assert run.evaluations <= budget
        assert run.best_state == optimum, (search.__name__, seed)


@pytest.mark.parametrize("search", [gbfs, na2c, random_search, anneal, xgb_search])
def test_searches_are_seeded_and_keep_to_their_budget(search):
    a = search(_synthetic(), 40, seed=3)
    b = search(_synthetic(), 40, seed=3)
    assert a.curve == b.curve and a.best_state == b.best_state
    assert 0 < a.evaluations <= 40
    assert all(x >= y for x, y in zip(a.curve, a.curve[1:]))   # best so far never rises


def test_neighbourhood_moves_factors_between_levels_and_loops():
    sp = Space([8, 6], [True, False], cost=lambda s: 1.0)
    moves = dict(sp.moves((2, 0)))                 # loop 0 tile 2; loop 1 untiled (= 6)
    assert moves[("up", 0, 2)] == (4, 0)
    assert moves[("down", 0, 2)] == (1, 0)
    assert moves[("down", 1, 2)] == (2, 3) or moves[("down", 1, 2)] == (2, 3)
    assert moves[("down", 1, 3)] == (2, 2)
    assert ("swap", 0, 1) in moves and moves[("swap", 0, 1)] == (4, 3)   # a factor 2 from loop 1 to loop 0


def _matmul(m, n, k, seed=0):
    w = numpy_helper.from_array(np.random.default_rng(seed).standard_normal((k, n)).astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
                           helper.make_node("Relu", ["y"], ["z"], name="relu")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, [m, n])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


class _Second:
    """Applies the second-best configuration (not the heuristic's) of every matmul group, and checks on the way
    that the tuner's cost of the heuristic's choice is the heuristic's own figure."""

    def __init__(self):
        self.applied = []

    def tiles_for(self, g, tgt, signature, heuristic):
        from swmlir.tune.cost import group_model
        model = group_model(g, tgt)
        h = heuristic()
        space = group_space(model)
        hs = state_of(h, model.nest.parallel)
        if h.seconds is not None:
            assert space.cost(hs) == pytest.approx(h.seconds, rel=1e-12)
        if model.kind != "matmul":
            return None
        run = exhaustive(space)
        ranked = sorted(run.seen, key=run.seen.get)
        pick = next(s for s in ranked if s != hs)
        self.applied.append(pick)
        return model.choice(*space.split(pick))


def test_tuned_configuration_runs_and_matches_onnxruntime():
    from swmlir.testing.compare import run_onnxruntime
    model = _matmul(64, 128, 96)
    probe = _Second()
    with using(probe):
        m = swmlir.compile(model, "sw26010")
    assert probe.applied
    x = np.random.default_rng(1).standard_normal((64, 96)).astype(np.float32)
    with m:
        got = m.run({"x": x})[0]
    ref = run_onnxruntime(model, {"x": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def _schedule_tiles(model, **kw):
    from swmlir.compiler import lower_to_stage
    ctx, module, _ = lower_to_stage(model, "schedule", **kw)
    with ctx:
        return [ln.split('swmlir.tiles = "')[1].split('"')[0] for ln in str(module).splitlines()
                if "swmlir.tiles" in ln and "swmlir.group" in ln]


def test_tune_then_compile_with_db_round_trip(tmp_path):
    path = tmp_path / "t.jsonl"
    model = _matmul(64, 128, 96)
    session, _ = tune_model(model, "sw26010", method="gbfs", budget=15, db=str(path))
    assert session.results and all(r.best_seconds <= r.heuristic_seconds for r in session.results.values())
    db = TuningDB(str(path))
    assert set(db.entries) == set(session.results)
    for key, r in session.results.items():
        e = db.get(key)
        assert e["seconds"] == r.best_seconds and e["evaluated"] == r.evaluated
    # a hand-edited entry (another legal configuration) is what the compiled schedule takes
    before = _schedule_tiles(model, tuning_db=str(path))
    with open(path, "a") as f:   # every matmul group (fused with the ReLU or not): whichever the schedule keeps
        for e in list(db.entries.values()):
            if e["kind"] == "matmul":
                f.write(json.dumps(dict(e, config={"forall": [8, 128, 0], "reduction": [0, 0, 32]})) + "\n")
    after = _schedule_tiles(model, tuning_db=str(path))
    assert any("tiles [8, 128, 0], reduction tiles [0, 0, 32]" in t for t in after), after
    assert after != before
    # resuming: a second run with the same budget searches nothing again
    again, _ = tune_model(model, "sw26010", method="gbfs", budget=15, db=str(path))
    assert all(r.resumed for r in again.results.values())


def test_no_database_keeps_the_heuristic_output_byte_identical(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    model = _matmul(64, 128, 96)
    a = swmlir.compile(model, "sw26010")
    b = swmlir.compile(model, "sw26010", tuning_db=str(empty))
    assert a.files == b.files


@pytest.mark.parametrize("line, message", [
    ("{not json", "not a JSON object"),
    ("[1, 2]", "expected a JSON object"),
    ('{"key": "k"}', "misses the field"),
    ('{"key": "k", "target": "sw26010", "kind": "matmul", "loops": [4], "config": {"forall": [1, 2], '
     '"reduction": [0]}, "seconds": 1.0, "heuristic_seconds": 1.0, "method": "gbfs", "evaluated": 1, "space": 2}',
     "has 2 tiles for 1 loops"),
    ('{"key": "k", "target": "sw26010", "kind": "matmul", "loops": [4], "config": {"forall": [1], '
     '"reduction": [0]}, "seconds": "fast", "heuristic_seconds": 1.0, "method": "gbfs", "evaluated": 1, '
     '"space": 2}', "field 'seconds'"),
])
def test_bad_database_lines_are_refused_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n" + line + "\n")
    with pytest.raises(TuningDBError) as e:
        TuningDB(str(path))
    assert message in str(e.value) and f"{path}:2" in str(e.value)


@pytest.mark.parametrize("config, message", [
    ({"forall": [7, 128, 0], "reduction": [0, 0, 0]}, "a tile must divide its loop"),
    ({"forall": [64, 128, 0], "reduction": [0, 0, 0]}, "over the budget"),
])
def test_entries_that_do_not_fit_their_group_are_refused_when_applied(tmp_path, config, message):
    path = tmp_path / "t.jsonl"
    model = _matmul(64, 128, 96)
    tune_model(model, "sw26010", method="random", budget=3, db=str(path))
    db = TuningDB(str(path))
    key = next(k for k, e in db.entries.items() if e["kind"] == "matmul" and "mm+relu" in e["node"])
    with open(path, "a") as f:
        f.write(json.dumps(dict(db.get(key), config=config)) + "\n")
    with pytest.raises(swmlir.CompileError) as e:
        swmlir.compile(model, "sw26010", tuning_db=str(path))
    assert message in str(e.value) and key in str(e.value)


def test_missing_database_is_an_error():
    with pytest.raises(TuningDBError, match="does not exist"):
        swmlir.compile(_matmul(64, 128, 96), "sw26010", tuning_db="/nonexistent/tuning.jsonl")


def test_cli_tune_prints_the_table_and_plots(tmp_path, capsys):
    import onnx
    from swmlir.cli import main
    p = tmp_path / "mm.onnx"
    onnx.save(_matmul(64, 128, 96), str(p))
    db, png = tmp_path / "t.jsonl", tmp_path / "conv.png"
    assert main(["tune", str(p), "--method", "gbfs,na2c", "--budget", "10", "--db", str(db),
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "heuristic us" in out and "explored" in out and "mm+relu" in out
    assert png.exists() and png.stat().st_size > 1000
    assert main(["compile", str(p), "--tuning-db", str(db), "-o", str(tmp_path / "out")]) == 0
