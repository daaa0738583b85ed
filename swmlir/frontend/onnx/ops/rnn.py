"""The recurrent ops LSTM, GRU and RNN, unrolled over their (static) sequence length into plain linalg.

Why one big input GEMM first: the input projection X_t * W^T of every step does not depend on the recurrence,
so all of it is ONE `linalg.matmul` of X viewed as (seq_length * batch, input_size) with W viewed as
(num_directions * gates * hidden, input_size) -- both directions, all gates, all steps. That is the op the
Sunway schedule is fast at (a large GEMM tiled over the 64 CPEs with weights reused from LDM), instead of
seq_length * num_directions tiny products of `batch` rows each, every one a kernel launch streaming W once.
Only the part that truly depends on the previous step is unrolled: per step and direction one matmul
H_{t-1} * R^T (two for GRU with linear_before_reset=0, whose reset gate multiplies H before the product),
then one or two all-parallel generics over (batch, hidden) that add the gate slices of the input GEMM, the
recurrent product, the biases (Wb + Rb folded in numpy when B is a constant) and the peepholes, clip, apply
the activations and produce the new state.

Each gate operand is an `extract_slice` of its window (the pipeline's maps carry no constant terms, see
movement_util); with layout=1 the rows of one step are every seq_length-th row of the GEMM, read through a
map with that coefficient. The first step of a direction without initial_h skips its recurrent product.

sequence_lens: a step t is valid for batch entry b when t < sequence_lens[b]. An invalid step keeps the state
(so the forward Y_h/Y_c are taken at each sequence's last valid step, and the reverse direction, walked from
t = seq_length - 1 down, starts at each sequence's own end with the initial state); one generic at the end
zeroes Y past each length (read through `linalg.index`); a sequence of length 0 has zero Y_h / Y_c (as
onnxruntime gives). The lengths may be a run-time input; when they are a constant equal to seq_length nothing
is masked.

Activations: Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign,
Softplus (names case-insensitive, as onnxruntime reads them). activation_alpha / activation_beta are consumed
in order by the activations that take them (defaults as the ONNX operators of the same name). `clip` bounds
every gate's input to its activation (not the cell state given to LSTM's h).

Refused with an error naming the op, node and attribute: an unknown direction, layout or activation, a wrong
number of activations, a non-positive clip, non-float inputs other than float32/float64, shapes that do not
match hidden_size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg
from mlir.dialects import math as mmath

from .. import builders as b
from ..dtypes import mlir_to_numpy
from ..movement_util import amap, concat, slice_of
from ..registry import converter
from .matmul import STREAMED_ROWS, matmul_2d

CF = arith.CmpFPredicate


# ================================================================================================ activations
# name (lower case) -> (alpha default, beta default, uses alpha, uses beta)
_ACT_PARAMS = {
    "relu": (None, None), "tanh": (None, None), "sigmoid": (None, None), "softsign": (None, None),
    "softplus": (None, None), "affine": (1.0, 0.0), "leakyrelu": (0.01, None), "thresholdedrelu": (1.0, None),
    "scaledtanh": (1.0, 1.0), "hardsigmoid": (0.2, 0.5), "elu": (1.0, None),
}


@dataclass(frozen=True)
class Act:
    name: str
    alpha: float | None = None
    beta: float | None = None

    def __call__(self, x: ir.Value) -> ir.Value:
        t = x.type
        c = lambda v: b.scalar(t, v)  # noqa: E731
        n, a, be = self.name, self.alpha, self.beta
        if n == "relu":
            return arith.maximumf(x, c(0.0))
        if n == "tanh":
            return mmath.tanh(x)
        if n == "sigmoid":
            return arith.divf(c(1.0), arith.addf(c(1.0), mmath.exp(arith.negf(x))))
        if n == "affine":
            return arith.addf(arith.mulf(c(a), x), c(be))
        if n == "leakyrelu":
            return arith.select(arith.cmpf(CF.OLT, x, c(0.0)), arith.mulf(c(a), x), x)
        if n == "thresholdedrelu":
            return arith.select(arith.cmpf(CF.OGT, x, c(a)), x, c(0.0))
        if n == "scaledtanh":
            return arith.mulf(c(a), mmath.tanh(arith.mulf(c(be), x)))
        if n == "hardsigmoid":
            y = arith.addf(arith.mulf(c(a), x), c(be))
            return arith.maximumf(c(0.0), arith.minimumf(c(1.0), y))
        if n == "elu":
            return arith.select(arith.cmpf(CF.OLT, x, c(0.0)), arith.mulf(c(a), mmath.expm1(x)), x)
        if n == "softsign":
            return arith.divf(x, arith.addf(c(1.0), mmath.absf(x)))
        if n == "softplus":  # log(1 + exp(x)) without overflow
            return arith.addf(arith.maximumf(x, c(0.0)), mmath.log1p(mmath.exp(arith.negf(mmath.absf(x)))))
        raise AssertionError(n)


def _activations(node, defaults: Sequence[str], num_dirs: int) -> list[list[Act]]:
    """The activations of each direction (the ONNX list holds len(defaults) per direction, forward first)."""
    per = len(defaults)
    names = node.attr("activations", None)
    if names is None:
        names = list(defaults) * num_dirs
    names = list(names)
    if len(names) != per * num_dirs:
        if len(names) == per and num_dirs == 2:
            raise node.error(f"attribute 'activations' has {len(names)} entries; a bidirectional {node.op_type} "
                             f"needs {per * num_dirs} ({per} per direction, forward first)")
        raise node.error(f"attribute 'activations' has {len(names)} entries, expected {per * num_dirs} "
                         f"({per} per direction)")
    alphas = list(node.attr("activation_alpha", []) or [])
    betas = list(node.attr("activation_beta", []) or [])
    acts = []
    for name in names:
        key = name.lower()
        if key not in _ACT_PARAMS:
            raise node.error(f"attribute 'activations': '{name}' is not supported (supported: Relu, Tanh, Sigmoid, "
                             "Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                             "Softplus)")
        da, db = _ACT_PARAMS[key]
        a = (float(alphas.pop(0)) if alphas else da) if da is not None else None
        be = (float(betas.pop(0)) if betas else db) if db is not None else None
        acts.append(Act(key, a, be))
    return [acts[d * per:(d + 1) * per] for d in range(num_dirs)]


# ================================================================================================ the common part
@dataclass
class Spec:
    gates: int                    # gate blocks in W, R and B: LSTM 4 (iofc), GRU 3 (zrh), RNN 1
    default_acts: tuple[str, ...]  # per direction: LSTM (f, g, h), GRU (f, g), RNN (f)


LSTM_SPEC = Spec(4, ("Sigmoid", "Tanh", "Tanh"))
GRU_SPEC = Spec(3, ("Sigmoid", "Tanh"))
RNN_SPEC = Spec(1, ("Tanh",))


class Operand:
    """A weight or parameter input: a numpy array when it is a constant, else an SSA value."""

    def __init__(self, node, i: int, what: str, shape: Sequence[int], elem: ir.Type):
        self.name = node.input_names[i]
        self._cache: dict = {}
        c = node.constant(i)
        if c is not None:
            if tuple(c.shape) != tuple(shape):
                raise node.error(f"input {what} has shape {list(c.shape)}, expected {list(shape)}")
            if c.dtype != mlir_to_numpy(elem):
                raise node.error(f"input {what} has element type {c.dtype}, but X has {mlir_to_numpy(elem)}")
            self.array, self.value = c, None
        else:
            v = node.require_input(i, what)
            if b.shape_of(v) != tuple(shape):
                raise node.error(f"input {what} has shape {list(b.shape_of(v))}, expected {list(shape)}")
            if b.elem_of(v) != elem:
                raise node.error(f"input {what} has element type {b.elem_of(v)}, but X has {elem}")
            self.array, self.value = None, v

    def slice(self, offsets, sizes, keep, suffix: str) -> ir.Value:
        """The box [offsets, offsets + sizes) of the operand, reshaped to `keep` (built once: the unrolled
        steps share it, and a constant is one blob)."""
        key = (tuple(offsets), tuple(sizes), tuple(keep))
        if key not in self._cache:
            self._cache[key] = self._slice(offsets, sizes, keep, suffix)
        return self._cache[key]

    def _slice(self, offsets, sizes, keep, suffix: str) -> ir.Value:
        if self.array is not None:
            idx = tuple(slice(o, o + s) for o, s in zip(offsets, sizes))
            return b.constant(np.ascontiguousarray(self.array[idx]).reshape(keep), f"{self.name}_{suffix}")
        return b.reshape(slice_of(self.value, offsets, sizes), keep)


class Recurrence:
    """The attributes and inputs of one LSTM / GRU / RNN node, checked, and the builders its cells share."""

    def flag(self, name: str) -> int:
        """A 0/1 attribute of the node (input_forget, linear_before_reset), default 0."""
        value = int(self.node.attr(name, 0))
        if value not in (0, 1):
            raise self.node.error(f"attribute '{name}' is {value}; it must be 0 or 1")
        return value

    def __init__(self, node, spec: Spec):
        self.node, self.spec = node, spec
        x = node.require_input(0, "X")
        node.require_float(x, "X")
        self.elem = b.elem_of(x)
        if mlir_to_numpy(self.elem) not in (np.float32, np.float64):
            raise node.error(f"X has element type {self.elem}; {node.op_type} is supported for float32 and float64")
        xs = b.shape_of(x)
        if len(xs) != 3:
            raise node.error(f"input X must be 3-D, got shape {list(xs)}")
        self.layout = int(node.attr("layout", 0))
        if self.layout not in (0, 1):
            raise node.error(f"attribute 'layout' is {self.layout}; it must be 0 or 1")
        self.T, self.B, self.I = (xs[0], xs[1], xs[2]) if self.layout == 0 else (xs[1], xs[0], xs[2])
        direction = node.attr("direction", "forward")
        if direction not in ("forward", "reverse", "bidirectional"):
            raise node.error(f"attribute 'direction' is '{direction}'; it must be forward, reverse or bidirectional")
        self.directions = ["forward", "reverse"] if direction == "bidirectional" else [direction]
        self.D = len(self.directions)
        G = spec.gates
        rs = tuple(node.constant(2).shape) if node.constant(2) is not None else b.shape_of(node.require_input(2, "R"))
        if len(rs) != 3:
            raise node.error(f"input R must be 3-D, got shape {list(rs)}")
        H = node.attr("hidden_size", None)
        H = int(H) if H is not None else rs[2]
        if H <= 0:
            raise node.error(f"attribute 'hidden_size' is {H}; it must be positive")
        self.H, self.GH = H, G * H
        self.W = Operand(node, 1, "W", (self.D, G * H, self.I), self.elem)
        self.R = Operand(node, 2, "R", (self.D, G * H, H), self.elem)
        self.Bias = Operand(node, 3, "B", (self.D, 2 * G * H), self.elem) if node.has_input(3) else None
        state_shape = (self.D, self.B, H) if self.layout == 0 else (self.B, self.D, H)
        self.h0 = Operand(node, 5, "initial_h", state_shape, self.elem) if node.has_input(5) else None
        clip = node.attr("clip", None)
        if clip is not None and not (float(clip) > 0):
            raise node.error(f"attribute 'clip' is {clip}; it must be positive")
        self.clip = None if clip is None else float(clip)
        self.acts = _activations(node, spec.default_acts, self.D)
        self._lens(node)
        self._r_cache: dict = {}
        self._b_cache: dict = {}
        x2 = b.reshape(x, (xs[0] * xs[1], self.I))
        self.xw = self._input_gemm(x2)

    # -- sequence_lens
    def _lens(self, node):
        self.lens, self.lens_min = None, self.T
        if not node.has_input(4):
            return
        c = node.constant(4)
        if c is not None:
            if c.shape != (self.B,):
                raise node.error(f"input sequence_lens has shape {list(c.shape)}, expected [{self.B}]")
            if c.size and (c.min() < 0 or c.max() > self.T):
                raise node.error(f"input sequence_lens holds {c.tolist()}; each length must be in [0, {self.T}] "
                                 "(the sequence length of X)")
            if c.min() == self.T:
                return
            self.lens_min = int(c.min())
            self.lens = b.constant(c.astype(np.int32), node.input_names[4])
            return
        v = node.require_input(4, "sequence_lens")
        if b.shape_of(v) != (self.B,):
            raise node.error(f"input sequence_lens has shape {list(b.shape_of(v))}, expected [{self.B}]")
        if not (isinstance(b.elem_of(v), ir.IntegerType) and ir.IntegerType(b.elem_of(v)).width == 32):
            raise node.error(f"input sequence_lens has element type {b.elem_of(v)}; int32 is expected")
        self.lens, self.lens_min = v, 0

    def masked(self, t: int | None) -> bool:
        return t is not None and self.lens is not None and t >= self.lens_min

    # -- weights
    def _weight(self, arr: np.ndarray | None, value: ir.Value | None, rows: int, name: str):
        """A (N, K) weight as matmul_2d wants it for `rows` rows: (value, y_is_nk), as matmul.constant_b."""
        if arr is None:
            return value, True
        nk = rows < STREAMED_ROWS or not self.node.ctx.kn_weights
        a = np.ascontiguousarray(arr if nk else arr.T)
        return b.constant(a, name), nk

    def _input_gemm(self, x2: ir.Value) -> ir.Value:
        """X (rows = seq_length * batch) times W^T of every direction and gate: (rows, D * G * H)."""
        rows, n = b.shape_of(x2)[0], self.D * self.GH
        W = self.W
        arr = None if W.array is None else W.array.reshape(n, self.I)
        val = None if W.value is None else b.reshape(W.value, (n, self.I))
        w, nk = self._weight(arr, val, rows, f"{W.name}_all")
        return matmul_2d(x2, w, y_is_nk=nk)

    def recurrent(self, d: int, h: ir.Value, row0: int, nrows: int, tag: str) -> ir.Value:
        """h (batch, H) times the rows [row0, row0 + nrows) of R[d] transposed: (batch, nrows)."""
        R, key = self.R, (d, row0, nrows)
        if key not in self._r_cache:  # one constant per direction and row block, shared by the steps
            if R.array is not None:
                self._r_cache[key] = self._weight(np.ascontiguousarray(R.array[d, row0:row0 + nrows]), None,
                                                  self.B, f"{R.name}_{tag}")
            else:
                self._r_cache[key] = R.slice([d, row0, 0], [1, nrows, self.H], (nrows, self.H), tag), True
        w, nk = self._r_cache[key]
        return matmul_2d(h, w, y_is_nk=nk)

    # -- gate operands, each a (value, map) over the (batch, hidden) loops of a cell
    def xw_gate(self, t: int, d: int, g: int):
        col = d * self.GH + g * self.H
        d0, d1 = b.dims(2)
        if self.layout == 0:
            return slice_of(self.xw, [t * self.B, col], [self.B, self.H]), b.identity_map(2)
        # layout 1: row of (b, t) is b * T + t
        win = slice_of(self.xw, [t, col], [(self.B - 1) * self.T + 1, self.H])
        return win, amap(2, [d0 * self.T if self.B > 1 else d0, d1])

    def hr_gate(self, hr: ir.Value, g: int):
        return slice_of(hr, [0, g * self.H], [self.B, self.H]), b.identity_map(2)

    def vec(self, v: ir.Value):
        return v, b.projection_map(2, [1])

    def bias(self, d: int, g: int, which: str):
        """The bias of gate g of direction d: which = 'both' (Wb + Rb), 'w' or 'r'; None when there is none."""
        if self.Bias is None:
            return []
        if (d, g, which) not in self._b_cache:
            self._b_cache[(d, g, which)] = self._bias(d, g, which)
        return self._b_cache[(d, g, which)]

    def _bias(self, d: int, g: int, which: str):
        H, GH = self.H, self.GH
        if self.Bias.array is not None:
            a = self.Bias.array[d]
            vec = np.zeros(H, a.dtype)
            if which in ("both", "w"):
                vec = vec + a[g * H:(g + 1) * H]
            if which in ("both", "r"):
                vec = vec + a[GH + g * H:GH + (g + 1) * H]
            if not vec.any():
                return []
            return [self.vec(b.constant(vec, f"{self.Bias.name}_{d}_{g}_{which}"))]
        out = []
        if which in ("both", "w"):
            out.append(self.vec(self.Bias.slice([d, g * H], [1, H], (H,), f"w{d}{g}")))
        if which in ("both", "r"):
            out.append(self.vec(self.Bias.slice([d, GH + g * H], [1, H], (H,), f"r{d}{g}")))
        return out

    def state0(self, op: Operand | None, d: int, tag: str) -> ir.Value | None:
        """The initial state of direction d as (batch, H), or None for zeros."""
        if op is None:
            return None
        if op.array is not None and not op.array.any():
            return None
        if self.layout == 0:
            return op.slice([d, 0, 0], [1, self.B, self.H], (self.B, self.H), f"{tag}{d}")
        return op.slice([0, d, 0], [self.B, 1, self.H], (self.B, self.H), f"{tag}{d}")

    def order(self, d: int) -> list[int]:
        return list(range(self.T)) if self.directions[d] == "forward" else list(range(self.T - 1, -1, -1))

    # -- scalar helpers inside cell bodies
    def c(self, v) -> ir.Value:
        return b.scalar(self.elem, v)

    def clipped(self, x: ir.Value) -> ir.Value:
        if self.clip is None:
            return x
        return arith.minimumf(arith.maximumf(x, self.c(-self.clip)), self.c(self.clip))

    # -- one cell generic
    def cell(self, operands: list, body: Callable, t: int | None = None, prev: ir.Value | None = None) -> ir.Value:
        """One all-parallel generic over (batch, H). `operands` are named (key, (value, map)) pairs; `body(get)`
        builds the new state from `get(key)` (a sum of the operands under that key, or None). When step t (None:
        no step, never masked) is masked, the state `prev` (None: zeros) is kept for the batch entries past their length."""
        ops = list(operands)
        if self.masked(t):
            if prev is not None:
                ops.append(("__prev", (prev, b.identity_map(2))))
            ops.append(("__len", (self.lens, b.projection_map(2, [0]))))
        values = [v for _, (v, _) in ops]
        maps = [m for _, (_, m) in ops] + [b.identity_map(2)]

        def fn(*args):
            scalars: dict[str, list] = {}
            for (k, _), a in zip(ops, args[:-1]):
                scalars.setdefault(k, []).append(a)

            def get(key):
                vs = scalars.get(key)
                if not vs:
                    return None
                acc = vs[0]
                for v in vs[1:]:
                    acc = arith.addf(acc, v)
                return acc

            new = body(get)
            if self.masked(t):
                i32 = ir.IntegerType.get_signless(32)
                valid = arith.cmpi(arith.CmpIPredicate.slt, b.scalar(i32, t), scalars["__len"][0])
                keep = scalars["__prev"][0] if prev is not None else self.c(0.0)
                new = arith.select(valid, new, keep)
            return new

        return b.generic(values, maps, b.empty((self.B, self.H), self.elem), fn)

    def add(self, *xs):
        """The sum of the scalars that are not None (zero when all are)."""
        xs = [x for x in xs if x is not None]
        if not xs:
            return self.c(0.0)
        acc = xs[0]
        for x in xs[1:]:
            acc = arith.addf(acc, x)
        return acc

    # -- outputs
    def outputs(self, ys: list[list[ir.Value]], finals: list[list[ir.Value]]) -> list:
        """Y (from the per-step states ys[d][t]) and the final states (finals[k][d]) in the node's layout."""
        node = self.node
        res = []
        if node.output_requested(0):
            if self.layout == 0:   # Y: [T, D, B, H]
                parts = [concat([b.reshape(ys[d][t], (1, 1, self.B, self.H)) for d in range(self.D)], 1)
                         for t in range(self.T)]
                y = concat(parts, 0)
            else:                  # Y: [B, T, D, H]
                parts = [concat([b.reshape(ys[d][t], (self.B, 1, 1, self.H)) for d in range(self.D)], 2)
                         for t in range(self.T)]
                y = concat(parts, 1)
            if self.lens is not None:
                y = self._zero_past_lengths(y)
            res.append(y)
        else:
            res.append(None)
        for i, fin in enumerate(finals, start=1):
            if not node.output_requested(i):
                res.append(None)
                continue
            if self.layout == 0:
                out = concat([b.reshape(fin[d], (1, self.B, self.H)) for d in range(self.D)], 0)
            else:
                out = concat([b.reshape(fin[d], (self.B, 1, self.H)) for d in range(self.D)], 1)
            if self.lens is not None and self.lens_min == 0:
                out = self._zero_empty_sequences(out)
            res.append(out)
        return res

    def _zero_empty_sequences(self, s: ir.Value) -> ir.Value:
        """Y_h / Y_c of a sequence of length 0 are zeros (as onnxruntime gives), not the initial state."""
        i32 = ir.IntegerType.get_signless(32)

        def fn(v, n, _o):
            return arith.select(arith.cmpi(arith.CmpIPredicate.sgt, n, b.scalar(i32, 0)), v, self.c(0.0))

        bdim = 1 if self.layout == 0 else 0
        return b.generic([s, self.lens], [b.identity_map(3), b.projection_map(3, [bdim]), b.identity_map(3)],
                         b.empty(b.shape_of(s), self.elem), fn)

    def _zero_past_lengths(self, y: ir.Value) -> ir.Value:
        tdim, bdim = (0, 2) if self.layout == 0 else (1, 0)
        i32 = ir.IntegerType.get_signless(32)

        def fn(v, n, _o):
            t = arith.IndexCastOp(i32, linalg.IndexOp(tdim).result).result
            return arith.select(arith.cmpi(arith.CmpIPredicate.slt, t, n), v, self.c(0.0))

        return b.generic([y, self.lens], [b.identity_map(4), b.projection_map(4, [bdim]), b.identity_map(4)],
                         b.empty(b.shape_of(y), self.elem), fn)


