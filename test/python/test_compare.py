"""swmlir compare: differences planted at a known node and stage are found there; a correct network matches.

The plants: a converter swapped for a wrong one (the imported IR and every stage after it diverge), a wrong ONNX
graph pass (from stage onnx-graph on), a corrupted weights file (only the emitted C reads it: stage c). The
stages run in forked children, which inherit the monkeypatched tables."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper

import swmlir
from swmlir import compiler
from swmlir.cli import main as cli_main
from swmlir.compare import Report
from swmlir.errors import CompileError
from swmlir.frontend.onnx import registry
from swmlir.testing.models import make_model

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
compare_pkg = sys.modules["swmlir.compare"]     # the package (swmlir.compare is the function)


def small_cnn() -> onnx.ModelProto:
    """conv -> bn (folded into conv by the graph passes) -> relu -> add(relu, conv2 of x) -> pool -> flatten -> fc
    -> relu_out."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    inits = {
        "w": rng.standard_normal((4, 2, 3, 3)).astype(f32) * f32(0.4), "b": rng.standard_normal(4).astype(f32),
        "gamma": rng.uniform(0.5, 1.5, 4).astype(f32), "beta": rng.standard_normal(4).astype(f32) * f32(0.1),
        "mean": rng.standard_normal(4).astype(f32) * f32(0.1), "var": rng.uniform(0.5, 1.5, 4).astype(f32),
        "w2": rng.standard_normal((4, 2, 1, 1)).astype(f32), "fw": rng.standard_normal((5, 64)).astype(f32) * f32(0.2),
        "fb": rng.standard_normal(5).astype(f32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"], name="bn"),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("Conv", ["x", "w2"], ["c2"], name="conv2"),
        helper.make_node("Add", ["r", "c2"], ["s"], name="add"),
        helper.make_node("MaxPool", ["s"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], name="fc", transB=1),
        helper.make_node("Relu", ["g"], ["y"], name="relu_out"),
    ]
    return make_model(nodes, {"x": [1, 2, 8, 8]}, {"y": [1, 5]}, opset=13, initializers=inits, name="small_cnn")


def conv_relu() -> onnx.ModelProto:
    """One node with weights (conv), then two without: a corrupted weights file shows at conv first."""
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Add", ["r", "x"], ["y"], name="add")]
    inits = {"w": rng.standard_normal((2, 2, 3, 3)).astype(np.float32), "b": np.zeros(2, np.float32)}
    return make_model(nodes, {"x": [1, 2, 8, 8]}, {"y": [1, 2, 8, 8]}, opset=13, initializers=inits)


def inputs():
    return {"x": np.random.default_rng(2).standard_normal((1, 2, 8, 8)).astype(np.float32)}


def plant(monkeypatch, op: str, wrong: str) -> None:
    """The converter of `op` replaced by the one of `wrong` (same signature, other values)."""
    registry._load_converters()
    fn = registry.lookup(wrong, 13).fn
    monkeypatch.setitem(registry._TABLE, ("", op), [registry.Converter("", op, 1, fn)])


def cell(report: Report, node: str, stage: str):
    return next(r for r in report.rows if r.node == node).cells[stage]


def test_correct_network_all_match():
    r = swmlir.compare(small_cnn(), inputs(), jobs=2)
    assert r.stages == ["onnx-graph", "import", "schedule", "c", "fused"]
    assert r.ok and r.first_divergence() is None and not r.stage_errors
    conv = next(x for x in r.rows if x.node == "conv")
    assert conv.kind == "fused" and conv.fused_into == "bn" and not conv.cells   # folded into bn: reported
    compared = [x for x in r.rows if x.compared]
    assert len(compared) == 8
    for x in compared:
        assert set(x.cells) == set(r.stages)
        debug = [c for s, c in x.cells.items() if s != "fused"]
        assert all(c.status == "match" and c.cosine > 0.9999 for c in debug), x
        # the normal build keeps the model's output only
        assert x.cells["fused"].status == ("match" if x.value == "y" else "not kept")
    assert r.summary() == "8 nodes compared at 5 stages, 8 match; all match"
    table = r.table()
    assert "fused into bn by the graph passes" in table and table.endswith("all match")
    assert [x.node for x in compared] == ["bn", "relu", "conv2", "add", "pool", "flatten", "fc", "relu_out"]


