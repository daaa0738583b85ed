"""Size limits checked before shape inference and protobuf encoding (issue 9).

Nothing here allocates the sizes it declares: the checks read shapes and dims only, so a ConstantOfShape of
petabytes or a 2 GiB initializer whose data is not even there gets a clear error, naming the tensor or node,
before any stage would allocate, infer shapes or serialize.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from mlir import ir
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.errors import CompileError, ImportError_
from swmlir.frontend.onnx import import_onnx
from swmlir.frontend.onnx import validate
from swmlir.frontend.onnx.validate import InvalidModelError, load_model

HUGE = [1 << 20, 1 << 20, 1 << 10]     # 2^50 elements


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def model(nodes, inputs, outputs, inits=(), opset=17):
    return helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                             opset_imports=[helper.make_opsetid("", opset)])


@pytest.fixture
def no_inference(monkeypatch):
    """Fail the test if shape inference or protobuf encoding of the model is reached."""
    def boom(*a, **k):
        raise AssertionError("shape inference reached before the size check")
    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", boom)
    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", boom)


def cos_model(shape_source: str, value_dtype=np.float32):
    shape = np.array(HUGE, np.int64)
    value = numpy_helper.from_array(np.array([1], value_dtype))
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], name="huge_fill", value=value),
             helper.make_node("Add", ["x", "c"], ["y"], name="add")]
    inits = []
    if shape_source == "initializer":
        inits.append(numpy_helper.from_array(shape, "s"))
    else:
        nodes.insert(0, helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(shape)))
    return model(nodes, [f32("x", [1])], [f32("y", None)], inits)


@pytest.mark.parametrize("source", ["initializer", "Constant"])
def test_huge_constant_of_shape(source, no_inference):
    with pytest.raises(InvalidModelError) as info:
        swmlir.compile(cos_model(source))
    e = info.value
    assert e.op == "ConstantOfShape" and e.node == "huge_fill"
    assert "[1048576, 1048576, 1024]" in str(e) and "PiB" not in str(e) and "GiB or more are not supported" in str(e)


def test_huge_constant_of_shape_int64_value():
    with pytest.raises(InvalidModelError, match=r"\(1125899906842624 elements, 8388608\.00 GiB\)"):
        load_model(cos_model("initializer", np.int64))


def big_initializer(kind: str, n: int = (1 << 29) + 1) -> TensorProto:
    """A float tensor of n elements (2 GiB + 4 bytes) whose data is not there: external, raw, or typed."""
    t = TensorProto(name="big_w", data_type=TensorProto.FLOAT, dims=[n])
    if kind == "external":
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "w.bin"), ("offset", "0"), ("length", str(4 * n))):
            e = t.external_data.add()
            e.key, e.value = k, v
    elif kind == "raw":
        t.raw_data = b"\0" * 16
    else:
        t.float_data.extend([0.0] * 4)
    return t


@pytest.mark.parametrize("kind", ["external", "raw", "typed"])
def test_initializer_of_2_gib(kind, tmp_path, no_inference):
    m = model([helper.make_node("Add", ["x", "big_w"], ["y"])], [f32("x", [1])], [f32("y", None)],
              [big_initializer(kind)])
    if kind == "external":   # from a folder holding a (tiny) w.bin: the size is refused before it is read
        (tmp_path / "w.bin").write_bytes(b"\0" * 16)
        with pytest.raises(InvalidModelError) as info:
            swmlir.compile(m, base_dir=tmp_path)
    else:
        with pytest.raises(InvalidModelError) as info:
            swmlir.compile(m)
    msg = str(info.value)
    assert "initializer 'big_w' has shape [536870913]" in msg and "2.00 GiB" in msg and "\n" not in msg


def test_weights_over_2_gib_together(tmp_path, no_inference):
    inits = [big_initializer("external", 3 << 27) for _ in range(2)]     # 1.5 GiB each
    inits[1].name = "big_w2"
    m = model([helper.make_node("Add", ["x", "big_w"], ["a"]), helper.make_node("Add", ["a", "big_w2"], ["y"])],
              [f32("x", [1])], [f32("y", None)], inits)
    with pytest.raises(InvalidModelError, match=r"constant data totals 3\.00 GiB.*protobuf"):
        swmlir.compile(m, base_dir=tmp_path)


def test_huge_graph_input(no_inference):
    m = model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [1 << 16, 1 << 16])], [f32("y", None)])
    with pytest.raises(InvalidModelError, match=r"graph input 'x' has shape \[65536, 65536\]"):
        swmlir.compile(m)


def test_huge_input_shapes_given():
    m = model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", ["n", 1 << 16])], [f32("y", None)])
    with pytest.raises(ImportError_, match=r"graph input 'x' has shape \[65536, 65536\]"):
        swmlir.compile(m, input_shapes={"x": [1 << 16, 1 << 16]})


@pytest.mark.parametrize("op", ["Range", "Expand", "Tile"])
def test_huge_constants_computed_by_converters(op):
    """Ops the importer folds to numpy constants check the size before numpy allocates."""
    if op == "Range":
        inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in (("a", 0), ("b", 1 << 40), ("d", 1))]
        node = helper.make_node("Range", ["a", "b", "d"], ["y"], name="huge")
    elif op == "Expand":
        inits = [numpy_helper.from_array(np.ones(1, np.float32), "a"),
                 numpy_helper.from_array(np.array(HUGE, np.int64), "s")]
        node = helper.make_node("Expand", ["a", "s"], ["y"], name="huge")
    else:
        inits = [numpy_helper.from_array(np.ones(2, np.float32), "a"),
                 numpy_helper.from_array(np.array([1 << 40], np.int64), "s")]
        node = helper.make_node("Tile", ["a", "s"], ["y"], name="huge")
    m = model([node], [], [helper.make_tensor_value_info("y", 0, None)], inits)
    with pytest.raises(CompileError) as info:
        with ir.Context():
            import_onnx(m)
    assert info.value.op == op and info.value.node == "huge" and "GiB or more are not supported" in str(info.value)


@pytest.mark.parametrize("start,limit,delta,count", [(0, 1 << 40, 1, 1 << 40), (10, -(1 << 31), -1, (1 << 31) + 10),
                                                     (0.0, 2.0 ** 31, 0.5, 1 << 32)])
def test_huge_range_is_sized_before_inference(start, limit, delta, count, no_inference):
    """A Range of constant bounds is sized from its bounds (integer or float, either direction) before ONNX's
    data propagation, which would evaluate it element by element."""
    dtype = np.int64 if isinstance(start, int) else np.float32
    inits = [numpy_helper.from_array(np.array(v, dtype), n) for n, v in (("a", start), ("b", limit), ("d", delta))]
    m = model([helper.make_node("Range", ["a", "b", "d"], ["y"], name="huge")], [],
              [helper.make_tensor_value_info("y", 0, None)], inits)
    with pytest.raises(InvalidModelError, match=rf"\[{count}\] \({count} elements") as info:
        load_model(m)
    assert info.value.op == "Range" and info.value.node == "huge"


def test_small_range_passes_the_size_check():
    inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in (("a", 5), ("b", -3), ("d", -2))]
    m = model([helper.make_node("Range", ["a", "b", "d"], ["y"], name="r")], [],
              [helper.make_tensor_value_info("y", TensorProto.INT64, None)], inits)
    assert validate.size_problems(m) == []


def test_limits_are_documented_constants():
    assert validate.MAX_TENSOR_BYTES == 2 ** 31
    assert validate.MAX_WEIGHTS_BYTES < 2 ** 31


@pytest.mark.parametrize("op", ["Range", "Tile", "ConstantOfShape"])
def test_huge_constants_do_not_exhaust_the_graph_stage(op):
    """Through compile: ONNX's data propagation (which evaluates a Range of constant bounds element by element)
    and the constant folder run with a bounded address space (graph._graph.bounded_memory) and size checks, so
    the model gets the importer's one-line error instead of the compiler growing until it is killed."""
    if op == "Range":
        inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in (("a", 0), ("b", 1 << 40), ("d", 1))]
        node = helper.make_node("Range", ["a", "b", "d"], ["e"], name="huge")
    elif op == "Tile":
        inits = [numpy_helper.from_array(np.ones((4, 4), np.float32), "a"),
                 numpy_helper.from_array(np.array([1 << 16, 1 << 16], np.int64), "s")]
        node = helper.make_node("Tile", ["a", "s"], ["e"], name="huge")
    else:
        inits = [numpy_helper.from_array(np.array([1 << 40], np.int64), "s")]
        node = helper.make_node("ConstantOfShape", ["s"], ["e"], name="huge")
    cast = helper.make_node("Cast", ["e"], ["y"], to=TensorProto.FLOAT)
    m = model([node, cast], [], [helper.make_tensor_value_info("y", 0, None)], inits)
    with pytest.raises(CompileError) as info:
        swmlir.compile(m)
    assert info.value.op == op and info.value.node == "huge" and "GiB or more are not supported" in str(info.value)