# ================================================================================================ LSTM
@converter("LSTM", since=(7, 14, 22))  # 14: layout; 22: bfloat16
def lstm(ctx, node):
    r = Recurrence(node, LSTM_SPEC)
    H = r.H
    input_forget = r.flag("input_forget")
    c0 = Operand(node, 6, "initial_c", (r.D, r.B, H) if r.layout == 0 else (r.B, r.D, H), r.elem) \
        if node.has_input(6) else None
    P = Operand(node, 7, "P", (r.D, 3 * H), r.elem) if node.has_input(7) else None
    if P is not None and P.array is not None and not P.array.any():
        P = None
    ys, yh, yc = [], [], []
    for d in range(r.D):
        f_act, g_act, h_act = r.acts[d]
        h, c = r.state0(r.h0, d, "h"), r.state0(c0, d, "c")
        peep = {} if P is None else {k: r.vec(P.slice([d, j * H], [1, H], (H,), f"{d}{k}"))
                                     for j, k in enumerate("iof")}
        steps = {}
        for t in r.order(d):
            hr = r.recurrent(d, h, 0, r.GH, f"{d}") if h is not None else None
            gate = {}
            for g, k in enumerate("iofc"):  # W, R and B are [iofc]
                gate[k] = [r.xw_gate(t, d, g)] + ([r.hr_gate(hr, g)] if hr is not None else []) + r.bias(d, g, "both")

            # C_t = f (.) C_{t-1} + i (.) g(c), with i and f reading C_{t-1} through the peepholes
            # (without C_{t-1}, and with input_forget, the forget gate is not read)
            ops = [(k, o) for k in ("ifc" if c is not None and not input_forget else "ic") for o in gate[k]]
            if c is not None:
                ops.append(("cprev", (c, b.identity_map(2))))
                ops += [(f"p{k}", peep[k]) for k in "if" if k in peep]

            def c_body(get, has_c=c is not None):
                cprev = get("cprev")

                def pre(k):
                    x = get(k)
                    if has_c and get(f"p{k}") is not None:
                        x = arith.addf(x, arith.mulf(get(f"p{k}"), cprev))
                    return r.clipped(x)

                i = f_act(pre("i"))
                new = arith.mulf(i, g_act(r.clipped(get("c"))))
                if has_c:
                    f = arith.subf(r.c(1.0), i) if input_forget else f_act(pre("f"))
                    new = arith.addf(arith.mulf(f, cprev), new)
                return new

            c_new = r.cell(ops, c_body, t, c)
            # H_t = o (.) h(C_t), o reading C_t through its peephole
            ops = [("o", o) for o in gate["o"]] + [("c", (c_new, b.identity_map(2)))]
            if "o" in peep:
                ops.append(("po", peep["o"]))

            def h_body(get):
                x = get("o")
                if get("po") is not None:
                    x = arith.addf(x, arith.mulf(get("po"), get("c")))
                return arith.mulf(f_act(r.clipped(x)), h_act(get("c")))

            h = r.cell(ops, h_body, t, h)
            c = c_new
            steps[t] = h
        ys.append([steps[t] for t in range(r.T)])
        yh.append(h)
        yc.append(c)
    return r.outputs(ys, [yh, yc])


