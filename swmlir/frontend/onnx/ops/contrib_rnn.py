"""onnxruntime's com.microsoft DynamicQuantizeLSTM (what quantize_dynamic makes of an LSTM), expanded into the
ONNX ops of its definition and inlined, as ONNX function bodies are.

What onnxruntime computes (its CPU kernel, the reference we are checked against): LSTM with int8 / uint8
weights W [D, I, 4H] and R [D, H, 4H] (note: input-major, unlike ONNX LSTM's [D, 4H, I]), gates iofc; every
product is a dynamically quantized one, exactly DynamicQuantizeMatMul: X (all steps at once, [T*B, I]) times
W[d] once per direction, and at each step H_{t-1} ([B, H], quantized on its own range) times R[d], each
accumulated exactly in int32 and scaled by a_scale * w_scale (per tensor, or per column [D, 4H]). So the
expansion is: one DynamicQuantizeMatMul of X per direction, then per step and direction a
DynamicQuantizeMatMul of the state, the bias (Wb + Rb), the peepholes, clip and the activations as ONNX
nodes, the state update, and the outputs concatenated; control_flow._inline converts it with the existing
converters (constants such as a direction's slice of a constant W fold first). The unrolling is what ops/rnn.py
does for LSTM; the products differ, which is why this op is not LSTM's converter.

onnxruntime splits the batch over its thread pool in the recurrence and quantizes each thread's rows on
their own range, so its results depend on its thread count; they are those of one thread here (as every
comparison in this repository runs onnxruntime).

Refused with a reason: sequence_lens other than all equal to seq_length (onnxruntime feeds zeroed outputs of
finished sequences back into the batch's quantization range), inputs that are not float32, weights other
than int8 / uint8, shapes that do not match hidden_size, activations ops/rnn.py does not support.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .. import builders as b
from ..importer import ValueInfo
from ..registry import converter
from . import rnn
from ._contrib import MS, check_node
from .control_flow import _inline

F32 = np.dtype(np.float32)
_QUANT = (np.dtype(np.int8), np.dtype(np.uint8))


class _Graph:
    """An ONNX graph built node by node, every name under `prefix` (unique in the model)."""

    def __init__(self, ctx, prefix: str):
        self.ctx, self.prefix = ctx, prefix
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.k = 0

    def name(self, hint: str) -> str:
        self.k += 1
        return f"{self.prefix}{hint}_{self.k}"

    def const(self, value, dtype=np.int64) -> str:
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), n))
        return n

    def op(self, op_type: str, inputs, hint: str = "", dtype=None, domain: str = "", **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, domain=domain, **attrs))
        if dtype is not None:   # converters that care about signedness read it from the value infos
            self.ctx.info[out] = ValueInfo(None, np.dtype(dtype))
        return out

    def take(self, x: str, start: int, count: int, axis: int, dtype=None) -> str:
        """x[start:start + count] along `axis` (a Gather with constant indices: its semantics never changed)."""
        return self.op("Gather", [x, self.const(np.arange(start, start + count))], "take", dtype, axis=axis)

    def pick(self, x: str, index: int, dtype=None) -> str:
        """x[index] along axis 0, that axis dropped."""
        return self.op("Gather", [x, self.const(index)], "pick", dtype, axis=0)

    def scalar(self, v: float) -> str:
        return self.const(v, np.float32)


def _activation(g: _Graph, act: rnn.Act, x: str) -> str:
    n, a, be = act.name, act.alpha, act.beta
    simple = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softsign": "Softsign", "softplus": "Softplus"}
    if n in simple:
        return g.op(simple[n], [x])
    if n == "affine":
        return g.op("Add", [g.op("Mul", [x, g.scalar(a)]), g.scalar(be)])
    if n == "scaledtanh":
        return g.op("Mul", [g.op("Tanh", [g.op("Mul", [x, g.scalar(be)])]), g.scalar(a)])
    if n == "leakyrelu":
        return g.op("LeakyRelu", [x], alpha=a)
    if n == "thresholdedrelu":
        return g.op("ThresholdedRelu", [x], alpha=a)
    if n == "hardsigmoid":
        return g.op("HardSigmoid", [x], alpha=a, beta=be)
    if n == "elu":
        return g.op("Elu", [x], alpha=a)
    raise AssertionError(n)


def _shape(node, i: int):
    c = node.constant(i)
    return tuple(c.shape) if c is not None else b.shape_of(node.require_input(i, node.input_names[i]))


def _dtype(node, i: int):
    from ..dtypes import input_dtype
    return input_dtype(node, i)


@converter("DynamicQuantizeLSTM", since=1, domain=MS)
def dynamic_quantize_lstm(ctx, node):
    check_node(node, (12, 12), (0, 3), activation_alpha="FLOATS", activation_beta="FLOATS", activations="STRINGS",
               clip="FLOAT", direction="STRING", hidden_size="INT", input_forget="INT")
    names = node.input_names
    for i, what in ((0, "X"), (1, "W"), (2, "R"), (8, "W_scale"), (9, "W_zero_point"), (10, "R_scale"),
                    (11, "R_zero_point")):
        node.require_input(i, what)
    if _dtype(node, 0) != F32:
        raise node.error(f"X has element type {_dtype(node, 0)}; only float32 is supported (as onnxruntime)")
    wdt = _dtype(node, 1)
    if wdt not in _QUANT or _dtype(node, 2) != wdt:
        raise node.error(f"W and R must both be int8 or both uint8, got {wdt} and {_dtype(node, 2)}")
    xs = _shape(node, 0)
    if len(xs) != 3:
        raise node.error(f"X must be [seq_length, batch_size, input_size], got shape {list(xs)}")
    T, B, I = xs
    direction = node.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise node.error(f"attribute 'direction' is '{direction}'; it must be forward, reverse or bidirectional")
    D = 2 if direction == "bidirectional" else 1
    rs = _shape(node, 2)
    H = int(node.attr("hidden_size", rs[1] if len(rs) == 3 else 0))
    expect = {1: [D, I, 4 * H], 2: [D, H, 4 * H], 3: [D, 8 * H], 5: [D, B, H], 6: [D, B, H], 7: [D, 3 * H]}
    for i, shape in expect.items():
        if node.has_input(i) and list(_shape(node, i)) != shape:
            raise node.error(f"input {names[i]} has shape {list(_shape(node, i))}, expected {shape}")
    for i in (3, 5, 6, 7):
        if node.has_input(i) and _dtype(node, i) != F32:
            raise node.error(f"input {names[i]} has element type {_dtype(node, i)}; float32 is expected")
    for i, what in ((8, "W_scale"), (9, "W_zero_point"), (10, "R_scale"), (11, "R_zero_point")):
        if list(_shape(node, i)) not in ([D], [D, 4 * H]):
            raise node.error(f"{what} has shape {list(_shape(node, i))}; [{D}] (per tensor) or [{D}, {4 * H}] "
                             "(per column) is expected")
        if _dtype(node, i) != (F32 if i in (8, 10) else wdt):
            raise node.error(f"{what} has element type {_dtype(node, i)}, expected {F32 if i in (8, 10) else wdt}")
    if node.has_input(4):
        lens = node.constant(4)
        if lens is None or lens.shape != (B,) or np.any(lens != T):
            why = ("sequence_lens is supported only as a constant equal to seq_length for every batch entry: "
                   "onnxruntime quantizes the zeroed outputs of finished sequences with the others")
            raise node.needs_constant(4, why) if lens is None else node.error(why)
    clip = node.attr("clip", None)
    if clip is not None and not float(clip) > 0:
        raise node.error(f"attribute 'clip' is {clip}; it must be positive")
    input_forget = int(node.attr("input_forget", 0))
    if input_forget not in (0, 1):
        raise node.error(f"attribute 'input_forget' is {input_forget}; it must be 0 or 1")
    acts = rnn._activations(node, rnn.LSTM_SPEC.default_acts, D)

    g = _Graph(ctx, f"{node.name}/")

    def clipped(x):
        if clip is None:
            return x
        return g.op("Max", [g.op("Min", [x, g.scalar(clip)]), g.scalar(-clip)])

    def dqmm(a, w, scale, zp):
        return g.op("DynamicQuantizeMatMul", [a, w, scale, zp], "dqmm", domain=MS)

    x2 = g.op("Reshape", [names[0], g.const([T * B, I])], "x2")
    ys, yh, yc = [], [], []
    for d in range(D):
        f_act, g_act, h_act = acts[d]
        wd, rd = g.pick(names[1], d, wdt), g.pick(names[2], d, wdt)
        ws, wz = g.pick(names[8], d), g.pick(names[9], d, wdt)
        rsc, rz = g.pick(names[10], d), g.pick(names[11], d, wdt)
        xw = dqmm(x2, wd, ws, wz)   # all steps: X quantized once, on its whole range
        bias = None
        if node.has_input(3):
            bd = g.pick(names[3], d)
            bias = g.op("Add", [g.take(bd, 0, 4 * H, 0), g.take(bd, 4 * H, 4 * H, 0)], "bias")
        h = g.pick(names[5], d) if node.has_input(5) else None
        c = g.pick(names[6], d) if node.has_input(6) else None
        peep = None
        if node.has_input(7):
            pd = g.pick(names[7], d)
            peep = {k: g.take(pd, j * H, H, 0) for j, k in enumerate("iof")}
        steps = {}
        backward = direction == "reverse" or d == 1
        for t in (reversed(range(T)) if backward else range(T)):
            gates = g.take(xw, t * B, B, 0)
            if h is not None:   # H_{t-1} quantized on its own range
                gates = g.op("Add", [gates, dqmm(h, rd, rsc, rz)], "gates")
            if bias is not None:
                gates = g.op("Add", [gates, bias], "gates")
            gi, go, gf, gc = (g.take(gates, k * H, H, 1) for k in range(4))   # iofc

            def pre(x, k, state):
                if peep is not None and state is not None:
                    x = g.op("Add", [x, g.op("Mul", [peep[k], state])])
                return clipped(x)

            i = _activation(g, f_act, pre(gi, "i", c))
            new = g.op("Mul", [i, _activation(g, g_act, clipped(gc))])
            if c is not None:
                f = g.op("Sub", [g.scalar(1.0), i]) if input_forget else _activation(g, f_act, pre(gf, "f", c))
                new = g.op("Add", [g.op("Mul", [f, c]), new], "c")
            c = new
            o = _activation(g, f_act, pre(go, "o", c))
            h = g.op("Mul", [o, _activation(g, h_act, c)], "h")
            steps[t] = h
        ys.append([steps[t] for t in range(T)])
        yh.append(h)
        yc.append(c)

    def stacked(parts, shape):
        parts = [g.op("Reshape", [p, g.const(shape)]) for p in parts]
        return parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=0)

    outputs = []
    if node.output_requested(0):   # Y [T, D, B, H]
        per_step = [stacked([ys[d][t] for d in range(D)], [1, B, H]) for t in range(T)]
        outputs.append(stacked(per_step, [1, D, B, H]))
    else:
        outputs.append("")
    outputs.append(stacked(yh, [1, B, H]) if node.output_requested(1) else "")
    outputs.append(stacked(yc, [1, B, H]) if node.output_requested(2) else "")
    graph = helper.make_graph(g.nodes, "dynamic_quantize_lstm", [],
                              [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in outputs if o],
                              initializer=g.inits)
    results = iter(_inline(ctx, node, graph, f"{node.name}/", {}))
    return [next(results) if o else None for o in outputs][:len(node.output_names)]
