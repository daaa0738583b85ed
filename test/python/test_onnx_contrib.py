"""onnxruntime's contrib ops (com.microsoft, and the contrib LayerNormalization-1 / SimplifiedLayerNormalization-1
of the default domain) through the FULL path (import, Sunway schedule, emitted C, host emulator), compared
with onnxruntime's CPU kernels over their attributes and optional inputs and outputs.

To keep the compile count low, each compiled model holds several nodes (one per case) reading shared inputs.
Tolerance: rtol 1e-4, atol 1e-5 (float32), as the other op tests, except where a test says why it is looser
(onnxruntime's tanh / erf are MLAS polynomial approximations; its LayerNorm variance is E[x^2] - E[x]^2).
"""
from __future__ import annotations

import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.errors import ImportError_
from swmlir.testing.compare import check_against_onnxruntime, onnxruntime_u8s8_exact, sunway_runner

MS = "com.microsoft"
F32 = np.float32


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def model(nodes, inputs: dict, outputs: dict, inits: dict | None = None, opset: int = 17) -> onnx.ModelProto:
    """inputs: name -> shape (float32) or (shape, dtype); outputs: name -> dtype (shapes left to the ops)."""
    def vi(name, spec, shape_known=True):
        shape, dt = (spec if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], (list, tuple))
                     else (spec, F32))
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dt)), shape)

    graph = helper.make_graph(
        nodes, "contrib", [vi(n, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.dtype(dt)), None)
         for n, dt in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()])
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def full_path(m, feeds, **tol):
    tol.setdefault("rtol", 1e-4)
    tol.setdefault("atol", 1e-5)
    return check_against_onnxruntime(m, feeds, runner=sunway_runner, **tol)


