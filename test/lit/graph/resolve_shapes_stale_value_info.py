# RUN: %python %s | FileCheck %s
# resolve-shapes: once --input-shape changes a dim, the shapes the model records for intermediate values
# (value_info, inferred by the exporter for its trace shape) are dropped, so that the Shape of such a value
# folds to the new shape, not the recorded one.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, node, show
from onnx import helper
from swmlir.graph import shapes

g = helper.make_graph([node("Relu", ["x"], ["r"]), node("Shape", ["r"], ["s"]), node("Reshape", ["x", "s"], ["y"])],
                      "g", [helper.make_tensor_value_info("x", F, ["b", 4])], [helper.make_tensor_value_info("y", F, None)])
g.value_info.append(helper.make_tensor_value_info("r", F, [2, 4]))
show(shapes.run(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), {"x": [3, 4]}))
# CHECK: nodes: ['Relu', 'Reshape']
# CHECK: const s int64 [2] = [3, 4]
