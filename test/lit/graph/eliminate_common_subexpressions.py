# RUN: %python %s | FileCheck %s
# eliminate-common-subexpressions: the second identical Relu goes, its reader uses the first.
from onnx import TensorProto, helper

from swmlir.graph import PASSES

nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["x"], ["b"]),
         helper.make_node("Add", ["a", "b"], ["y"])]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
m = PASSES["eliminate-common-subexpressions"](helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))
for n in m.graph.node:
    print(n.op_type, list(n.input))
# CHECK: Relu ['x']
# CHECK-NEXT: Add ['a', 'a']
# CHECK-NOT: Relu
