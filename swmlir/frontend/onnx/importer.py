"""The graph walk: ONNX ModelProto -> one public `func.func @main` on static tensors.

Order of work, so that problems surface early and together:
1. every node is checked against the converter table (all unsupported ops are reported at once);
2. every graph input gets a static shape (from the model or `input_shapes`);
3. ONNX shape inference runs on the model with those shapes; converters compute every shape themselves, and a
   disagreement is reported as a ShapeMismatchWarning (dtypes must agree);
4. nodes are converted in order; constants stay numpy arrays until an op needs them as an SSA value.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import onnx
from mlir import ir
from mlir.dialects import func, linalg

from ...analysis.weights import WeightTable, recording
from ...attrs import NODE_ATTR
from ...errors import CompileError, ConstantInputRequired, ImportError_, UnsupportedOpsError
from . import builders as b
from . import registry
from .dtypes import SUPPORTED, is_float, mlir_to_numpy, numpy_to_mlir, onnx_to_numpy, onnx_type_name


class ShapeMismatchWarning(UserWarning):
    """A converter computed a shape other than the one the model declares or ONNX shape inference gives.

    The converter's shape wins: it is the one onnxruntime computes (ONNX shape inference is known to differ,
    e.g. for pools with ceil_mode whose last window would start in the padding)."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass
class ModelInfo:
    name: str
    opset: int
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    # the data of the module's dense_resource constants, by resource key: the weights file is written from it
    weights: WeightTable = field(default_factory=WeightTable)


@dataclass(frozen=True)
class ValueInfo:
    """What ONNX (declarations + shape inference) knows of a value: dims may be None, shape None if unranked."""
    shape: tuple[int | None, ...] | None
    dtype: np.dtype | None


