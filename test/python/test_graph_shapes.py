"""Dynamic-axis models in the form the exporters write them (torch.onnx TorchScript and dynamo, tf2onnx,
jax2onnx): the shape operands of Reshape / Expand / Range / Slice / ConstantOfShape are computed from `Shape` of
tensors with symbolic dims. Compiled with `input_shapes` for the symbolic dims, through the emitted C on the
emulator, and compared with onnxruntime (the graph stage's resolve-shapes folds the shape arithmetic).
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import swmlir
from swmlir import graph
from swmlir.errors import CompileError
from swmlir.testing.compare import check_against_onnxruntime, graph_inputs

F, I64 = T.FLOAT, T.INT64


def c(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def n(op, ins, outs, **attrs):
    return h.make_node(op, ins, outs, **attrs)


def model(nodes, inputs, outputs, inits, opset=17):
    g = h.make_graph(nodes, "dynamic", [h.make_tensor_value_info(*i) for i in inputs],
                     [h.make_tensor_value_info(*o) for o in outputs], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(m)
    return m


def compiled_runner(**compile_args):
    """Our side: swmlir.compile with input_shapes taken from the data, the emitted C run on the emulator."""
    def run(m, inputs):
        shapes = {name: list(np.shape(x)) for name, x in zip(graph_inputs(m), inputs)}
        return list(swmlir.compile(m, input_shapes=shapes, **compile_args).run(list(inputs)))
    return run


def check(m, feeds, **compile_args):
    check_against_onnxruntime(m, feeds, runner=compiled_runner(**compile_args), rtol=1e-4, atol=1e-5)


def rng_for(*key):
    return np.random.default_rng(abs(hash(repr(key))) % (1 << 32))


def dims_of(m, name):
    for vi in m.graph.input:
        if vi.name == name:
            return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in vi.type.tensor_type.shape.dim]


# ------------------------------------------------------------------------------------------------------ models
def _unsq(src, dst):
    return n("Unsqueeze", [src, "ax0"], [dst])


def bert_block(hidden=16, heads=2, vocab=30, max_pos=64):
    """A BERT layer as the TorchScript exporter writes it with dynamic batch and sequence: token type ids from
    ConstantOfShape(Shape(input_ids)), position ids from Range(0, Shape[1]), the extended attention mask
    (Unsqueeze, Expand to [B, 1, S, S] with a shape built from Shape, Cast, (1 - m) * -10000), heads split and
    merged by Reshapes whose targets are Shape -> Gather -> Unsqueeze -> Concat."""
    rng = np.random.default_rng(7)
    hd = hidden // heads

    def w(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = [c("word", w(vocab, hidden, scale=1)), c("posemb", w(max_pos, hidden, scale=1)),
             c("typeemb", w(2, hidden, scale=1)), c("ln_g", 1 + w(hidden, scale=0.1)), c("ln_b", w(hidden, scale=0.1)),
             c("i0", np.int64(0)), c("i1", np.int64(1)), c("ax0", np.array([0], np.int64)),
             c("ax12", np.array([1, 2], np.int64)), c("one1", np.array([1], np.int64)),
             c("nh", np.array([heads], np.int64)), c("hdim", np.array([hd], np.int64)),
             c("hid", np.array([hidden], np.int64)), c("onef", np.float32(1)), c("neg", np.float32(-10000)),
             c("sqrt_d", np.float32(np.sqrt(hd)))]
    for p in "qkvo":
        inits += [c(f"W{p}", w(hidden, hidden)), c(f"b{p}", w(hidden, scale=0.1))]
    nodes = [
        n("Shape", ["input_ids"], ["ids_shape"]),
        n("ConstantOfShape", ["ids_shape"], ["token_type"], value=numpy_helper.from_array(np.array([0], np.int64))),
        n("Gather", ["ids_shape", "i0"], ["B"], axis=0), n("Gather", ["ids_shape", "i1"], ["S"], axis=0),
        n("Range", ["i0", "S", "i1"], ["pos"]), _unsq("pos", "pos_ids"),
        n("Gather", ["word", "input_ids"], ["we"], axis=0), n("Gather", ["posemb", "pos_ids"], ["pe"], axis=0),
        n("Gather", ["typeemb", "token_type"], ["te"], axis=0),
        n("Add", ["we", "pe"], ["e1"]), n("Add", ["e1", "te"], ["e2"]),
        n("LayerNormalization", ["e2", "ln_g", "ln_b"], ["x"], axis=-1, epsilon=1e-12),
        # attention mask [B, S] -> [B, 1, S, S] additive
        n("Unsqueeze", ["attention_mask", "ax12"], ["m4"]), _unsq("B", "Bu"), _unsq("S", "Su"),
        n("Concat", ["Bu", "one1", "Su", "Su"], ["mshape"], axis=0), n("Expand", ["m4", "mshape"], ["mexp"]),
        n("Cast", ["mexp"], ["mf"], to=F), n("Sub", ["onef", "mf"], ["minv"]), n("Mul", ["minv", "neg"], ["madd"]),
        # heads
        n("Shape", ["x"], ["xs"]), n("Gather", ["xs", "i0"], ["xb"], axis=0), n("Gather", ["xs", "i1"], ["xq"], axis=0),
        _unsq("xb", "xbu"), _unsq("xq", "xqu"), n("Concat", ["xbu", "xqu", "nh", "hdim"], ["split"], axis=0),
        n("Concat", ["xbu", "xqu", "hid"], ["merge"], axis=0),
    ]
    for p in "qkv":
        nodes += [n("MatMul", ["x", f"W{p}"], [f"{p}0"]), n("Add", [f"{p}0", f"b{p}"], [f"{p}1"]),
                  n("Reshape", [f"{p}1", "split"], [f"{p}2"]),
                  n("Transpose", [f"{p}2"], [f"{p}3"], perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3])]
    nodes += [n("MatMul", ["q3", "k3"], ["sc"]), n("Div", ["sc", "sqrt_d"], ["sc2"]), n("Add", ["sc2", "madd"], ["sc3"]),
              n("Softmax", ["sc3"], ["pr"], axis=-1), n("MatMul", ["pr", "v3"], ["ctx"]),
              n("Transpose", ["ctx"], ["ctx2"], perm=[0, 2, 1, 3]), n("Reshape", ["ctx2", "merge"], ["ctx3"]),
              n("MatMul", ["ctx3", "Wo"], ["o0"]), n("Add", ["o0", "bo"], ["o1"]), n("Add", ["o1", "x"], ["out"])]
    return model(nodes, [("input_ids", I64, ["batch", "sequence"]), ("attention_mask", I64, ["batch", "sequence"])],
                 [("out", F, ["batch", "sequence", hidden])], inits, opset=17)


def bert_feeds(batch, seq, vocab=30):
    rng = rng_for("bert", batch, seq)
    mask = np.ones((batch, seq), np.int64)
    mask[0, seq // 2:] = 0
    return {"input_ids": rng.integers(0, vocab, (batch, seq)).astype(np.int64), "attention_mask": mask}


def gpt2_causal_mask(hidden=8, max_pos=16):
    """GPT-2's causal attention: the mask is a Slice of a constant lower-triangular buffer, bias[:, :, k-q:k, :k],
    whose starts and ends are computed from Shape of the scores (Sub); Where picks the scores or -inf-ish."""
    rng = np.random.default_rng(3)
    bias = np.tril(np.ones((max_pos, max_pos), bool)).reshape(1, 1, max_pos, max_pos)
    inits = [c("bias", bias), c("Wq", (rng.standard_normal((hidden, hidden)) * 0.3).astype(np.float32)),
             c("Wk", (rng.standard_normal((hidden, hidden)) * 0.3).astype(np.float32)),
             c("i2", np.int64(-2)), c("i1", np.int64(-1)), c("ax0", np.array([0], np.int64)),
             c("ax23", np.array([2, 3], np.int64)), c("zero1", np.array([0], np.int64)),
             c("ax1", np.array([1], np.int64)), c("minf", np.float32(-1e4))]
    nodes = [n("MatMul", ["x", "Wq"], ["q"]), n("MatMul", ["x", "Wk"], ["k"]), n("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
             n("MatMul", ["q", "kt"], ["s3"]), n("Unsqueeze", ["s3", "ax1"], ["s"]),
             n("Shape", ["s"], ["ss"]), n("Gather", ["ss", "i2"], ["qlen"], axis=0),
             n("Gather", ["ss", "i1"], ["klen"], axis=0), n("Sub", ["klen", "qlen"], ["start"]),
             _unsq("start", "st"), _unsq("klen", "kl"), n("Concat", ["st", "zero1"], ["starts"], axis=0),
             n("Concat", ["kl", "kl"], ["ends"], axis=0), n("Slice", ["bias", "starts", "ends", "ax23"], ["causal"]),
             n("Where", ["causal", "s", "minf"], ["masked"]), n("Softmax", ["masked"], ["y"], axis=-1)]
    return model(nodes, [("x", F, ["batch", "seq", hidden])], [("y", F, ["batch", 1, "seq", "seq"])], inits)


def yolo_head(classes=3, anchors=2):
    """A YOLO-style detector head: Conv, then Reshape [N, A, 5 + C, H, W] with N, H, W from Shape and the channel
    split computed with Div/Mul on the shape (Cast to float and back, as the exporters write integer division),
    Transpose, Sigmoid, and a final Reshape [N, -1, 5 + C] whose target is Shape arithmetic too."""
    rng = np.random.default_rng(5)
    ch = anchors * (5 + classes)
    inits = [c("w", (rng.standard_normal((ch, 4, 3, 3)) * 0.2).astype(np.float32)),
             c("b", (rng.standard_normal(ch) * 0.1).astype(np.float32)),
             c("i0", np.int64(0)), c("i1", np.int64(1)), c("i2", np.int64(2)), c("i3", np.int64(3)),
             c("ax0", np.array([0], np.int64)), c("na", np.int64(anchors)), c("naf", np.float32(anchors)),
             c("m1", np.array([-1], np.int64))]
    nodes = [n("Conv", ["x", "w", "b"], ["f"], pads=[1, 1, 1, 1]), n("Shape", ["f"], ["fs"]),
             n("Gather", ["fs", "i0"], ["N"], axis=0), n("Gather", ["fs", "i1"], ["C"], axis=0),
             n("Gather", ["fs", "i2"], ["H"], axis=0), n("Gather", ["fs", "i3"], ["W"], axis=0),
             n("Cast", ["C"], ["Cf"], to=F), n("Div", ["Cf", "naf"], ["per_f"]), n("Cast", ["per_f"], ["per"], to=I64),
             n("Div", ["C", "na"], ["per2"]), n("Mul", ["per2", "na"], ["C2"]), n("Div", ["C2", "na"], ["per3"]),
             _unsq("N", "Nu"), _unsq("na", "Au"), _unsq("per", "Pu"), _unsq("H", "Hu"), _unsq("W", "Wu"),
             _unsq("per3", "P3u"),
             n("Concat", ["Nu", "Au", "Pu", "Hu", "Wu"], ["s5"], axis=0), n("Reshape", ["f", "s5"], ["f5"]),
             n("Transpose", ["f5"], ["ft"], perm=[0, 1, 3, 4, 2]), n("Sigmoid", ["ft"], ["fsig"]),
             n("Concat", ["Nu", "m1", "P3u"], ["s3"], axis=0), n("Reshape", ["fsig", "s3"], ["y"])]
    return model(nodes, [("x", F, ["N", 4, "H", "W"])], [("y", F, ["N", "boxes", 5 + classes])], inits, opset=13)


def flatten_dynamic_batch():
    """torchvision's classifier head with a dynamic batch: x.view(x.size(0), -1) -> Shape, Gather, Unsqueeze,
    Concat with -1, Reshape, then Gemm; the dynamo exporter's form: Shape(start=0, end=1) and Concat."""
    rng = np.random.default_rng(11)
    inits = [c("w", (rng.standard_normal((10, 48)) * 0.2).astype(np.float32)),
             c("b", (rng.standard_normal(10) * 0.1).astype(np.float32)),
             c("i0", np.int64(0)), c("ax0", np.array([0], np.int64)), c("m1", np.array([-1], np.int64))]
    nodes = [n("Relu", ["x"], ["r"]), n("Shape", ["r"], ["rs"]), n("Gather", ["rs", "i0"], ["B"], axis=0),
             _unsq("B", "Bu"), n("Concat", ["Bu", "m1"], ["shp"], axis=0), n("Reshape", ["r", "shp"], ["f"]),
             n("Gemm", ["f", "w", "b"], ["y"], transB=1),
             n("Shape", ["r"], ["rb"], start=0, end=1), n("Concat", ["rb", "m1"], ["shp2"], axis=0),
             n("Reshape", ["x", "shp2"], ["y2"])]
    return model(nodes, [("x", F, ["batch", 3, 4, 4])], [("y", F, ["batch", 10]), ("y2", F, ["batch", 48])], inits)


