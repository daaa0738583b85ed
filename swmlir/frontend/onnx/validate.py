"""Validation of an ONNX model before anything else reads it: what a model from an untrusted source may get wrong.

`load_model` is the one way models enter the compiler (paths and ModelProtos alike). In order:

1. our own checks, all problems collected and reported at once (`InvalidModelError`):
   - the IR version and the opsets are ones ONNX defines (opset 99 is refused: nothing defines it);
   - every attribute of every node has the type the op's ONNX schema gives for the model's opset
     (`onnx.defs.get_schema(op, opset, domain).attributes`, so the table covers every op), no attribute is
     unknown or given twice, none that the schema requires is missing;
   - no two initializers share a name;
   - sizes, from declarations only (nothing is allocated or read yet): no tensor (initializer, Constant value,
     the output of a ConstantOfShape whose shape is a constant, a graph input) holds `MAX_TENSOR_BYTES` or
     more, the weights together stay below `MAX_WEIGHTS_BYTES` (protobuf cannot encode 2 GiB; the graph stage
     copies the model through it), and the data a tensor holds matches its declared shape;
   - external data (tensors whose bytes live in another file): the location is relative, and the file it names,
     with every symbolic link resolved, is a regular file inside the model's folder, with a single hard link;
     the bytes are read by us, from that resolved path, never by following the name again;
2. `onnx.checker.check_model` on a skeleton of the model (big initializers as typed graph inputs, so that the
   check neither copies the weights nor meets the 2 GiB limit; graph outputs without a declared shape, which
   onnxruntime accepts, get one for the check only);
3. ONNX shape inference in strict mode with type checks (the rest of `full_check`); a declared shape that
   differs from the inferred one is not an error (onnxruntime falls back to a lenient merge and so do we: the
   importer warns), every other inference error is.

Why not `onnx.checker.check_model(model, full_check=True)` as it is: on models we support and onnxruntime runs
it fails for graph outputs declared without a shape or element type, for IR 3 models whose initializers are not
graph inputs (the zoo), for deprecated op versions we convert (GroupNormalization-18), and in the function body
of MeanVarianceNormalization (the node test test_mvn); it also copies the weights and cannot take 2 GiB. The
skeleton keeps everything else it checks. Checked on every ONNX node test model, the zoo and our networks
(test/python/test_robustness_validation.py). `import_onnx` alone runs step 1 only (the importer reports
malformed graphs itself, naming the value or node); `swmlir.compile` runs all three.

A ModelProto whose tensors keep their data in external files is read only with an explicit `base_dir` (the
folder the model was saved in): resolving it against the current directory, as onnx's helpers do, would read
whatever files happen to be there.
"""
from __future__ import annotations

import math
import os
import re
import stat
from functools import lru_cache
from typing import Iterator

import onnx
from onnx import AttributeProto, TensorProto

from ...errors import ImportError_, InvalidModelError, Problem  # noqa: F401  (re-exported)
from . import registry

MAX_TENSOR_BYTES = 2 ** 31          # one tensor: 2 GiB (protobuf's limit for the bytes of one field)
MAX_WEIGHTS_BYTES = 2 ** 31 - 2 ** 24   # all constant data together, with room for the rest of the protobuf
SKELETON_KEEP_BYTES = 1 << 16       # initializers up to this size stay in the checker's skeleton

_ATTR_WORDS = {
    "INT": "one integer", "INTS": "a list of integers", "FLOAT": "one float", "FLOATS": "a list of floats",
    "STRING": "one string", "STRINGS": "a list of strings", "TENSOR": "a tensor", "TENSORS": "a list of tensors",
    "GRAPH": "a graph", "GRAPHS": "a list of graphs", "SPARSE_TENSOR": "a sparse tensor",
    "SPARSE_TENSORS": "a list of sparse tensors", "TYPE_PROTO": "a type", "TYPE_PROTOS": "a list of types",
}


