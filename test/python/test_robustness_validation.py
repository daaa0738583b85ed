"""Validation before import (issue 9): onnx.checker and our own checks of attribute types per node.

A wrong attribute type names the op, the node, the attribute and what the schema expects (never "converter
failed: TypeError"); all problems of a model come at once; models onnx.checker rejects are refused with a
clear error; models we support and that onnxruntime runs still pass (the zoo, our networks, every ONNX node
test model).
"""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
from mlir import ir
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.errors import CompileError, ImportError_, UnsupportedOpsError
from swmlir.frontend.onnx import ShapeMismatchWarning, import_onnx
from swmlir.frontend.onnx.validate import InvalidModelError, load_model


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def raw(nodes, inputs, outputs, opset=13, inits=(), ir_version=None):
    m = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                          opset_imports=[helper.make_opsetid("", opset)])
    if ir_version is not None:
        m.ir_version = ir_version
    return m


def both_paths(model):
    """The error of swmlir.compile and of import_onnx (the latter without onnx.checker)."""
    errs = []
    with pytest.raises(CompileError) as info:
        swmlir.compile(model)
    errs.append(info.value)
    with pytest.raises(CompileError) as info:
        with ir.Context():
            import_onnx(model)
    errs.append(info.value)
    return errs


# ----------------------------------------------------------------------------------------------- attribute types
WRONG = [  # op, opset, inputs, attrs, attribute, expected
    ("Concat", 13, [("x", [3, 2]), ("x", [3, 2])], {"axis": [0]}, "axis", "INT"),
    ("Flatten", 13, [("x", [3, 2])], {"axis": [1]}, "axis", "INT"),
    ("Pad", 10, [("x", [3, 2])], {"pads": 1}, "pads", "INTS"),
    ("Pad", 10, [("x", [3, 2])], {"pads": [0, 0, 0, 0], "mode": 3}, "mode", "STRING"),
    ("Conv", 13, [("x", [1, 1, 5, 5]), ("w", [1, 1, 3, 3])], {"kernel_shape": 3}, "kernel_shape", "INTS"),
    ("Conv", 13, [("x", [1, 1, 5, 5]), ("w", [1, 1, 3, 3])], {"pads": 1.5}, "pads", "INTS"),
    ("Gemm", 13, [("a", [2, 3]), ("b", [3, 4])], {"alpha": "one"}, "alpha", "FLOAT"),
    ("Transpose", 13, [("x", [3, 2])], {"perm": 1}, "perm", "INTS"),
    ("Softmax", 13, [("x", [3, 2])], {"axis": 1.0}, "axis", "INT"),
    ("Cast", 13, [("x", [3, 2])], {"to": "float"}, "to", "INT"),
    ("MaxPool", 12, [("x", [1, 1, 4, 4])], {"kernel_shape": [2, 2], "strides": 2}, "strides", "INTS"),
    ("ReduceSum", 11, [("x", [3, 2])], {"axes": 1}, "axes", "INTS"),
]


@pytest.mark.parametrize("op, opset, ins, attrs, attr, want", WRONG, ids=[f"{w[0]}-{w[4]}" for w in WRONG])
def test_wrong_attribute_type_names_op_node_attribute_and_type(op, opset, ins, attrs, attr, want):
    node = helper.make_node(op, [n for n, _ in ins], ["y"], name=f"the_{op.lower()}", **attrs)
    model = raw([node], [f32(n, s) for n, s in dict(ins).items()], [f32("y", None)], opset=opset)
    for err in both_paths(model):
        msg = str(err)
        assert isinstance(err, InvalidModelError), msg
        assert err.op == op and err.node == f"the_{op.lower()}", msg
        assert f"attribute '{attr}'" in msg and f"expected {want}" in msg, msg
        assert "converter failed" not in msg and "TypeError" not in msg and "\n" not in msg


