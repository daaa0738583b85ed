"""The importer's contract with the rest of the compiler: @main's signature, ModelInfo, node tags, weights."""
from __future__ import annotations

import re

import numpy as np
import onnx
import pytest
from mlir import ir
from onnx import TensorProto, helper

from swmlir.frontend.onnx import ShapeMismatchWarning, import_onnx, supported_ops
from swmlir.frontend.onnx import registry
from swmlir.testing.compare import check_against_onnxruntime
from swmlir.testing.jit import run_linalg
from swmlir.testing.models import make_model, single_node


def ops_of(module):
    names = []

    def visit(op):
        names.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return names


def main_of(module):
    (fn,) = [op for op in module.body.operations if op.operation.name == "func.func"]
    return fn


def small_cnn():
    rng = np.random.default_rng(7)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),  # unnamed
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], name="softmax"),
    ]
    inits = {"w": rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "b": np.zeros(8, np.float32),
             "fc_w": rng.standard_normal((5, 8)).astype(np.float32), "fc_b": np.arange(5, dtype=np.float32)}
    return make_model(nodes, {"x": (2, 3, 6, 6)}, {"logits": (2, 5), "prob": None}, opset=13,
                      initializers=inits, name="small_cnn")


def test_signature_and_model_info():
    with ir.Context():
        module, info = import_onnx(small_cnn())
        fn = main_of(module)
        assert ir.StringAttr(fn.attributes["sym_name"]).value == "main"
        assert "sym_visibility" not in fn.attributes  # public
        ftype = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
        assert [str(t) for t in ftype.inputs] == ["tensor<2x3x6x6xf32>"]
        assert [str(t) for t in ftype.results] == ["tensor<2x5xf32>", "tensor<2x5xf32>"]
        assert len([op for op in module.body.operations]) == 1
    assert info.name == "small_cnn" and info.opset == 13
    assert [(t.name, t.shape, t.dtype) for t in info.inputs] == [("x", (2, 3, 6, 6), np.dtype(np.float32))]
    assert [(t.name, t.shape) for t in info.outputs] == [("logits", (2, 5)), ("prob", (2, 5))]
    assert all(t.dtype == np.float32 for t in info.outputs)


def test_every_linalg_op_names_its_node():
    with ir.Context():
        module, _ = import_onnx(small_cnn())
        tags = {}
        for op in ops_of(module):
            if op.name.startswith("linalg.") and op.name not in ("linalg.yield", "linalg.index"):
                assert "swmlir.node" in op.attributes, op.name
                tags.setdefault(ir.StringAttr(op.attributes["swmlir.node"]).value, set()).add(op.name)
        text = str(module)
    assert tags["conv"] == {"linalg.fill", "linalg.conv_2d_nchw_fchw", "linalg.generic"}
    assert tags["Relu_1"] == {"linalg.generic"}
    assert tags["fc"] == {"linalg.fill", "linalg.matmul", "linalg.generic"}
    assert set(tags) == {"conv", "Relu_1", "gap", "fc", "softmax"}  # Flatten is a collapse_shape only
    assert "linalg.softmax" not in text and "tosa." not in text


def test_weights_are_resources_small_constants_inline():
    with ir.Context():
        module, _ = import_onnx(small_cnn())
        body = str(module).split("{-#")[0]
    # 8x3x3x3 conv weight and the 5x8 fc weight (transposed at import: transB) are blobs; the zero bias is a
    # splat, fc_b (5 values) inline
    assert "dense_resource<w>" in body and "dense_resource<fc_w>" in body
    assert "fc_w_T" not in body  # Gemm with transB keeps B as stored, (N, K): no transposed copy
    assert "dense<0.000000e+00> : tensor<8xf32>" in body
    assert re.search(r"dense<\[0\.0+e\+00, 1\.0+e\+00, 2\.0+e\+00, 3\.0+e\+00, 4\.0+e\+00\]> : tensor<5xf32>", body)
    assert "\"0x" not in body  # no hex blobs in the body (inline blobs print as dense<"0x...">)


