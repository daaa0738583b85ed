"""Small real models built with onnx.helper: the bundled examples and the end-to-end tests use them."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def lenet(batch: int = 1, seed: int = 0, opset: int = 13) -> onnx.ModelProto:
    """LeNet-5 style CNN on 1x28x28: Conv-Relu-MaxPool x2, Flatten, Gemm-Relu x2, Gemm, Softmax."""
    rng = np.random.default_rng(seed)

    def w(*shape):
        fan_in = int(np.prod(shape[1:]))
        return rng.standard_normal(shape).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))

    inits = [
        _init("c1_w", w(6, 1, 5, 5)), _init("c1_b", rng.standard_normal(6) * 0.1),
        _init("c2_w", w(16, 6, 5, 5)), _init("c2_b", rng.standard_normal(16) * 0.1),
        _init("f1_w", w(120, 400)), _init("f1_b", rng.standard_normal(120) * 0.1),
        _init("f2_w", w(84, 120)), _init("f2_b", rng.standard_normal(84) * 0.1),
        _init("f3_w", w(10, 84)), _init("f3_b", rng.standard_normal(10) * 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "c1_w", "c1_b"], ["c1"], name="conv1", pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2_w", "c2_b"], ["c2"], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "f1_w", "f1_b"], ["g1"], name="fc1", transB=1),
        helper.make_node("Relu", ["g1"], ["h1"], name="relu3"),
        helper.make_node("Gemm", ["h1", "f2_w", "f2_b"], ["g2"], name="fc2", transB=1),
        helper.make_node("Relu", ["g2"], ["h2"], name="relu4"),
        helper.make_node("Gemm", ["h2", "f3_w", "f3_b"], ["logits"], name="fc3", transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "lenet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def mlp(batch: int = 4, sizes=(784, 256, 128, 10), seed: int = 1, opset: int = 13) -> onnx.ModelProto:
    """A multilayer perceptron: MatMul + Add + Relu layers, a Softmax at the end."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    cur = "x"
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        inits += [_init(f"w{i}", rng.standard_normal((a, b)) * np.sqrt(2.0 / a)),
                  _init(f"b{i}", rng.standard_normal(b) * 0.1)]
        nodes += [helper.make_node("MatMul", [cur, f"w{i}"], [f"m{i}"], name=f"matmul{i}"),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"add{i}")]
        cur = f"a{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [cur], [f"h{i}"], name=f"relu{i}"))
            cur = f"h{i}"
    nodes.append(helper.make_node("Softmax", [cur], ["prob"], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, sizes[0]])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, sizes[-1]])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def mobilenet_v2(batch: int = 1, size: int = 64, seed: int = 2, opset: int = 13) -> onnx.ModelProto:
    """A MobileNetV2-style network: a stem conv, inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1
    project; Clip(0, 6) as ReLU6; residual Add when shapes allow), global average pooling and a classifier."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    relu6 = [_init("zero", np.array(0.0)), _init("six", np.array(6.0))]
    inits += relu6
    counter = [0]

    def conv(x, cin, cout, k, stride=1, group=1, act=True):
        i = counter[0]
        counter[0] += 1
        fan_in = cin // group * k * k
        inits.extend([_init(f"w{i}", rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in)),
                      _init(f"b{i}", rng.standard_normal(cout) * 0.05)])
        nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], name=f"conv{i}", group=group,
                                      strides=[stride, stride], pads=[k // 2] * 4))
        if not act:
            return f"c{i}"
        nodes.append(helper.make_node("Clip", [f"c{i}", "zero", "six"], [f"a{i}"], name=f"relu6_{i}"))
        return f"a{i}"

    x = conv("x", 3, 16, 3, stride=2)
    cin = 16
    for t, cout, stride in [(1, 16, 1), (4, 24, 2), (4, 24, 1), (4, 32, 2), (4, 32, 1)]:
        h = conv(x, cin, cin * t, 1) if t != 1 else x
        h = conv(h, cin * t, cin * t, 3, stride=stride, group=cin * t)
        h = conv(h, cin * t, cout, 1, act=False)
        if stride == 1 and cin == cout:
            nodes.append(helper.make_node("Add", [x, h], [f"res{counter[0]}"], name=f"residual{counter[0]}"))
            h = f"res{counter[0]}"
        x, cin = h, cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"))
    inits += [_init("fc_w", rng.standard_normal((cin, 10)) * np.sqrt(1.0 / cin)), _init("fc_b", np.zeros(10))]
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc"))
    nodes.append(helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=1))
    graph = helper.make_graph(
        nodes, "mobilenet_v2", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def _encoder_block(rng, inits: list, nodes: list, x: str, y: str, seq: int, hidden: int, heads: int, ffn: int,
                   p: str = "", pre_ln: bool = False) -> None:
    """One transformer encoder block from `x` [1, seq, hidden] to `y` (names other than the block's own: a_in,
    q_mm, h1, res1, f_in, res2 and the like), its initializers and nodes named with the prefix `p`: multi-head
    self-attention with MatMul, Add, Reshape, Transpose, Softmax, Div; LayerNormalization after each residual add
    (post-LN, BERT) or before each sub-layer (pre-LN, ViT); a GELU written with Erf."""
    d = hidden // heads

    def lin(name, a, b):
        inits.extend([_init(f"{p}{name}_w", rng.standard_normal((a, b)) * np.sqrt(1.0 / a)),
                      _init(f"{p}{name}_b", rng.standard_normal(b) * 0.02)])

    for n in ("q", "k", "v", "o"):
        lin(n, hidden, hidden)
    lin("ff1", hidden, ffn)
    lin("ff2", ffn, hidden)
    inits += [_init(f"{p}ln1_g", 1 + 0.1 * rng.standard_normal(hidden)),
              _init(f"{p}ln1_b", 0.1 * rng.standard_normal(hidden)),
              _init(f"{p}ln2_g", 1 + 0.1 * rng.standard_normal(hidden)),
              _init(f"{p}ln2_b", 0.1 * rng.standard_normal(hidden)),
              numpy_helper.from_array(np.array([1, seq, heads, d], np.int64), f"{p}split_heads"),
              numpy_helper.from_array(np.array([1, seq, hidden], np.int64), f"{p}merge_heads"),
              _init(f"{p}scale", np.array(np.sqrt(d))), _init(f"{p}sqrt2", np.array(np.sqrt(2.0))),
              _init(f"{p}one", np.array(1.0)), _init(f"{p}half", np.array(0.5))]

    def N(op, ins, outs, name, **attrs):
        return helper.make_node(op, [i if i in (x, y) else p + i for i in ins],
                                [o if o in (x, y) else p + o for o in outs], name=p + name, **attrs)

    def ln(src, k, dst):
        return N("LayerNormalization", [src, f"ln{k}_g", f"ln{k}_b"], [dst], name=f"ln{k}", axis=-1, epsilon=1e-5)

    a_in = "a_in" if pre_ln else x
    if pre_ln:
        nodes.append(ln(x, 1, a_in))
    for n in ("q", "k", "v"):
        nodes += [N("MatMul", [a_in, f"{n}_w"], [f"{n}_mm"], name=f"{n}_proj"),
                  N("Add", [f"{n}_mm", f"{n}_b"], [f"{n}_lin"], name=f"{n}_bias"),
                  N("Reshape", [f"{n}_lin", "split_heads"], [f"{n}_heads"], name=f"{n}_split"),
                  N("Transpose", [f"{n}_heads"], [f"{n}_t"], name=f"{n}_transpose",
                    perm=[0, 2, 3, 1] if n == "k" else [0, 2, 1, 3])]
    nodes += [N("MatMul", ["q_t", "k_t"], ["scores"], name="qk"),
              N("Div", ["scores", "scale"], ["scaled"], name="scale"),
              N("Softmax", ["scaled"], ["attn"], name="softmax", axis=-1),
              N("MatMul", ["attn", "v_t"], ["ctx"], name="attn_v"),
              N("Transpose", ["ctx"], ["ctx_t"], name="ctx_transpose", perm=[0, 2, 1, 3]),
              N("Reshape", ["ctx_t", "merge_heads"], ["ctx_m"], name="merge"),
              N("MatMul", ["ctx_m", "o_w"], ["o_mm"], name="o_proj"),
              N("Add", ["o_mm", "o_b"], ["o_lin"], name="o_bias"),
              N("Add", [x, "o_lin"], ["res1"], name="residual1")]
    if pre_ln:
        nodes.append(ln("res1", 2, "f_in"))
        h1, f_in, last = "res1", "f_in", N("Add", ["res1", "f2"], [y], name="residual2")
    else:
        nodes.append(ln("res1", 1, "h1"))
        h1, f_in, last = "h1", "h1", None
    nodes += [N("MatMul", [f_in, "ff1_w"], ["f1_mm"], name="ff1"),
              N("Add", ["f1_mm", "ff1_b"], ["f1"], name="ff1_bias"),
              N("Div", ["f1", "sqrt2"], ["g_div"], name="gelu_div"),
              N("Erf", ["g_div"], ["g_erf"], name="gelu_erf"),
              N("Add", ["g_erf", "one"], ["g_add"], name="gelu_add"),
              N("Mul", ["f1", "g_add"], ["g_mul"], name="gelu_mul"),
              N("Mul", ["g_mul", "half"], ["gelu"], name="gelu_half"),
              N("MatMul", ["gelu", "ff2_w"], ["f2_mm"], name="ff2"),
              N("Add", ["f2_mm", "ff2_b"], ["f2"], name="ff2_bias")]
    if pre_ln:
        nodes.append(last)
    else:
        nodes += [N("Add", [h1, "f2"], ["res2"], name="residual2"), ln("res2", 2, y)]


def transformer_encoder(seq: int = 128, hidden: int = 256, heads: int = 4, ffn: int = 1024, seed: int = 3,
                        opset: int = 17) -> onnx.ModelProto:
    """One transformer encoder block (post-LN, BERT style): multi-head self-attention with MatMul, Add,
    Reshape, Transpose, Softmax, Div; LayerNormalization; a GELU written with Erf, Div, Mul, Add."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    _encoder_block(rng, inits, nodes, "x", "y", seq, hidden, heads, ffn)
    graph = helper.make_graph(
        nodes, "transformer_encoder", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, hidden])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def bert_encoder(layers: int = 12, seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072,
                 seed: int = 6, opset: int = 17) -> onnx.ModelProto:
    """A BERT-base-like encoder (defaults: 12 layers, hidden 768, 12 heads, FFN 3072, sequence 128, batch 1): the
    embedded sequence in, its LayerNorm, then `layers` post-LN blocks of `transformer_encoder`'s form."""
    rng = np.random.default_rng(seed)
    inits = [_init("emb_ln_g", 1 + 0.1 * rng.standard_normal(hidden)),
             _init("emb_ln_b", 0.1 * rng.standard_normal(hidden))]
    nodes = [helper.make_node("LayerNormalization", ["x", "emb_ln_g", "emb_ln_b"], ["enc0"], name="emb_ln", axis=-1,
                              epsilon=1e-5)]
    for i in range(layers):
        _encoder_block(rng, inits, nodes, f"enc{i}", "y" if i == layers - 1 else f"enc{i + 1}", seq, hidden, heads, ffn,
                       p=f"l{i}_")
    graph = helper.make_graph(
        nodes, "bert_encoder", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, hidden])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def vit(layers: int = 12, image: int = 224, patch: int = 16, hidden: int = 768, heads: int = 12, ffn: int = 3072,
        classes: int = 1000, seed: int = 7, opset: int = 17, patch_conv: bool = True) -> onnx.ModelProto:
    """A ViT-B/16-like classifier (defaults): patch embedding by a patch x patch / patch Conv, flattened and
    transposed to tokens (as torch exports it), or with `patch_conv=False` the same product as patches cut out by
    Reshape + Transpose through a MatMul; a class token concatenated in front, position embeddings added,
    `layers` pre-LN blocks, a final LayerNorm, the class token's row through a Gemm."""
    rng = np.random.default_rng(seed)
    grid = image // patch
    tokens = grid * grid + 1
    w = rng.standard_normal((hidden, 3, patch, patch)) * np.sqrt(1.0 / (3 * patch * patch))
    inits = [_init("patch_w", w) if patch_conv else _init("patch_wm", w.reshape(hidden, -1).T),
             _init("patch_b", rng.standard_normal(hidden) * 0.02),
             numpy_helper.from_array(np.array([1, hidden, grid * grid], np.int64), "to_tokens"),
             _init("cls", rng.standard_normal((1, 1, hidden)) * 0.02),
             _init("pos", rng.standard_normal((1, tokens, hidden)) * 0.02),
             _init("ln_g", 1 + 0.1 * rng.standard_normal(hidden)), _init("ln_b", 0.1 * rng.standard_normal(hidden)),
             numpy_helper.from_array(np.array([0], np.int64), "zero"),
             _init("head_w", rng.standard_normal((classes, hidden)) * np.sqrt(1.0 / hidden)),
             _init("head_b", rng.standard_normal(classes) * 0.02)]
    N = helper.make_node
    if patch_conv:
        nodes = [N("Conv", ["x", "patch_w", "patch_b"], ["patches"], name="patch_embed", kernel_shape=[patch, patch],
                   strides=[patch, patch]),
                 N("Reshape", ["patches", "to_tokens"], ["flat"], name="flatten"),
                 N("Transpose", ["flat"], ["seq"], name="to_seq", perm=[0, 2, 1])]
    else:
        inits += [numpy_helper.from_array(np.array([1, 3, grid, patch, grid, patch], np.int64), "cut"),
                  numpy_helper.from_array(np.array([1, grid * grid, 3 * patch * patch], np.int64), "rows")]
        nodes = [N("Reshape", ["x", "cut"], ["cut_x"], name="cut_patches"),
                 N("Transpose", ["cut_x"], ["patch_t"], name="patch_order", perm=[0, 2, 4, 1, 3, 5]),
                 N("Reshape", ["patch_t", "rows"], ["patch_rows"], name="patch_rows"),
                 N("MatMul", ["patch_rows", "patch_wm"], ["patch_mm"], name="patch_embed"),
                 N("Add", ["patch_mm", "patch_b"], ["seq"], name="patch_bias")]
    nodes += [N("Concat", ["cls", "seq"], ["with_cls"], name="cat_cls", axis=1),
              N("Add", ["with_cls", "pos"], ["enc0"], name="add_pos")]
    for i in range(layers):
        _encoder_block(rng, inits, nodes, f"enc{i}", f"enc{i + 1}", tokens, hidden, heads, ffn, p=f"l{i}_", pre_ln=True)
    nodes += [N("LayerNormalization", [f"enc{layers}", "ln_g", "ln_b"], ["final"], name="ln", axis=-1, epsilon=1e-5),
              N("Gather", ["final", "zero"], ["cls_row"], name="take_cls", axis=1),
              N("Flatten", ["cls_row"], ["cls_flat"], name="cls_flat", axis=1),
              N("Gemm", ["cls_flat", "head_w", "head_b"], ["logits"], name="head", transB=1)]
    graph = helper.make_graph(
        nodes, "vit", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, image, image])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


