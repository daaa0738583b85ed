"""A seeded mutation fuzzer over small ONNX models (issue 9, item 5).

Four seed models are built here (`SEEDS`): a small CNN (Conv, Relu, MaxPool, Flatten, Gemm), an MLP (MatMul, Add,
Relu), an attention block (MatMul, Softmax, Transpose, Reshape) and a data-movement model (Concat, Slice, Gather,
Pad, Transpose). Mutant `index` of fuzz seed `seed` is one of them with one to three mutations applied, chosen by
`random.Random` seeded from (seed, index) alone, so every mutant can be rebuilt by itself (`make_mutant`). The
mutations keep or break validity: attribute values and types changed, attributes dropped or unknown ones added,
input shapes and dtypes changed (empty and huge dims, symbolic dims), node inputs and outputs swapped, duplicated
or removed, values renamed with hostile names (C comment terminators, quotes, newlines, unicode, very long), a
graph output listed twice, a graph input that is also an output, initializers of the wrong size, opset and IR
version changes, cycles, missing producers, op types changed.

Each mutant is compiled with `swmlir.compile(model, target=...)` in a worker process (a pool of persistent
processes, one mutant at a time each, killed and restarted on a timeout or a crash) and its outcome classified:

* ``compiled`` — and, for the mutants picked to run, run on the emulator and compared with onnxruntime when
  onnxruntime accepts and runs the model (``ort-refused`` says it did not; a run error or a mismatch is a FAILURE);
* ``refused`` — a swmlir.errors.CompileError whose message is not a wrapped Python exception;
* FAILURE — ``crash`` (the worker died, by a signal or otherwise), ``hang`` (timeout), ``traceback`` (an
  exception that is not a CompileError), ``wrapped`` (a CompileError whose message carries a Python exception:
  "converter failed: TypeError: ...", "KeyError", "Traceback ..."), ``run-error`` / ``mismatch`` (a run that
  onnxruntime does and we do not, or with other numbers).

`python -m swmlir.testing.fuzz --seed S --count N [--jobs J] [--run-every K]` fuzzes from the command line and
exits 1 if there is any FAILURE (scripts/fuzz.sh); test/python/test_fuzz.py runs a few hundred in CI.
"""
from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import sys
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

# ----------------------------------------------------------------------------------------------------- seeds


def _init(name: str, arr) -> TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


def _model(name: str, nodes, inputs, outputs, inits, opset: int = 13) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    opsets = [helper.make_opsetid("", opset)]
    m = helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(m)
    return m


def _vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def seed_cnn() -> onnx.ModelProto:
    r = np.random.default_rng(0)
    f = lambda *s: (r.standard_normal(s) * 0.2).astype(np.float32)  # noqa: E731
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f1"], name="flat", axis=1),
        helper.make_node("Gemm", ["f1", "w2", "b2"], ["y"], name="fc", transB=1, alpha=1.0, beta=1.0),
    ]
    inits = [_init("w1", f(8, 3, 3, 3)), _init("b1", f(8)), _init("w2", f(10, 8 * 4 * 4)), _init("b2", f(10))]
    return _model("cnn", nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 10])], inits)


def seed_mlp() -> onnx.ModelProto:
    r = np.random.default_rng(1)
    f = lambda *s: (r.standard_normal(s) * 0.2).astype(np.float32)  # noqa: E731
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="mm1"),
        helper.make_node("Add", ["h1", "b1"], ["a1"], name="add1"),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "w2"], ["h2"], name="mm2"),
        helper.make_node("Add", ["h2", "b2"], ["y"], name="add2"),
    ]
    inits = [_init("w1", f(32, 16)), _init("b1", f(16)), _init("w2", f(16, 8)), _init("b2", f(8))]
    return _model("mlp", nodes, [_vi("x", [4, 32])], [_vi("y", [4, 8])], inits)


def seed_attention() -> onnx.ModelProto:
    r = np.random.default_rng(2)
    f = lambda *s: (r.standard_normal(s) * 0.2).astype(np.float32)  # noqa: E731
    S, H, D = 8, 2, 8
    E = H * D
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        helper.make_node("MatMul", ["x", "wv"], ["v"], name="v_proj"),
        helper.make_node("Reshape", ["q", "heads"], ["q4"], name="q_heads"),
        helper.make_node("Reshape", ["k", "heads"], ["k4"], name="k_heads"),
        helper.make_node("Reshape", ["v", "heads"], ["v4"], name="v_heads"),
        helper.make_node("Transpose", ["q4"], ["qt"], name="q_t", perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["k4"], ["kt"], name="k_t", perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["v4"], ["vt"], name="v_t", perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["qt", "kt"], ["s"], name="scores"),
        helper.make_node("Mul", ["s", "scale"], ["ss"], name="scale_mul"),
        helper.make_node("Softmax", ["ss"], ["p"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["p", "vt"], ["o"], name="context"),
        helper.make_node("Transpose", ["o"], ["ot"], name="o_t", perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["ot", "merged"], ["y"], name="merge"),
    ]
    inits = [_init("wq", f(E, E)), _init("wk", f(E, E)), _init("wv", f(E, E)),
             _init("heads", np.array([1, S, H, D], np.int64)), _init("merged", np.array([1, S, E], np.int64)),
             _init("scale", np.array(1 / np.sqrt(D), np.float32))]
    return _model("attention", nodes, [_vi("x", [1, S, E])], [_vi("y", [1, S, E])], inits)