# ----------------------------------------------------------------------------------------------- helpers
def _domain(d: str) -> str:
    return "" if d in registry.DEFAULT_DOMAINS else d


def node_label(proto: onnx.NodeProto, index: int) -> str:
    """The name errors give a node: its own, or `<op type>_<index in its graph>` (as the importer does)."""
    return proto.name or f"{proto.op_type}_{index}"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _elem_bits(data_type: int) -> int | None:
    """Bits per element of an ONNX tensor type as stored in raw_data; None for strings and unknown types."""
    try:
        name = TensorProto.DataType.Name(data_type)
    except ValueError:
        return None
    if name in ("STRING", "UNDEFINED"):
        return None
    if name in ("INT4", "UINT4", "FLOAT4E2M1"):
        return 4
    if name in ("INT2", "UINT2"):
        return 2
    if name.startswith("FLOAT6"):
        return 6
    if name == "COMPLEX64":
        return 64
    if name == "COMPLEX128":
        return 128
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(data_type).itemsize * 8
    except Exception:
        return None


def _type_name(data_type: int) -> str:
    try:
        return TensorProto.DataType.Name(data_type).lower()
    except ValueError:
        return f"type {data_type}"


def declared_bytes(dims, data_type: int) -> int | None:
    """Bytes of a dense tensor of these dims and type (None: unknown type or negative dims)."""
    bits = _elem_bits(data_type)
    if bits is None or any(d < 0 for d in dims):
        return None
    return (math.prod(int(d) for d in dims) * bits + 7) // 8


def _gib(n: int) -> str:
    return f"{n / 2 ** 30:.2f} GiB" if n >= 2 ** 28 else f"{n} bytes"


def size_problem(what: str, shape, data_type: int | None = None, *, itemsize: int | None = None) -> str | None:
    """The message when a tensor of `shape` (ONNX `data_type`, or elements of `itemsize` bytes) is too big to
    compile; None when it fits."""
    shape = [int(d) for d in shape]
    n = math.prod(shape)
    nbytes = n * itemsize if itemsize is not None else declared_bytes(shape, data_type)
    if nbytes is None or nbytes < MAX_TENSOR_BYTES:
        return None
    return (f"{what} has shape {shape} ({n} elements, {_gib(nbytes)}): tensors of {_gib(MAX_TENSOR_BYTES)} "
            "or more are not supported")


# ----------------------------------------------------------------------------------------------- walking the model
def _graphs(graph: onnx.GraphProto, path: str = "") -> Iterator[tuple[onnx.GraphProto, str]]:
    """The graph and every subgraph (If/Loop/Scan bodies) in it, with a path prefix for node names."""
    yield graph, path
    for i, n in enumerate(graph.node):
        for a in n.attribute:
            subs = [a.g] if a.type == AttributeProto.GRAPH else \
                list(a.graphs) if a.type == AttributeProto.GRAPHS else []
            for k, g in enumerate(subs):
                sub = f"{a.name}" if len(subs) == 1 else f"{a.name}[{k}]"
                yield from _graphs(g, f"{path}{node_label(n, i)}/{sub}/")


def _tensors(model: onnx.ModelProto) -> Iterator[tuple[TensorProto, str]]:
    """Every TensorProto holding data in the model (initializers, sparse parts, tensor attributes), with a
    description for messages."""
    def from_attrs(nodes, path):
        for i, n in enumerate(nodes):
            for a in n.attribute:
                where = f"attribute '{a.name}' of node '{path}{node_label(n, i)}'"
                if a.HasField("t"):
                    yield a.t, where
                for t in a.tensors:
                    yield t, where
                for s in ([a.sparse_tensor] if a.HasField("sparse_tensor") else []) + list(a.sparse_tensors):
                    yield s.values, where
                    yield s.indices, where

    for g, path in _graphs(model.graph):
        for t in g.initializer:
            yield t, "initializer"
        for s in g.sparse_initializer:
            yield s.values, "sparse initializer"
            yield s.indices, "sparse initializer"
        yield from from_attrs(g.node, path)
    for f in model.functions:
        yield from from_attrs(f.node, f"{f.name}/")


