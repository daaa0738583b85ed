# RUN: %python %s | FileCheck %s
# fold-constants: ConstantOfShape weight generators and Shape arithmetic become initializers.
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from swmlir.graph import PASSES

nodes = [helper.make_node("ConstantOfShape", ["s"], ["w"], value=numpy_helper.from_array(np.array([0.5], np.float32))),
         helper.make_node("Shape", ["x"], ["xs"]),
         helper.make_node("MatMul", ["x", "w"], ["y0"]),
         helper.make_node("Reshape", ["y0", "xs"], ["y"])]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])],
                      [numpy_helper.from_array(np.array([4, 4], np.int64), "s")])
m = PASSES["fold-constants"](helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))
print("nodes:", [n.op_type for n in m.graph.node])
print("initializers:", sorted(t.name for t in m.graph.initializer))
# CHECK: nodes: ['MatMul', 'Reshape']
# CHECK: initializers: ['s', 'w', 'xs']
