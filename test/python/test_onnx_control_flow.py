"""If with a condition that folds to a constant at compile time (ops/control_flow.py) through the FULL path
(graph stage, import with the taken branch inlined, Sunway schedule, emitted C, host emulator), compared with
onnxruntime: conditions from shape arithmetic (static and symbolic input dims), constant conditions, both
branches, outer-scope values (graph inputs, initializers, intermediate values), branch initializers and
Constant nodes, several outputs, an output that is an outer value, nested Ifs; and the refusals.
Tolerance: rtol 1e-4, atol 1e-5 (float32).
"""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

import swmlir
from swmlir.errors import ImportError_, UnsupportedOpsError
from swmlir.testing.compare import check_against_onnxruntime

F32 = np.float32


def vi(name, shape, elem=TP.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def make(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "cf", inputs, outputs, initializer=list(inits))
    # outputs without shapes: onnx.checker wants them, swmlir's validation and onnxruntime do not
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def runner_with(shapes):
    def run(model, inputs):
        return list(swmlir.compile(model, input_shapes=shapes).run(list(inputs)))
    return run


def check(m, feeds, shapes=None):
    return check_against_onnxruntime(m, feeds, runner=runner_with(shapes))


def dim0_is_one(x="x"):
    """cond = (shape(x)[0] == 1): the usual exported form of `if x.size(0) == 1`."""
    return [helper.make_node("Shape", [x], ["shp"]), helper.make_node("Gather", ["shp", "i0"], ["d0"], axis=0),
            helper.make_node("Equal", ["d0", "i1"], ["cond"])], [init("i0", np.array(0, np.int64)),
                                                                 init("i1", np.array(1, np.int64))]


def branches(H=4):
    """then: two outputs from outer-scope values (x, the outer initializer W, the outer intermediate `h`), a
    branch initializer and a Constant node; else: other ops on the same values, one output an Identity of `h`."""
    then_g = helper.make_graph(
        [helper.make_node("MatMul", ["h", "W"], ["t_mm"]),
         helper.make_node("Constant", [], ["t_c"], value=init("t_cv", np.full([H], 0.5, F32))),
         helper.make_node("Add", ["t_mm", "t_c"], ["t_add"]),
         helper.make_node("Mul", ["t_add", "t_scale"], ["t_out0"]),
         helper.make_node("Sigmoid", ["x"], ["t_out1"])],
        "then", [], [vi("t_out0", None), vi("t_out1", None)], initializer=[init("t_scale", np.array(1.5, F32))])
    else_g = helper.make_graph(
        [helper.make_node("Tanh", ["h"], ["e_tanh"]),
         helper.make_node("Sub", ["e_tanh", "x"], ["e_out0"]),
         helper.make_node("Identity", ["h"], ["e_out1"])],   # onnxruntime wants an Identity, not `h` itself
        "else", [], [vi("e_out0", None), vi("e_out1", None)])
    return then_g, else_g


def model_if(x_shape, H=4):
    cond_nodes, cond_inits = dim0_is_one()
    then_g, else_g = branches(H)
    nodes = [helper.make_node("Relu", ["x"], ["h"])] + cond_nodes + [
        helper.make_node("If", ["cond"], ["y0", "y1"], name="if_batch1", then_branch=then_g, else_branch=else_g),
        helper.make_node("Add", ["y0", "y1"], ["z"])]
    rng = np.random.default_rng(7)
    inits = cond_inits + [init("W", rng.standard_normal([H, H]).astype(F32))]
    return make(nodes, [vi("x", x_shape)], [vi("y0", None), vi("y1", None), vi("z", None)], inits)


@pytest.mark.parametrize("batch", [1, 3], ids=["then", "else"])
def test_if_on_static_shape(batch):
    rng = np.random.default_rng(batch)
    check(model_if([batch, 4]), {"x": rng.standard_normal([batch, 4]).astype(F32)})


@pytest.mark.parametrize("batch", [1, 2], ids=["then", "else"])
def test_if_on_symbolic_dim_with_input_shapes(batch):
    """A dynamic-axis export: the condition folds only once --input-shape fixes the batch dim."""
    rng = np.random.default_rng(10 + batch)
    check(model_if(["batch", 4]), {"x": rng.standard_normal([batch, 4]).astype(F32)}, {"x": [batch, 4]})


@pytest.mark.parametrize("flag", [True, False])
def test_if_constant_condition_and_nested(flag):
    """cond an initializer; the taken branch holds an If of its own (its condition from shape arithmetic on an
    outer value) whose branches read the outermost graph input."""
    inner_then = helper.make_graph([helper.make_node("Neg", ["x"], ["it"])], "inner_then", [], [vi("it", None)])
    inner_else = helper.make_graph([helper.make_node("Abs", ["x"], ["ie"])], "inner_else", [], [vi("ie", None)])
    cond_nodes, cond_inits = dim0_is_one()
    outer_then = helper.make_graph(
        cond_nodes + [helper.make_node("If", ["cond"], ["ot_if"], name="inner_if", then_branch=inner_then,
                                       else_branch=inner_else),
                      helper.make_node("Mul", ["ot_if", "x"], ["ot"])],
        "outer_then", [], [vi("ot", None)], initializer=cond_inits)
    outer_else = helper.make_graph([helper.make_node("Exp", ["x"], ["oe"])], "outer_else", [], [vi("oe", None)])
    m = make([helper.make_node("If", ["flag"], ["y"], name="outer_if", then_branch=outer_then,
                               else_branch=outer_else)],
             [vi("x", [1, 5])], [vi("y", None)], [init("flag", np.array(flag))])
    check(m, {"x": np.random.default_rng(3).standard_normal([1, 5]).astype(F32)})


def test_unsupported_op_only_in_the_branch_not_taken():
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [], [vi("t", None)])
    else_g = helper.make_graph([helper.make_node("Det", ["x"], ["e"])], "else", [], [vi("e", None)])
    m = make([helper.make_node("If", ["flag"], ["y"], name="if_ok", then_branch=then_g, else_branch=else_g)],
             [vi("x", [3, 3])], [vi("y", None)], [init("flag", np.array(True))])
    check(m, {"x": np.random.default_rng(4).standard_normal([3, 3]).astype(F32)})
    m.graph.initializer[0].CopyFrom(init("flag", np.array(False)))
    with pytest.raises(UnsupportedOpsError, match=r"Det \(opset 17\) at node 'if_ok/else_branch/Det_0'"):
        swmlir.compile(m)