def uses_external_data(t: TensorProto) -> bool:
    return t.HasField("data_location") and t.data_location == TensorProto.EXTERNAL


def external_tensors(model: onnx.ModelProto) -> list[tuple[TensorProto, str]]:
    return [(t, w) for t, w in _tensors(model) if uses_external_data(t)]


# ----------------------------------------------------------------------------------------------- our own checks
@lru_cache(maxsize=4096)
def _schema_attributes(op_type: str, opset: int, domain: str):
    """{attribute name: (type name, required)} of the op's schema at `opset`, or None without a schema."""
    try:
        s = onnx.defs.get_schema(op_type, opset, domain)
    except Exception:
        return None
    return ({name: (a.type.name, bool(a.required)) for name, a in s.attributes.items()}, s.since_version,
            bool(s.deprecated), (s.min_input, s.max_input), (s.min_output, s.max_output))


def _attr_type_name(a: AttributeProto) -> str:
    try:
        return AttributeProto.AttributeType.Name(a.type)
    except ValueError:
        return f"type {a.type}"


def _attr_preview(a: AttributeProto) -> str:
    if a.type in (AttributeProto.INT, AttributeProto.FLOAT, AttributeProto.STRING, AttributeProto.INTS,
                  AttributeProto.FLOATS, AttributeProto.STRINGS):
        try:
            v = onnx.helper.get_attribute_value(a)
        except Exception:
            return ""
        if isinstance(v, list) and len(v) > 6:
            v = v[:6] + ["..."]
        return " " + _short(repr(v), 60)
    return ""


def _utf8(a: AttributeProto) -> bool:
    """Whether the strings of a STRING / STRINGS attribute are UTF-8 (the converters read them as text)."""
    try:
        for v in ([a.s] if a.type == AttributeProto.STRING else a.strings if a.type == AttributeProto.STRINGS
                  else []):
            v.decode()
    except UnicodeDecodeError:
        return False
    return True


def check_attributes(node: onnx.NodeProto, opset: int, label: str) -> list[Problem]:
    """Attribute names and types of one node against its ONNX schema (nodes of ops without one: nothing)."""
    found = _schema_attributes(node.op_type, opset, _domain(node.domain))
    if found is None:
        return []
    expected, since, deprecated, ins, outs = found
    if deprecated:
        return []  # the schema of a deprecated version lists no attributes; the converter decides
    op = node.op_type if _domain(node.domain) == "" else f"{node.domain}.{node.op_type}"
    out, seen = [], set()
    for what, n, (lo, hi) in (("inputs", len(node.input), ins), ("outputs", len(node.output), outs)):
        if not lo <= n <= hi:
            allowed = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi < 2 ** 31 - 1 else f"at least {lo}"
            out.append(Problem(f"has {n} {what}; {op} of opset {since} takes {allowed}", op, label))
    for a in node.attribute:
        if a.name in seen:
            out.append(Problem(f"attribute '{a.name}' is given more than once", op, label))
            continue
        seen.add(a.name)
        if a.name not in expected:
            known = ", ".join(sorted(expected)) or "none"
            out.append(Problem(f"unknown attribute '{a.name}' ({op} of opset {since} has attributes: {known})",
                               op, label))
            continue
        if a.ref_attr_name:
            continue  # a reference to an attribute of the enclosing function: checked when it is inlined
        want = expected[a.name][0]
        have = _attr_type_name(a)
        if have != want:
            what = "has no type (AttributeProto.type is UNDEFINED)" if a.type == AttributeProto.UNDEFINED else \
                f"is {have}{_attr_preview(a)}"
            out.append(Problem(f"attribute '{a.name}' {what}, expected {want} ({_ATTR_WORDS.get(want, want)})",
                               op, label))
        elif not _utf8(a):
            out.append(Problem(f"attribute '{a.name}' is {have}{_attr_preview(a)}, not UTF-8 text", op, label))
    for name, (want, required) in sorted(expected.items()):
        if required and name not in seen:
            out.append(Problem(f"missing required attribute '{name}' ({want}, {_ATTR_WORDS.get(want, want)})",
                               op, label))
    return out