class _ConvNet:
    """Shared builder of the CNN benchmarks: He-initialized Conv (with bias: BatchNorm already folded, as
    exporters and our graph stage leave it), Relu, pools, Add."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, relu: bool = True) -> str:
        self.n += 1
        name = f"conv{self.n}"
        w = self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        self.inits += [_init(f"{name}_w", w), _init(f"{name}_b", self.rng.standard_normal(cout) * 0.05)]
        self.nodes.append(helper.make_node("Conv", [x, f"{name}_w", f"{name}_b"], [name], name=name,
                                           kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4))
        if not relu:
            return name
        self.nodes.append(helper.make_node("Relu", [name], [f"{name}_r"], name=f"{name}_relu"))
        return f"{name}_r"

    def node(self, op: str, ins: list[str], out: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def fc(self, x: str, cin: int, cout: int, relu: bool) -> str:
        self.n += 1
        name = f"fc{self.n}"
        self.inits += [_init(f"{name}_w", self.rng.standard_normal((cout, cin)) * np.sqrt(2.0 / cin)),
                       _init(f"{name}_b", self.rng.standard_normal(cout) * 0.05)]
        y = self.node("Gemm", [x, f"{name}_w", f"{name}_b"], name, transB=1)
        return self.node("Relu", [y], f"{name}_r") if relu else y

    def model(self, name: str, x_shape: list[int], y: str, classes: int, opset: int) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                                  [helper.make_tensor_value_info(y, TensorProto.FLOAT, [x_shape[0], classes])],
                                  self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="swmlir")


def resnet18(batch: int = 1, size: int = 224, classes: int = 1000, seed: int = 4, opset: int = 13) -> onnx.ModelProto:
    """ResNet-18 (torchvision's layout): 7x7/2 stem, max pool, 4 stages of 2 basic blocks (64..512 channels,
    1x1/2 projection shortcuts), global average pool, fully connected."""
    b = _ConvNet(seed)
    x = b.conv("x", 3, 64, 7, 2)
    x = b.node("MaxPool", [x], "pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512)):
        for block in range(2):
            stride = 2 if stage and block == 0 else 1
            y = b.conv(x, cin, cout, 3, stride)
            y = b.conv(y, cout, cout, 3, 1, relu=False)
            short = b.conv(x, cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout else x
            s = b.node("Add", [y, short], f"add{stage}_{block}")
            x = b.node("Relu", [s], f"res{stage}_{block}")
            cin = cout
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "flat", axis=1)
    return b.model("resnet18", [batch, 3, size, size], b.fc(x, 512, classes, relu=False), classes, opset)


def vgg11(batch: int = 1, size: int = 224, classes: int = 1000, seed: int = 5, opset: int = 13) -> onnx.ModelProto:
    """VGG-11 (configuration A): 8 3x3 convs with 5 max pools, three fully connected layers (4096, 4096, classes)."""
    b = _ConvNet(seed)
    x, cin = "x", 3
    for i, v in enumerate((64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")):
        if v == "M":
            x = b.node("MaxPool", [x], f"pool{i}", kernel_shape=[2, 2], strides=[2, 2])
        else:
            x, cin = b.conv(x, cin, v, 3), v
    x = b.node("Flatten", [x], "flat", axis=1)
    side = size // 32
    x = b.fc(x, 512 * side * side, 4096, relu=True)
    x = b.fc(x, 4096, 4096, relu=True)
    return b.model("vgg11", [batch, 3, size, size], b.fc(x, 4096, classes, relu=False), classes, opset)


def conv_relu(n: int = 1, c: int = 8, h: int = 20, w: int = 20, f: int = 16, seed: int = 0) -> onnx.ModelProto:
    """A 3x3 Conv (pad 1, bias) and a Relu: the smallest model with a conv kernel, its halo and an epilogue."""
    rng = np.random.default_rng(seed)
    wt = helper.make_tensor("w", TensorProto.FLOAT, [f, c, 3, 3],
                            rng.standard_normal((f, c, 3, 3)).astype(np.float32).ravel())
    b = helper.make_tensor("b", TensorProto.FLOAT, [f], rng.standard_normal(f).astype(np.float32))
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, f, h, w])], [wt, b])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def matmul(m: int = 128, k: int = 96, n: int = 64, seed: int = 1) -> onnx.ModelProto:
    """One MatMul of an [m, k] input by a constant [k, n] weight."""
    rng = np.random.default_rng(seed)
    wt = helper.make_tensor("w", TensorProto.FLOAT, [k, n], rng.standard_normal((k, n)).astype(np.float32).ravel())
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], [wt])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