def crnn_features():
    """A CRNN recognizer's CNN-to-RNN bridge: conv features [N, C, H, W] reshaped to [N, C * H, W] with the size
    from Shape (Mul of two gathered dims), Transpose to [W, N, C * H] and a linear layer (the sequence length W
    follows the image width)."""
    rng = np.random.default_rng(13)
    inits = [c("w", (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)),
             c("lin", (rng.standard_normal((16, 5)) * 0.3).astype(np.float32)),
             c("i0", np.int64(0)), c("i1", np.int64(1)), c("i2", np.int64(2)), c("i3", np.int64(3)),
             c("ax0", np.array([0], np.int64))]
    nodes = [n("Conv", ["x", "w"], ["f0"], pads=[1, 1, 1, 1]), n("MaxPool", ["f0"], ["f"], kernel_shape=[2, 2], strides=[2, 2]),
             n("Shape", ["f"], ["fs"]),
             n("Gather", ["fs", "i0"], ["N"], axis=0), n("Gather", ["fs", "i1"], ["C"], axis=0),
             n("Gather", ["fs", "i2"], ["H"], axis=0), n("Gather", ["fs", "i3"], ["W"], axis=0),
             n("Mul", ["C", "H"], ["CH"]), _unsq("N", "Nu"), _unsq("CH", "CHu"), _unsq("W", "Wu"),
             n("Concat", ["Nu", "CHu", "Wu"], ["s"], axis=0), n("Reshape", ["f", "s"], ["seq"]),
             n("Transpose", ["seq"], ["seqt"], perm=[2, 0, 1]), n("MatMul", ["seqt", "lin"], ["y"])]
    return model(nodes, [("x", F, ["N", 1, 8, "W"])], [("y", F, ["T", "N", 5])], inits)