def seed_movement() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Slice", ["t", "starts", "ends", "axes"], ["s"], name="slice"),
        helper.make_node("Pad", ["s", "pads"], ["p"], name="pad", mode="constant"),
        helper.make_node("Gather", ["x", "idx"], ["g"], name="gather", axis=1),
        helper.make_node("Transpose", ["g"], ["gt"], name="gather_t", perm=[0, 2, 1]),
        helper.make_node("Concat", ["p", "gt"], ["y"], name="concat", axis=2),
    ]
    inits = [_init("starts", np.array([1], np.int64)), _init("ends", np.array([5], np.int64)),
             _init("axes", np.array([1], np.int64)), _init("pads", np.array([0, 1, 0, 0, 1, 0], np.int64)),
             _init("idx", np.array([0, 2, 2], np.int64))]
    # x [2, 4, 6] -> t [2, 6, 4] -> s [2, 4, 4] -> p [2, 6, 4]; g [2, 3, 6] -> gt [2, 6, 3]; y [2, 6, 7]
    return _model("movement", nodes, [_vi("x", [2, 4, 6])], [_vi("y", [2, 6, 7])], inits)


SEEDS = {"cnn": seed_cnn, "mlp": seed_mlp, "attention": seed_attention, "movement": seed_movement}

# ------------------------------------------------------------------------------------------------- mutations

HOSTILE_NAMES = [
    "*/ int evil = 1; /*", "*/\n#error evil\n/*", 'q"uote', "it's", "back\\slash\\", "new\nline\r\t", "%s%n%d",
    "\u00fcn\u540dic\U0001f600ode", "??/", "a b", "0starts_with_digit", "int", "main", "-", ".", "",
    "x" * 5000, "//", "/*", "$(touch /tmp/swmlir-fuzz-pwned)", "\x00nul", "__builtin_trap", "y", "x",
]
DTYPES = [TensorProto.INT64, TensorProto.INT32, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BOOL,
          TensorProto.UINT8, TensorProto.INT8, TensorProto.STRING, TensorProto.BFLOAT16, TensorProto.UNDEFINED,
          TensorProto.COMPLEX64, 999]
DIMS = [0, 1, 2, 3, 7, 64, -1, -7, 1 << 31, 1 << 40, (1 << 63) - 1, "N", "", None]
INTS = [-(1 << 63), -(1 << 31), -100, -2, -1, 0, 1, 2, 3, 5, 100, 1 << 31, (1 << 63) - 1]
FLOATS = [0.0, -1.0, 0.5, 2.0, 1e30, -1e30, float("inf"), float("-inf"), float("nan"), 1e-45]
OPSETS = [1, 6, 7, 9, 10, 11, 12, 13, 14, 17, 18, 19, 21, 22, 99, 0, -1]
OTHER_OPS = ["Relu", "Sigmoid", "Identity", "Neg", "Softmax", "Add", "MatMul", "Concat", "Transpose", "Reshape",
             "Gemm", "Conv", "MaxPool", "Flatten", "Gather", "Pad", "Slice", "NoSuchOp", "If", "Loop", ""]


def _pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))] if seq else None


def _short(v, n: int = 40) -> str:
    s = repr(v)
    return s if len(s) <= n else s[:n] + f"...({len(s)} chars)"


def _values(g) -> list[str]:
    """Names of all values: graph inputs, initializers, node outputs."""
    names = [i.name for i in g.input] + [i.name for i in g.initializer]
    names += [o for n in g.node for o in n.output if o]
    return list(dict.fromkeys(names))


def m_attr_value(m, rng):
    nodes = [n for n in m.graph.node if n.attribute]
    n = _pick(rng, nodes)
    if n is None:
        return None
    a = _pick(rng, n.attribute)
    if a.type == AttributeProto.INT:
        a.i = _pick(rng, INTS)
        v = a.i
    elif a.type == AttributeProto.INTS:
        choice = rng.randrange(4)
        if choice == 0 and len(a.ints):
            a.ints[rng.randrange(len(a.ints))] = _pick(rng, INTS)
        elif choice == 1:
            a.ints.append(_pick(rng, INTS))
        elif choice == 2 and len(a.ints):
            a.ints.pop()
        else:
            del a.ints[:]
        v = list(a.ints)
    elif a.type == AttributeProto.FLOAT:
        a.f = _pick(rng, FLOATS)
        v = a.f
    elif a.type == AttributeProto.STRING:
        a.s = _pick(rng, [b"", b"reflect", b"edge", b"wrap", b"nonsense", b"SAME_UPPER", b"\xff\xfe"])
        v = a.s
    else:
        return None
    return f"attr-value {n.op_type} '{n.name}'.{a.name} = {_short(v)}"