class Node:
    """The view of one ONNX node that converters get."""

    def __init__(self, ctx: "ImportContext", proto: onnx.NodeProto, name: str, opset: int):
        self.ctx, self.proto, self.name, self.opset = ctx, proto, name, opset
        self.op_type = proto.op_type
        self.input_names = list(proto.input)
        self.output_names = list(proto.output)

    # -- errors
    def error(self, reason: str) -> ImportError_:
        """An ImportError_ naming this node; `raise node.error(...)`."""
        return ImportError_(reason, op=self.op_type, node=self.name)

    def needs_constant(self, i: int, reason: str) -> ConstantInputRequired:
        """A ConstantInputRequired naming input `i` of this node; `raise node.needs_constant(i, ...)`."""
        name = self.input_names[i] if i < len(self.input_names) else ""
        return ConstantInputRequired(reason, inputs=(name,), op=self.op_type, node=self.name)

    # -- inputs
    def input(self, i: int) -> ir.Value | None:
        """Input `i` as an SSA value; None when the optional input is omitted."""
        if i >= len(self.input_names) or not self.input_names[i]:
            return None
        return self.ctx.value(self.input_names[i])

    @property
    def inputs(self) -> list[ir.Value | None]:
        return [self.input(i) for i in range(len(self.input_names))]

    def has_input(self, i: int) -> bool:
        return i < len(self.input_names) and bool(self.input_names[i])

    def constant(self, i: int) -> np.ndarray | None:
        """Input `i`'s value when it is known at import time (initializer or Constant), else None."""
        if not self.has_input(i):
            return None
        return self.ctx.constant_value(self.input_names[i])

    def require_input(self, i: int, what: str) -> ir.Value:
        v = self.input(i)
        if v is None:
            raise self.error(f"missing required input #{i} ({what})")
        return v

    # -- outputs
    def output_requested(self, i: int) -> bool:
        return i < len(self.output_names) and bool(self.output_names[i])

    @property
    def output_infos(self) -> list[ValueInfo | None]:
        return [self.ctx.info.get(n) if n else None for n in self.output_names]

    @property
    def output_shapes(self) -> list[tuple[int | None, ...] | None]:
        return [i.shape if i else None for i in self.output_infos]

    @property
    def output_dtypes(self) -> list[np.dtype | None]:
        return [i.dtype if i else None for i in self.output_infos]

    # -- attributes
    def has_attr(self, name: str) -> bool:
        return any(a.name == name for a in self.proto.attribute)

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute as a Python value: ints, floats, str, lists of them, numpy arrays for tensors."""
        for a in self.proto.attribute:
            if a.name != name:
                continue
            if a.ref_attr_name:
                raise self.error(f"attribute '{name}' refers to a function attribute, which is not supported")
            v = onnx.helper.get_attribute_value(a)
            try:
                if isinstance(v, bytes):
                    return v.decode()
                if isinstance(v, list):
                    return [x.decode() if isinstance(x, bytes) else x for x in v]
            except UnicodeDecodeError:
                raise self.error(f"attribute '{name}' is not UTF-8 text ({v!r:.60})") from None
            if isinstance(v, onnx.TensorProto):
                return self.ctx.tensor_to_numpy(v)
            if isinstance(v, onnx.SparseTensorProto):
                return self.ctx.sparse_to_numpy(v)
            return v
        return default

    def require_float(self, v: ir.Value, what: str = "input") -> None:
        t = b.elem_of(v)
        if not is_float(t):
            raise self.error(f"{what} has element type {t}; only floating-point tensors are supported by this op")


class ImportContext:
    """State of one import: SSA values and constants by ONNX name, ONNX's shape knowledge, the current node."""

    def __init__(self, model: onnx.ModelProto, opsets: dict[str, int], info: dict[str, ValueInfo], base_dir: str,
                 kn_weights: bool = True):
        self.model, self.opsets, self.info, self.base_dir = model, opsets, info, base_dir
        self.kn_weights = kn_weights   # the layout of constant MatMul/Gemm weights (Target.kn_weights)
        self.opset = opsets.get("", 0)
        self.values: dict[str, ir.Value] = {}
        self.constants: dict[str, np.ndarray] = {}
        self.node: Node | None = None
        self.warned: set[str] = set()  # values already reported by a ShapeMismatchWarning

    # -- errors
    def error(self, reason: str) -> ImportError_:
        if self.node is None:
            return ImportError_(reason)
        return self.node.error(reason)

    def needs_constant(self, reason: str) -> ConstantInputRequired:
        """A ConstantInputRequired that names no input, about the node being converted."""
        if self.node is None:
            return ConstantInputRequired(reason)
        return ConstantInputRequired(reason, op=self.node.op_type, node=self.node.name)

    # -- tensors
    def tensor_to_numpy(self, t: onnx.TensorProto) -> np.ndarray:
        if onnx_to_numpy(t.data_type) is None:
            raise self.error(f"tensor '{t.name}' has element type {onnx_type_name(t.data_type)}, which is not supported")
        try:
            return onnx.numpy_helper.to_array(t, self.base_dir)
        except Exception as e:  # external data missing, truncated raw_data, ...
            raise self.error(f"cannot read tensor '{t.name}': {e}") from None

    def sparse_to_numpy(self, s: onnx.SparseTensorProto) -> np.ndarray:
        values = self.tensor_to_numpy(s.values).reshape(-1)
        indices = onnx.numpy_helper.to_array(s.indices).astype(np.int64)
        shape = tuple(s.dims)
        dense = np.zeros(int(np.prod(shape)), dtype=values.dtype)
        if indices.ndim == 2:
            indices = np.ravel_multi_index(tuple(indices.T), shape) if indices.size else indices.reshape(-1)
        if indices.size != values.size or (indices.size and (indices.min() < 0 or indices.max() >= dense.size)):
            raise self.error(f"sparse tensor '{s.values.name}' has inconsistent indices")
        dense[indices] = values
        return dense.reshape(shape)

    # -- values
    def constant_value(self, name: str) -> np.ndarray | None:
        """The numpy value of `name` if it is known at import time (initializer, Constant, folded), else None."""
        return self.constants.get(name)

    def has(self, name: str) -> bool:
        return name in self.values or name in self.constants

    def value(self, name: str) -> ir.Value:
        """`name` as an SSA value; constants are materialised here, at their first use."""
        v = self.values.get(name)
        if v is not None:
            return v
        arr = self.constants.get(name)
        if arr is None:
            raise self.error(f"value '{name}' is used before it is defined (not a graph input, initializer "
                             "or output of an earlier node)")
        # a constant that cannot be an operand: the node compiles only if it folds, which values of the other
        # inputs may allow (ConstantInputRequired without a name: the backend freezes the integer inputs)
        if arr.dtype not in SUPPORTED:
            raise self.needs_constant(f"constant '{name}' has dtype {arr.dtype}, which is not supported")
        if arr.size == 0:
            raise self.needs_constant(f"constant '{name}' is empty (shape {list(arr.shape)}); zero-size tensors "
                                      "are not supported as operands")
        v = b.constant(arr, name)
        self.values[name] = v
        return v

    def define(self, name: str, value: ir.Value | np.ndarray) -> None:
        if isinstance(value, np.ndarray):
            self.constants[name] = value
        else:
            self.values[name] = value