def normal(rng, shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(F32)


def ms(op, ins, outs, name, **attrs):
    return helper.make_node(op, ins, outs, name=name, domain=MS, **attrs)


# ================================================================================================ GELU family
def test_gelu_family():
    """Gelu; BiasGelu and FastGelu with a bias as graph input and as initializer; FastGelu without bias;
    QuickGelu with the default and a given alpha; 3-D and 2-D inputs. onnxruntime computes erf and tanh with
    MLAS polynomials (about 1e-6 relative), hence atol 2e-5 on values up to ~6."""
    rng = rng_for("gelu")
    nodes = [ms("Gelu", ["x"], ["gelu"], "gelu"), ms("Gelu", ["x2"], ["gelu2"], "gelu2d"),
             ms("BiasGelu", ["x", "b"], ["biasgelu"], "biasgelu"),
             ms("BiasGelu", ["x2", "c"], ["biasgelu_c"], "biasgelu_const"),
             ms("FastGelu", ["x"], ["fastgelu"], "fastgelu"),
             ms("FastGelu", ["x", "b"], ["fastgelu_b"], "fastgelu_bias"),
             ms("FastGelu", ["x2", "c"], ["fastgelu_c"], "fastgelu_const_bias"),
             ms("QuickGelu", ["x"], ["quickgelu"], "quickgelu"),
             ms("QuickGelu", ["x2"], ["quickgelu_a"], "quickgelu_alpha", alpha=-0.75)]
    outs = {n.output[0]: F32 for n in nodes}
    m = model(nodes, {"x": [2, 3, 8], "x2": [5, 8], "b": [8]}, outs, {"c": normal(rng, [8])})
    full_path(m, {"x": normal(rng, [2, 3, 8], 2.5), "x2": normal(rng, [5, 8], 2.5), "b": normal(rng, [8])},
              atol=2e-5)


# ================================================================================================ Skip*LayerNorm
SKIP_CASES = [
    # (op, inputs present: beta, bias; skip shape kind, outputs requested, epsilon)
    dict(op="SkipLayerNormalization", beta=True, bias=True, skip="full", outs=(0, 1, 2, 3)),
    dict(op="SkipLayerNormalization", beta=False, bias=False, skip="full", outs=(0,)),
    dict(op="SkipLayerNormalization", beta=True, bias=False, skip="1SH", outs=(0, 3), eps=1e-3),
    dict(op="SkipLayerNormalization", beta=False, bias=True, skip="SH", outs=(0, 1, 2)),
    dict(op="SkipLayerNormalization", beta=True, bias=True, skip="2d", outs=(0, 3), eps=1e-5),
    dict(op="SkipSimplifiedLayerNormalization", bias=True, skip="full", outs=(0, 2, 3)),
    dict(op="SkipSimplifiedLayerNormalization", bias=False, skip="SH", outs=(0,), eps=1e-4),
    dict(op="SkipSimplifiedLayerNormalization", bias=False, skip="1SH", outs=(0, 3)),
    dict(op="SkipSimplifiedLayerNormalization", bias=True, skip="2d", outs=(0, 2)),
]


@pytest.mark.parametrize("params", ["init", "input"])
def test_skip_layer_norm(params):
    """Skip(Simplified)LayerNormalization over their optional inputs (beta, bias), the skip shapes onnxruntime
    accepts ((B, S, H), (1, S, H), (S, H); 2-D input), each optional output (mean, inv_std_var,
    input_skip_bias_sum), the default and given epsilon; gamma / beta / bias as initializers or graph inputs.
    onnxruntime's variance is E[s^2] - E[s]^2 in float32 (ours is two-pass): atol 3e-5 on O(1) outputs."""
    rng = rng_for("skip", params)
    B, S, H = 2, 3, 16
    inputs, inits, feeds, nodes, outs = {"x": [B, S, H], "x2": [S * 2, H]}, {}, {}, [], {}
    feeds["x"], feeds["x2"] = normal(rng, [B, S, H], 2.0), normal(rng, [S * 2, H], 2.0)

    def param(name, shape, scale=1.0, offset=0.0):
        a = (offset + normal(rng, shape, scale)).astype(F32)
        if params == "input":
            inputs[name], feeds[name] = list(shape), a
        else:
            inits[name] = a
        return name

    for k, c in enumerate(SKIP_CASES):
        simplified = c["op"].startswith("SkipSimplified")
        x = "x2" if c["skip"] == "2d" else "x"
        shape = {"full": [B, S, H], "1SH": [1, S, H], "SH": [S, H], "2d": [S * 2, H]}[c["skip"]]
        inputs[f"skip{k}"] = shape
        feeds[f"skip{k}"] = normal(rng, shape)
        ins = [x, f"skip{k}", param(f"gamma{k}", [H], 0.5, 1.0)]
        if simplified:
            ins.append(param(f"bias{k}", [H]) if c["bias"] else "")
        else:
            ins.append(param(f"beta{k}", [H]) if c["beta"] else "")
            ins.append(param(f"bias{k}", [H]) if c["bias"] else "")
        while ins[-1] == "":
            ins.pop()
        names = ["y", "mean", "inv", "sum"]
        o = [f"{names[i]}{k}" if i in c["outs"] else "" for i in range(4)]
        while o[-1] == "":
            o.pop()
        outs.update({n: F32 for n in o if n})
        attrs = {"epsilon": c["eps"]} if "eps" in c else {}
        nodes.append(ms(c["op"], ins, o, f"case{k}", **attrs))
    full_path(model(nodes, inputs, outs, inits), feeds, atol=3e-5)


# ================================================================================================ LayerNorm-1 etc.
def test_contrib_layer_norms_default_domain():
    """onnxruntime's LayerNormalization-1 (a model of opset 13) and SimplifiedLayerNormalization-1: axis -1
    and an inner axis, with and without B, epsilon given or default, the optional statistics outputs."""
    rng = rng_for("ln1")
    x = normal(rng, [2, 3, 8], 1.5)
    s8, s24 = normal(rng, [8], 0.5) + 1, normal(rng, [3, 8], 0.5) + 1
    inits = {"s8": s8, "s24": s24, "b8": normal(rng, [8]), "b24": normal(rng, [3, 8])}
    nodes = [helper.make_node("LayerNormalization", ["x", "s8", "b8"], ["y0", "m0", "i0"], name="ln_last"),
             helper.make_node("LayerNormalization", ["x", "s24"], ["y1"], name="ln_axis1", axis=1, epsilon=1e-3),
             helper.make_node("LayerNormalization", ["x", "sx", "b24"], ["y2", "", "i2"], name="ln_rt_scale",
                              axis=-2),
             helper.make_node("SimplifiedLayerNormalization", ["x", "s8"], ["y3", "i3"], name="rms_last"),
             helper.make_node("SimplifiedLayerNormalization", ["x", "s24"], ["y4"], name="rms_axis1", axis=1,
                              epsilon=1e-2)]
    outs = {n: F32 for nd in nodes for n in nd.output if n}
    m = model(nodes, {"x": [2, 3, 8], "sx": [3, 8]}, outs, inits, opset=13)
    full_path(m, {"x": x, "sx": s24 + 0.25}, atol=2e-5)


# ================================================================================================ FusedMatMul
FUSED_CASES = [
    # (A shape, B shape, attributes, B constant)
    ([3, 4], [4, 5], {}, False),
    ([3, 4], [4, 5], dict(alpha=0.5), True),
    ([4, 3], [4, 5], dict(transA=1), False),
    ([3, 4], [5, 4], dict(transB=1), False),
    ([3, 4], [5, 4], dict(transB=1, alpha=-2.0), True),
    ([4, 3], [5, 4], dict(transA=1, transB=1), False),
    ([2, 3, 4], [2, 4, 5], dict(alpha=0.125), False),
    ([2, 3, 4], [2, 5, 4], dict(transB=1), False),       # attention scores Q @ K^T
    ([2, 3, 4], [5, 4], dict(transB=1), False),          # batch of A, one B^T read in place
    ([2, 3, 4], [1, 5, 4], dict(transB=1), True),
    ([2, 4, 3], [4, 5], dict(transA=1), True),
    ([2, 1, 3, 4], [3, 4, 5], dict(alpha=1.5), False),   # batch broadcast
    ([3, 2, 4], [2, 4, 5], dict(transBatchA=1), False),
    ([3, 2, 4, 5], [2, 4, 3, 6], dict(transBatchA=1, transA=1), False),
    ([2, 4, 3, 5], [5, 2, 4, 6], dict(transBatchB=1), False),
    ([2, 4, 3, 5], [6, 2, 4, 5], dict(transBatchB=1, transB=1), True),
    ([4, 2, 3], [3, 2, 5], dict(transBatchA=1, transBatchB=1, alpha=0.25), False),
    ([5], [2, 5, 3], {}, False),                         # 1-D operands
    ([2, 3, 5], [5], {}, True),
]


def test_fused_matmul():
    """FusedMatMul over transA / transB / transBatchA / transBatchB / alpha, 2-D to 4-D, batch broadcast,
    1-D operands, B as a graph input and as an initializer (permuted at compile time)."""
    rng = rng_for("fused")
    inputs, inits, feeds, nodes, outs = {}, {}, {}, [], {}
    for k, (sa, sb, attrs, const_b) in enumerate(FUSED_CASES):
        inputs[f"a{k}"], feeds[f"a{k}"] = sa, normal(rng, sa)
        if const_b:
            inits[f"b{k}"] = normal(rng, sb)
        else:
            inputs[f"b{k}"], feeds[f"b{k}"] = sb, normal(rng, sb)
        nodes.append(ms("FusedMatMul", [f"a{k}", f"b{k}"], [f"y{k}"], f"fused{k}", **attrs))
        outs[f"y{k}"] = F32
    full_path(model(nodes, inputs, outs, inits), feeds)


# ================================================================================================ quantized
def _quant_b(rng, shape, dt):
    # |B - zp| <= 64: no u8 x s8 pair sum can saturate int16 in onnxruntime's non-VNNI kernels
    lo, hi = (-64, 64) if dt == np.int8 else (60, 188)
    return rng.integers(lo, hi, shape).astype(dt)


DQ_CASES = [
    # (A shape, B dtype, b_scale: 'tensor' | 'column' | 'one', b_zero_point: None | 'tensor' | 'column', bias)
    ([3, 8], np.int8, "tensor", None, False),
    ([3, 8], np.uint8, "tensor", "tensor", True),
    ([2, 3, 8], np.int8, "column", "column", True),
    ([2, 3, 8], np.uint8, "one", "column", False),
    ([4, 8], np.int8, "column", None, True),
]


@pytest.mark.parametrize("a_kind", ["mixed", "positive", "negative"])
def test_dynamic_quantize_matmul(a_kind):
    """DynamicQuantizeMatMul: B int8 / uint8, per-tensor ([] and [1]) and per-column b_scale and b_zero_point,
    with and without bias, 2-D and 3-D A; A of mixed signs, all positive (zero point 0) and all negative
    (zero point 255). The int32 product is exact, so only the float scaling rounds: rtol 1e-5."""
    rng = rng_for("dq", a_kind)
    N = 6
    inputs, inits, feeds, nodes, outs = {}, {}, {}, [], {}
    for k, (sa, bdt, sc, zp, bias) in enumerate(DQ_CASES):
        a = normal(rng, sa, 2.0)
        a = np.abs(a) if a_kind == "positive" else -np.abs(a) if a_kind == "negative" else a
        inputs[f"a{k}"], feeds[f"a{k}"] = sa, a
        inits[f"b{k}"] = _quant_b(rng, [sa[-1], N], bdt)
        scale = {"tensor": np.array(0.02, F32), "one": np.array([0.03], F32),
                 "column": rng.uniform(0.01, 0.05, N).astype(F32)}[sc]
        inits[f"bs{k}"] = scale
        ins = [f"a{k}", f"b{k}", f"bs{k}"]
        if zp is not None:
            zshape = [] if zp == "tensor" else [N]
            inits[f"bz{k}"] = _quant_b(rng, zshape, bdt) // 4 + (0 if bdt == np.int8 else 96)
            ins.append(f"bz{k}")
        elif bias:
            ins.append("")
        if bias:
            inits[f"bias{k}"] = normal(rng, [N])
            ins.append(f"bias{k}")
        nodes.append(ms("DynamicQuantizeMatMul", ins, [f"y{k}"], f"dqmm{k}"))
        outs[f"y{k}"] = F32
    full_path(model(nodes, inputs, outs, inits), feeds, rtol=1e-5, atol=1e-5)


def test_dynamic_quantize_matmul_runtime_b_and_zero_a():
    """B, its scale and zero point as graph inputs; an all-zero A (onnxruntime's scale 1, zero point 0)."""
    rng = rng_for("dq-rt")
    inputs = {"a": [3, 8], "z": [2, 8], "b": ([8, 5], np.uint8), "bs": [5], "bz": ([5], np.uint8)}
    nodes = [ms("DynamicQuantizeMatMul", ["a", "b", "bs", "bz"], ["y"], "dq_runtime"),
             ms("DynamicQuantizeMatMul", ["z", "b", "bs"], ["yz"], "dq_zero")]
    feeds = {"a": normal(rng, [3, 8]), "z": np.zeros([2, 8], F32), "b": _quant_b(rng, [8, 5], np.uint8),
             "bs": rng.uniform(0.01, 0.05, 5).astype(F32), "bz": rng.integers(110, 140, 5).astype(np.uint8)}
    full_path(model(nodes, inputs, {"y": F32, "yz": F32}), feeds, rtol=1e-5, atol=1e-5)


def test_matmul_integer_to_float():
    """MatMulIntegerToFloat: A uint8 / int8 with and without a_zero_point, B per-tensor and per-column, bias."""
    rng = rng_for("mitf")
    N = 5
    feeds = {"au": rng.integers(0, 256, [2, 3, 8]).astype(np.uint8),
             "ai": rng.integers(-128, 128, [3, 8]).astype(np.int8)}
    inits = {"bi": _quant_b(rng, [8, N], np.int8), "bu": _quant_b(rng, [8, N], np.uint8),
             "as": np.array(0.015, F32), "bsc": rng.uniform(0.01, 0.05, N).astype(F32),
             "bst": np.array([0.04], F32), "azu": np.array(120, np.uint8), "azi": np.array(-3, np.int8),
             "bzc": rng.integers(-8, 8, N).astype(np.int8), "bzu": np.array(128, np.uint8),
             "bias": normal(rng, [N])}
    nodes = [ms("MatMulIntegerToFloat", ["au", "bi", "as", "bsc", "azu", "bzc", "bias"], ["y0"], "mitf0"),
             ms("MatMulIntegerToFloat", ["au", "bi", "as", "bst"], ["y1"], "mitf1"),
             ms("MatMulIntegerToFloat", ["au", "bu", "as", "bsc", "", "bzu"], ["y2"], "mitf2"),
             ms("MatMulIntegerToFloat", ["ai", "bi", "as", "bst", "azi", "", "bias"], ["y3"], "mitf3")]
    m = model(nodes, {"au": ([2, 3, 8], np.uint8), "ai": ([3, 8], np.int8)}, {f"y{i}": F32 for i in range(4)},
              inits)
    full_path(m, feeds, rtol=1e-5, atol=1e-5)


# ================================================================================================ refusals
def _refused(node, inputs, outputs, match, opset=17, inits=None):
    m = model([node], inputs, outputs, inits, opset=opset)
    with pytest.raises(ImportError_, match=match) as info:
        swmlir.compile(m)
    return str(info.value)


def test_refusals_name_op_node_and_reason():
    msg = _refused(ms("FusedMatMul", ["a", "b"], ["y"], "fm_1d", transA=1), {"a": [4], "b": [4, 3]}, {"y": F32},
                   r"transA on the 1-D operand A is not supported")
    assert "FusedMatMul" in msg and "fm_1d" in msg
    _refused(ms("FusedMatMul", ["a", "b"], ["y"], "fm_batch2d", transBatchA=1), {"a": [3, 4], "b": [4, 5]},
             {"y": F32}, r"transBatchA / transBatchB need A and B of the same rank >= 3 .* got ranks 2 and 2")
    msg = _refused(ms("SkipSimplifiedLayerNormalization", ["x", "s", "g"], ["y", "mean"], "ssln_mean"),
                   {"x": [2, 3, 4], "s": [2, 3, 4], "g": [4]}, {"y": F32, "mean": F32},
                   r"output #1 \(mean\) is not supported: RMS normalization computes no mean")
    assert "SkipSimplifiedLayerNormalization" in msg and "ssln_mean" in msg
    _refused(ms("Gelu", ["x"], ["y"], "gelu_attr", approximate="tanh"), {"x": [4]}, {"y": F32},
             r"unknown attribute 'approximate' \(com.microsoft.Gelu has attributes: none\)")
    _refused(ms("QuickGelu", ["x"], ["y"], "qg_type", alpha=2), {"x": [4]}, {"y": F32},
             r"attribute 'alpha' is INT, expected FLOAT")
    _refused(ms("SkipLayerNormalization", ["x", "s", "g"], ["y"], "sln_skip"),
             {"x": [2, 3, 4], "s": [2, 1, 4], "g": [4]}, {"y": F32},
             r"skip of shape \[2, 1, 4\] does not match the input \[2, 3, 4\]")
    _refused(ms("FastGelu", ["x", "b"], ["y"], "fg_bias"), {"x": [2, 4], "b": [2, 4]}, {"y": F32},
             r"bias must be 1-D of the input's last dim \(4\), got shape \[2, 4\]")
    _refused(ms("Gelu", ["x"], ["y"], "gelu_f16"), {"x": ([4], np.float16)}, {"y": np.float16},
             r"element type float16, which this op does not support here \(supported: float32\)")
    _refused(ms("DynamicQuantizeMatMul", ["a", "b", "s"], ["y"], "dq_scale"), {"a": [2, 4]}, {"y": F32},
             r"b_scale of shape \[2\] is not supported \(one element or \[3\]",
             inits={"b": np.ones([4, 3], np.int8), "s": np.ones([2], F32)})


def test_ops_table_lists_the_contrib_ops():
    """`swmlir ops` (docs/SupportedOps.md) has a section for com.microsoft with every contrib converter."""
    from swmlir import ops_table
    run = {"target": "sw26010", "total": 0, "counts": {"passed": 0, "failed": 0, "unsupported": 0},
           "other_domains": ops_table._other_domains()}
    text = ops_table.markdown([], run)
    assert "## onnxruntime contrib ops (domain `com.microsoft`)" in text
    for op in ("Gelu", "BiasGelu", "FastGelu", "QuickGelu", "SkipLayerNormalization",
               "SkipSimplifiedLayerNormalization", "FusedMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
               "DynamicQuantizeLSTM"):
        assert f"| {op} | 1 |" in text


# ================================================================================================ real producers
def bert_layer(path, B=2, S=5, H=16, NH=2):
    """One BERT encoder layer as exporters write it (LayerNorm, erf-GELU and attention decomposed), opset 13."""
    rng = rng_for("bert-layer")
    D = H // NH
    inits, nodes = [], []

    def w(name, shape, scale=0.3, offset=0.0):
        inits.append(numpy_helper.from_array((offset + scale * rng.standard_normal(shape)).astype(F32), name))
        return name

    def c(name, val, dt=F32):
        inits.append(numpy_helper.from_array(np.array(val, dt), name))
        return name

    def n(op, ins, out, **kw):
        nodes.append(helper.make_node(op, ins, [out], **kw))
        return out

    def layer_norm(x, t):
        d = n("Sub", [x, n("ReduceMean", [x], f"{t}_m", axes=[-1])], f"{t}_d")
        v = n("ReduceMean", [n("Pow", [d, c(f"{t}_2", 2.0)], f"{t}_p")], f"{t}_v", axes=[-1])
        s = n("Sqrt", [n("Add", [v, c(f"{t}_eps", 1e-12)], f"{t}_e")], f"{t}_s")
        g = n("Mul", [n("Div", [d, s], f"{t}_q"), w(f"{t}_g", [H], 0.1, 1.0)], f"{t}_g2")
        return n("Add", [g, w(f"{t}_b", [H], 0.1)], f"{t}_out")

    def proj(x, t):
        return n("Add", [n("MatMul", [x, w(f"{t}_w", [H, H])], f"{t}_mm"), w(f"{t}_bias", [H], 0.1)], f"{t}_o")

    def heads(x, t, perm):
        r = n("Reshape", [x, c(f"{t}_shape", [B, S, NH, D], np.int64)], f"{t}_r")
        return n("Transpose", [r], f"{t}_t", perm=perm)

    q, k = heads(proj("x", "q"), "qh", [0, 2, 1, 3]), heads(proj("x", "k"), "kh", [0, 2, 3, 1])
    v = heads(proj("x", "v"), "vh", [0, 2, 1, 3])
    p = n("Softmax", [n("Div", [n("MatMul", [q, k], "qk"), c("sqrt_d", np.sqrt(D))], "qk_s")], "probs", axis=-1)
    ctx = n("Transpose", [n("MatMul", [p, v], "ctx")], "ctx_t", perm=[0, 2, 1, 3])
    ctx = n("Reshape", [ctx, c("ctx_shape", [B, S, H], np.int64)], "ctx_r")
    ln1 = layer_norm(n("Add", [proj(ctx, "ao"), "x"], "res1"), "ln1")
    f1 = proj(ln1, "f1")
    erf = n("Erf", [n("Div", [f1, c("sqrt2", np.sqrt(2.0))], "g_div")], "g_erf")
    gelu = n("Mul", [n("Mul", [f1, n("Add", [erf, c("one", 1.0)], "g_add")], "g_mul"), c("half", 0.5)], "g_out")
    out = layer_norm(n("Add", [proj(gelu, "f2"), ln1], "res2"), "ln2")
    g = helper.make_graph(nodes, "bert_layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, S, H])],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, [B, S, H])], initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return rng.standard_normal([B, S, H]).astype(F32)


def ort_optimized(src, dst) -> onnx.ModelProto:
    """The model as onnxruntime's graph optimizer (extended level) rewrites it: its contrib-op fusions."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(dst)
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    return onnx.load(str(dst))


def _contrib_ops(m):
    return {nd.op_type for nd in m.graph.node if nd.domain == MS}


@pytest.mark.parametrize("quant", [None, ("QInt8", True), ("QUInt8", False)],
                         ids=["float", "s8-per-channel", "u8-per-tensor"])
def test_onnxruntime_optimized_bert_layer(tmp_path, quant):
    """A BERT layer after onnxruntime's own optimizer (SkipLayerNormalization, Gelu, FusedMatMul), and after
    quantize_dynamic + the optimizer (DynamicQuantizeMatMul, MatMulIntegerToFloat fed by DynamicQuantizeLinear):
    the files these tools write, compiled and run on the emulator, against onnxruntime on the same file."""
    if quant is not None and quant[0] == "QInt8" and not onnxruntime_u8s8_exact():
        pytest.skip("onnxruntime's u8 x s8 GEMM saturates in int16 on this CPU (no VNNI): not a reference")
    x = bert_layer(tmp_path / "layer.onnx")
    src = tmp_path / "layer.onnx"
    if quant is not None:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(str(src), str(tmp_path / "q.onnx"), weight_type=getattr(QuantType, quant[0]),
                         per_channel=quant[1])
        src = tmp_path / "q.onnx"
    m = ort_optimized(src, tmp_path / "opt.onnx")
    want = {"SkipLayerNormalization", "Gelu", "FusedMatMul"}
    if quant is not None:
        want |= {"DynamicQuantizeMatMul", "MatMulIntegerToFloat"}
    assert want <= _contrib_ops(m)
    full_path(m, {"x": x}, atol=3e-5)


# ================================================================================================ DynamicQuantizeLSTM
DQ_LSTM_CASES = [
    # node attributes, plus: w (int8 / uint8), per_channel, bias, h0, c0, P, outs
    dict(),
    dict(direction="reverse", w=np.uint8, per_channel=True),
    dict(direction="bidirectional", per_channel=True, h0=False, c0=False),
    dict(direction="bidirectional", w=np.uint8, bias=False, outs=("Y_h", "Y_c"),
         activations=["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Softsign", "Relu"], activation_alpha=[0.3],
         activation_beta=[0.6]),
    dict(P=True, clip=0.8),
    dict(input_forget=1, outs=("Y",), c0=False),
    dict(activations=["Sigmoid", "ScaledTanh", "Affine"], activation_alpha=[0.9, 0.7], activation_beta=[1.3, 0.2],
         outs=("Y_h",)),
]


@pytest.mark.parametrize("k", range(len(DQ_LSTM_CASES)))
def test_dynamic_quantize_lstm(k):
    """DynamicQuantizeLSTM over direction, int8 / uint8 weights, per-tensor and per-channel scales and zero
    points, bias, initial states, peepholes, clip, input_forget, activations (with alpha / beta), subsets of the
    outputs. onnxruntime runs with one thread (its recurrence quantizes each thread's batch rows on their own).
    One model per case: the unrolled steps are many kernels, and outlining them grows with their square."""
    rng = rng_for("dq-lstm", k)
    T, B, I, H = 3, 3, 5, 4
    inputs, inits, feeds, nodes, outs = {"X": [T, B, I]}, {}, {}, [], {}
    feeds["X"] = normal(rng, [T, B, I])
    for c in [DQ_LSTM_CASES[k]]:
        c = dict(c)
        wdt, per = c.pop("w", np.int8), c.pop("per_channel", False)
        D = 2 if c.get("direction") == "bidirectional" else 1
        lo, hi, zp = (-60, 60, 0) if wdt == np.int8 else (68, 188, 128)
        sshape = [D, 4 * H] if per else [D]
        inits[f"W{k}"] = rng.integers(lo, hi, (D, I, 4 * H)).astype(wdt)
        inits[f"R{k}"] = rng.integers(lo, hi, (D, H, 4 * H)).astype(wdt)
        inits[f"ws{k}"], inits[f"rs{k}"] = (rng.uniform(0.005, 0.03, sshape).astype(F32) for _ in range(2))
        inits[f"wz{k}"] = inits[f"rz{k}"] = np.full(sshape, zp, wdt)
        ins = ["X", f"W{k}", f"R{k}", "", "", "", "", ""]
        if c.pop("bias", True):
            inits[f"B{k}"], ins[3] = normal(rng, [D, 8 * H], 0.3), f"B{k}"
        for j, key in ((5, "h0"), (6, "c0")):
            if c.pop(key, True):
                inputs[f"{key}_{k}"], feeds[f"{key}_{k}"] = [D, B, H], normal(rng, [D, B, H], 0.5)
                ins[j] = f"{key}_{k}"
        if c.pop("P", False):
            inits[f"P{k}"], ins[7] = normal(rng, [D, 3 * H], 0.3), f"P{k}"
        ins += [f"ws{k}", f"wz{k}", f"rs{k}", f"rz{k}"]
        want = c.pop("outs", ("Y", "Y_h", "Y_c"))
        o = [f"{n}{k}" if n in want else "" for n in ("Y", "Y_h", "Y_c")]
        while o[-1] == "":
            o.pop()
        outs.update({n: F32 for n in o if n})
        nodes.append(ms("DynamicQuantizeLSTM", ins, o, f"dqlstm{k}", hidden_size=H, **c))
    full_path(model(nodes, inputs, outs, inits), feeds)


def test_dynamic_quantize_lstm_refusals():
    D, T, B, I, H = 1, 3, 2, 4, 2
    base = {"W": np.zeros([D, I, 4 * H], np.int8), "R": np.zeros([D, H, 4 * H], np.int8),
            "s": np.ones([D], F32), "z": np.zeros([D], np.int8), "L": np.array([3, 2], np.int32)}
    _refused(ms("DynamicQuantizeLSTM", ["x", "W", "R", "", "L", "", "", "", "s", "z", "s", "z"], ["y"], "dql_lens"),
             {"x": [T, B, I]}, {"y": F32}, r"dql_lens.*sequence_lens is supported only as a constant equal to "
                                           r"seq_length", inits=base)
    _refused(ms("DynamicQuantizeLSTM", ["x", "W", "R", "", "", "", "", "", "s", "z", "s", "z"], ["y"], "dql_h",
                hidden_size=3), {"x": [T, B, I]}, {"y": F32},
             r"input W has shape \[1, 4, 8\], expected \[1, 4, 12\]", inits=base)


@pytest.mark.parametrize("quant", [("QInt8", True), ("QUInt8", False)], ids=["s8-per-channel", "u8-per-tensor"])
def test_quantize_dynamic_lstm(tmp_path, quant):
    """A bidirectional ONNX LSTM through onnxruntime's quantize_dynamic (which writes DynamicQuantizeLSTM with
    its transposed int8 / uint8 weights), compiled and run against onnxruntime on the same file."""
    if not onnxruntime_u8s8_exact():
        pytest.skip("onnxruntime's u8 x s8 GEMM saturates in int16 on this CPU (no VNNI): not a reference")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    rng = rng_for("q-lstm", quant)
    T, B, I, H, D = 4, 2, 6, 8, 2
    inits = {"W": normal(rng, [D, 4 * H, I], 0.3), "R": normal(rng, [D, 4 * H, H], 0.3),
             "B": normal(rng, [D, 8 * H], 0.1)}
    m = model([helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"], name="lstm", hidden_size=H,
                                direction="bidirectional")], {"X": [T, B, I]}, {"Y": F32, "Y_h": F32, "Y_c": F32},
              inits, opset=13)
    onnx.save(m, str(tmp_path / "lstm.onnx"))
    quantize_dynamic(str(tmp_path / "lstm.onnx"), str(tmp_path / "q.onnx"), weight_type=getattr(QuantType, quant[0]),
                     per_channel=quant[1])
    q = onnx.load(str(tmp_path / "q.onnx"))
    assert [n.op_type for n in q.graph.node] == ["DynamicQuantizeLSTM"]
    full_path(q, {"X": normal(rng, [T, B, I])})