def swin_window_partition(ws=2):
    """Swin-T's window partition with a dynamic image size: [B, H, W, C] -> [B, H/ws, ws, W/ws, ws, C] ->
    transpose -> [-1, ws * ws, C], with H/ws and W/ws from Shape (Div), and the reverse with Mul."""
    inits = [c("i0", np.int64(0)), c("i1", np.int64(1)), c("i2", np.int64(2)), c("i3", np.int64(3)),
             c("ax0", np.array([0], np.int64)), c("ws", np.int64(ws)), c("ws1", np.array([ws], np.int64)),
             c("wsws", np.array([ws * ws], np.int64)), c("m1", np.array([-1], np.int64)),
             c("scale", np.float32(0.5))]
    nodes = [n("Shape", ["x"], ["xs"]), n("Gather", ["xs", "i0"], ["B"], axis=0),
             n("Gather", ["xs", "i1"], ["H"], axis=0), n("Gather", ["xs", "i2"], ["W"], axis=0),
             n("Gather", ["xs", "i3"], ["C"], axis=0), n("Div", ["H", "ws"], ["Hw"]), n("Div", ["W", "ws"], ["Ww"]),
             _unsq("B", "Bu"), _unsq("Hw", "Hwu"), _unsq("Ww", "Wwu"), _unsq("C", "Cu"),
             n("Concat", ["Bu", "Hwu", "ws1", "Wwu", "ws1", "Cu"], ["s6"], axis=0), n("Reshape", ["x", "s6"], ["x6"]),
             n("Transpose", ["x6"], ["xt"], perm=[0, 1, 3, 2, 4, 5]),
             n("Concat", ["m1", "wsws", "Cu"], ["s3"], axis=0), n("Reshape", ["xt", "s3"], ["win"]),
             n("Softmax", ["win"], ["att"], axis=1), n("Mul", ["att", "scale"], ["win2"]),
             # reverse: [-1, ws, ws, C] -> [B, H/ws, W/ws, ws, ws, C] -> [B, H, W, C]
             n("Mul", ["Hw", "ws"], ["H2"]), n("Mul", ["Ww", "ws"], ["W2"]), _unsq("H2", "H2u"), _unsq("W2", "W2u"),
             n("Concat", ["Bu", "Hwu", "Wwu", "ws1", "ws1", "Cu"], ["r6"], axis=0), n("Reshape", ["win2", "r6"], ["y6"]),
             n("Transpose", ["y6"], ["yt"], perm=[0, 1, 3, 2, 4, 5]),
             n("Concat", ["Bu", "H2u", "W2u", "Cu"], ["r4"], axis=0), n("Reshape", ["yt", "r4"], ["y"])]
    return model(nodes, [("x", F, ["B", "H", "W", 3])], [("y", F, ["B", "H", "W", 3])], inits)