def _retype(a: AttributeProto, new_type: int, rng) -> None:
    name = a.name
    a.Clear()
    a.name, a.type = name, new_type
    if new_type == AttributeProto.INT:
        a.i = _pick(rng, INTS)
    elif new_type == AttributeProto.INTS:
        a.ints.extend([1, 2])
    elif new_type == AttributeProto.FLOAT:
        a.f = 1.5
    elif new_type == AttributeProto.FLOATS:
        a.floats.extend([1.0, 2.0])
    elif new_type == AttributeProto.STRING:
        a.s = b"one"
    elif new_type == AttributeProto.STRINGS:
        a.strings.extend([b"a", b"b"])
    elif new_type == AttributeProto.TENSOR:
        a.t.CopyFrom(numpy_helper.from_array(np.array([1, 2], np.int64), "t"))
    elif new_type == AttributeProto.GRAPH:
        a.g.CopyFrom(helper.make_graph([], "empty", [], []))


ATTR_TYPES = [AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT, AttributeProto.FLOATS,
              AttributeProto.STRING, AttributeProto.STRINGS, AttributeProto.TENSOR, AttributeProto.GRAPH]


def m_attr_type(m, rng):
    nodes = [n for n in m.graph.node if n.attribute]
    n = _pick(rng, nodes)
    if n is None:
        return None
    a = _pick(rng, n.attribute)
    t = _pick(rng, [t for t in ATTR_TYPES if t != a.type])
    _retype(a, t, rng)
    return f"attr-type {n.op_type} '{n.name}'.{a.name} -> {AttributeProto.AttributeType.Name(t)}"


def m_attr_drop(m, rng):
    nodes = [n for n in m.graph.node if n.attribute]
    n = _pick(rng, nodes)
    if n is None:
        return None
    i = rng.randrange(len(n.attribute))
    name = n.attribute[i].name
    del n.attribute[i]
    return f"attr-drop {n.op_type} '{n.name}'.{name}"


def m_attr_add(m, rng):
    n = _pick(rng, list(m.graph.node))
    name = _pick(rng, ["fuzz_unknown", "axis", "perm", "pads", "kernel_shape", "group", "transA", "mode",
                       "allowzero", "keepdims", "strides", "dilations", "auto_pad", "ceil_mode"])
    existing = [a for a in n.attribute if a.name == name]
    a = n.attribute.add()
    a.name = name
    _retype(a, _pick(rng, ATTR_TYPES[:6]), rng)
    return f"attr-add {n.op_type} '{n.name}'.{name} ({AttributeProto.AttributeType.Name(a.type)})" + \
        (" repeated" if existing else "")


def _graph_inputs(m):
    inits = {i.name for i in m.graph.initializer}
    return [i for i in m.graph.input if i.name not in inits]


def m_input_shape(m, rng):
    vi = _pick(rng, _graph_inputs(m))
    if vi is None or not vi.type.HasField("tensor_type"):
        return None
    shape = vi.type.tensor_type.shape
    choice = rng.randrange(5)
    if choice == 0 and len(shape.dim):
        d = shape.dim[rng.randrange(len(shape.dim))]
        v = _pick(rng, DIMS)
        if isinstance(v, int):
            d.dim_value = v
        elif v is None:
            d.Clear()
        else:
            d.dim_param = v
        return f"input-shape {_short(vi.name)} dim -> {v!r}"
    if choice == 1:
        shape.dim.add().dim_value = _pick(rng, [1, 2, 3])
        return f"input-shape {_short(vi.name)} rank +1"
    if choice == 2 and len(shape.dim):
        del shape.dim[-1]
        return f"input-shape {_short(vi.name)} rank -1"
    if choice == 3:
        vi.type.tensor_type.ClearField("shape")
        return f"input-shape {_short(vi.name)} unknown rank"
    del shape.dim[:]
    return f"input-shape {_short(vi.name)} scalar"


def m_input_dtype(m, rng):
    vi = _pick(rng, _graph_inputs(m))
    if vi is None:
        return None
    t = _pick(rng, DTYPES)
    vi.type.tensor_type.elem_type = t
    return f"input-dtype {_short(vi.name)} -> {t}"


def m_output_dtype(m, rng):
    vi = _pick(rng, list(m.graph.output))
    t = _pick(rng, DTYPES)
    vi.type.tensor_type.elem_type = t
    return f"output-dtype {_short(vi.name)} -> {t}"


def m_output_shape(m, rng):
    vi = _pick(rng, list(m.graph.output))
    shape = vi.type.tensor_type.shape
    if len(shape.dim) and rng.random() < 0.6:
        d = shape.dim[rng.randrange(len(shape.dim))]
        v = _pick(rng, [0, 1, 5, 1 << 40, -1])
        d.dim_value = v
        return f"output-shape {_short(vi.name)} dim -> {v}"
    vi.type.tensor_type.ClearField("shape")
    return f"output-shape {_short(vi.name)} unknown"


def m_node_inputs(m, rng):
    n = _pick(rng, list(m.graph.node))
    choice = rng.randrange(5)
    if choice == 0 and len(n.input) >= 2:
        i, j = rng.sample(range(len(n.input)), 2)
        n.input[i], n.input[j] = n.input[j], n.input[i]
        return f"node-inputs swap {n.op_type} '{n.name}' #{i} #{j}"
    if choice == 1 and len(n.input):
        n.input.append(n.input[rng.randrange(len(n.input))])
        return f"node-inputs duplicate {n.op_type} '{n.name}'"
    if choice == 2 and len(n.input):
        i = rng.randrange(len(n.input))
        del n.input[i]
        return f"node-inputs remove {n.op_type} '{n.name}' #{i}"
    if choice == 3 and len(n.input):
        i = rng.randrange(len(n.input))
        n.input[i] = ""
        return f"node-inputs empty {n.op_type} '{n.name}' #{i}"
    n.input.append(_pick(rng, _values(m.graph)))
    return f"node-inputs add {n.op_type} '{n.name}' #{len(n.input) - 1}"


