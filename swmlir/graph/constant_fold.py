"""fold-constants: nodes whose inputs are all constants are evaluated at compile time (with onnx's reference
evaluator) and become initializers; so do Shape/Size of values whose shape is static. Shape inference and
folding repeat to a fixed point (fold_to_fixed_point). This removes the ConstantOfShape weight generators of the
zoo models and the shape arithmetic in front of Reshape. Sizes are computed before anything is evaluated
(_result_elements), and ONNX's evaluators run under bounded_memory: a hostile model cannot make the compiler
allocate a huge constant. swmlir.graph.shapes runs the same folder, limited to shape-sized results, on every
compile."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ._graph import bounded_memory, constants, default_opset, graph_inputs, has_subgraphs, infer_shapes_light, set_initializer

# never folded: random or stateful, or whose result is not a function of its inputs alone
_SKIP = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
         "Dropout", "If", "Loop", "Scan", "SequenceConstruct", "Optional"}
MAX_FOLDED_ELEMENTS = 1 << 28
# ops whose result size their input values decide (and may make huge): folded only when that size is known
_SIZE_FROM_INPUTS = {"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot",
                     "EyeLike", "CenterCropPad"}


def _inferred_dims(model: onnx.ModelProto) -> dict[str, list[int | None]]:
    """ONNX-inferred dims of every value with a known rank (None where a dim is symbolic or unknown)."""
    inferred = infer_shapes_light(model)
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            out[vi.name] = [d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else None
                            for d in t.shape.dim]
    return out


def _static_shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    return {k: v for k, v in _inferred_dims(model).items() if None not in v}


def _evaluate(node: onnx.NodeProto, values: list[np.ndarray], opset: int) -> list[np.ndarray] | None:
    from onnx.reference import ReferenceEvaluator
    ins = [helper.make_tensor_value_info(f"i{k}", helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
           for k, v in enumerate(values)]
    n = onnx.NodeProto()
    n.CopyFrom(node)
    live = [k for k, i in enumerate(node.input) if i]
    for pos, k in enumerate(live):
        n.input[k] = f"i{pos}"
    outs = [f"o{k}" for k in range(len(node.output))]
    del n.output[:]
    n.output.extend(outs)
    g = helper.make_graph([n], "fold", ins, [helper.make_tensor_value_info(o, 0, None) for o in outs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    try:
        with np.errstate(all="ignore"), bounded_memory():
            return [np.asarray(r) for r in ReferenceEvaluator(m).run(None, {f"i{k}": v for k, v in enumerate(values)})]
    except Exception:
        return None


def _result_elements(node: onnx.NodeProto, values: list[np.ndarray], shapes: dict[str, list[int]]) -> int | None:
    """The element count a node would produce from constant inputs, computed before it runs (a hostile
    ConstantOfShape, Expand, Tile or Range must not make the compiler allocate it): from ONNX's inferred
    shapes, else from the inputs of the ops whose output size the inputs alone decide; None if unknown."""
    known = [int(np.prod(shapes[o], dtype=object)) for o in node.output if o in shapes]
    if known:
        return max(known)
    try:
        if node.op_type == "ConstantOfShape":
            return int(np.prod(values[0].astype(object)))
        if node.op_type == "Expand":
            a, b = list(values[0].shape), [int(d) for d in values[1].reshape(-1)]
            r = max(len(a), len(b))
            a, b = [1] * (r - len(a)) + a, [1] * (r - len(b)) + b
            return int(np.prod([max(x, y) for x, y in zip(a, b)], dtype=object))
        if node.op_type == "Tile":
            return int(values[0].size * np.prod(values[1].astype(object)))
        if node.op_type == "Range":
            start, limit, delta = (float(v) for v in values[:3])
            return max(0, int(np.ceil((limit - start) / delta))) if delta else None
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return None


MAX_ROUNDS = 8  # shape inference + folding rounds; each round resolves at least one more level of shapes


def _untrusted(graph: onnx.GraphProto) -> set[str]:
    """Values whose ONNX-inferred shape may differ from the one onnxruntime (and the importer) compute: ONNX
    ignores ceil_mode's rule that a window starting in the end padding is dropped. Their Shape is not folded,
    nor is the Shape of anything computed from them."""
    bad: set[str] = set()
    for n in graph.node:
        ceil = any(a.name == "ceil_mode" and a.i for a in n.attribute)
        if ceil or any(i in bad for i in n.input if i):
            bad.update(o for o in n.output if o)
    return bad


def _shape_value(node: onnx.NodeProto, dims: list[int | None], opset: int) -> np.ndarray | None:
    """The value of Shape (start/end since opset 15: the dims it keeps must be known) or Size; None if unknown."""
    if node.op_type == "Size":
        return None if None in dims else np.array(int(np.prod(np.array(dims, dtype=object))), dtype=np.int64)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute} if opset >= 15 else {}
    kept = dims[attrs.get("start", 0):attrs.get("end", len(dims))]  # python slicing clamps as ONNX does
    return None if None in kept else np.array(kept, dtype=np.int64)


def fold_once(model: onnx.ModelProto, dims: dict[str, list[int | None]], max_elements: int = MAX_FOLDED_ELEMENTS,
              created: set[str] | None = None) -> int:
    """One sweep in graph order: Shape/Size of a value whose (kept) dims `dims` knows, and every node whose
    inputs are all constants (initializers, Constant nodes or values folded earlier in the sweep), become
    initializers when their result has at most `max_elements` elements. Returns how many nodes were folded;
    their outputs are added to `created`."""
    shapes = {k: v for k, v in dims.items() if None not in v}
    graph = model.graph
    opset = default_opset(model)
    consts = constants(graph)
    live_inputs = graph_inputs(graph)
    outputs = {o.name for o in graph.output}
    untrusted = _untrusted(graph)
    keep, folded = [], 0
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type in _SKIP or node.op_type == "Constant" or any(
                a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            keep.append(node)
            continue
        ins = [i for i in node.input if i]
        result = None
        if node.op_type in ("Shape", "Size") and ins and ins[0] in dims and ins[0] not in untrusted and not any(
                o in outputs for o in node.output):
            value = _shape_value(node, dims[ins[0]], opset)
            result = None if value is None else [value]
        elif ins and all(i in consts for i in ins) and not any(i in live_inputs for i in ins):
            values = [consts[i] for i in ins]
            size = _result_elements(node, values, shapes)
            if size is not None and size <= max_elements:
                result = _evaluate(node, values, opset)
            elif size is None and node.op_type not in _SIZE_FROM_INPUTS and (
                    max_elements >= MAX_FOLDED_ELEMENTS or all(v.size <= max_elements for v in values)):
                result = _evaluate(node, values, opset)
        if result is None or any(r.dtype == object or r.size > max_elements for r in result):
            keep.append(node)
            continue
        folded += 1
        for name, value in zip(node.output, result):
            if name:
                consts[name] = value
                set_initializer(graph, name, value)
                if created is not None:
                    created.add(name)
    del graph.node[:]
    graph.node.extend(keep)
    return folded


def fold_to_fixed_point(model: onnx.ModelProto, max_elements: int = MAX_FOLDED_ELEMENTS,
                        max_rounds: int = MAX_ROUNDS) -> tuple[int, set[str]]:
    """Shape inference and fold_once, repeated until a round folds nothing (at most `max_rounds` rounds):
    a Reshape whose shape was folded gets a static output shape in the next round's inference, so the Shape
    of that output folds in turn. Returns (rounds run, names of the values folded)."""
    created: set[str] = set()
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        if not fold_once(model, _inferred_dims(model), max_elements, created):
            break
    return rounds, created


def run(model: onnx.ModelProto) -> onnx.ModelProto:
    if has_subgraphs(model.graph):
        return model  # values captured by subgraphs are not tracked: leave such models alone
    graph = model.graph
    fold_to_fixed_point(model)
    consts = constants(graph)
    outputs = {o.name for o in graph.output}
    # Constant nodes become initializers too (one representation for constants)
    for node in list(graph.node):
        if node.op_type == "Constant" and node.output[0] in consts and node.output[0] not in outputs:
            set_initializer(graph, node.output[0], consts[node.output[0]])
            graph.node.remove(node)
    return model