# ------------------------------------------------------------------------------------------------ model helpers
def _load(model, base_dir=None) -> tuple[onnx.ModelProto, str]:
    """The ModelProto with its external data read (from inside the model's folder only, see validate)."""
    from .validate import load_model
    proto = load_model(model, base_dir=base_dir, check=False)
    if base_dir is None and isinstance(model, (str, os.PathLike)):
        base_dir = os.path.dirname(os.path.abspath(os.fspath(model)))
    return proto, os.fspath(base_dir) if base_dir is not None else ""


def _opsets(model: onnx.ModelProto) -> dict[str, int]:
    opsets = {}
    for o in model.opset_import:
        opsets["" if o.domain in registry.DEFAULT_DOMAINS else o.domain] = o.version
    if "" not in opsets:
        raise ImportError_("the model does not import the default ONNX domain (no opset_import for '')")
    return opsets


def _node_label(proto: onnx.NodeProto, index: int) -> str:
    return proto.name or f"{proto.op_type}_{index}"


def _check_supported(graph: onnx.GraphProto, opsets: dict[str, int]) -> None:
    missing = []
    for i, n in enumerate(graph.node):
        opset = opsets.get("" if n.domain in registry.DEFAULT_DOMAINS else n.domain, 0)
        if registry.lookup(n.op_type, opset, n.domain) is None:
            op = n.op_type if n.domain in registry.DEFAULT_DOMAINS else f"{n.domain}.{n.op_type}"
            missing.append((op, opset, _node_label(n, i)))
    if missing:
        raise UnsupportedOpsError(missing)


def _check_attributes(model: onnx.ModelProto) -> None:
    """Every attribute has the type the op's ONNX schema gives (all problems at once): converters read
    attributes as that type and need not check it themselves."""
    from .validate import InvalidModelError, attribute_problems, graph_problems, header_problems
    problems = header_problems(model) + graph_problems(model) + attribute_problems(model)
    if problems:
        raise InvalidModelError(problems)