def m_node_outputs(m, rng):
    n = _pick(rng, list(m.graph.node))
    choice = rng.randrange(3)
    if choice == 0:
        n.output.append(f"{n.name}_extra")
        return f"node-outputs add {n.op_type} '{n.name}'"
    if choice == 1 and len(n.output):
        n.output[0] = ""
        return f"node-outputs empty {n.op_type} '{n.name}'"
    n.output.append(n.output[0] if len(n.output) else "z")
    return f"node-outputs duplicate {n.op_type} '{n.name}'"


def _rename_value(g, old: str, new: str) -> None:
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.name == old:
            vi.name = new
    for t in g.initializer:
        if t.name == old:
            t.name = new
    for n in g.node:
        for k, x in enumerate(n.input):
            if x == old:
                n.input[k] = new
        for k, x in enumerate(n.output):
            if x == old:
                n.output[k] = new


def m_rename(m, rng):
    g = m.graph
    new = _pick(rng, HOSTILE_NAMES)
    choice = rng.randrange(4)
    if choice == 0:
        old = _pick(rng, _values(g))
        _rename_value(g, old, new)
        return f"rename value '{old}' -> {_short(new)}"
    if choice == 1:
        n = _pick(rng, list(g.node))
        old, n.name = n.name, new
        return f"rename node '{old}' -> {_short(new)}"
    if choice == 2:
        g.name = new
        return f"rename graph -> {_short(new)}"
    # everything with one hostile name plus a suffix, so values stay distinct
    for k, old in enumerate(_values(g)):
        _rename_value(g, old, f"{new}{k}")
    for k, n in enumerate(g.node):
        n.name = f"{new}{k}"
    return f"rename all -> {_short(new)}<k>"


def m_dup_output(m, rng):
    g = m.graph
    vi = _pick(rng, list(g.output))
    g.output.append(vi)
    return f"dup-output {_short(vi.name)}"


def m_input_as_output(m, rng):
    g = m.graph
    vi = _pick(rng, _graph_inputs(m))
    if vi is None:
        return None
    g.output.append(vi) if rng.random() < 0.7 else g.output.insert(0, vi)
    return f"input-as-output {_short(vi.name)}"


def m_intermediate_output(m, rng):
    g = m.graph
    outs = {o.name for o in g.output}
    cands = [o for n in g.node for o in n.output if o and o not in outs]
    name = _pick(rng, cands)
    if name is None:
        return None
    g.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return f"intermediate-output '{name}'"


