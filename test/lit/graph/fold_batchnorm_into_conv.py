# RUN: %python %s | FileCheck %s
# fold-batchnorm-into-conv: the BatchNormalization after a single-use Conv disappears into its weights.
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from swmlir.graph import PASSES

r = np.random.default_rng(0)
inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in
         [("w", r.standard_normal((2, 1, 3, 3))), ("g", np.ones(2)), ("b", np.zeros(2)), ("m", np.zeros(2)),
          ("v", np.ones(2))]]
nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"])]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 3])], inits)
m = PASSES["fold-batchnorm-into-conv"](helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))
for n in m.graph.node:
    print(n.op_type, list(n.input), "->", list(n.output))
# CHECK: Conv ['x', 'c__bn_w', 'c__bn_b'] -> ['y']
# CHECK-NOT: BatchNormalization