def test_runtime_condition_is_refused():
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [], [vi("t", None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e", None)])
    m = make([helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
              helper.make_node("Greater", ["s", "zero"], ["c"]),
              helper.make_node("If", ["c"], ["y"], name="if_data", then_branch=then_g, else_branch=else_g)],
             [vi("x", [2, 3])], [vi("y", None)], [init("zero", np.array(0.0, F32))])
    with pytest.raises(ImportError_) as info:
        swmlir.compile(m)
    msg = str(info.value)
    assert "If (node 'if_data')" in msg and "the condition 'c' is computed at run time" in msg
    assert "host control flow around the kernels is not implemented" in msg


# ================================================================================================ Loop
def loop_body(stop_after=None):
    """acc_out = acc_in + W[i] * x (W outer, row i by a Gather on the iteration number), scan output acc_out * 2;
    cond_out = cond_in, or (i < stop_after) when given."""
    nodes = [helper.make_node("Gather", ["W", "i"], ["row"], axis=0),
             helper.make_node("Mul", ["row", "x"], ["prod"]),
             helper.make_node("Add", ["acc_in", "prod"], ["acc_out"]),
             helper.make_node("Mul", ["acc_out", "two"], ["scan_out"])]
    if stop_after is None:
        nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
    else:
        nodes.append(helper.make_node("Less", ["i", "stop"], ["cond_out"]))
    inits = [init("two", np.array(2.0, F32))] + ([init("stop", np.array(stop_after, np.int64))]
                                                 if stop_after is not None else [])
    return helper.make_graph(nodes, "body", [vi("i", [], TP.INT64), vi("cond_in", [], TP.BOOL), vi("acc_in", None)],
                             [vi("cond_out", [], TP.BOOL), vi("acc_out", None), vi("scan_out", None)],
                             initializer=inits)


@pytest.mark.parametrize("trip,stop_after", [(3, None), (5, 1), (None, 2)],
                         ids=["trip-count", "condition-stops-early", "condition-only"])
def test_loop_unrolled(trip, stop_after):
    """A loop-carried accumulator, a scan output, the iteration number read by a Gather, outer-scope values; the
    trip count alone, a condition output that ends the loop before the trip count, and no trip count at all."""
    rng = np.random.default_rng(20)
    inits = [init("W", rng.standard_normal([6, 4]).astype(F32)), init("acc0", np.zeros([2, 4], F32)),
             init("go", np.array(True))] + ([init("M", np.array(trip, np.int64))] if trip is not None else [])
    m = make([helper.make_node("Loop", ["M" if trip is not None else "", "go", "acc0"], ["acc", "scans"],
                               name="loop0", body=loop_body(stop_after))],
             [vi("x", [2, 4])], [vi("acc", None), vi("scans", None)], inits)
    check(m, {"x": rng.standard_normal([2, 4]).astype(F32)})


def test_loop_refusals():
    body = loop_body()
    m = make([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "scans"], name="loop_rt", body=body)],
             [vi("x", [2, 4]), vi("M", [], TP.INT64)], [vi("acc", None), vi("scans", None)],
             [init("W", np.ones([6, 4], F32)), init("acc0", np.zeros([2, 4], F32))])
    with pytest.raises(ImportError_, match=r"Loop \(node 'loop_rt'\): the trip count 'M' is computed at run time"):
        swmlir.compile(m)
    m = make([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "scans"], name="loop_long", body=body)],
             [vi("x", [2, 4])], [vi("acc", None), vi("scans", None)],
             [init("W", np.ones([6, 4], F32)), init("acc0", np.zeros([2, 4], F32)),
              init("M", np.array(100000, np.int64))])
    with pytest.raises(ImportError_, match=r"Loop \(node .loop_long.\): the loop runs 100000 iterations; it is "
                                           r"unrolled, and more than 256"):
        swmlir.compile(m)


