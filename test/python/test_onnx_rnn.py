"""LSTM, GRU and RNN through the FULL path (import, Sunway schedule, emitted C, host emulator), compared with
onnxruntime over their attributes: direction, activations (with activation_alpha/beta), clip, layout,
sequence_lens (constant and run-time, lengths shorter than seq_length), initial_h / initial_c, peepholes and
input_forget (LSTM), linear_before_reset (GRU), omitted optional inputs and outputs, run-time weights.

To keep the compile count low, each compiled model holds several nodes (one per attribute case) reading the
same X, each with weights of its own. Tolerance: rtol 1e-4, atol 1e-5 (float32), as the other op tests; the
recurrences here are short (3-5 steps) and their values O(1).
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from mlir import ir
from onnx import helper

from swmlir.errors import ImportError_
from swmlir.frontend.onnx import import_onnx
from swmlir.testing.compare import check_against_onnxruntime, graph_inputs, run_onnxruntime, sunway_runner
from swmlir.testing.models import make_model

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
OUTPUTS = {"LSTM": ("Y", "Y_h", "Y_c"), "GRU": ("Y", "Y_h"), "RNN": ("Y", "Y_h")}


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def build(op, cases, *, T=4, B=3, I=5, H=4, layout=0, lens=None, seed=(), opset=14):
    """A model with one `op` node per case on a shared X, and its feeds.

    A case is a dict: node attributes, plus keys that say how its inputs are given
      bias (default True), h0 / c0 / peep ('init' an initializer, 'input' a graph input, absent: omitted),
      weights ('init' default, 'input': W, R, B as graph inputs), outputs (which of Y, Y_h, Y_c: default all),
      lens (True: reads the model's sequence_lens), no_hidden_size (the attribute omitted).
    lens: None, or (lengths, 'init' | 'input') shared by the cases that ask for it."""
    # the same numbers for both layouts (drawn in layout 0, transposed for layout 1): see check
    rng = rng_for(op, seed, T, B, I, H, repr(cases), repr(lens))
    G = GATES[op]
    swap = (lambda a: a.transpose(1, 0, 2)) if layout else (lambda a: a)
    xs = (T, B, I) if layout == 0 else (B, T, I)
    inputs, feeds, inits, nodes, outputs = {"X": xs}, {}, {}, [], {}
    feeds["X"] = np.ascontiguousarray(swap(rng.standard_normal((T, B, I)).astype(np.float32)))
    if lens is not None:
        values, how = lens
        arr = np.asarray(values, np.int32)
        if how == "init":
            inits["L"] = arr
        else:
            inputs["L"] = ((B,), np.int32)
            feeds["L"] = arr

    def param(name, shape, how, scale=0.5, state=False):
        a = (scale * rng.standard_normal(shape)).astype(np.float32)
        if state:  # drawn (D, B, H)
            a = np.ascontiguousarray(swap(a))
            shape = a.shape
        if how == "input":
            inputs[name] = shape
            feeds[name] = a
        else:
            inits[name] = a
        return name

    for k, case in enumerate(cases):
        case = dict(case)
        D = 2 if case.get("direction") == "bidirectional" else 1
        wh = case.pop("weights", "init")
        ins = ["X", param(f"W{k}", (D, G * H, I), wh), param(f"R{k}", (D, G * H, H), wh)]
        ins.append(param(f"B{k}", (D, 2 * G * H), wh) if case.pop("bias", True) else "")
        ins.append("L" if case.pop("lens", False) else "")
        h0 = case.pop("h0", None)
        ins.append(param(f"H0_{k}", (D, B, H), h0, state=True) if h0 else "")
        if op == "LSTM":
            c0 = case.pop("c0", None)
            ins.append(param(f"C0_{k}", (D, B, H), c0, state=True) if c0 else "")
            peep = case.pop("peep", None)
            ins.append(param(f"P{k}", (D, 3 * H), peep) if peep else "")
        while ins[-1] == "":
            ins.pop()
        want = case.pop("outputs", OUTPUTS[op])
        outs = [f"{o}{k}" if o in want else "" for o in OUTPUTS[op]]
        while outs[-1] == "":
            outs.pop()
        for o in outs:
            if o:
                outputs[o] = None
        if not case.pop("no_hidden_size", False):
            case["hidden_size"] = H
        if layout:
            case["layout"] = layout
        nodes.append(helper.make_node(op, ins, outs, name=f"{op.lower()}{k}", **case))
    return make_model(nodes, inputs, outputs, opset=opset, initializers=inits), feeds


def full_path(model, feeds, **tol):
    return check_against_onnxruntime(model, feeds, runner=sunway_runner, **tol)


def check(op, cases, *, layout=0, rtol=1e-4, atol=1e-5, **kw):
    """The cases through our full path against onnxruntime. onnxruntime refuses layout=1 ("Batchwise
    recurrent operations are not supported"), so a layout=1 model is checked against onnxruntime running the
    same weights with layout=0, its inputs and outputs transposed."""
    if layout == 0:
        return full_path(*build(op, cases, **kw), rtol=rtol, atol=atol)
    m1, f1 = build(op, cases, layout=1, **kw)
    m0, f0 = build(op, cases, layout=0, **kw)
    want = run_onnxruntime(m0, {n: f0[n] for n in graph_inputs(m0)})
    got = sunway_runner(m1, [f1[n] for n in graph_inputs(m1)])
    assert len(got) == len(want)
    for o, g, w in zip(m1.graph.output, got, want):
        w = w.transpose(2, 0, 1, 3) if w.ndim == 4 else w.transpose(1, 0, 2)  # Y: [T,D,B,H] -> [B,T,D,H]
        assert g.shape == w.shape, o.name
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=o.name)


def _id(v):
    return str(v).replace(" ", "")


# ----------------------------------------------------------------------------------------------- directions
DIRECTIONS = [dict(direction="forward", h0="init", c0="init"),
              dict(direction="reverse", h0="input", c0="input"),
              dict(direction="bidirectional", h0="init", c0="input")]


@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_directions_and_layout(op, layout):
    """forward / reverse / bidirectional with initial states (initializers and graph inputs), all outputs."""
    cases = [{k: v for k, v in c.items() if op == "LSTM" or k != "c0"} for c in DIRECTIONS]
    check(op, cases, layout=layout)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_defaults_no_bias_no_state(op):
    """B and initial states omitted; only Y_h, only Y (only Y_c) requested."""
    cases = [dict(bias=False), dict(outputs=("Y_h",)),
             dict(direction="bidirectional", bias=False, outputs=("Y",))]
    if op == "LSTM":
        cases.append(dict(direction="reverse", outputs=("Y_c",), h0="init"))
    full_path(*build(op, cases, T=3, B=2, I=6, H=5, seed="defaults"))


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_runtime_weights(op):
    """W, R and B as graph inputs (read in place: transposed maps, slices of R per direction)."""
    cases = [dict(weights="input", h0="input"), dict(direction="bidirectional", weights="input")]
    full_path(*build(op, cases, T=3, B=2, I=4, H=3, seed="runtime"))


def test_many_rows_kn_weights():
    """seq_length * batch >= 32 rows: the input GEMM's constant W is stored (K, N) on targets that want it."""
    full_path(*build("LSTM", [dict(direction="bidirectional", h0="init", c0="init")], T=5, B=8, I=8, H=8))


# ----------------------------------------------------------------------------------------------- activations
ACTS = {
    # op -> node cases; alpha/beta consumed in order by the activations that take them
    "LSTM": [
        dict(activations=["HardSigmoid", "Elu", "Softsign"], activation_alpha=[0.3, 0.8], activation_beta=[0.4]),
        dict(activations=["Sigmoid", "ScaledTanh", "Affine"], activation_alpha=[0.9, 0.7],
             activation_beta=[1.3, 0.2]),
        dict(activations=["Sigmoid", "LeakyRelu", "Softplus"], activation_alpha=[0.2], clip=0.7),
        dict(direction="bidirectional", activations=["Sigmoid", "Tanh", "Relu", "HardSigmoid", "ThresholdedRelu",
                                                     "Tanh"], activation_alpha=[0.25, 0.1], activation_beta=[0.45]),
        dict(activations=["sigmoid", "tanh", "tanh"], clip=0.5, direction="reverse", h0="init", c0="init"),
    ],
    "GRU": [
        dict(activations=["HardSigmoid", "Softsign"], activation_alpha=[0.3], activation_beta=[0.6]),
        dict(activations=["Sigmoid", "ScaledTanh"], activation_alpha=[1.1], activation_beta=[0.9], clip=0.6),
        dict(activations=["Sigmoid", "Elu"], activation_alpha=[0.6], linear_before_reset=1),
        dict(direction="bidirectional", activations=["Sigmoid", "Relu", "HardSigmoid", "Softplus"], clip=0.8),
        dict(activations=["Sigmoid", "LeakyRelu"], activation_alpha=[0.3], h0="init"),
    ],
    "RNN": [
        dict(activations=["Relu"]), dict(activations=["Sigmoid"], clip=0.4),
        dict(activations=["Affine"], activation_alpha=[0.6], activation_beta=[0.3], h0="init"),
        dict(activations=["LeakyRelu"], activation_alpha=[0.2]),
        dict(activations=["ThresholdedRelu"], activation_alpha=[0.1]),
        dict(activations=["ScaledTanh"], activation_alpha=[1.5], activation_beta=[0.5]),
        dict(direction="bidirectional", activations=["HardSigmoid", "Elu"], activation_alpha=[0.3, 0.7],
             activation_beta=[0.4]),
        dict(direction="bidirectional", activations=["Softsign", "Softplus"], clip=0.9),
    ],
}


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_activations_and_clip(op):
    full_path(*build(op, ACTS[op], T=3, B=2, I=4, H=3, seed="acts"))


# ----------------------------------------------------------------------------------------------- sequence_lens
@pytest.mark.parametrize("how,layout", [("input", 0), ("init", 1)], ids=["runtime-layout0", "constant-layout1"])
@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_sequence_lens(op, how, layout):
    """Lengths shorter than seq_length: Y is zero past each length, Y_h / Y_c are each sequence's last valid
    state (the reverse direction starts at each sequence's own end)."""
    cases = [dict(lens=True, h0="init"), dict(lens=True, direction="reverse"),
             dict(lens=True, direction="bidirectional", h0="input")]
    if op == "LSTM":
        cases[0].update(c0="init", peep="init")
    if op == "GRU":
        cases[2]["linear_before_reset"] = 1
    check(op, cases, T=5, B=3, I=4, H=3, layout=layout, lens=([5, 2, 3], how))


def test_sequence_lens_all_full():
    """A constant sequence_lens equal to seq_length everywhere masks nothing."""
    full_path(*build("RNN", [dict(lens=True, direction="bidirectional")], T=3, B=2, lens=([3, 3], "init")))


def test_sequence_lens_zero():
    """A sequence of length 0: Y all zeros for it, and Y_h / Y_c zeros too (not the initial state), as onnxruntime."""
    cases = [dict(lens=True, h0="init", c0="init", direction="bidirectional"), dict(lens=True, direction="reverse")]
    check("LSTM", cases, T=3, B=3, I=3, H=2, lens=([0, 2, 3], "input"), seed="zero")


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_opset7(op):
    """The oldest registered version (no layout attribute)."""
    check(op, [dict(direction="bidirectional", h0="init")], T=3, B=2, I=3, H=2, seed="opset7", opset=7)


# ----------------------------------------------------------------------------------------------- op specific
def test_lstm_peepholes_and_input_forget():
    cases = [dict(peep="init", h0="init", c0="init"), dict(peep="input", input_forget=1),
             dict(direction="bidirectional", peep="init", input_forget=1, c0="init"),
             dict(direction="reverse", input_forget=1, clip=0.6)]
    full_path(*build("LSTM", cases, T=4, B=2, I=5, H=4, seed="peep"))


def test_gru_linear_before_reset():
    cases = [dict(linear_before_reset=1), dict(linear_before_reset=1, h0="init"),
             dict(linear_before_reset=1, direction="bidirectional", bias=False, h0="input"),
             dict(linear_before_reset=0, direction="reverse", h0="init", clip=0.5)]
    full_path(*build("GRU", cases, T=4, B=3, I=4, H=5, seed="lbr"))


def test_hidden_size_from_r():
    """hidden_size omitted (onnxruntime requires it; ONNX takes it from the shapes): read from R."""
    model, _ = build("GRU", [dict(no_hidden_size=True, direction="bidirectional")], T=3, B=2, I=4, H=5)
    _, info = _import(model)
    assert [o.shape for o in info.outputs] == [(3, 2, 2, 5), (2, 2, 5)]


def test_float64():
    """float64 in the emitted C. onnxruntime's LSTM, GRU and RNN are float32 only, so the reference is its float32
    result of the same (float32-exact) numbers, at a float32 tolerance."""
    model, feeds = build("LSTM", [dict(direction="bidirectional", h0="init", peep="init")], T=3, B=2, I=4, H=3,
                         seed="f64")
    want = run_onnxruntime(model, feeds)
    from onnx import TensorProto, numpy_helper
    for t in model.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name))
    for vi in list(model.graph.input) + list(model.graph.output):
        vi.type.tensor_type.elem_type = TensorProto.DOUBLE
    got = sunway_runner(model, [feeds[n].astype(np.float64) for n in graph_inputs(model)])
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------- refusals
def _import(model):
    with ir.Context():
        return import_onnx(model)


