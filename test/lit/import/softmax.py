# RUN: %python %s | FileCheck %s
"""Softmax as four generics (max-reduce, exp(x - max), sum-reduce, divide), never linalg.softmax."""
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("softmax_13_axis1", single_node("Softmax", {"x": (2, 3, 4)}, opset=13, axis=1))
show("softmax_11_flattened_tail", single_node("Softmax", {"x": (2, 3, 4)}, opset=11, axis=1))

# CHECK-LABEL: // CASE: softmax_13_axis1
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
# CHECK-DAG:   #[[RED:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
# CHECK-NOT:   linalg.softmax
# CHECK:         %[[NINF:.*]] = arith.constant 0xFF800000 : f32
# CHECK:         %[[MINIT:.*]] = linalg.fill {swmlir.node = "softmax"} ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<2x4xf32>)
# CHECK:         %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]}
# CHECK-SAME:      outs(%[[MINIT]] : tensor<2x4xf32>)
# CHECK:           arith.maximumf
# CHECK:         %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[ID]]]
# CHECK-SAME:      ins(%{{.*}}, %[[MAX]] : tensor<2x3x4xf32>, tensor<2x4xf32>)
# CHECK:           arith.subf
# CHECK:           math.exp
# CHECK:         %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]}
# CHECK-SAME:      ins(%[[EXP]] : tensor<2x3x4xf32>)
# CHECK:           arith.addf
# CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[ID]]]
# CHECK-SAME:      ins(%[[EXP]], %[[SUM]] : tensor<2x3x4xf32>, tensor<2x4xf32>)
# CHECK:           arith.divf

# Before opset 13 the input is coerced to 2-D at `axis`: the reductions run over dims 1 and 2.
# CHECK-LABEL: // CASE: softmax_11_flattened_tail
# CHECK-DAG:   #[[RED:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0)>
# CHECK:         linalg.generic {indexing_maps = [#{{map[0-9]*}}, #[[RED]]], iterator_types = ["parallel", "reduction", "reduction"]}
# CHECK-SAME:      outs(%{{.*}} : tensor<2xf32>)
