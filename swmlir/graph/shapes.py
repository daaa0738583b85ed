"""resolve-shapes: the shape-aware part of the graph stage, run on every compile (like expand_functions: it
decides what compiles, not how fast it runs).

Dynamic-axis exports (torch.onnx, both exporters; tf2onnx; jax2onnx) compute the shape operand of Reshape,
Expand, Range, Slice, ConstantOfShape, Tile ... at run time from `Shape` of a tensor with symbolic dims, through
Gather / Concat / Cast / Unsqueeze / Squeeze / Slice / Add / Sub / Mul / Div / Equal / Where nodes. Once the
graph inputs have static shapes, all of that is constant. So:

1. the input shapes are fixed first: dims given in `input_shapes` (`--input-shape`, `swmlir.compile(...,
   input_shapes=)`) replace the symbolic dims of the graph inputs in the model itself (an override that does not
   fit the declared rank or static dims is left to the importer, which reports it);
2. then ONNX shape inference (with data propagation, under bounded_memory) and constant folding of shape-sized
   values repeat to a fixed point (constant_fold.fold_to_fixed_point): `Shape` (with start/end) and `Size` of
   a value whose inferred shape is static fold to constants, and so does everything computed from constants
   only; the next round's inference sees the folded shapes and makes more values static.

Only results of at most SHAPE_ELEMENTS elements are folded here (the full folder, fold-constants, runs with the
graph optimizations); sizes are known before evaluating (constant_fold._result_elements). A shape that stays
unknown (a symbolic input dim without `--input-shape`) is reported by the importer, naming the input.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import onnx

from . import constant_fold

SHAPE_ELEMENTS = 1 << 16  # results up to this many elements count as shape arithmetic (masks, position ids)


def _fits(vi: onnx.ValueInfoProto, shape: Sequence[int]) -> bool:
    """`shape` may replace the declared shape of `vi`: positive dims, same rank, equal where the model is static."""
    t = vi.type.tensor_type
    if not all(isinstance(d, int) and d > 0 for d in shape):
        return False
    if not t.HasField("shape"):
        return True
    dims = t.shape.dim
    if len(dims) != len(shape):
        return False
    return all(not d.HasField("dim_value") or d.dim_value <= 0 or d.dim_value == s for d, s in zip(dims, shape))


def fix_input_shapes(model: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]] | None) -> onnx.ModelProto:
    """Graph inputs named in `input_shapes` get those static dims (in place). When a dim changes, the shapes
    the model records for its intermediate values (value_info) are dropped, types kept: they were inferred
    for the declared inputs, and a stale static dim would win over the new inference and fold a wrong Shape."""
    if not input_shapes:
        return model
    inits = {t.name for t in model.graph.initializer}
    changed = False
    for vi in model.graph.input:
        if vi.name in inits or vi.name not in input_shapes or not vi.type.HasField("tensor_type"):
            continue
        try:
            shape = [int(d) for d in input_shapes[vi.name]]
        except (TypeError, ValueError):
            continue
        if not _fits(vi, shape):
            continue
        t = vi.type.tensor_type
        before = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim] if t.HasField("shape") else None
        if before == shape:
            continue
        changed = True
        t.ClearField("shape")
        dims = t.shape.dim
        for s in shape:
            dims.add().dim_value = s
    if changed:
        for vi in model.graph.value_info:
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
    return model


def _reads(graph: onnx.GraphProto, into: set[str]) -> set[str]:
    """Names the nodes of `graph` and of all its subgraphs read, and the graph's outputs."""
    into.update(o.name for o in graph.output)
    for nd in graph.node:
        into.update(i for i in nd.input if i)
        for a in nd.attribute:
            for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else
                        a.graphs if a.type == onnx.AttributeProto.GRAPHS else []):
                _reads(sub, into)
    return into


def run(model: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]] | None = None) -> onnx.ModelProto:
    """Fix the input shapes, then fold the shape subgraphs to a fixed point (in place). Initializers this pass
    created and nothing reads any more (intermediate shape values) are dropped again."""
    fix_input_shapes(model, input_shapes)
    # The main graph is folded also when nodes hold subgraphs (If, Loop, Scan: never evaluated here); a value a
    # subgraph captures keeps its name as an initializer, which the subgraph still sees.
    _, created = constant_fold.fold_to_fixed_point(model, max_elements=SHAPE_ELEMENTS)
    if created:
        graph = model.graph
        read = _reads(graph, set())
        dead = [k for k, t in enumerate(graph.initializer) if t.name in created and t.name not in read]
        for k in reversed(dead):
            del graph.initializer[k]
    return model