@pytest.mark.parametrize("attrs,words", [
    (dict(direction="sideways"), "'direction'"),
    (dict(activations=["Sigmoid", "Gelu", "Tanh"]), "'Gelu' is not supported"),
    (dict(activations=["Sigmoid", "Tanh"]), "'activations' has 2 entries, expected 3"),
    (dict(direction="bidirectional", activations=["Sigmoid", "Tanh", "Tanh"]), "needs 6"),
    (dict(clip=-1.0), "'clip'"),
    (dict(layout=2), "'layout'"),
    (dict(input_forget=2), "'input_forget'"),
], ids=_id)
def test_refusals_name_op_node_attribute(attrs, words):
    model, _ = build("LSTM", [attrs], T=2, B=2, I=3, H=2, seed="bad")
    with pytest.raises(ImportError_) as info:
        _import(model)
    text = str(info.value)
    assert words in text and "LSTM" in text and "lstm0" in text, text


def test_refusal_hidden_size_mismatch():
    model, _ = build("GRU", [dict()], T=2, B=2, I=3, H=2, seed="bad")
    for a in model.graph.node[0].attribute:
        if a.name == "hidden_size":
            a.i = 3
    with pytest.raises(ImportError_, match=r"input W has shape \[1, 6, 3\], expected \[1, 9, 3\]"):
        _import(model)