def test_all_problems_at_once():
    nodes = [
        helper.make_node("Concat", ["x", "x"], ["a"], name="cat", axis=[0]),
        helper.make_node("Flatten", ["a"], ["b"], name="flat", axis=[1]),
        helper.make_node("Relu", ["b"], ["c"], name="relu", alpha=1.0),        # Relu has no attributes
        helper.make_node("Concat", ["c", "c"], ["y"], name="cat2"),            # axis is required
    ]
    undefined = onnx.AttributeProto()
    undefined.name, undefined.i = "axis", 1                                    # type left UNDEFINED
    nodes[3].attribute.append(undefined)
    model = raw(nodes, [f32("x", [3, 2])], [f32("y", None)])
    for err in both_paths(model):
        msg = str(err)
        assert len(err.problems) == 4, msg
        assert msg.startswith("[import]: 4 problems in the model:")
        for part in ("Concat (node 'cat'): attribute 'axis' is INTS [0], expected INT",
                     "Flatten (node 'flat'): attribute 'axis' is INTS [1], expected INT",
                     "Relu (node 'relu'): unknown attribute 'alpha'",
                     "Concat (node 'cat2'): attribute 'axis' has no type"):
            assert part in msg, msg


def test_missing_required_and_repeated_attributes():
    node = helper.make_node("Concat", ["x", "x"], ["y"], name="c")
    model = raw([node], [f32("x", [3])], [f32("y", None)])
    (err, _) = both_paths(model)
    assert "missing required attribute 'axis' (INT" in str(err) and err.node == "c"
    node = helper.make_node("Concat", ["x", "x"], ["y"], name="c", axis=0)
    node.attribute.append(helper.make_attribute("axis", 0))
    (err, _) = both_paths(raw([node], [f32("x", [3])], [f32("y", None)]))
    assert "attribute 'axis' is given more than once" in str(err)


def test_attributes_of_subgraph_nodes_are_checked():
    body = helper.make_graph([helper.make_node("Flatten", ["x"], ["z"], name="inner", axis=[1])], "then",
                             [], [f32("z", None)])
    node = helper.make_node("If", ["c"], ["y"], name="branch", then_branch=body, else_branch=body)
    model = raw([node], [helper.make_tensor_value_info("c", TensorProto.BOOL, []), f32("x", [2, 3])],
                [f32("y", None)])
    with pytest.raises(InvalidModelError) as info:
        load_model(model)
    assert "Flatten (node 'branch/then_branch/inner'): attribute 'axis' is INTS" in str(info.value)


# ----------------------------------------------------------------------------------------------- onnx.checker
def short_raw(name, dims, nbytes):
    t = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    t.raw_data = b"\0" * nbytes
    return t


CHECKER = [
    ("unknown attribute", lambda: raw([helper.make_node("Relu", ["x"], ["y"], name="r", foo=1)],
                                      [f32("x", [3])], [f32("y", [3])]), "unknown attribute 'foo'"),
    ("extra input", lambda: raw([helper.make_node("Relu", ["x", "x"], ["y"], name="r")], [f32("x", [3])],
                                [f32("y", [3])]), "Relu (node 'r'): has 2 inputs; Relu of opset 13 takes 1"),
    ("opset 99", lambda: raw([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [3])], [f32("y", [3])], opset=99),
     "opset 99 of the default ONNX domain, which ONNX does not define"),
    ("opset 0", lambda: raw([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [3])], [f32("y", [3])], opset=0),
     "opset 0 of the default ONNX domain does not exist"),
    ("duplicate initializers", lambda: raw([helper.make_node("Add", ["x", "w"], ["y"])], [f32("x", [3])],
                                           [f32("y", [3])], inits=[numpy_helper.from_array(np.ones(3, np.float32),
                                                                                           "w")] * 2),
     "initializer 'w' is defined more than once"),
    ("ir_version 0", lambda: raw([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [3])], [f32("y", [3])],
                                 ir_version=0), "ir_version 0 is not an ONNX IR version"),
    ("ir_version 99", lambda: raw([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [3])], [f32("y", [3])],
                                  ir_version=99), "ir_version 99 is not an ONNX IR version"),
    ("two producers", lambda: raw([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Neg", ["x"], ["y"])],
                                  [f32("x", [3])], [f32("y", [3])]), "single static assignment"),
    ("type error", lambda: raw([helper.make_node("Add", ["x", "i"], ["y"], name="add")],
                               [f32("x", [3]), helper.make_tensor_value_info("i", TensorProto.INT64, [3])],
                               [f32("y", [3])]), "shape inference"),
    ("bad raw data", lambda: raw([helper.make_node("Add", ["x", "w"], ["y"])], [f32("x", [3])], [f32("y", [3])],
                                 inits=[short_raw("w", [3], 8)]),
     "(12 bytes) but holds 8 bytes of raw data"),
]