def m_init(m, rng):
    g = m.graph
    t = _pick(rng, list(g.initializer))
    if t is None:
        return None
    arr = numpy_helper.to_array(t)
    choice = rng.randrange(6)
    if choice == 0:
        t.dims.append(2)
        return f"init-dims '{t.name}' +dim (data unchanged)"
    if choice == 1:
        new = np.resize(arr, max(arr.size - 1, 0)).astype(arr.dtype)
        t.CopyFrom(numpy_helper.from_array(new.reshape(-1) if arr.ndim else new, t.name))
        return f"init-size '{t.name}' one element short"
    if choice == 2 and t.raw_data:
        t.raw_data = t.raw_data[: len(t.raw_data) // 2]
        return f"init-raw '{t.name}' truncated"
    if choice == 3:
        new = arr.astype(_pick(rng, [np.float64, np.int32, np.int64, np.float16, np.bool_, np.uint8]))
        t.CopyFrom(numpy_helper.from_array(new, t.name))
        return f"init-dtype '{t.name}' -> {new.dtype}"
    if choice == 4:
        g.initializer.append(g.initializer[rng.randrange(len(g.initializer))])
        return f"init-duplicate '{t.name}'"
    if arr.dtype.kind in "iu" and arr.size:
        new = arr.copy().reshape(-1)
        new[rng.randrange(new.size)] = _pick(rng, INTS)
        t.CopyFrom(numpy_helper.from_array(new.reshape(arr.shape), t.name))
        return f"init-value '{t.name}' -> {new.tolist()}"
    t.CopyFrom(numpy_helper.from_array(np.zeros((0,) + arr.shape[1:], arr.dtype), t.name))
    return f"init-empty '{t.name}'"


def m_init_as_input(m, rng):
    t = _pick(rng, list(m.graph.initializer))
    if t is None:
        return None
    m.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return f"init-as-input '{t.name}'"


def m_opset(m, rng):
    v = _pick(rng, OPSETS)
    choice = rng.randrange(4)
    if choice == 0:
        m.opset_import[0].version = v
        return f"opset -> {v}"
    if choice == 1:
        m.ir_version = _pick(rng, [0, 1, 3, 4, 7, 10, 11, 100])
        return f"ir_version -> {m.ir_version}"
    if choice == 2:
        del m.opset_import[:]
        return "opset none"
    m.opset_import.append(helper.make_opsetid(_pick(rng, ["", "com.microsoft", "ai.onnx", "x.y"]), v))
    return f"opset + domain {m.opset_import[-1].domain!r} v{v}"


def m_cycle(m, rng):
    g = m.graph
    if len(g.node) < 2:
        return None
    i = rng.randrange(len(g.node) - 1)
    j = rng.randrange(i + 1, len(g.node))
    a, b = g.node[i], g.node[j]
    if not len(a.input) or not len(b.output):
        return None
    a.input[0] = b.output[0]
    return f"cycle '{a.name}' reads '{b.output[0]}' of later '{b.name}'"


def m_self_loop(m, rng):
    n = _pick(rng, list(m.graph.node))
    if not len(n.input) or not len(n.output):
        return None
    n.input[0] = n.output[0]
    return f"self-loop '{n.name}'"


def m_missing_producer(m, rng):
    n = _pick(rng, list(m.graph.node))
    if not len(n.input):
        return None
    i = rng.randrange(len(n.input))
    n.input[i] = "nowhere"
    return f"missing-producer '{n.name}' #{i}"


def m_drop_node(m, rng):
    g = m.graph
    i = rng.randrange(len(g.node))
    name = g.node[i].name
    del g.node[i]
    return f"drop-node '{name}'"


def m_swap_nodes(m, rng):
    g = m.graph
    if len(g.node) < 2:
        return None
    i, j = rng.sample(range(len(g.node)), 2)
    a, b = onnx.NodeProto(), onnx.NodeProto()
    a.CopyFrom(g.node[i])
    b.CopyFrom(g.node[j])
    g.node[i].CopyFrom(b)
    g.node[j].CopyFrom(a)
    return f"swap-nodes #{i} #{j} (order)"


def m_dup_node(m, rng):
    g = m.graph
    n = _pick(rng, list(g.node))
    g.node.append(n)
    return f"dup-node '{n.name}' (two producers)"


def m_op_type(m, rng):
    n = _pick(rng, list(m.graph.node))
    old, n.op_type = n.op_type, _pick(rng, OTHER_OPS)
    if rng.random() < 0.2:
        n.domain = _pick(rng, ["com.microsoft", "ai.onnx.ml", "bogus"])
    return f"op-type '{n.name}' {old} -> {n.op_type!r}" + (f" domain {n.domain!r}" if n.domain else "")


def m_graph_io(m, rng):
    g = m.graph
    choice = rng.randrange(4)
    if choice == 0:
        del g.output[:]
        return "graph-outputs none"
    if choice == 1:
        ins = _graph_inputs(m)
        if not ins:
            return None
        names = {i.name for i in ins}
        keep = [i for i in g.input if i.name not in names]
        del g.input[:]
        g.input.extend(keep)
        return "graph-inputs none"
    if choice == 2:
        g.input.append(_vi(_pick(rng, ["unused", "x"]), [2, 2]))
        return f"graph-input + '{g.input[-1].name}'"
    g.output.append(_vi("never_made", [1]))
    return "graph-output never produced"


def m_value_info(m, rng):
    g = m.graph
    names = [o for n in g.node for o in n.output if o]
    name = _pick(rng, names)
    shape = _pick(rng, [[1], [0], [3, 3], None, [1 << 40]])
    g.value_info.append(helper.make_tensor_value_info(name, _pick(rng, [TensorProto.FLOAT, TensorProto.INT64]),
                                                      shape))
    return f"value-info '{name}' {shape}"


def _plausible(name: str, a: AttributeProto, rank: int, rng):
    """A value of attribute `name` that the op's schema admits and may well compile (None: no idea)."""
    r = rng.randrange
    if name == "perm":
        p = list(range(len(a.ints) or rank))
        rng.shuffle(p)
        return p
    if name == "axis":
        return r(-rank, rank) if rank else 0
    if name in ("pads",):
        return [r(-1, 3) if rng.random() < 0.2 else r(0, 3) for _ in a.ints]
    if name in ("strides", "kernel_shape", "dilations"):
        return [r(1, 4) for _ in a.ints]
    if name in ("transA", "transB", "ceil_mode", "allowzero", "keepdims"):
        return r(0, 2)
    if name in ("alpha", "beta"):
        return rng.choice([0.0, 0.5, 1.0, -2.0])
    if name == "mode":
        return rng.choice([b"constant", b"reflect", b"edge", b"wrap"])
    if name == "auto_pad":
        return rng.choice([b"NOTSET", b"SAME_UPPER", b"SAME_LOWER", b"VALID"])
    if name == "group":
        return rng.choice([1, 1, 2, 3, 8])
    return None


def _rank_of(m, n) -> int:
    """Rank of the first input of node n, by ONNX shape inference (0 if unknown)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(m)
    except Exception:  # noqa: BLE001 — a broken model has no ranks
        return 0
    name = n.input[0] if len(n.input) else ""
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        if vi.name == name and vi.type.tensor_type.HasField("shape"):
            return len(vi.type.tensor_type.shape.dim)
    return 0


def _forget_shapes(m) -> None:
    """Declared output shapes would contradict a changed shape: left to shape inference."""
    for o in m.graph.output:
        o.type.tensor_type.ClearField("shape")
    del m.graph.value_info[:]


def m_attr_plausible(m, rng):
    """Attribute values the schema admits (a permutation, an axis in range, small pads and strides): mutants
    that pass validation and reach the converters, the schedule and the emitted C."""
    nodes = [n for n in m.graph.node if n.attribute]
    n = _pick(rng, nodes)
    if n is None:
        return None
    a = _pick(rng, n.attribute)
    v = _plausible(a.name, a, _rank_of(m, n), rng)
    if v is None:
        return None
    new = helper.make_attribute(a.name, v)
    if new.type != a.type:
        return None
    a.CopyFrom(new)
    _forget_shapes(m)
    return f"attr-plausible {n.op_type} '{n.name}'.{a.name} = {_short(v)}"


def m_init_plausible(m, rng):
    """A small change to an integer initializer (a Slice bound, a Gather index, a Reshape shape, pads) or the
    scale of a float one."""
    t = _pick(rng, list(m.graph.initializer))
    if t is None:
        return None
    arr = numpy_helper.to_array(t).copy()
    if arr.dtype.kind in "iu" and arr.size:
        flat = arr.reshape(-1)
        k = rng.randrange(flat.size)
        flat[k] = rng.choice([-1, 0, 1, 2, 3, int(flat[k]) + 1, int(flat[k]) - 1, -(1 << 62), (1 << 62),
                              np.iinfo(arr.dtype).max, np.iinfo(arr.dtype).min])
    elif arr.dtype.kind == "f":
        with np.errstate(over="ignore"):
            arr = (arr * rng.choice([0.0, -1.0, 1e20, 1e-20])).astype(arr.dtype)
        if arr.size and rng.random() < 0.3:
            arr.reshape(-1)[0] = rng.choice([np.nan, np.inf, -np.inf])
    else:
        return None
    t.CopyFrom(numpy_helper.from_array(arr, t.name))
    _forget_shapes(m)
    return f"init-plausible '{t.name}' -> {_short(arr.reshape(-1).tolist(), 60)}"


def m_shape_plausible(m, rng):
    """A graph input dim changed to another small positive size."""
    vi = _pick(rng, _graph_inputs(m))
    if vi is None or not len(vi.type.tensor_type.shape.dim):
        return None
    dims = vi.type.tensor_type.shape.dim
    k = rng.randrange(len(dims))
    dims[k].dim_value = rng.choice([1, 2, 3, 5, 16, 33])
    _forget_shapes(m)
    return f"shape-plausible {_short(vi.name)} dim {k} -> {dims[k].dim_value}"


MUTATIONS = {
    "attr-value": (m_attr_value, 4), "attr-type": (m_attr_type, 3), "attr-drop": (m_attr_drop, 2),
    "attr-add": (m_attr_add, 2), "input-shape": (m_input_shape, 4), "input-dtype": (m_input_dtype, 2),
    "output-dtype": (m_output_dtype, 1), "output-shape": (m_output_shape, 1), "node-inputs": (m_node_inputs, 3),
    "node-outputs": (m_node_outputs, 2), "rename": (m_rename, 3), "dup-output": (m_dup_output, 2),
    "input-as-output": (m_input_as_output, 2), "intermediate-output": (m_intermediate_output, 1),
    "init": (m_init, 3), "init-as-input": (m_init_as_input, 1), "opset": (m_opset, 2), "cycle": (m_cycle, 1),
    "self-loop": (m_self_loop, 1), "missing-producer": (m_missing_producer, 1), "drop-node": (m_drop_node, 1),
    "swap-nodes": (m_swap_nodes, 1), "dup-node": (m_dup_node, 1), "op-type": (m_op_type, 2),
    "graph-io": (m_graph_io, 1), "value-info": (m_value_info, 1),
    "attr-plausible": (m_attr_plausible, 8), "init-plausible": (m_init_plausible, 5),
    "shape-plausible": (m_shape_plausible, 4),
}

# A few mutations keep a model valid and runnable most of the time; picked for the mutants that run.
RUNNABLE = ("rename", "dup-output", "input-as-output", "intermediate-output", "init-as-input", "attr-plausible",
            "init-plausible", "shape-plausible")


@dataclass
class Mutant:
    seed: int
    index: int
    base: str
    mutations: list[str]
    model: onnx.ModelProto
    run: bool = False
    path: str = "compile"    # or "import": frontend.onnx.import_onnx alone (no onnx.checker, no graph stage)

    @property
    def label(self) -> str:
        via = " via import_onnx" if self.path == "import" else ""
        return f"seed={self.seed} index={self.index} base={self.base}{via}: " + "; ".join(self.mutations)


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"swmlir-fuzz:{seed}:{index}")


def make_mutant(seed: int, index: int, *, run_every: int = 0, import_every: int = 0) -> Mutant:
    """Mutant `index` of fuzz seed `seed` (a function of the two alone). Every `run_every`-th mutant (0: none)
    is marked to run on the emulator; those get mutations that mostly keep the model runnable. Every
    `import_every`-th other one goes through import_onnx alone, whose converters then meet what onnx.checker
    would have refused."""
    rng = _rng(seed, index)
    base = _pick(rng, sorted(SEEDS))
    model = SEEDS[base]()
    run = bool(run_every) and index % run_every == 0
    names = list(RUNNABLE) if run else list(MUTATIONS)
    weights = [MUTATIONS[n][1] for n in names]
    done: list[str] = []
    want = 1 if run else rng.choice([1, 1, 2, 2, 3])
    tries = 0
    while len(done) < want and tries < 20:
        tries += 1
        name = rng.choices(names, weights)[0]
        try:
            what = MUTATIONS[name][0](model, rng)
        except (IndexError, TypeError, ValueError, AttributeError):  # not applicable to what earlier mutations left
            what = None
        if what:
            done.append(what)
    path = "import" if not run and import_every and index % import_every == 1 % import_every else "compile"
    return Mutant(seed, index, base, done, model, run, path)


# -------------------------------------------------------------------------------------------- classification

# A Python exception inside a message swmlir raised: an internal error, wrapped (the reason is lost).
_EXC_NAMES = ("TypeError", "KeyError", "IndexError", "AttributeError", "ValueError", "AssertionError",
              "ZeroDivisionError", "OverflowError", "RecursionError", "NameError", "UnboundLocalError",
              "NotImplementedError", "StopIteration", "MemoryError", "SystemError", "UnicodeDecodeError",
              "UnicodeEncodeError", "DecodeError", "EncodeError", "RuntimeError")
WRAPPED = re.compile(r"Traceback \(most recent call last\)|converter failed: \w+|\b(?:"
                     + "|".join(_EXC_NAMES) + r")\b")


def wrapped_exception(message: str) -> str | None:
    """The part of an error message that shows a wrapped internal Python exception, or None."""
    m = WRAPPED.search(message)
    return m.group(0) if m else None


FAILURE_KINDS = ("crash", "hang", "traceback", "wrapped", "run-error", "mismatch")


@dataclass
class Outcome:
    kind: str            # compiled, refused, or one of FAILURE_KINDS
    detail: str = ""     # the error type, "ran", "ort-refused", ...
    message: str = ""
    seconds: float = 0.0
    mutant: Mutant | None = field(default=None, repr=False)

    @property
    def failure(self) -> bool:
        return self.kind in FAILURE_KINDS

    def __str__(self) -> str:
        msg = self.message if len(self.message) < 1500 else self.message[:1500] + "..."
        head = self.mutant.label if self.mutant else "?"
        return f"{self.kind.upper()} [{self.detail}] {head}\n    {msg}".rstrip()


def _random_feeds(model: onnx.ModelProto, rng: np.random.Generator) -> dict:
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(t.elem_type)
        shape = [d.dim_value for d in t.shape.dim]
        if dtype.kind == "f":
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[vi.name] = rng.random(shape) < 0.5
        else:
            feeds[vi.name] = rng.integers(0, 3, shape).astype(dtype)
    return feeds


def evaluate(model_bytes: bytes, target: str = "sw26010", run: bool = False,
             path: str = "compile") -> tuple[str, str, str]:
    """Compile (and run, if asked) one serialized model in this process; (kind, detail, message). `path`
    "import": frontend.onnx.import_onnx alone instead of swmlir.compile."""
    import warnings

    import swmlir
    from swmlir.errors import CompileError

    model = onnx.ModelProto()
    model.ParseFromString(model_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path == "import":
                from mlir import ir

                from swmlir.frontend.onnx import import_onnx
                with ir.Context():
                    import_onnx(model)
                return "compiled", "imported", ""
            compiled = swmlir.compile(model, target=target)
    except CompileError as e:
        msg = str(e)
        w = wrapped_exception(msg)
        if w:
            return "wrapped", type(e).__name__, msg
        return "refused", type(e).__name__, msg
    except BaseException as e:  # noqa: BLE001 — every other exception is what we look for
        return "traceback", type(e).__name__, "".join(traceback.format_exception(e))[-4000:]
    if not run:
        return "compiled", "", ""
    with compiled:
        try:
            from swmlir.testing.compare import run_onnxruntime
            feeds = _random_feeds(model, np.random.default_rng(0))
            want = run_onnxruntime(model, feeds)
        except Exception as e:  # noqa: BLE001 — onnxruntime refuses it: nothing to compare with
            return "compiled", "ort-refused", f"{type(e).__name__}: {str(e)[:300]}"
        try:
            got = compiled.run(feeds)
        except CompileError as e:
            return "run-error", type(e).__name__, str(e)[:3000]
        except BaseException as e:  # noqa: BLE001
            return "traceback", type(e).__name__, "".join(traceback.format_exception(e))[-4000:]
    if len(got) != len(want):
        return "mismatch", "outputs", f"{len(got)} outputs, onnxruntime gives {len(want)}"
    names = [o.name for o in model.graph.output]
    for name, g, w in zip(names, got, want):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            return "mismatch", "shape", f"output {name!r}: shape {g.shape}, onnxruntime {w.shape}"
        if w.dtype.kind in "iub" and g.dtype != w.dtype and g.dtype.itemsize == w.dtype.itemsize:
            g = g.view(w.dtype)
        if g.dtype != w.dtype:
            return "mismatch", "dtype", f"output {name!r}: dtype {g.dtype}, onnxruntime {w.dtype}"
        if not np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-4, atol=1e-5, equal_nan=True):
            err = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64))))
            return "mismatch", "values", f"output {name!r}: max abs error {err:g}"
    return "compiled", "ran", ""


# ------------------------------------------------------------------------------------------------ the workers


def _worker_main(conn, memory_bytes: int) -> None:
    if memory_bytes:
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
        except (ImportError, ValueError, OSError):
            pass
    os.environ.setdefault("SWMLIR_EMU_MAIN_MEMORY_BYTES", str(1 << 30))
    import swmlir  # noqa: F401 — paid once per worker
    try:
        import onnxruntime
        onnxruntime.set_default_logger_severity(3)   # its warnings about the mutants are noise here
    except ImportError:
        pass
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        model_bytes, target, run, path = task
        t0 = time.monotonic()
        kind, detail, msg = evaluate(model_bytes, target, run, path)
        conn.send((kind, detail, msg, time.monotonic() - t0))


class _Worker:
    def __init__(self, ctx, memory_bytes: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_bytes), daemon=True)
        self.proc.start()
        child.close()
        self.mutant: Mutant | None = None
        self.started = 0.0

    def submit(self, mutant: Mutant, target: str) -> None:
        self.mutant, self.started = mutant, time.monotonic()
        self.conn.send((mutant.model.SerializeToString(), target, mutant.run, mutant.path))

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        import signal
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"worker exited with status {code}"


def fuzz(seed: int, count: int, *, jobs: int = 2, timeout: float = 120.0, run_every: int = 0,
         import_every: int = 0, target: str = "sw26010", memory_bytes: int = 8 << 30, start: int = 0,
         progress=None) -> list[Outcome]:
    """Mutants start .. start+count-1 of `seed`, compiled in `jobs` worker processes with a per-mutant `timeout`
    (seconds); returns their outcomes in index order. `progress(outcome)` is called as each one ends."""
    ctx = multiprocessing.get_context("spawn")   # never fork a process that holds MLIR's threads
    pending = [make_mutant(seed, i, run_every=run_every, import_every=import_every)
               for i in range(start, start + count)]
    pending.reverse()
    outcomes: dict[int, Outcome] = {}
    workers = [_Worker(ctx, memory_bytes) for _ in range(max(1, min(jobs, count)))]

    def finish(w: _Worker, out: Outcome) -> None:
        out.mutant = w.mutant
        outcomes[w.mutant.index] = out
        w.mutant = None
        if progress:
            progress(out)

    try:
        while pending or any(w.mutant for w in workers):
            for w in workers:
                if w.mutant is None and pending:
                    w.submit(pending.pop(), target)
            busy = [w for w in workers if w.mutant]
            ready = multiprocessing.connection.wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                                                    timeout=0.5)
            for k, w in enumerate(workers):
                if w.mutant is None:
                    continue
                if w.conn in ready or w.proc.sentinel in ready:
                    got = None
                    try:
                        if w.conn.poll():
                            got = w.conn.recv()
                    except (EOFError, OSError):
                        got = None
                    if got is not None:
                        kind, detail, msg, secs = got
                        finish(w, Outcome(kind, detail, msg, secs))
                        continue
                    if not w.proc.is_alive():
                        w.proc.join()
                        finish(w, Outcome("crash", _exit_description(w.proc.exitcode),
                                          "the compiler's process died", time.monotonic() - w.started))
                        workers[k] = _Worker(ctx, memory_bytes)
                        continue
                if time.monotonic() - w.started > timeout:
                    w.kill()
                    finish(w, Outcome("hang", f"timeout {timeout:g} s", f"no answer after {timeout:g} s",
                                      time.monotonic() - w.started))
                    workers[k] = _Worker(ctx, memory_bytes)
    finally:
        for w in workers:
            if w.mutant is not None:
                w.kill()
            else:
                w.stop()
    return [outcomes[i] for i in sorted(outcomes)]


def summary(outcomes: list[Outcome]) -> str:
    from collections import Counter
    kinds = Counter(o.kind if o.kind != "compiled" or not o.detail else f"compiled/{o.detail}" for o in outcomes)
    return ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m swmlir.testing.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=int(os.environ.get("SWMLIR_FUZZ_SEED", "9")))
    p.add_argument("--count", type=int, default=int(os.environ.get("SWMLIR_FUZZ_COUNT", "1000")))
    p.add_argument("--start", type=int, default=0, help="index of the first mutant")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    p.add_argument("--run-every", type=int, default=10, help="run every K-th mutant on the emulator (0: none)")
    p.add_argument("--import-every", type=int, default=4,
                   help="send every K-th mutant through import_onnx alone, without onnx.checker (0: none)")
    p.add_argument("--target", default="sw26010")
    p.add_argument("--show", action="store_true", help="print every outcome, not only the failures")
    p.add_argument("--save", metavar="DIR", help="write the model of every FAILURE to DIR/<seed>-<index>.onnx")
    a = p.parse_args(argv)

    def progress(o: Outcome) -> None:
        if o.failure or a.show:
            print(o, flush=True)

    t0 = time.monotonic()
    outs = fuzz(a.seed, a.count, jobs=a.jobs, timeout=a.timeout, run_every=a.run_every,
                import_every=a.import_every, target=a.target, start=a.start, progress=progress)
    bad = [o for o in outs if o.failure]
    if a.save and bad:
        os.makedirs(a.save, exist_ok=True)
        for o in bad:
            onnx.save(o.mutant.model, os.path.join(a.save, f"{o.mutant.seed}-{o.mutant.index}.onnx"))
    print(f"{len(outs)} mutants of seed {a.seed} in {time.monotonic() - t0:.0f} s: {summary(outs)}; "
          f"{len(bad)} FAILURE(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