# ================================================================================================ GRU
@converter("GRU", since=(7, 14, 22))  # 14: layout; 22: bfloat16
def gru(ctx, node):
    r = Recurrence(node, GRU_SPEC)
    H = r.H
    lbr = r.flag("linear_before_reset")
    ys, yh = [], []
    for d in range(r.D):
        f_act, g_act = r.acts[d]
        h = r.state0(r.h0, d, "h")
        steps = {}
        for t in r.order(d):
            # z and r: X W^T + H R^T + Wb + Rb; W, R and B are [zrh]
            hr = r.recurrent(d, h, 0, r.GH if lbr else 2 * H, f"{d}") if h is not None else None
            zr = {k: [r.xw_gate(t, d, g)] + ([r.hr_gate(hr, g)] if hr is not None else []) + r.bias(d, g, "both")
                  for g, k in enumerate("zr")}
            prev = [("hprev", (h, b.identity_map(2)))] if h is not None else []
            if lbr:
                # h~ = g(X Wh^T + Wbh + r (.) (H Rh^T + Rbh))
                ops = [(k, o) for k in "zr" for o in zr[k]] + prev
                ops += [("xh", r.xw_gate(t, d, 2))] + [("xh", o) for o in r.bias(d, 2, "w")]
                ops += ([("hh", r.hr_gate(hr, 2))] if hr is not None else []) + [("hh", o) for o in r.bias(d, 2, "r")]
            else:
                # h~ = g(X Wh^T + (r (.) H) Rh^T + Wbh + Rbh): r (.) H first, then its product with Rh^T
                if h is not None:
                    rh = r.cell([("r", o) for o in zr["r"]] + prev,
                                lambda get: arith.mulf(f_act(r.clipped(get("r"))), get("hprev")))
                    m2 = r.recurrent(d, rh, 2 * H, H, f"{d}h")
                else:
                    m2 = None
                ops = [("z", o) for o in zr["z"]] + prev + [("xh", r.xw_gate(t, d, 2))]
                ops += [("xh", o) for o in r.bias(d, 2, "both")]
                if m2 is not None:
                    ops.append(("xh", (m2, b.identity_map(2))))

            def body(get):
                z = f_act(r.clipped(get("z")))
                if lbr:
                    rr = f_act(r.clipped(get("r")))
                    hh = get("hh")
                    x = get("xh") if hh is None else arith.addf(get("xh"), arith.mulf(rr, hh))
                else:
                    x = get("xh")
                cand = g_act(r.clipped(x))
                # H_t = (1 - z) (.) h~ + z (.) H_{t-1}
                new = arith.mulf(arith.subf(r.c(1.0), z), cand)
                hp = get("hprev")
                return new if hp is None else arith.addf(new, arith.mulf(z, hp))

            h = r.cell(ops, body, t, h)
            steps[t] = h
        ys.append([steps[t] for t in range(r.T)])
        yh.append(h)
    return r.outputs(ys, [yh])


# ================================================================================================ RNN
@converter("RNN", since=(7, 14, 22))  # 14: layout; 22: bfloat16
def rnn(ctx, node):
    r = Recurrence(node, RNN_SPEC)
    ys, yh = [], []
    for d in range(r.D):
        (f_act,) = r.acts[d]
        h = r.state0(r.h0, d, "h")
        steps = {}
        for t in r.order(d):
            hr = r.recurrent(d, h, 0, r.H, f"{d}") if h is not None else None
            ops = [("x", r.xw_gate(t, d, 0))] + ([("x", r.hr_gate(hr, 0))] if hr is not None else [])
            ops += [("x", o) for o in r.bias(d, 0, "both")]
            h = r.cell(ops, lambda get: f_act(r.clipped(get("x"))), t, h)
            steps[t] = h
        ys.append([steps[t] for t in range(r.T)])
        yh.append(h)
    return r.outputs(ys, [yh])