@pytest.mark.parametrize("make, words", [c[1:] for c in CHECKER], ids=[c[0] for c in CHECKER])
def test_models_the_checker_rejects_are_refused(make, words):
    model = make()
    with pytest.raises(InvalidModelError) as info:
        swmlir.compile(model)
    msg = str(info.value)
    assert words in msg, msg
    assert "Traceback" not in msg and "==> Context" not in msg


def test_cli_reports_a_checker_refusal_without_traceback(tmp_path):
    p = tmp_path / "bad.onnx"
    onnx.save(raw([helper.make_node("Relu", ["x", "x"], ["y"], name="r")], [f32("x", [3])], [f32("y", [3])]), str(p))
    proc = subprocess.run([sys.executable, "-m", "swmlir.cli", "compile", str(p), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("swmlir: error: [import]") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_ops_are_still_reported_as_unsupported_at_once():
    nodes = [helper.make_node("NotAnOnnxOp", ["x"], ["a"], name="u1"),
             helper.make_node("AlsoNotAnOp", ["a"], ["y"], name="u2")]
    with pytest.raises(UnsupportedOpsError) as info:
        swmlir.compile(raw(nodes, [f32("x", [3])], [f32("y", None)]))
    assert {m[2] for m in info.value.missing} == {"u1", "u2"}


# ----------------------------------------------------------------------------------------------- what still passes
def test_leniencies_onnxruntime_shares():
    # outputs without a declared shape or type; a declared output shape that inference contradicts (a warning)
    m = raw([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Neg", ["x"], ["z"])], [f32("x", [3])],
            [f32("y", None), helper.make_tensor_value_info("z", TensorProto.FLOAT, [4])])
    m.graph.output[0].type.tensor_type.elem_type = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = swmlir.compile(m)
    assert any(issubclass(w.category, ShapeMismatchWarning) for w in caught)
    x = np.array([-1, 0, 2], np.float32)
    y, z = compiled.run({"x": x})
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(z, -x)
    # IR 3: initializers that are not graph inputs (onnxruntime accepts them)
    m = raw([helper.make_node("Add", ["x", "w"], ["y"])], [f32("x", [3])], [f32("y", [3])], opset=9,
            inits=[numpy_helper.from_array(np.ones(3, np.float32), "w")], ir_version=3)
    load_model(m)


def test_our_networks_and_the_zoo_pass_validation():
    from swmlir.testing import networks, zoo
    models = [networks.lenet(), networks.mlp(), networks.mobilenet_v2(), networks.transformer_encoder(),
              networks.resnet18(size=32), networks.vgg11(size=32)]
    models += [zoo.randomized(name) for name in zoo.LIGHT]
    for m in models:
        load_model(m)


def test_every_onnx_node_test_model_passes_validation():
    """onnx.checker + strict shape inference accept all 1,800+ node test models (valid by construction)."""
    from swmlir.conformance import all_cases
    refused = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, case in all_cases().items():
            if case.model is None:
                continue
            try:
                load_model(case.model)
            except ImportError_ as e:
                refused.append(f"{name}: {e}")
    assert not refused, "\n".join(refused[:20])


def test_input_and_output_counts_are_checked_by_the_importer_too():
    nodes = [helper.make_node("Relu", ["x", "x"], ["a"], name="two_in"),
             helper.make_node("Neg", ["a"], ["y", "extra"], name="two_out")]
    model = raw(nodes, [f32("x", [3])], [f32("y", None)])
    for err in both_paths(model):
        assert "Relu (node 'two_in'): has 2 inputs; Relu of opset 13 takes 1" in str(err)
        assert "Neg (node 'two_out'): has 2 outputs; Neg of opset 13 takes 1" in str(err)
