# RUN: %python %s | FileCheck %s
"""Pooling: -inf / 0 padding, pooling_nchw_max / pooling_nchw_sum, then the average's divisor;
GlobalAveragePool as a reduction generic."""
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("max_pool_ceil", single_node("MaxPool", {"x": (1, 2, 7, 6)}, opset=12, kernel_shape=[3, 3], strides=[2, 2],
                                  ceil_mode=1, dilations=[1, 1]))
show("avg_pool_uniform", single_node("AveragePool", {"x": (1, 2, 6, 6)}, opset=11, kernel_shape=[2, 2],
                                     strides=[2, 2]))
show("avg_pool_pads_exclude", single_node("AveragePool", {"x": (1, 2, 5, 5)}, opset=11, kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1], node_name="avg"))
show("global_average_pool", single_node("GlobalAveragePool", {"x": (2, 3, 7, 5)}, opset=13))

# ceil_mode: along W, ceil((6 - 3) / 2) + 1 = 3 windows, the last one reads one column of -inf padding.
# CHECK-LABEL: // CASE: max_pool_ceil
# CHECK:         %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 0, 1]
# CHECK:           %[[NINF:.*]] = arith.constant 0xFF800000 : f32
# CHECK:           tensor.yield %[[NINF]] : f32
# CHECK:         } : tensor<1x2x7x6xf32> to tensor<1x2x7x7xf32>
# CHECK:         %[[INIT:.*]] = linalg.fill {swmlir.node = "maxpool"} {{.*}} -> tensor<1x2x3x3xf32>
# CHECK:         %[[WIN:.*]] = tensor.empty() : tensor<3x3xf32>
# CHECK:         linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>, swmlir.node = "maxpool"}
# CHECK-SAME:      ins(%[[P]], %[[WIN]] : tensor<1x2x7x7xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<1x2x3x3xf32>)

# CHECK-LABEL: // CASE: avg_pool_uniform
# CHECK-NOT:     tensor.pad
# CHECK:         %[[S:.*]] = linalg.pooling_nchw_sum {{.*}} outs(%{{.*}} : tensor<1x2x3x3xf32>)
# CHECK:         linalg.generic {{.*}} ins(%[[S]] : tensor<1x2x3x3xf32>)
# CHECK:           %[[FOUR:.*]] = arith.constant 4.000000e+00 : f32
# CHECK:           arith.divf %{{.*}}, %[[FOUR]] : f32

# Without count_include_pad, border windows count fewer taps: a per-position divisor (a 5x5 constant).
# CHECK-LABEL: // CASE: avg_pool_pads_exclude
# CHECK-DAG:     #[[HW:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
# CHECK:         tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
# CHECK:         %[[S:.*]] = linalg.pooling_nchw_sum {{.*}} -> tensor<1x2x5x5xf32>
# CHECK:         %[[CNT:.*]] = arith.constant dense_resource<avg_count> : tensor<5x5xf32>
# CHECK:         linalg.generic {indexing_maps = [#{{map[0-9]*}}, #[[HW]], #{{map[0-9]*}}]{{.*}} ins(%[[S]], %[[CNT]] : tensor<1x2x5x5xf32>, tensor<5x5xf32>)
# CHECK:           arith.divf

# CHECK-LABEL: // CASE: global_average_pool
# CHECK-DAG:     #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
# CHECK-DAG:     #[[NC:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
# CHECK:         %[[ACC:.*]] = linalg.fill {{.*}} -> tensor<2x3xf32>
# CHECK:         %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[NC]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
# CHECK-SAME:      ins(%{{.*}} : tensor<2x3x7x5xf32>) outs(%[[ACC]] : tensor<2x3xf32>)
# CHECK:           arith.addf
# CHECK:         linalg.generic {indexing_maps = [#[[NC]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
# CHECK-SAME:      ins(%[[SUM]] : tensor<2x3xf32>) outs(%{{.*}} : tensor<2x3x1x1xf32>)
# CHECK:           arith.constant 3.500000e+01 : f32