def opsets_of(model: onnx.ModelProto) -> dict[str, int]:
    return {_domain(o.domain): o.version for o in model.opset_import}


def attribute_problems(model: onnx.ModelProto) -> list[Problem]:
    """check_attributes over every node of the graph and its subgraphs."""
    opsets = opsets_of(model)
    out = []
    for g, path in _graphs(model.graph):
        for i, n in enumerate(g.node):
            out += check_attributes(n, opsets.get(_domain(n.domain), 0), path + node_label(n, i))
    return out


def _max_opsets() -> dict[str, int]:
    last = onnx.helper.VERSION_TABLE[-1]
    return {"": max(last[2], onnx.defs.onnx_opset_version()), "ai.onnx.ml": last[3],
            "ai.onnx.preview.training": last[4]}


def header_problems(model: onnx.ModelProto) -> list[Problem]:
    """IR version and opset imports."""
    out = []
    if model.ir_version < 1 or model.ir_version > onnx.IR_VERSION:
        out.append(Problem(f"ir_version {model.ir_version} is not an ONNX IR version this onnx "
                           f"({onnx.__version__}) knows (1 to {onnx.IR_VERSION})"))
    known = _max_opsets()
    seen = set()
    for o in model.opset_import:
        d = _domain(o.domain)
        label = "the default ONNX domain" if d == "" else f"domain '{o.domain}'"
        if d in seen:
            out.append(Problem(f"{label} is imported more than once (opset_import)"))
        seen.add(d)
        if o.version < 1:
            out.append(Problem(f"opset {o.version} of {label} does not exist (opsets start at 1)"))
        elif d in known and o.version > known[d]:
            out.append(Problem(f"the model imports opset {o.version} of {label}, which ONNX does not define "
                               f"(onnx {onnx.__version__} knows opsets 1 to {known[d]})"))
    return out


def _data_problem(t: TensorProto, what: str) -> str | None:
    """Declared size against the data a tensor holds (external data: against its declared length)."""
    name = f"{what} '{t.name}'" if t.name else what
    if any(d < 0 for d in t.dims):
        return f"{name} has negative dims {list(t.dims)}"
    n = math.prod(int(d) for d in t.dims)
    big = size_problem(name, list(t.dims), t.data_type)
    if big:
        return big
    nbytes = declared_bytes(t.dims, t.data_type)
    if uses_external_data(t):
        info = {e.key: e.value for e in t.external_data}
        for key in ("offset", "length"):
            if key in info:
                try:
                    if int(info[key]) < 0:
                        raise ValueError
                except ValueError:
                    return f"{name}: external data {key} '{_short(info[key], 40)}' is not a non-negative integer"
        if "length" in info and nbytes is not None and int(info["length"]) != nbytes:
            return (f"{name} declares shape {list(t.dims)} of {_type_name(t.data_type)} ({nbytes} bytes) but its "
                    f"external data length is {int(info['length'])} bytes")
        return None
    if t.HasField("raw_data"):
        if nbytes is not None and t.data_type != TensorProto.STRING and len(t.raw_data) != nbytes:
            return (f"{name} declares shape {list(t.dims)} of {_type_name(t.data_type)} ({nbytes} bytes) but holds "
                    f"{len(t.raw_data)} bytes of raw data")
        return None
    fields = {"float_data": t.float_data, "int32_data": t.int32_data, "string_data": t.string_data,
              "int64_data": t.int64_data, "double_data": t.double_data, "uint64_data": t.uint64_data}
    used = {k: len(v) for k, v in fields.items() if len(v)}
    stored = sum(used.values())
    bits = _elem_bits(t.data_type)
    if t.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        expected = 2 * n
    elif bits is not None and bits < 8:
        expected = (n * bits + 7) // 8 if t.data_type not in (TensorProto.INT4, TensorProto.UINT4,
                                                              TensorProto.FLOAT4E2M1) else (n + 1) // 2
    else:
        expected = n
    if len(used) <= 1 and stored != expected and not (bits is not None and bits < 8):
        return (f"{name} declares shape {list(t.dims)} ({n} elements) but holds {stored} values"
                + (f" in {next(iter(used))}" if used else ""))
    return None


