"""What the importer refuses, and how: one exception naming the op and node, never a dead process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from mlir import ir
from onnx import TensorProto, helper

from swmlir.errors import CompileError, ImportError_, UnsupportedOpsError
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def do_import(model, **kw):
    with ir.Context():
        return import_onnx(model, **kw)


def raw_model(nodes, inputs, outputs, opset=13, initializers=()):
    """A model built without the checker (so that it can be wrong on purpose)."""
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ----------------------------------------------------------------------------------------------- unsupported ops
def test_three_unsupported_ops_reported_at_once():
    # string ops (no tensor of strings in swmlir) and an op ONNX does not define
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("StringNormalizer", ["a"], ["b"], name="the_normalizer"),
        helper.make_node("Relu", ["b"], ["c"], name="ok_relu2"),
        helper.make_node("RegexFullMatch", ["c"], ["d"], name="the_regex"),
        helper.make_node("NotAnOnnxOp", ["x"], ["e"]),  # unnamed: reported by op type and index
    ]
    model = raw_model(nodes, [f32("x", [4, 4])], [f32("d", None), f32("e", None)], opset=21)
    with pytest.raises(UnsupportedOpsError) as info:
        do_import(model)
    err = info.value
    assert sorted(err.missing) == sorted([("StringNormalizer", 21, "the_normalizer"),
                                          ("RegexFullMatch", 21, "the_regex"), ("NotAnOnnxOp", 21, "NotAnOnnxOp_4")])
    text = str(err)
    for part in ("StringNormalizer", "RegexFullMatch", "NotAnOnnxOp", "the_normalizer", "the_regex",
                 "NotAnOnnxOp_4", "opset 21"):
        assert part in text
    assert isinstance(err, CompileError) and err.stage == "import"


def test_unsupported_reported_before_dynamic_inputs():
    model = raw_model([helper.make_node("NotAnOnnxOp", ["x"], ["y"], name="u")], [f32("x", ["n"])],
                      [f32("y", None)])
    with pytest.raises(UnsupportedOpsError):
        do_import(model)


def test_opset_below_converters_is_unsupported():
    model = raw_model([helper.make_node("Relu", ["x"], ["y"], name="old_relu")], [f32("x", [3])], [f32("y", [3])],
                      opset=6)
    with pytest.raises(UnsupportedOpsError) as info:
        do_import(model)
    assert info.value.missing == [("Relu", 6, "old_relu")]


def test_other_domain_is_unsupported():
    node = helper.make_node("FusedGemm", ["x"], ["y"], name="fg", domain="com.microsoft")
    graph = helper.make_graph([node], "g", [f32("x", [3])], [f32("y", None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("com.microsoft", 1)])
    with pytest.raises(UnsupportedOpsError) as info:
        do_import(model)
    assert info.value.missing == [("com.microsoft.FusedGemm", 1, "fg")]


# ----------------------------------------------------------------------------------------------- attribute refusals
def test_conv_bad_group_refused():
    w = np.zeros((3, 1, 3, 3), np.float32)
    model = single_node("Conv", {"x": (1, 4, 8, 8)}, opset=13, initializers={"w": w}, node_name="grouped_conv",
                        group=3)
    with pytest.raises(ImportError_) as info:
        do_import(model)
    msg = str(info.value)
    assert "group=3" in msg and "grouped_conv" in msg and "Conv" in msg
    assert info.value.node == "grouped_conv" and info.value.op == "Conv"


REFUSALS = [
    ("Conv W rank", lambda: single_node("Conv", {"x": (1, 2, 8, 8)}, opset=13,
                                        initializers={"w": np.zeros((3, 2, 3), np.float32)}), "rank"),
    ("Conv SAME + dilation", lambda: single_node("Conv", {"x": (1, 2, 8, 8)}, opset=13, auto_pad="SAME_UPPER",
                                                 dilations=[2, 2], initializers={"w": np.zeros((3, 2, 3, 3), np.float32)}),
     "dilations"),
    ("MaxPool window too big", lambda: single_node("MaxPool", {"x": (1, 2, 3, 3)}, opset=12, kernel_shape=[4, 4]),
     "larger than the padded input"),
    ("Reshape runtime shape", lambda: single_node("Reshape", {"x": (2, 3), "s": ((2,), np.int64)}, opset=13),
     "constant"),
    ("Dropout training", lambda: single_node("Dropout", {"x": (2, 3)}, opset=13,
                                             initializers={"r": np.array(0.5, np.float32),
                                                           "t": np.array(True)}), "training"),
    ("Dropout mask opset 10", lambda: single_node("Dropout", {"x": (2, 3)}, {"y": None, "m": (None, np.bool_)},
                                                  opset=10), "mask"),
    ("Softmax axis out of range", lambda: single_node("Softmax", {"x": (2, 3)}, opset=13, axis=2), "axis"),
    ("Gemm 3-D", lambda: single_node("Gemm", {"a": (2, 3, 4), "b": (4, 5)}, opset=13), "2-D"),
]


@pytest.mark.parametrize("make, words", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused_with_reason(make, words):
    model = make()
    with pytest.raises(ImportError_) as info:
        do_import(model)
    assert words in str(info.value)
    assert info.value.node  # every refusal names its node


# ----------------------------------------------------------------------------------------------- dynamic inputs
def test_dynamic_dim_refused_without_input_shapes():
    model = raw_model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", ["batch", 5])], [f32("y", None)])
    with pytest.raises(ImportError_) as info:
        do_import(model)
    msg = str(info.value)
    assert "'x'" in msg and "batch" in msg and "index 0" in msg and "input_shapes" in msg


def test_unknown_dim_refused_without_input_shapes():
    model = raw_model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [None, 5])], [f32("y", None)])
    with pytest.raises(ImportError_, match="unknown dim at index 0"):
        do_import(model)


def test_dynamic_dim_accepted_with_input_shapes():
    model = raw_model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", ["batch", 5])], [f32("y", ["batch", 5])])
    module, info = do_import(model, input_shapes={"x": [3, 5]})
    assert info.inputs[0].shape == (3, 5) and info.outputs[0].shape == (3, 5)


@pytest.mark.parametrize("shapes, words", [
    ({"x": [3, 4]}, "declares it as 5"),
    ({"x": [3]}, "rank"),
    ({"x": [3, 5], "z": [1]}, "not graph inputs"),
])
def test_bad_input_shapes(shapes, words):
    model = raw_model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", ["batch", 5])], [f32("y", None)])
    with pytest.raises(ImportError_, match=words):
        do_import(model, input_shapes=shapes)


# ----------------------------------------------------------------------------------------------- malformed models
def test_undefined_input():
    model = raw_model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")], [f32("x", [3])],
                      [f32("y", None)])
    with pytest.raises(ImportError_, match="'nowhere' is used before it is defined"):
        do_import(model)


def test_output_not_produced():
    model = raw_model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [3])], [f32("z", None)])
    with pytest.raises(ImportError_, match="'z' is not produced"):
        do_import(model)


@pytest.mark.parametrize("op, a, b", [("Add", [3, 4], [5]), ("MatMul", [3, 4], [5, 6]), ("Gemm", [3, 4], [5, 6])])
def test_shape_mismatch(op, a, b):
    model = raw_model([helper.make_node(op, ["a", "b"], ["y"], name="bad")], [f32("a", a), f32("b", b)],
                      [f32("y", None)])
    with pytest.raises(ImportError_) as info:
        do_import(model)
    assert info.value.node == "bad"


def test_reshape_bad_size():
    model = single_node("Reshape", {"x": (2, 3)}, opset=13, initializers={"s": np.array([4, 2], np.int64)})
    with pytest.raises(ImportError_, match="cannot reshape"):
        do_import(model)


def test_unsupported_input_dtype():
    x = helper.make_tensor_value_info("x", TensorProto.STRING, [3])
    model = raw_model([helper.make_node("Identity", ["x"], ["y"])], [x], [f32("y", None)])
    with pytest.raises(ImportError_, match="string"):
        do_import(model)


def test_not_a_model():
    with pytest.raises(ImportError_):
        do_import(42)
    with pytest.raises(ImportError_, match="cannot load"):
        do_import("/nonexistent/model.onnx")


def test_refusals_do_not_kill_the_process():
    """The refusals above are Python exceptions; run one batch in a child to show the interpreter survives."""
    code = textwrap.dedent("""
        import numpy as np
        from mlir import ir
        from onnx import helper, TensorProto
        from swmlir.errors import CompileError
        from swmlir.frontend.onnx import import_onnx
        from swmlir.testing.models import single_node
        bad = [
            single_node("Conv", {"x": (1, 4, 8, 8)}, opset=13, group=3,
                        initializers={"w": np.zeros((3, 1, 3, 3), np.float32)}),
            single_node("MatMul", {"a": (3, 4), "b": (5, 6)}, opset=13),
            single_node("MaxPool", {"x": (1, 1, 2, 2)}, opset=12, kernel_shape=[5, 5]),
        ]
        n = 0
        for m in bad:
            try:
                with ir.Context():
                    import_onnx(m)
            except CompileError:
                n += 1
        print("refused", n)
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root, env=env)
    assert r.returncode == 0, r.stderr
    assert "refused 3" in r.stdout