def test_graph_and_bufferize_stages_run_on_llvm():
    r = swmlir.compare(conv_relu(), inputs(), stages="bufferize,graph")
    assert r.stages == ["graph", "bufferize"] and r.ok, r.table()
    assert all(c.status == "match" for x in r.rows for c in x.cells.values())


def bool_model() -> onnx.ModelProto:
    """Booleans everywhere: an input, a computed mask, a constant that is no splat, a graph output."""
    nodes = [helper.make_node("Greater", ["x", "zero"], ["g"], name="greater"),
             helper.make_node("And", ["g", "m"], ["a"], name="and"),
             helper.make_node("Xor", ["a", "k"], ["b"], name="xor"),
             helper.make_node("Neg", ["x"], ["n"], name="neg"),
             helper.make_node("Where", ["b", "x", "n"], ["y"], name="where")]
    inits = {"zero": np.zeros(1, np.float32), "k": np.array([1, 0, 0, 1, 1, 1, 0, 1], np.bool_)}
    return make_model(nodes, {"x": [2, 8], "m": ([2, 8], np.bool_)}, {"y": [2, 8], "b": ([2, 8], np.bool_)},
                      opset=13, initializers=inits)


def test_boolean_tensors_run_on_llvm():
    """MLIR 22's finalize-memref-to-llvm asserts on loads and stores of i1 (the process aborts); the JIT widens
    boolean memrefs to bytes first (swmlir.testing.jit.widen_i1_memrefs), so every LLVM stage runs them."""
    rng = np.random.default_rng(3)
    feeds = {"x": rng.standard_normal((2, 8)).astype(np.float32), "m": rng.integers(0, 2, (2, 8)).astype(np.bool_)}
    model = bool_model()
    # the reference JIT itself, in a process of its own (an assertion would abort this one)
    code = """
import sys, numpy as np
from mlir import ir
sys.path.insert(0, sys.argv[1])
from test_compare import bool_model
from swmlir.cli import onnxruntime_outputs
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.jit import run_linalg
rng = np.random.default_rng(3)
feeds = {"x": rng.standard_normal((2, 8)).astype(np.float32), "m": rng.integers(0, 2, (2, 8)).astype(np.bool_)}
with ir.Context():
    module, _ = import_onnx(bool_model())
    got = run_linalg(module, [feeds["x"], feeds["m"]])
for g, want in zip(got, onnxruntime_outputs(bool_model(), feeds), strict=True):
    assert g.dtype == want.dtype and (g == want).all(), (g, want)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    r = swmlir.compare(model, feeds, stages="import,graph,schedule,bufferize")
    assert not r.stage_errors and r.ok, r.table()
    assert cell(r, "xor", "bufferize").status == "match" and next(x for x in r.rows if x.node == "xor").dtype == "bool"


def test_fp16_attention_runs_at_every_stage():
    """The ONNX node test test_attention_4d_fp16_expanded (a boolean mask: Equal, Where) aborted stages import and
    schedule in finalize-memref-to-llvm; every stage runs now, and matches at the default tolerances (float16 values
    are compared at no finer than 2 ulps of float16: the imported f16 matmul rounds where onnxruntime's does not)."""
    import warnings

    import onnx.backend.test.case.node as node

    from swmlir.conformance import _arrays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = next(c for c in node.collect_testcases("Attention") if c.name == "test_attention_4d_fp16_expanded")
    feeds = dict(zip([i.name for i in case.model.graph.input], _arrays(case.data_sets[0][0])))
    r = swmlir.compare(case.model, feeds, stages="import,schedule,bufferize")
    assert not r.stage_errors, r.stage_errors
    assert cell(r, "Equal_61", "import").status == "match"
    assert r.ok, r.table()


def test_values_folded_to_constants_are_compared_as_each_stage_returns_them():
    """A Constant node and a Sqrt of it fold to one initializer: an output of the debug build too, which every stage
    returns as it stores it (a one-element constant returned as an output and read by kernels came back 0 from the
    emitted C: test_end_to_end.py::test_constants_that_are_outputs_and_read_by_kernels)."""
    nodes = [helper.make_node("Constant", [], ["k"], name="k", value=onnx.numpy_helper.from_array(
                 np.array([0.354], np.float32))),
             helper.make_node("Sqrt", ["k"], ["s"], name="sqrt"),
             helper.make_node("Mul", ["x", "s"], ["a"], name="m1"),
             helper.make_node("Mul", ["a", "s"], ["y"], name="m2")]
    model = make_model(nodes, {"x": [1, 2, 8, 8]}, {"y": [1, 2, 8, 8]}, opset=13)
    from swmlir import compiler
    from swmlir.compare.model import debug_model
    proto = compiler._load(model, None)
    assert "s" in debug_model(proto, compiler._graph_stage(proto, True, None, None)).outputs
    r = swmlir.compare(model, inputs(), stages="onnx-graph,import,c,fused")
    assert r.ok, r.table()
    rows = {x.node: x for x in r.rows}
    assert (rows["k"].kind, rows["k"].fused_into, rows["sqrt"].kind) == ("fused", "sqrt", "constant")
    assert [rows["sqrt"].cells[s].status for s in ("onnx-graph", "import", "c", "fused")] == ["match"] * 3 + ["not kept"]
    assert rows["sqrt"].shape == [1]
    assert r.summary() == "3 nodes compared at 4 stages, 3 match; all match"


def test_planted_converter_is_the_first_divergence_at_import(monkeypatch):
    plant(monkeypatch, "Relu", "Sigmoid")
    r = swmlir.compare(small_cnn(), inputs(), stages="onnx-graph,import,schedule,c")
    assert not r.ok
    row, stage = r.first_divergence()
    assert (row.node, row.op, stage) == ("relu", "Relu", "import")
    assert r.summary().endswith("first divergence: relu (Relu) at stage import")
    assert cell(r, "relu", "onnx-graph").status == "match"       # onnxruntime on our graph passes: fine
    for s in ("import", "schedule", "c"):
        assert cell(r, "relu", s).status == "diverge"
        assert cell(r, "add", s).status == "inherited"           # its input relu diverges
        assert cell(r, "conv2", s).status == "match"             # not downstream of relu
    assert cell(r, "relu", "import").cosine < 0.99


def test_planted_graph_pass_is_found_at_onnx_graph(monkeypatch):
    from swmlir import graph
    fold = graph.PASSES["fold-batchnorm-into-conv"]

    def wrong_fold(model):   # the fold, with the bias off by 0.5
        model = fold(model)
        for t in model.graph.initializer:
            if t.name.endswith("__bn_b"):
                a = onnx.numpy_helper.to_array(t) + np.float32(0.5)
                t.CopyFrom(onnx.numpy_helper.from_array(a, t.name))
        return model

    monkeypatch.setitem(graph.PASSES, "fold-batchnorm-into-conv", wrong_fold)
    r = swmlir.compare(small_cnn(), inputs(), stages="onnx-graph,import")
    row, stage = r.first_divergence()
    assert (row.node, stage) == ("bn", "onnx-graph")
    assert cell(r, "bn", "import").status == "diverge"


def test_planted_weights_file_is_found_at_stage_c(monkeypatch):
    real = compiler.weights_file

    def corrupt(*args, **kwargs):   # the first weight off by one: only the emitted C reads this file
        data = bytearray(real(*args, **kwargs))
        data[:4] = (np.frombuffer(bytes(data[:4]), np.float32) + np.float32(1.0)).tobytes()
        return bytes(data)

    monkeypatch.setattr(compiler, "weights_file", corrupt)
    r = swmlir.compare(conv_relu(), inputs(), stages="import,schedule,c")
    row, stage = r.first_divergence()
    assert (row.node, stage) == ("conv", "c")
    assert all(cell(r, n, s).status == "match" for n in ("conv", "relu", "add") for s in ("import", "schedule"))


def _wrong_weight_in_the_normal_build(monkeypatch):
    """The normal build (one graph output) of every compile gets a wrong first weight."""
    real = compiler.compile

    def compile_(model, *args, **kwargs):
        m = real(model, *args, **kwargs)
        if len(model.graph.output) == 1:
            data = bytearray(m.files["model.weights.bin"])
            data[:4] = (np.frombuffer(bytes(data[:4]), np.float32) + np.float32(1.0)).tobytes()
            m.files["model.weights.bin"] = bytes(data)
        return m

    monkeypatch.setattr(compiler, "compile", compile_)


def test_difference_of_the_normal_build_only_is_found_at_stage_fused(monkeypatch):
    _wrong_weight_in_the_normal_build(monkeypatch)
    r = swmlir.compare(conv_relu(), inputs(), stages="c,fused")
    row, stage = r.first_divergence()
    assert (row.node, stage) == ("add", "fused")                 # the model's output: all that is kept there
    assert all(x.cells["c"].status == "match" for x in r.rows)
    assert cell(r, "conv", "fused").status == "not kept"
    # one kernel, conv+relu+add, whose result is the model's output: named without a build more
    assert cell(r, "add", "fused").kernel == "main_k0_conv_relu_add" and "fused (kernel results)" not in r.stage_seconds
    assert any("kernel main_k0_conv_relu_add (conv+relu+add) is the first" in n for n in r.notes)


def plant_in_fused_kernels(monkeypatch) -> None:
    """A bug that lives in fused kernels only: a ReLU computed in its consumer's tiles (a fusion group member,
    `swmlir.fuse`) takes the minimum instead of the maximum. The debug build fuses no ReLU (each value is read by
    the graph output as well), the normal build does."""
    from mlir import ir
    from mlir.dialects import arith

    from swmlir.passes import schedule as sched
    real = sched.merge_repeated_promotions

    def planted(module):
        def visit(op):
            if op.name == "linalg.generic" and "swmlir.fuse" in op.attributes:
                for inner in list(op.regions[0].blocks[0].operations):
                    if inner.operation.name == "arith.maximumf":
                        o = inner.operation
                        wrong = arith.MinimumFOp(o.operands[0], o.operands[1], ip=ir.InsertionPoint(o), loc=o.location)
                        o.results[0].replace_all_uses_with(wrong.result)
                        o.erase()
            return ir.WalkResult.ADVANCE
        module.walk(visit)
        return real(module)

    monkeypatch.setattr(sched, "merge_repeated_promotions", planted)


def test_kernel_at_fault_is_named_when_only_stage_fused_diverges(monkeypatch):
    plant_in_fused_kernels(monkeypatch)
    r = swmlir.compare(small_cnn(), inputs(), stages="c,fused")
    assert all(x.cells["c"].status == "match" for x in r.rows if x.compared), r.table()
    row, stage = r.first_divergence()
    # kernels of the normal build: conv+conv2+relu+add (the planted ReLU), pool, fc+relu_out
    kernel = "main_k0_conv_conv2_relu_add"
    assert (row.node, stage, row.cells[stage].kernel) == ("add", "fused", kernel), r.table()
    assert r.summary().endswith(f"first divergence: add (Add) at stage fused, kernel {kernel}")
    assert cell(r, "pool", "fused").status == "inherited" and cell(r, "pool", "fused").kernel == "main_k1_pool"
    assert cell(r, "relu_out", "fused").status == "inherited"
    assert cell(r, "relu", "fused").status == "not kept"         # computed inside the kernel: never in memory
    assert any(f"kernel {kernel} (conv+conv2+relu+add) is the first whose result diverges" in n for n in r.notes)
    assert "fused (kernel results)" in r.stage_seconds
    text = r.table()
    assert f"fused: kernel {kernel}" in text and Report.from_json(r.to_json()) == r


def test_kernel_attribution_sees_through_views_and_folded_adds():
    """compare.kernels on a graph and the (name, group) list of a build: a residual Add in no group was folded into
    the conv's kernel (its initial value), a Flatten in none is a view; extra copy kernels keep the same kernels."""
    from swmlir.compare import kernels
    n = helper.make_node
    graph = helper.make_graph([n("Conv", ["x", "w"], ["c"], name="conv"), n("Add", ["c", "x"], ["s"], name="res"),
                               n("Relu", ["s"], ["r"], name="relu"), n("MaxPool", ["r"], ["p"], name="pool"),
                               n("Flatten", ["p"], ["f"], name="flat"), n("Gemm", ["f", "v"], ["y"], name="fc+1")],
                              "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, None)], [])
    built = [("k0_conv", "conv"), ("k1_relu_pool", "relu+pool"), ("k2_fc_1", "fc+1")]
    found = kernels.attribute(graph, built, ["y"])
    assert [(k.nodes, k.results, k.inputs) for k in found] == [
        (["conv"], ["s"], ["x"]), (["relu", "pool"], ["p"], ["s"]), (["fc+1"], ["y"], ["p"])]
    assert kernels.value_kernels(found) == {"s": "k0_conv", "p": "k1_relu_pool", "y": "k2_fc_1"}
    assert kernels.same_kernels(built, [built[0], ("k", "copy"), *built[1:], ("k9", "copy")])
    assert not kernels.same_kernels(built, [built[0], ("k", "res"), *built[1:]])


def test_stage_c_names_the_kernel_of_each_value(monkeypatch):
    plant(monkeypatch, "Relu", "Sigmoid")
    r = swmlir.compare(conv_relu(), inputs(), stages="c")
    assert r.summary().endswith("first divergence: relu (Relu) at stage c, kernel main_k1_relu"), r.table()
    assert cell(r, "add", "c").kernel == "main_k2_add" and not r.notes   # no build more when c diverges


def test_a_normal_build_that_differs_outside_its_kernels_is_told_apart(monkeypatch):
    _wrong_weight_in_the_normal_build(monkeypatch)
    r = swmlir.compare(small_cnn(), inputs(), stages="c,fused")
    row, stage = r.first_divergence()
    assert (row.node, stage) == ("relu_out", "fused")
    assert any("every kernel's result matches in a build that keeps them all" in n for n in r.notes), r.table()


def test_if_loop_and_scan_bodies_are_reported_as_inlined_and_their_nodes_compared_as_the_outputs(monkeypatch):
    """The importer inlines an If's taken branch and unrolls a Loop or Scan: the nodes of their bodies are rows of
    their own (inlined, in which body, taken or not), compared as the container's outputs; a difference planted
    in a taken branch is found at the If."""
    from test_onnx_control_flow import F32, helper, init, loop_body, make, model_if, vi

    rng = np.random.default_rng(5)
    r = swmlir.compare(model_if([1, 4]), {"x": rng.standard_normal([1, 4]).astype(F32)}, stages="import,c,fused")
    assert r.ok, r.table()
    rows = {x.node: x for x in r.rows}
    assert rows["if_batch1/then_branch/MatMul_0"].kind == "inlined"
    assert rows["if_batch1/then_branch/MatMul_0"].where == "then_branch of if_batch1 (taken)"
    assert rows["if_batch1/else_branch/Tanh_0"].where == "else_branch of if_batch1 (not taken: not computed)"
    assert [x.value for x in r.rows if x.node == "if_batch1"] == ["y0", "y1"]
    assert "inlined: in the then_branch of if_batch1 (taken); compared as if_batch1's outputs" in r.table()
    assert r.summary() == "4 nodes compared at 3 stages, 4 match; all match"
    assert cell(r, "Relu_0", "c").kernel == "main_k0_Relu_0"

    inits = [init("W", rng.standard_normal([6, 4]).astype(F32)), init("acc0", np.zeros([2, 4], F32)),
             init("M", np.array(3, np.int64))]
    loop = make([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "scans"], name="loop0", body=loop_body())],
                [vi("x", [2, 4])], [vi("acc", None), vi("scans", None)], inits)
    r = swmlir.compare(loop, {"x": rng.standard_normal([2, 4]).astype(F32)}, stages="import,c")
    assert r.ok and {x.where for x in r.rows if x.kind == "inlined"} == {"body of loop0 (unrolled: every iteration)"}

    body = helper.make_graph([helper.make_node("Add", ["s_in", "a_t"], ["s_out"]),
                              helper.make_node("Tanh", ["s_out"], ["y_t"])],
                             "scan_body", [vi("s_in", [3]), vi("a_t", [3])], [vi("s_out", [3]), vi("y_t", [3])])
    first = helper.make_graph([helper.make_node("Neg", ["ys"], ["f"])], "first", [], [vi("f", None)])
    other = helper.make_graph([helper.make_node("Abs", ["ys"], ["o"])], "other", [], [vi("o", None)])
    scan_if = make([helper.make_node("Scan", ["s0", "a"], ["s", "ys"], name="scan0", body=body, num_scan_inputs=1),
                    helper.make_node("If", ["flag"], ["z"], name="pick", then_branch=first, else_branch=other)],
                   [vi("s0", [3]), vi("a", [4, 3])], [vi("s", None), vi("z", None)], [init("flag", np.array(False))])
    feeds = {"s0": rng.standard_normal(3).astype(F32), "a": rng.standard_normal([4, 3]).astype(F32)}
    r = swmlir.compare(scan_if, feeds, stages="import,c")
    assert r.ok, r.table()
    rows = {x.node: x for x in r.rows}
    assert rows["scan0/body/Tanh_1"].where == "body of scan0 (unrolled: every iteration)"
    assert rows["pick/else_branch/Abs_0"].where == "else_branch of pick (taken)"
    assert cell(r, "pick", "c").status == "match"

    # an If in a Loop's body, its condition on the iteration number (folded per iteration at import)
    step = helper.make_graph([helper.make_node("Equal", ["i", "zero"], ["is_first"]),
                              helper.make_node("If", ["is_first"], ["acc_out"], name="step",
                                               then_branch=helper.make_graph(
                                                   [helper.make_node("Mul", ["acc_in", "x"], ["f"])], "first", [],
                                                   [vi("f", None)]),
                                               else_branch=helper.make_graph(
                                                   [helper.make_node("Add", ["acc_in", "x"], ["g"])], "later", [],
                                                   [vi("g", None)])),
                              helper.make_node("Identity", ["cond_in"], ["cond_out"])],
                             "body", [vi("i", [], 7), vi("cond_in", [], 9), vi("acc_in", None)],
                             [vi("cond_out", [], 9), vi("acc_out", None)], initializer=[init("zero", np.array(0))])
    nested = make([helper.make_node("Loop", ["M", "", "x"], ["acc"], name="loop_if", body=step)],
                  [vi("x", [3, 2])], [vi("acc", None)], [init("M", np.array(3, np.int64))])
    r = swmlir.compare(nested, {"x": rng.standard_normal([3, 2]).astype(F32)}, stages="import,c")
    assert r.ok, r.table()
    mul = next(x for x in r.rows if x.node == "loop_if/body/step/then_branch/Mul_0")
    assert (mul.fused_into, mul.where) == ("loop_if", "then_branch of loop_if/body/step (taken where its condition "
                                                      "folds at import)")

    plant(monkeypatch, "Sigmoid", "Relu")      # only the taken branch of model_if has a Sigmoid
    r = swmlir.compare(model_if([1, 4]), {"x": rng.standard_normal([1, 4]).astype(F32)}, stages="import")
    row, stage = r.first_divergence()
    assert (row.node, row.value, stage) == ("if_batch1", "y1", "import")
    assert cell(r, "if_batch1", "import").status == "match"   # y0: the If's other output