def _constant_values(graph: onnx.GraphProto) -> dict[str, TensorProto]:
    out = {t.name: t for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and _domain(n.domain) == "" and n.output:
            for a in n.attribute:
                if a.name == "value" and a.HasField("t"):
                    out[n.output[0]] = a.t
    return out


def size_problems(model: onnx.ModelProto) -> list[Problem]:
    """Tensor sizes from declarations only: initializers and tensor attributes, graph inputs, the outputs of
    ConstantOfShape nodes whose shape is a constant and Range nodes of constant bounds; data held against declared sizes; the weights' total."""
    out, total = [], 0
    for t, what in _tensors(model):
        msg = _data_problem(t, what)
        if msg:
            out.append(Problem(msg))
        if not any(d < 0 for d in t.dims):
            total += declared_bytes(t.dims, t.data_type) or 0
    if total >= MAX_WEIGHTS_BYTES and not out:
        out.append(Problem(f"the model's constant data totals {_gib(total)}: models whose weights reach "
                           f"{_gib(MAX_WEIGHTS_BYTES)} are not supported (the graph stage works on a protobuf "
                           "copy, which protobuf limits to 2 GiB)"))
    g = model.graph
    for vi in g.input:
        t = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
        if t is None or not t.HasField("shape"):
            continue
        dims = [d.dim_value for d in t.shape.dim]
        if all(d.HasField("dim_value") and d.dim_value > 0 for d in t.shape.dim):
            msg = size_problem(f"graph input '{vi.name}'", dims, t.elem_type)
            if msg:
                out.append(Problem(msg))
    for gr, path in _graphs(g):
        consts = _constant_values(gr)
        for i, n in enumerate(gr.node):
            if _domain(n.domain) != "" or n.op_type not in _CONSTANT_OUTPUT_SIZE:
                continue
            known = _CONSTANT_OUTPUT_SIZE[n.op_type](n, consts)
            if known is not None:
                msg = size_problem("the output", *known)
                if msg:
                    out.append(Problem(msg, n.op_type, path + node_label(n, i)))
    return out


def _small_constant(name: str, consts: dict[str, TensorProto]):
    """The values of a small constant input as a flat numpy array, or None (absent, external, big, unreadable)."""
    from onnx import numpy_helper
    t = consts.get(name)
    if t is None or uses_external_data(t) or (declared_bytes(t.dims, t.data_type) or 0) > 1 << 16:
        return None
    try:
        return numpy_helper.to_array(t).reshape(-1)
    except Exception:
        return None  # the importer reports an unreadable constant with its node


def _constant_of_shape_size(n: onnx.NodeProto, consts) -> tuple[list[int], int] | None:
    shape = _small_constant(n.input[0], consts) if n.input else None
    if shape is None or any(int(d) < 0 for d in shape):
        return None
    dtype = next((a.t.data_type for a in n.attribute if a.name == "value" and a.type == AttributeProto.TENSOR),
                 TensorProto.FLOAT)
    return [int(d) for d in shape], dtype


def _range_size(n: onnx.NodeProto, consts) -> tuple[list[int], int] | None:
    """Range of constant bounds: ONNX's data propagation evaluates it element by element, so its size is checked
    before shape inference runs."""
    if len(n.input) != 3:
        return None
    vals = [_small_constant(x, consts) for x in n.input]
    if any(v is None or v.size != 1 for v in vals):
        return None
    start, limit, delta = (v.item() for v in vals)
    if delta == 0 or not all(math.isfinite(float(x)) for x in (start, limit, delta)):
        return None
    if all(isinstance(x, int) for x in (start, limit, delta)):
        count = max(-((start - limit) // delta), 0)
    else:
        count = max(math.ceil((limit - start) / delta), 0)
    return [count], consts[n.input[0]].data_type


# ops whose output size is known from constant inputs before any evaluation: (node, constants) -> (shape, dtype)
_CONSTANT_OUTPUT_SIZE = {"ConstantOfShape": _constant_of_shape_size, "Range": _range_size}


def graph_problems(model: onnx.ModelProto) -> list[Problem]:
    out = []
    for g, path in _graphs(model.graph):
        seen = set()
        for t in g.initializer:
            if t.name in seen:
                where = f" in subgraph '{path.rstrip('/')}'" if path else ""
                out.append(Problem(f"initializer '{t.name}' is defined more than once{where}"))
            seen.add(t.name)
    return out


def own_problems(model: onnx.ModelProto, base_dir: str | None = None) -> list[Problem]:
    """Everything we check ourselves, collected (see the module docstring)."""
    out = header_problems(model) + graph_problems(model) + attribute_problems(model) + size_problems(model)
    if base_dir is not None:
        out += [Problem(m) for m in external_data_problems(model, base_dir)]
    return out


# ----------------------------------------------------------------------------------------------- external data
def _resolve_external(t: TensorProto, what: str, base_dir: str) -> tuple[str | None, str | None]:
    """(resolved path, None) when the tensor's external data may be read, else (None, the refusal)."""
    info = {e.key: e.value for e in t.external_data}
    label = f"{what} '{t.name}'" if t.name else what
    loc = info.get("location", "")
    if not loc:
        return None, f"{label}: external data without a location"
    shown = _short(repr(loc)[1:-1], 160)
    if "\0" in loc:
        return None, f"{label}: external data location '{shown}' contains a NUL character; refused"
    if os.path.isabs(loc) or loc.startswith(("\\", "/")) or (len(loc) > 1 and loc[1] == ":"):
        return None, (f"{label}: external data location '{shown}' is an absolute path; external data must be "
                      "a file inside the model's folder (a relative location)")
    folder = os.path.realpath(base_dir)
    target = os.path.realpath(os.path.join(folder, loc))
    if os.path.commonpath([folder, target]) != folder:
        return None, (f"{label}: external data location '{shown}' resolves to '{_short(target, 160)}', outside "
                      f"the model's folder '{_short(folder, 160)}'; refused")
    try:
        st = os.stat(target)
    except OSError as e:
        return None, f"{label}: cannot read external data file '{shown}' in '{_short(folder, 160)}': {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{label}: external data location '{shown}' is not a regular file"
    if st.st_nlink > 1:
        return None, (f"{label}: external data file '{shown}' has {st.st_nlink} hard links (it may be a file from "
                      "outside the model's folder); refused: copy the file instead of linking it")
    return target, None


def external_data_problems(model: onnx.ModelProto, base_dir: str) -> list[str]:
    return [msg for t, what in external_tensors(model) for _, msg in [_resolve_external(t, what, base_dir)] if msg]


def load_external_data(model: onnx.ModelProto, base_dir: str) -> None:
    """Read every external tensor of `model` (in place) from inside `base_dir`; ImportError_ on any refusal."""
    problems = external_data_problems(model, base_dir)
    if problems:
        raise InvalidModelError([Problem(m) for m in problems])
    for t, what in external_tensors(model):
        path, msg = _resolve_external(t, what, base_dir)
        if msg:
            raise InvalidModelError([Problem(msg)])
        info = {e.key: e.value for e in t.external_data}
        offset = int(info.get("offset", 0) or 0)
        nbytes = declared_bytes(t.dims, t.data_type)
        length = int(info["length"]) if info.get("length") else nbytes
        label = f"{what} '{t.name}'" if t.name else what
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as e:
            raise InvalidModelError([Problem(f"{label}: cannot open external data '{path}': {e.strerror}")]) from None
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if length is None:
                length = size - offset
            if offset + length > size:
                raise InvalidModelError([Problem(
                    f"{label}: external data '{info.get('location')}' has {size} bytes, but the tensor needs "
                    f"{length} bytes from offset {offset}")])
            f.seek(offset)
            data = f.read(length)
        t.raw_data = data
        del t.external_data[:]
        t.data_location = TensorProto.DEFAULT


# ----------------------------------------------------------------------------------------------- onnx.checker
def _skeleton(model: onnx.ModelProto, *, for_checker: bool) -> onnx.ModelProto:
    """A copy of `model` without its big initializers (they become typed graph inputs)."""
    from onnx import helper
    s = onnx.ModelProto()
    for f in ("ir_version", "producer_name", "producer_version", "domain", "model_version", "doc_string"):
        if model.HasField(f):
            setattr(s, f, getattr(model, f))
    s.opset_import.extend(model.opset_import)
    s.functions.extend(model.functions)
    g, src = s.graph, model.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    g.sparse_initializer.extend(src.sparse_initializer)
    if for_checker:
        # deprecated versions of ops (GroupNormalization-18, Upsample-10, ...): the checker refuses them, we
        # may have a converter (or refuse them with a reason); checked as ops of a domain the checker skips
        opsets = opsets_of(model)
        moved = False
        for n in g.node:
            found = _schema_attributes(n.op_type, opsets.get(_domain(n.domain), 0), _domain(n.domain))
            if found is not None and found[2]:
                n.domain, moved = "swmlir.deprecated", True
        if moved:
            s.opset_import.add(domain="swmlir.deprecated", version=1)
    declared = {i.name for i in src.input}
    for t in src.initializer:
        nb = declared_bytes(t.dims, t.data_type)
        small = nb is not None and nb <= SKELETON_KEEP_BYTES and not uses_external_data(t)
        if small:
            g.initializer.append(t)
        # before IR 4 every initializer had to be a graph input; onnxruntime accepts those that are not
        if t.name not in declared and (not small or model.ir_version < 4):
            declared.add(t.name)
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    if for_checker:  # onnxruntime accepts graph inputs/outputs without a declared shape or element type
        for vi in list(g.input) + list(g.output):
            if vi.type.WhichOneof("value") in (None, "tensor_type"):
                tt = vi.type.tensor_type
                if not tt.elem_type:
                    tt.elem_type = TensorProto.FLOAT
                if not tt.HasField("shape"):
                    tt.shape.SetInParent()
    return s


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return _short(" ".join(lines[:1]), 300) if lines else ""


def _has_unknown_ops(model: onnx.ModelProto) -> bool:
    """Nodes of ONNX's own domains that no schema describes: the importer reports them (as unsupported ops,
    with all the others); the checker would stop at the first."""
    opsets = opsets_of(model)
    for g, _ in _graphs(model.graph):
        for n in g.node:
            d = _domain(n.domain)
            if d in ("", "ai.onnx.ml", "ai.onnx.preview.training") and \
                    _schema_attributes(n.op_type, opsets.get(d, 0), d) is None:
                return True
    return False


def _names_a_node(line: str, model: onnx.ModelProto) -> bool:
    """Whether an inference error is about a node of the model (not one inside an op's function body, which
    inference expands on its own and where it has been seen to fail on valid models)."""
    m = re.match(r"\(op_type:([^,)]*)(?:, node name: ([^)]*))?\)", line)
    if not m:
        return True
    op, name = m.group(1), m.group(2)
    for g, _ in _graphs(model.graph):
        for n in g.node:
            if n.op_type == op and (name is None or n.name == name):
                return True
    return False


def checker_problems(model: onnx.ModelProto) -> list[Problem]:
    """onnx.checker plus strict shape inference, on the skeleton (see the module docstring)."""
    if _has_unknown_ops(model):
        return []
    try:
        onnx.checker.check_model(_skeleton(model, for_checker=True))
    except Exception as e:
        return [Problem(f"the model is not valid ONNX (onnx.checker): {_first_line(e)}")]
    try:
        onnx.shape_inference.infer_shapes(_skeleton(model, for_checker=False), check_type=True, strict_mode=True)
    except Exception as e:
        errors = [ln.strip() for ln in str(e).replace("Inference error(s):", "\n").splitlines() if ln.strip()]
        # a node whose function body (or subgraph) fails wraps the inner errors: "(op_type:X): [...] Inference
        # error(s): (op_type:Y): ..."; the wrapper line says nothing itself
        errors = [ln for ln in errors if not re.fullmatch(r"(\(op_type:[^)]*\):\s*)?\[\w+\]", ln)]
        hard = [ln for ln in errors if "existing shape differ" not in ln and "Inferred shape and existing shape"
                not in ln and _names_a_node(ln, model)]
        if hard:
            return [Problem(f"the model is not valid ONNX (shape inference): {_short(ln, 300)}") for ln in hard[:10]]
    return []


# ----------------------------------------------------------------------------------------------- entry point
def load_model(model, *, base_dir: str | os.PathLike | None = None, check: bool = True,
               verb: str = "load") -> onnx.ModelProto:
    """The model as a ModelProto with its external data read (safely) and, with `check`, validated.

    `model`: a path (its folder is where external data is read from, unless `base_dir` says otherwise) or an
    onnx.ModelProto (never modified: a copy gets the external data). A ModelProto with external data needs
    `base_dir`. Raises InvalidModelError (all problems at once) or ImportError_ ("cannot <verb> ONNX model"
    when the file cannot be read or parsed)."""
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        try:
            proto = onnx.load(path, load_external_data=False)
        except Exception as e:  # a missing or corrupt file must not surface as a protobuf traceback
            reason = e.strerror if isinstance(e, OSError) and e.strerror else _first_line(e) or type(e).__name__
            raise ImportError_(f"cannot {verb} ONNX model '{_short(path, 200)}': {reason}") from None
        if base_dir is None:
            base_dir = os.path.dirname(os.path.abspath(path))
        owned = True
    elif isinstance(model, onnx.ModelProto):
        proto, owned = model, False
    else:
        raise ImportError_(f"expected an onnx.ModelProto or a path, got {type(model).__name__}")
    base = os.fspath(base_dir) if base_dir is not None else None
    problems = own_problems(proto, base) if check else size_problems(proto)
    ext = external_tensors(proto)
    if ext and base is None:
        t, what = ext[0]
        loc = next((e.value for e in t.external_data if e.key == "location"), "")
        problems.append(Problem(
            f"{what} '{t.name}' keeps its data in an external file ('{_short(loc, 100)}'), and the ModelProto does "
            "not say where it was loaded from: pass base_dir= (the model's folder), or give the model's path"))
    elif ext and not check:
        problems += [Problem(m) for m in external_data_problems(proto, base)]
    if problems:
        raise InvalidModelError(problems)
    if ext:
        if not owned:
            copy = onnx.ModelProto()
            copy.CopyFrom(proto)
            proto = copy
        load_external_data(proto, base)
    if check:
        problems = checker_problems(proto)
        if problems:
            raise InvalidModelError(problems)
    return proto