def _declared_dims(vi: onnx.ValueInfoProto) -> list[int | str | None] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param") and d.dim_param:
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def _resolve_inputs(graph: onnx.GraphProto, input_shapes: dict[str, Sequence[int]] | None) -> list[TensorInfo]:
    """Static shape and dtype of every graph input that is not an initializer."""
    inits = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    given = dict(input_shapes or {})
    out = []
    for vi in graph.input:
        if vi.name in inits:
            continue
        if not vi.type.HasField("tensor_type"):
            raise ImportError_(f"graph input '{vi.name}' is not a tensor (sequence/map/optional inputs are not supported)")
        elem = vi.type.tensor_type.elem_type
        dtype = onnx_to_numpy(elem)
        if dtype is None:
            raise ImportError_(f"graph input '{vi.name}' has element type {onnx_type_name(elem)}, which is not supported")
        declared = _declared_dims(vi)
        if vi.name in given:
            shape = tuple(int(d) for d in given.pop(vi.name))
            if declared is not None:
                if len(declared) != len(shape):
                    raise ImportError_(f"input_shapes gives input '{vi.name}' rank {len(shape)} {list(shape)}, "
                                       f"but the model declares rank {len(declared)} {declared}")
                for k, (d, s) in enumerate(zip(declared, shape)):
                    if isinstance(d, int) and d > 0 and d != s:
                        raise ImportError_(f"input_shapes gives dim {k} of input '{vi.name}' as {s}, "
                                           f"but the model declares it as {d}")
        else:
            if declared is None:
                raise ImportError_(f"graph input '{vi.name}' has no shape; give it in input_shapes")
            for k, d in enumerate(declared):
                if d == 0:
                    raise ImportError_(f"graph input '{vi.name}' has a zero-size dim at index {k} (shape {declared}): "
                                       "zero-size tensors are not supported (dims must be positive)")
                if not isinstance(d, int) or d <= 0:
                    what = f"symbolic dim '{d}'" if isinstance(d, str) else "an unknown dim"
                    raise ImportError_(f"graph input '{vi.name}' has {what} at index {k} (shape {declared}); "
                                       f"give its static shape in input_shapes={{'{vi.name}': [...]}}")
            shape = tuple(declared)
        if any(s <= 0 for s in shape):
            raise ImportError_(f"graph input '{vi.name}' has shape {list(shape)}: dims must be positive")
        from .validate import size_problem
        big = size_problem(f"graph input '{vi.name}'", shape, itemsize=np.dtype(dtype).itemsize)
        if big:
            raise ImportError_(big)
        out.append(TensorInfo(vi.name, shape, dtype))
    if given:
        raise ImportError_(f"input_shapes names {sorted(given)}, which are not graph inputs "
                           f"(inputs: {[t.name for t in out]})")
    return out


def _value_infos(model: onnx.ModelProto) -> dict[str, ValueInfo]:
    """What the model and shape inference say of each value, subgraphs included (an inlined If branch reads
    them). Two branches may use the same inner name: such a name has no entry (its converters compute it)."""
    info: dict[str, ValueInfo] = {}
    seen_in: dict[str, int] = {}
    ambiguous: set[str] = set()

    def visit(g: onnx.GraphProto) -> None:
        for vi in list(g.value_info) + list(g.output) + list(g.input):
            if not vi.type.HasField("tensor_type"):
                continue
            if seen_in.setdefault(vi.name, id(g)) != id(g):
                ambiguous.add(vi.name)
            dims = _declared_dims(vi)
            shape = None if dims is None else tuple(d if isinstance(d, int) and d > 0 else None for d in dims)
            info[vi.name] = ValueInfo(shape, onnx_to_numpy(vi.type.tensor_type.elem_type))
        for n in g.node:
            for a in n.attribute:
                for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs):
                    visit(sub)

    visit(model.graph)
    for name in ambiguous:
        info.pop(name, None)
    return info


def _infer(model: onnx.ModelProto, inputs: list[TensorInfo]) -> onnx.ModelProto:
    """Shape inference (advisory: converters compute every shape themselves) with the resolved input shapes,
    on a skeleton of the model without its big weights, so that inference does not copy them."""
    from swmlir.graph._graph import infer_shapes_light
    return infer_shapes_light(model, {t.name: t.shape for t in inputs})