# ================================================================================================ Scan
def test_scan_unrolled():
    """Scan-16 with a state (running sum) and two scan inputs: one along axis 0 forward, one along axis 1 in
    reverse; two scan outputs: axis 0 forward and axis 1 reverse."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "a_t"], ["s_sum"]),
         helper.make_node("Mul", ["s_sum", "b_t"], ["s_out"]),
         helper.make_node("Tanh", ["s_out"], ["y1"]),
         helper.make_node("Sub", ["a_t", "b_t"], ["y2"])],
        "scan_body", [vi("s_in", [3]), vi("a_t", [3]), vi("b_t", [3])],
        [vi("s_out", [3]), vi("y1", [3]), vi("y2", [3])])
    node = helper.make_node("Scan", ["s0", "a", "b"], ["s", "ys1", "ys2"], name="scan0", body=body,
                            num_scan_inputs=2, scan_input_axes=[0, 1], scan_input_directions=[0, 1],
                            scan_output_axes=[0, -1], scan_output_directions=[0, 1])
    m = make([node], [vi("s0", [3]), vi("a", [4, 3]), vi("b", [3, 4])],
             [vi("s", None), vi("ys1", None), vi("ys2", None)])
    rng = np.random.default_rng(30)
    check(m, {"s0": rng.standard_normal(3).astype(F32), "a": rng.standard_normal([4, 3]).astype(F32),
              "b": rng.standard_normal([3, 4]).astype(F32)})


def test_if_inside_loop_on_the_iteration_number():
    """A body holding an If on `i == 0` (its branches read a body value and an outer one): the condition folds
    per iteration, and each iteration's copy of the nested branches gets names of its own."""
    first = helper.make_graph([helper.make_node("Mul", ["acc_in", "x"], ["f_out"])], "first", [],
                              [vi("f_out", None)])
    later = helper.make_graph([helper.make_node("Add", ["acc_in", "x"], ["l_sum"]),
                               helper.make_node("Tanh", ["l_sum"], ["l_out"])], "later", [], [vi("l_out", None)])
    body = helper.make_graph(
        [helper.make_node("Equal", ["i", "zero"], ["is_first"]),
         helper.make_node("If", ["is_first"], ["acc_out"], name="step", then_branch=first, else_branch=later),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [vi("i", [], TP.INT64), vi("cond_in", [], TP.BOOL), vi("acc_in", None)],
        [vi("cond_out", [], TP.BOOL), vi("acc_out", None)], initializer=[init("zero", np.array(0, np.int64))])
    m = make([helper.make_node("Loop", ["M", "", "x"], ["acc"], name="loop_if", body=body)],
             [vi("x", [3, 2])], [vi("acc", None)], [init("M", np.array(3, np.int64))])
    check(m, {"x": np.random.default_rng(40).standard_normal([3, 2]).astype(F32)})
