# RUN: %python %s | FileCheck %s
# resolve-shapes folds the main graph of a model with subgraphs too: the condition of an If computed from Shape
# (torch.onnx's `if x.size(0) == 1`) becomes a constant; the If is never evaluated here, and a shape value its
# branches capture stays as an initializer.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, show
import numpy as np
from onnx import helper
from swmlir.graph import shapes

then = helper.make_graph([node("Reshape", ["x", "s"], ["t"])], "then", [], [helper.make_tensor_value_info("t", F, None)])
other = helper.make_graph([node("Relu", ["x"], ["e"])], "else", [], [helper.make_tensor_value_info("e", F, None)])
g = helper.make_graph(
    [node("Shape", ["x"], ["s0"]), node("Concat", ["s0", "one"], ["s"], axis=0), node("Gather", ["s0", "i0"], ["b"], axis=0),
     node("Equal", ["b", "i1"], ["cond"]), node("If", ["cond"], ["y"], then_branch=then, else_branch=other)],
    "g", [helper.make_tensor_value_info("x", F, ["n", 3])], [helper.make_tensor_value_info("y", F, None)],
    [const("i0", np.int64(0)), const("i1", np.int64(1)), const("one", np.array([1], np.int64))])
show(shapes.run(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), {"x": [1, 3]}))
# CHECK: nodes: ['If']
# CHECK-DAG: const s int64 [3] = [1, 3, 1]
# CHECK-DAG: const cond bool [] = [True]