def test_importer_returns_the_weight_table():
    """compile() writes the weights file from these arrays (ModelInfo.weights), not from the printed hex."""
    from swmlir.analysis.weights import WeightTable

    with ir.Context():
        module, info = import_onnx(small_cnn())
        printed = WeightTable.from_module(module)
    model = small_cnn()
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    table = info.weights
    assert isinstance(table, WeightTable) and set(table) == {"w", "fc_w"} == set(printed)
    np.testing.assert_array_equal(table["w"], inits["w"])
    np.testing.assert_array_equal(table["fc_w"], inits["fc_w"])
    assert table.raw("w") == printed.raw("w") and table.raw("fc_w") == printed.raw("fc_w")


def test_runs_like_onnxruntime():
    rng = np.random.default_rng(3)
    check_against_onnxruntime(small_cnn(), {"x": rng.standard_normal((2, 3, 6, 6)).astype(np.float32)})


def test_import_from_path_with_external_data(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save_model(small_cnn(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    with ir.Context():
        m_path, _ = import_onnx(path)
        got = run_linalg(m_path, [x])
        m_proto, _ = import_onnx(small_cnn())
        want = run_linalg(m_proto, [x])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_initializers_listed_as_inputs_are_not_inputs():
    model = single_node("Add", {"x": (3,), "w": (3,)}, opset=13, initializers={"w": np.ones(3, np.float32)},
                        node_inputs=["x", "w"])
    assert [i.name for i in model.graph.input] == ["x", "w"]
    with ir.Context():
        _, info = import_onnx(model)
    assert [t.name for t in info.inputs] == ["x"]


def test_outputs_that_are_inputs_or_constants():
    const = helper.make_node("Constant", [], ["c"], value_floats=[1.0, 2.0])
    model = make_model([const], {"x": (2,)}, {"x": None, "c": None}, opset=13)
    with ir.Context():
        module, info = import_onnx(model)
        out = run_linalg(module, [np.array([5.0, 6.0], np.float32)])
    np.testing.assert_array_equal(out[0], [5.0, 6.0])
    np.testing.assert_array_equal(out[1], [1.0, 2.0])
    assert [t.shape for t in info.outputs] == [(2,), (2,)]


def test_symbolic_dims_resolved_by_input_shapes():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "k"])
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
                              initializer=[onnx.numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with ir.Context():
        module, info = import_onnx(model, input_shapes={"x": [5, 4]})
        assert str(main_of(module).attributes["function_type"]) == \
            "(tensor<5x4xf32>) -> tensor<5x3xf32>"
    assert info.outputs[0].shape == (5, 3)


def test_ceil_mode_shape_disagreement_warns():
    model = single_node("MaxPool", {"x": (1, 1, 7, 1)}, opset=12, kernel_shape=[2, 1], strides=[2, 1],
                        pads=[1, 0, 1, 0], ceil_mode=1)
    with ir.Context(), pytest.warns(ShapeMismatchWarning, match="ONNX"):
        _, info = import_onnx(model)
    assert info.outputs[0].shape == (1, 1, 4, 1)


def test_supported_ops_table():
    table = dict(supported_ops())
    for op in ("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "MaxPool", "AveragePool",
               "GlobalAveragePool", "Flatten", "Reshape", "Softmax", "Constant", "Identity", "Dropout"):
        assert op in table and min(table[op]) == 7
    assert table["Softmax"] == (7, 11, 13)


def test_registry_picks_highest_since_not_above_opset():
    calls = []

    @registry.converter("Probe", since=(3, 9), domain="test.swmlir")
    def old(ctx, node):
        calls.append("old")

    @registry.converter("Probe", since=13, domain="test.swmlir")
    def new(ctx, node):
        calls.append("new")

    assert registry.lookup("Probe", 2, "test.swmlir") is None
    assert registry.lookup("Probe", 3, "test.swmlir").fn is old
    assert registry.lookup("Probe", 12, "test.swmlir").fn is old
    assert registry.lookup("Probe", 13, "test.swmlir").fn is new
    assert registry.lookup("Probe", 99, "test.swmlir").fn is new
    assert registry.lookup("Probe", 13) is None  # other domain
    with pytest.raises(ValueError):
        registry.converter("Probe", since=13, domain="test.swmlir")(new)
