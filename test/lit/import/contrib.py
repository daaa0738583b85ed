# RUN: %python %s | FileCheck %s
"""onnxruntime contrib ops (com.microsoft) and a constant-condition If, as imported: FastGelu with its bias in
the same generic; SkipLayerNormalization's sum read by the statistics; FusedMatMul's run-time B^T read in place
((N, K) map, no transpose) and alpha as an elementwise scale; an If replaced by the ops of its taken branch."""
import numpy as np
from mlir import ir
from onnx import TensorProto, helper, numpy_helper

from swmlir.frontend.onnx import import_onnx


def model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
                          initializer=[numpy_helper.from_array(v, n) for n, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                             ir_version=8)


def show(title, m):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(m)
        print(module)


show("fast_gelu_bias", model([helper.make_node("FastGelu", ["x", "b"], ["y"], domain="com.microsoft", name="fg")],
                             [("x", [2, 8]), ("b", [8])], ["y"]))
show("skip_layer_norm", model([helper.make_node("SkipLayerNormalization", ["x", "s", "g"], ["y", "", "", "sum"],
                                                domain="com.microsoft", name="sln")],
                              [("x", [2, 3, 8]), ("s", [3, 8]), ("g", [8])], ["y", "sum"]))
show("fused_matmul_transB_alpha", model([helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain="com.microsoft",
                                                          name="fm", transB=1, alpha=0.125)],
                                        [("a", [2, 3, 4]), ("b", [5, 4])], ["y"]))
then_g = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
else_g = helper.make_graph([helper.make_node("Tanh", ["x"], ["e"])], "else", [],
                           [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
show("if_constant_condition", model([helper.make_node("If", ["c"], ["y"], name="if0", then_branch=then_g,
                                                      else_branch=else_g)],
                                    [("x", [4])], ["y"], [("c", np.array(False))]))

# CHECK-LABEL: // CASE: fast_gelu_bias
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
# CHECK-DAG:   #[[LAST:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
# CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[LAST]], #[[ID]]]
# CHECK:           %[[X:.*]] = arith.addf %in, %in_0 : f32
# CHECK:           math.tanh
# CHECK-NOT:     linalg.generic
# CHECK:         return

# CHECK-LABEL: // CASE: skip_layer_norm
# CHECK-DAG:   #[[SKIP:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
# CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<2x3x8xf32>, tensor<3x8xf32>)
# CHECK:           arith.addf
# CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SUM]] :
# CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SUM]], %{{.*}} :
# CHECK:           math.sqrt
# CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%[[SUM]], %{{.*}}, %{{.*}}, %arg2 :
# CHECK:         return %[[Y]], %[[SUM]]

# CHECK-LABEL: // CASE: fused_matmul_transB_alpha
# CHECK-DAG:   #[[NK:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
# CHECK-NOT:     linalg.transpose
# CHECK:         linalg.matmul indexing_maps = [#{{map[0-9]*}}, #[[NK]], #{{map[0-9]*}}] {{.*}} ins(%collapsed, %arg1 : tensor<6x4xf32>, tensor<5x4xf32>)
# CHECK:           arith.constant 1.250000e-01 : f32
# CHECK:           arith.mulf

# CHECK-LABEL: // CASE: if_constant_condition
# CHECK-NOT:     scf.if
# CHECK-NOT:     math.exp
# CHECK:         linalg.generic {{.*}}swmlir.node = "if0/else_branch/Tanh_0"
# CHECK:           math.tanh
