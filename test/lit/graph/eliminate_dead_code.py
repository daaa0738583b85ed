# RUN: %python %s | FileCheck %s
# eliminate-dead-code: unused nodes and initializers go; Identity and inference Dropout are bypassed.
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from swmlir.graph import PASSES

nodes = [helper.make_node("Exp", ["x"], ["dead"]), helper.make_node("Identity", ["x"], ["i"]),
         helper.make_node("Dropout", ["i"], ["d"]), helper.make_node("Relu", ["d"], ["y"])]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
                      [numpy_helper.from_array(np.zeros(3, np.float32), "unused")])
m = PASSES["eliminate-dead-code"](helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))
print("nodes:", [(n.op_type, list(n.input)) for n in m.graph.node])
print("initializers:", [t.name for t in m.graph.initializer])
# CHECK: nodes: [('Relu', ['x'])]
# CHECK: initializers: []
