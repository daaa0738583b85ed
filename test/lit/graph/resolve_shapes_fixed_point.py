# RUN: %python %s | FileCheck %s
# resolve-shapes repeats shape inference and folding to a fixed point: ONNX data propagation stops at Where, so
# the Reshape's output shape is known only once its computed target has folded (round 1); the Shape read after
# it folds in round 2, with the second Reshape's target; round 3 folds nothing and ends the loop.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, show
import numpy as np
from onnx import helper
from swmlir.graph import constant_fold, shapes

g = helper.make_graph(
    [node("Shape", ["x"], ["s"]), node("Equal", ["s", "two"], ["eq"]), node("Where", ["eq", "six", "s"], ["t"]),
     node("Reshape", ["x", "t"], ["r"]), node("Relu", ["r"], ["rr"]), node("Shape", ["rr"], ["s2"]),
     node("ReduceProd", ["s2"], ["p"], keepdims=1), node("Reshape", ["rr", "p"], ["y"])],
    "g", [helper.make_tensor_value_info("x", F, ["a", 6])], [helper.make_tensor_value_info("y", F, None)],
    [const("two", np.array([2, 2], np.int64)), const("six", np.array([1, 12], np.int64))])
m = shapes.fix_input_shapes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), {"x": [2, 6]})
rounds, folded = constant_fold.fold_to_fixed_point(m, max_elements=shapes.SHAPE_ELEMENTS)
print("rounds:", rounds, "folded:", sorted(folded))
show(m)
# CHECK: rounds: 3 folded: ['eq', 'p', 's', 's2', 't']
# CHECK: nodes: ['Reshape', 'Relu', 'Reshape']
# CHECK-DAG: const t int64 [2] = [1, 6]
# CHECK-DAG: const p int64 [1] = [6]