# ------------------------------------------------------------------------------------------------ conversion
def _check_output(node: Node, name: str, value: ir.Value | np.ndarray) -> None:
    if isinstance(value, np.ndarray):
        shape, elem = tuple(value.shape), numpy_to_mlir(value.dtype)
    else:
        if not isinstance(value.type, ir.RankedTensorType):
            raise node.error(f"converter produced a non-tensor value for output '{name}'")
        shape, elem = b.shape_of(value), b.elem_of(value)
        if any(d == ir.ShapedType.get_dynamic_size() for d in shape):
            raise node.error(f"output '{name}' would have a dynamic shape")
    from .validate import size_problem
    try:
        itemsize = value.dtype.itemsize if isinstance(value, np.ndarray) else mlir_to_numpy(elem).itemsize
    except TypeError:
        itemsize = 8
    big = size_problem(f"output '{name}'", shape, itemsize=itemsize)
    if big:
        raise node.error(big)
    if any(d == 0 for d in shape) and not isinstance(value, np.ndarray):  # empty constants are fine as shapes
        raise node.error(f"output '{name}' would have the zero-size shape {list(shape)}; zero-size tensors "
                         "are not supported")
    vi = node.ctx.info.get(name)
    if vi is None:
        return
    if vi.shape is not None and (len(vi.shape) != len(shape) or
                                 any(k is not None and k != s for k, s in zip(vi.shape, shape))):
        known = ["?" if k is None else k for k in vi.shape]
        node.ctx.warned.add(name)
        warnings.warn(ShapeMismatchWarning(
            f"{node.op_type} (node '{node.name}'): output '{name}' has shape {list(shape)}, but the model or ONNX "
            f"shape inference says {known}; keeping {list(shape)} (the shape onnxruntime computes)"), stacklevel=2)
    if vi.dtype is not None and numpy_to_mlir(vi.dtype) != elem:
        raise node.error(f"output '{name}' has element type {elem} here, but the model says {vi.dtype}")


def _convert_node(ctx: ImportContext, proto: onnx.NodeProto, index: int) -> None:
    domain = "" if proto.domain in registry.DEFAULT_DOMAINS else proto.domain
    opset = ctx.opsets.get(domain, 0)
    conv = registry.lookup(proto.op_type, opset, domain)
    node = Node(ctx, proto, _node_label(proto, index), opset)
    ctx.node = node
    with ir.Location.name(node.name):
        try:
            results = conv.fn(ctx, node)
        except ConstantInputRequired as e:
            if e.node or e.op:
                raise
            raise ConstantInputRequired(e.reason, inputs=e.inputs, op=node.op_type, node=node.name) from None
        except CompileError:
            raise
        except b.ShapeOutOfRange as e:   # attribute or initializer values that overflow a shape
            raise node.error(str(e)) from None
        except Exception as e:  # a converter bug must still name the node, and never take the process down
            raise node.error(f"converter failed: {type(e).__name__}: {e}") from e
    if not isinstance(results, (list, tuple)):
        results = [results]
    for i, name in enumerate(node.output_names):
        if not name:
            continue
        r = results[i] if i < len(results) else None
        if r is None:
            raise node.error(f"output #{i} ('{name}') is requested but this converter does not produce it")
        _check_output(node, name, r)
        ctx.define(name, r)
    ctx.node = None


def _distinct(values: list[ir.Value]) -> list[ir.Value]:
    """Outputs listed more than once (valid ONNX) get copies: the later passes need a function that returns
    distinct values (one returned twice crashes buffer-results-to-out-params), and each output buffer is written.
    Each repeat copies the previous copy, so that CSE cannot merge the copies back into one value."""
    out, last = [], {}
    for v in values:
        if any(v == r for r in out):
            src = last.get(v, v)
            last[v] = linalg.copy(src, outs=[b.empty(b.shape_of(src), b.elem_of(src))])
            v = last[v]
        out.append(v)
    return out


def _tag_linalg_ops(fn: func.FuncOp) -> None:
    """Copy each linalg op's node name (its NameLoc) into the `swmlir.node` attribute later stages report."""

    def visit(op):
        name = op.name
        if name.startswith("linalg.") and name not in ("linalg.yield", "linalg.index"):
            loc = op.location
            if loc.is_a_name():
                op.attributes[NODE_ATTR] = ir.StringAttr.get(loc.name_str)
        return ir.WalkResult.ADVANCE

    fn.operation.walk(visit)