def jax_style_classifier():
    """A jax2onnx-style graph: the batch taken by Shape -> Slice, ConstantOfShape for a zero bias broadcast,
    Equal/Where on the shape (the -1 of a reshape replaced by its value), Expand of a learned class token to
    the batch, Concat with the tokens, mean and a Dense layer."""
    rng = np.random.default_rng(17)
    inits = [c("cls", (rng.standard_normal((1, 1, 6)) * 0.5).astype(np.float32)),
             c("dense", (rng.standard_normal((6, 4)) * 0.5).astype(np.float32)),
             c("s0", np.array([0], np.int64)), c("s1", np.array([1], np.int64)), c("one6", np.array([1, 6], np.int64)),
             c("m1", np.array([-1], np.int64)), c("two", np.array([2], np.int64))]
    nodes = [n("Shape", ["x"], ["xs"]), n("Slice", ["xs", "s0", "s1"], ["b"]),
             n("Concat", ["b", "one6"], ["cshape"], axis=0), n("Expand", ["cls", "cshape"], ["clsb"]),
             n("Concat", ["clsb", "x"], ["tok"], axis=1), n("Shape", ["tok"], ["ts"]),
             n("Equal", ["ts", "m1"], ["eq"]), n("Where", ["eq", "s1", "ts"], ["ts2"]),
             n("ConstantOfShape", ["ts2"], ["zeros"], value=numpy_helper.from_array(np.array([0.25], np.float32))),
             n("Add", ["tok", "zeros"], ["tok2"]), n("ReduceMean", ["tok2"], ["mean"], axes=[1], keepdims=0),
             n("MatMul", ["mean", "dense"], ["y"])]
    return model(nodes, [("x", F, ["batch", "tokens", 6])], [("y", F, ["batch", 4])], inits, opset=17)