def test_excepts_and_tolerances(monkeypatch):
    plant(monkeypatch, "Relu", "LeakyRelu")   # x < 0 gives 0.01 x instead of 0: small differences
    stages = "import"
    r = swmlir.compare(small_cnn(), inputs(), stages=stages)
    assert r.first_divergence()[0].node == "relu"
    d = cell(r, "relu", "import").max_diff
    assert 1e-4 < d < 0.1
    loose = swmlir.compare(small_cnn(), inputs(), stages=stages, atol=0.2)     # atol x max(1, max|ref|)
    assert loose.ok, loose.table()
    assert cell(loose, "relu", "import").max_diff == pytest.approx(d)
    # excepting relu and what it feeds: shown, compared, never a divergence
    downstream = ["relu", "add", "pool", "flatten", "fc", "relu_out"]
    ex = swmlir.compare(small_cnn(), inputs(), stages=stages, excepts=downstream)
    assert ex.ok and cell(ex, "relu", "import").status == "excepted"
    assert cell(ex, "relu", "import").max_diff == pytest.approx(d)
    partial = swmlir.compare(small_cnn(), inputs(), stages=stages, excepts=["relu"])
    assert partial.first_divergence()[0].node == "add"           # the rest still counts
    with pytest.raises(CompileError, match="names no node or value of the model: nosuch"):
        swmlir.compare(small_cnn(), inputs(), stages=stages, excepts=["nosuch"])


