# RUN: %python %s | FileCheck %s
"""Elementwise ops: one all-parallel linalg.generic per node; numpy broadcasting in the indexing maps."""
import numpy as np
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("add_broadcast", single_node("Add", {"a": (7, 5), "b": (1, 5)}, opset=14))
show("sub_rank_broadcast", single_node("Sub", {"a": (2, 3, 4), "b": (4,)}, opset=14))
show("mul_outer", single_node("Mul", {"a": (7, 1), "b": (1, 5)}, opset=14))
show("div_scalar", single_node("Div", {"a": (3,), "b": ()}, opset=14))
show("add_int64", single_node("Add", {"a": ((4,), np.int64), "b": ((4,), np.int64)}, {"y": ((4,), np.int64)},
                              opset=14))
show("relu", single_node("Relu", {"x": (2, 3)}, opset=14, node_name="act"))

# CHECK-LABEL: // CASE: add_broadcast
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
# CHECK-DAG:   #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (0, d1)>
# CHECK:       func.func @main(%[[A:.*]]: tensor<7x5xf32>, %[[B:.*]]: tensor<1x5xf32>) -> tensor<7x5xf32>
# CHECK:         %[[E:.*]] = tensor.empty() : tensor<7x5xf32>
# CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
# CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<7x5xf32>, tensor<1x5xf32>) outs(%[[E]] : tensor<7x5xf32>)
# CHECK-SAME:      {swmlir.node = "add"}
# CHECK:           arith.addf
# CHECK:         return %[[R]] : tensor<7x5xf32>

# CHECK-LABEL: // CASE: sub_rank_broadcast
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
# CHECK-DAG:   #[[LAST:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2)>
# CHECK:       linalg.generic {indexing_maps = [#[[ID]], #[[LAST]], #[[ID]]]
# CHECK:         arith.subf

# CHECK-LABEL: // CASE: mul_outer
# CHECK-DAG:   #[[COL:map[0-9]*]] = affine_map<(d0, d1) -> (d0, 0)>
# CHECK-DAG:   #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (0, d1)>
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
# CHECK:       linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[ID]]]
# CHECK-SAME:    ins(%{{.*}}, %{{.*}} : tensor<7x1xf32>, tensor<1x5xf32>) outs(%{{.*}} : tensor<7x5xf32>)
# CHECK:         arith.mulf

# CHECK-LABEL: // CASE: div_scalar
# CHECK-DAG:   #[[SCALAR:map[0-9]*]] = affine_map<(d0) -> ()>
# CHECK:       linalg.generic {indexing_maps = [#{{map[0-9]*}}, #[[SCALAR]], #{{map[0-9]*}}]
# CHECK-SAME:    tensor<3xf32>, tensor<f32>
# CHECK:         arith.divf

# CHECK-LABEL: // CASE: add_int64
# CHECK:       func.func @main(%{{.*}}: tensor<4xi64>, %{{.*}}: tensor<4xi64>) -> tensor<4xi64>
# CHECK:         arith.addi %{{.*}}, %{{.*}} : i64

# CHECK-LABEL: // CASE: relu
# CHECK:       linalg.generic
# CHECK-SAME:    {swmlir.node = "act"}
# CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
# CHECK:         arith.maximumf %{{.*}}, %[[ZERO]] : f32
