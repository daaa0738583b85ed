# RUN: %python %s | FileCheck %s
# expand-function-ops: an op without a converter that ONNX defines as a function (here Swish and the
# context-dependent NegativeLogLikelihoodLoss) is replaced by its function body.
from onnx import TensorProto, helper

from swmlir.graph import expand_functions

nodes = [helper.make_node("Swish", ["x"], ["s"], alpha=1.0),
         helper.make_node("NegativeLogLikelihoodLoss", ["s", "t"], ["y"], reduction="mean")]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5]),
                                   helper.make_tensor_value_info("t", TensorProto.INT64, [3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
m = expand_functions.run(helper.make_model(g, opset_imports=[helper.make_opsetid("", 24)]))
print(" ".join(n.op_type for n in m.graph.node))
# CHECK-NOT: Swish
# CHECK-NOT: NegativeLogLikelihoodLoss
# CHECK: Sigmoid
# CHECK-SAME: Mul
# CHECK-SAME: GatherElements