# ------------------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("batch,seq", [(2, 5), (1, 8)])
def test_bert_block_dynamic_batch_and_sequence(batch, seq):
    check(bert_block(), bert_feeds(batch, seq))


def test_bert_block_shape_arithmetic_is_folded():
    m = bert_block()
    out = graph.PASSES["resolve-shapes"](m, {"input_ids": [2, 5], "attention_mask": [2, 5]})
    ops = {nd.op_type for nd in out.graph.node}
    assert not ops & {"Shape", "Range", "ConstantOfShape", "Concat"}, ops
    inits = {t.name for t in out.graph.initializer}
    assert all(nd.input[1] in inits for nd in out.graph.node if nd.op_type in ("Reshape", "Expand"))
    assert dims_of(out, "input_ids") == [2, 5]


@pytest.mark.parametrize("seq", [3, 7])
def test_gpt2_causal_mask_slice_from_shape(seq):
    check(gpt2_causal_mask(), {"x": rng_for("gpt2", seq).standard_normal((2, seq, 8)).astype(np.float32)})


@pytest.mark.parametrize("shape", [(1, 4, 6, 8), (2, 4, 4, 4)])
def test_yolo_head_reshape_from_shape_div_mul(shape):
    check(yolo_head(), {"x": rng_for("yolo", shape).standard_normal(shape).astype(np.float32)})