def test_json_round_trip(monkeypatch):
    plant(monkeypatch, "Relu", "Sigmoid")
    r = swmlir.compare(small_cnn(), inputs(), stages="import")
    back = Report.from_json(r.to_json())
    assert back == r
    assert back.table() == r.table()
    assert back.first_divergence()[0].node == "relu"
    inf = Report.from_json(r.to_json().replace('"max_diff": 0.0', '"max_diff": "inf"', 1))
    assert any(c.max_diff == float("inf") for x in inf.rows for c in x.cells.values())
    json.loads(r.to_json())          # standard JSON: no Infinity / NaN literals


def test_cli_exit_codes_json_and_errors(tmp_path, monkeypatch, capsys):
    path = str(tmp_path / "m.onnx")
    onnx.save(small_cnn(), path)
    np.savez(tmp_path / "in.npz", **inputs())
    out = str(tmp_path / "r.json")
    assert cli_main(["compare", path, "--inputs", str(tmp_path / "in.npz"), "--stages", "import,c",
                     "--json", out, "--quiet"]) == 0
    text = capsys.readouterr().out
    assert text.strip().endswith("8 nodes compared at 2 stages, 8 match; all match")
    assert Report.from_json(open(out).read()).ok
    plant(monkeypatch, "Relu", "Sigmoid")
    assert cli_main(["compare", path, "--stages", "import", "--quiet"]) == 1
    assert "first divergence: relu (Relu) at stage import" in capsys.readouterr().out
    assert cli_main(["compare", path, "--stages", "import", "--excepts", "relu,add,pool,flatten,fc,relu_out",
                     "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["compare", path, "--stages", "import,sunway"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("swmlir: error:") and "stage 'sunway' cannot be run by itself" in err
    assert len(err.splitlines()) == 1


def test_crashing_stage_is_reported_and_the_others_still_run(monkeypatch):
    def abort(ctx, node):
        os.abort()
    registry._load_converters()
    monkeypatch.setitem(registry._TABLE, ("", "Add"), [registry.Converter("", "Add", 1, abort)])
    r = swmlir.compare(conv_relu(), inputs(), stages="onnx-graph,import")
    assert "SIGABRT" in r.stage_errors["import"]
    assert cell(r, "add", "onnx-graph").status == "match" and cell(r, "add", "import").status == "failed"
    assert not r.ok and r.summary().startswith("3 nodes compared at 1 stage, 3 match; stage import failed")


def test_failing_pass_writes_a_reproducer_that_fails_the_same_way(tmp_path, monkeypatch):
    from mlir import ir

    from swmlir.dialects import load_sunway_dialect
    from swmlir.pass_pipeline import run_pipeline
    monkeypatch.setenv("SWMLIR_REPRODUCER_DIR", str(tmp_path))
    src = """
func.func private @main_k3_conv7() attributes {sunway.kernel, swmlir.node = "conv7", swmlir.tiles = "tiles [1, 8]"} {
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %a = "sunway.ldm_alloc"() : () -> memref<96x128xf32, 2>
  %b = "sunway.ldm_alloc"() : () -> memref<4096xf32, 2>
  %c = arith.constant 0 : index
  return
}"""
    ctx = ir.Context()
    load_sunway_dialect(ctx)
    with ctx:
        module = ir.Module.parse(src)
        with pytest.raises(CompileError) as info:
            run_pipeline(module, "builtin.module(canonicalize, func.func(cse, sunway-check-ldm{target=sw26010}), "
                                 "canonicalize)")
    err = info.value
    message = str(err)
    assert len(message.splitlines()) == 1
    assert "needs 65540 bytes of LDM" in message
    path = err.reproducer
    assert os.path.dirname(path) == str(tmp_path) and f"reproducer: swmlir-opt {path} " in message
    text = open(path).read()
    assert "arith.constant" not in text             # the IR before the failing pass: canonicalize ran
    assert "-pass-pipeline='builtin.module(func.func(sunway-check-ldm{target=sw26010}))'" in message
    opt = os.path.join(os.path.dirname(sys.executable), "swmlir-opt")
    pipeline = message.split("-pass-pipeline=", 1)[1].strip("'")
    p = subprocess.run([opt, path, f"-pass-pipeline={pipeline}"], capture_output=True, text=True, cwd=REPO)
    assert p.returncode != 0
    assert err.diagnostic in p.stderr               # the same error, at the same location
    assert message.split(": ", 1)[0].split(" at ")[1] in p.stderr   # the location: -:2:1


def test_stage_names():
    assert compare_pkg.parse_stages("c,import,linalg") == ["import", "c"]
    with pytest.raises(CompileError, match="unknown stage 'nope'; stages: onnx-graph, import"):
        compare_pkg.parse_stages("nope")


def test_compile_names_a_reproducer_that_swmlir_opt_reads(tmp_path, monkeypatch):
    """Through swmlir.compile: a pass of the sunway stage fails (planted); the reproducer holds the module before it,
    weights included, and the real pass runs on it with swmlir-opt."""
    import dataclasses

    from swmlir import passes
    monkeypatch.setenv("SWMLIR_REPRODUCER_DIR", str(tmp_path))
    info = passes.load_all()["sunway-map-cpes"]

    def fail(op, **options):
        raise CompileError("planted failure", stage="sunway")

    monkeypatch.setitem(passes.REGISTRY, "sunway-map-cpes", dataclasses.replace(info, run=fail))
    with pytest.raises(CompileError, match=r"pass sunway-map-cpes failed.*planted failure; reproducer: swmlir-opt "
                                           r"\S+ -pass-pipeline='builtin.module\(sunway-map-cpes\{target=sw26010\}\)'"):
        swmlir.compile(conv_relu())
    (path,) = tmp_path.iterdir()
    text = path.read_text()
    assert "sunway.dma_get" in text and "dialect_resources" in text     # after lower-dma, with its weights
    opt = os.path.join(os.path.dirname(sys.executable), "swmlir-opt")
    p = subprocess.run([opt, str(path), "-pass-pipeline=builtin.module(sunway-map-cpes{target=sw26010})"],
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stderr


def test_a_target_of_ones_own(monkeypatch):
    """A Target object (not in the table) reaches every stage; excepts may be a comma-separated string."""
    import dataclasses

    from swmlir.targets import get_target
    small = dataclasses.replace(get_target("sw26010"), name="small-ldm", ldm_bytes=32768)
    plant(monkeypatch, "Relu", "Sigmoid")
    r = swmlir.compare(conv_relu(), inputs(), stages="schedule,c", target=small, excepts="relu,add")
    assert r.target == "small-ldm" and r.ok, r.table()
    assert cell(r, "relu", "c").status == "excepted"


def test_mlir_garbage_of_the_caller_does_not_hang_a_stage(tmp_path):
    """An MLIR context the caller dropped in a reference cycle, its thread pool started: destroyed in a forked
    child, it would wait forever for threads fork did not copy (the child here collects garbage on purpose)."""
    import gc

    from mlir import ir
    from mlir.passmanager import PassManager

    class Holder:
        pass

    gc.disable()   # the cycle stays garbage until someone collects it
    try:
        h = Holder()
        h.me, h.ctx = h, ir.Context()
        with h.ctx:
            m = ir.Module.parse("\n".join(f"func.func @f{i}() {{ return }}" for i in range(8)))
            PassManager.parse("builtin.module(func.func(cse, canonicalize))").run(m.operation)   # pool threads
        del h, m
        assert compare_pkg.isolated(gc.collect, str(tmp_path), timeout=30) is None
    finally:
        gc.enable()
    r = swmlir.compare(conv_relu(), inputs(), stages="import", timeout=60)
    assert r.ok, r.stage_errors


def test_reproducers_can_be_turned_off(tmp_path, monkeypatch):
    from mlir import ir

    from swmlir.pass_pipeline import run_pipeline
    monkeypatch.setenv("SWMLIR_REPRODUCER_DIR", str(tmp_path))
    monkeypatch.setenv("SWMLIR_REPRODUCER", "0")
    with ir.Context() as ctx, ir.Location.unknown():
        ctx.allow_unregistered_dialects = True
        m = ir.Module.parse('func.func @f(%t: tensor<4xf32>) -> tensor<4xf32> {\n'
                            '  %0 = "test.unknown"(%t) : (tensor<4xf32>) -> tensor<4xf32>\n  return %0 : tensor<4xf32>\n}')
        with pytest.raises(CompileError) as info:
            run_pipeline(m, "builtin.module(one-shot-bufferize)")
    assert "reproducer" not in str(info.value) and not list(tmp_path.iterdir())


def test_type_tolerance_is_two_ulps_of_types_coarser_than_float32():
    from swmlir.compare.metrics import compare as compare_values, type_tolerance
    assert type_tolerance(np.float32, 1e-4, 1e-5) == (1e-4, 1e-5)
    assert type_tolerance(np.float16, 1e-4, 1e-5) == (2 * 2 ** -10, 2 * 2 ** -10)
    assert type_tolerance(np.int8, 1e-4, 1e-5) == (1e-4, 1e-5)
    ref = np.array([1.0, 2.0, 1000.0], np.float16)
    one_ulp = np.nextafter(ref, np.float16(np.inf))
    assert compare_values(one_ulp, ref, rtol=1e-4, atol=1e-5).ok
    assert not compare_values(ref * np.float16(1.01), ref, rtol=1e-4, atol=1e-5).ok