def import_onnx(model: "onnx.ModelProto | str | os.PathLike", *, input_shapes: dict[str, list[int]] | None = None,
                base_dir: "str | os.PathLike | None" = None, kn_weights: bool = True) -> tuple[ir.Module, ModelInfo]:
    """Import `model` into a new Module of the current MLIR Context (see the package docstring).
    `base_dir`: the folder of a ModelProto's external data (a ModelProto with external data needs it).
    `kn_weights`: the target's layout of constant MatMul/Gemm weights (Target.kn_weights)."""
    registry._load_converters()
    model, base_dir = _load(model, base_dir)
    opsets = _opsets(model)
    if len(model.functions):
        try:
            model = onnx.inliner.inline_local_functions(model)
        except Exception as e:
            raise ImportError_(f"cannot inline the model's local functions: {e}") from None
    graph = model.graph
    _check_supported(graph, opsets)
    _check_attributes(model)
    inputs = _resolve_inputs(graph, input_shapes)
    inferred = _infer(model, inputs)
    ctx = ImportContext(model, opsets, _value_infos(inferred), base_dir, kn_weights)
    weights = WeightTable()
    for t in graph.initializer:
        ctx.constants[t.name] = ctx.tensor_to_numpy(t)
    for s in graph.sparse_initializer:
        ctx.constants[s.values.name] = ctx.sparse_to_numpy(s)

    with recording(weights):   # every dense_resource blob made while converting (builders.constant)
        with ir.Location.name(graph.name or "main"):
            module = ir.Module.create()
            arg_types = [b.ranked(t.shape, numpy_to_mlir(t.dtype)) for t in inputs]
            with ir.InsertionPoint(module.body):
                fn = func.FuncOp("main", (arg_types, []))
            block = fn.add_entry_block()
            for t, arg in zip(inputs, block.arguments):
                ctx.values[t.name] = arg
            with ir.InsertionPoint(block):
                for index, proto in enumerate(graph.node):
                    _convert_node(ctx, proto, index)
                if not len(graph.output):
                    raise ImportError_("the graph has no outputs")
                results = []
                for o in graph.output:
                    if not ctx.has(o.name):
                        raise ImportError_(f"graph output '{o.name}' is not produced by any node")
                    results.append(ctx.value(o.name))
                results = _distinct(results)
                func.ReturnOp(results)
            fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(arg_types, [r.type for r in results]))

    outputs = []
    for o, r in zip(graph.output, results):
        shape, elem = b.shape_of(r), b.elem_of(r)
        declared = _declared_dims(o)
        if o.name not in ctx.warned and declared is not None and (len(declared) != len(shape) or any(
                isinstance(d, int) and d > 0 and d != s for d, s in zip(declared, shape))):
            warnings.warn(ShapeMismatchWarning(f"graph output '{o.name}' is computed with shape {list(shape)}, but "
                                               f"the model declares {declared}"), stacklevel=2)
        elem_type = o.type.tensor_type.elem_type if o.type.HasField("tensor_type") else 0
        if elem_type:
            dtype = onnx_to_numpy(elem_type)
            if dtype is None or numpy_to_mlir(dtype) != elem:
                raise ImportError_(f"graph output '{o.name}' is computed as {elem}, but the model declares "
                                   f"{onnx_type_name(elem_type)}")
        else:
            dtype = mlir_to_numpy(elem)
        outputs.append(TensorInfo(o.name, shape, np.dtype(dtype)))

    _tag_linalg_ops(fn)
    try:
        module.operation.verify()
    except ir.MLIRError as e:
        raise ImportError_(f"the imported module does not verify (importer bug): {e}") from None
    return module, ModelInfo(graph.name, ctx.opset, inputs, outputs, weights)