@pytest.mark.parametrize("batch", [1, 3])
def test_flatten_dynamic_batch(batch):
    check(flatten_dynamic_batch(), {"x": rng_for("flat", batch).standard_normal((batch, 3, 4, 4)).astype(np.float32)})


@pytest.mark.parametrize("width", [8, 12])
def test_crnn_sequence_from_image_width(width):
    check(crnn_features(), {"x": rng_for("crnn", width).standard_normal((2, 1, 8, width)).astype(np.float32)})


def test_swin_window_partition_dynamic_image():
    check(swin_window_partition(), {"x": rng_for("swin").standard_normal((2, 4, 6, 3)).astype(np.float32)})


def test_jax_style_classifier():
    check(jax_style_classifier(), {"x": rng_for("jax").standard_normal((3, 5, 6)).astype(np.float32)})


def test_shapes_resolved_without_graph_optimizations():
    """resolve-shapes always runs: optimize=False (the comparisons of `swmlir compile --stats`) compiles too."""
    check(yolo_head(), {"x": rng_for("yolo-noopt").standard_normal((1, 4, 4, 6)).astype(np.float32)}, optimize=False)


def test_model_is_not_changed_by_compile():
    m = bert_block()
    before = m.SerializeToString()
    swmlir.compile(m, input_shapes={"input_ids": [1, 4], "attention_mask": [1, 4]})
    assert m.SerializeToString() == before


def test_symbolic_dim_without_input_shape_names_the_input():
    with pytest.raises(CompileError) as e:
        swmlir.compile(bert_block())
    msg = str(e.value)
    assert "'input_ids'" in msg and "symbolic dim 'batch'" in msg and "input_shapes" in msg


def test_symbolic_dim_without_input_shape_on_the_command_line(tmp_path, capsys):
    from swmlir import cli
    path = tmp_path / "m.onnx"
    onnx.save(yolo_head(), str(path))
    rc = cli.main(["compile", str(path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc != 0 and "'x'" in err and "--input-shape" in err and "Traceback" not in err


def test_input_shape_override_that_does_not_fit_is_reported():
    with pytest.raises(CompileError) as e:
        swmlir.compile(crnn_features(), input_shapes={"x": [2, 3, 8, 8]})
    assert "dim 1 of input 'x'" in str(e.value)


def test_huge_shape_from_input_shape_is_not_evaluated():
    """A ConstantOfShape whose shape comes from Shape arithmetic (here 2^20 * 2^20 elements) is sized before it
    is evaluated: the graph stage leaves it and the importer refuses it with a size error, quickly."""
    inits = [c("big", np.array([1 << 20], np.int64))]
    nodes = [n("Shape", ["x"], ["s"]), n("Mul", ["s", "big"], ["s2"]),
             n("ConstantOfShape", ["s2"], ["z"], value=numpy_helper.from_array(np.array([1.0], np.float32))),
             n("ReduceSum", ["z"], ["y"], keepdims=0)]
    m = model(nodes, [("x", F, ["n", "k"])], [("y", F, [])], inits)
    out = graph.PASSES["resolve-shapes"](m, {"x": [1 << 10, 1 << 10]})
    assert [nd.op_type for nd in out.graph.node] == ["ConstantOfShape", "ReduceSum"]
    with pytest.raises(CompileError):
        swmlir.compile(m, input_shapes={"x": [1 << 10, 1 << 10]})


def test_torch_export_dynamic_axes(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(12, 4)

        def forward(self, x):
            b, s, _ = x.shape
            pos = torch.arange(s, dtype=torch.float32).unsqueeze(-1)
            y = (x + pos).view(b, s, 3, 4).transpose(1, 2).reshape(b, -1, 12)
            return self.lin(y)

    path = tmp_path / "net.onnx"
    torch.onnx.export(Net(), (torch.randn(2, 5, 12),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}}, opset_version=17)
    check(onnx.load(str(path)), {"x": np.random.default_rng(0).standard_normal((3, 7, 12)).astype(np.float32)})
