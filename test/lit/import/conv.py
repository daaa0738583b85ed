# RUN: %python %s | FileCheck %s
"""Conv: tensor.pad (asymmetric, cut to what the windows read), zero-filled conv_2d_nchw_fchw, bias generic."""
import numpy as np
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


w = np.arange(4 * 3 * 3 * 2, dtype=np.float32).reshape(4, 3, 3, 2)
show("conv_pads_strides_bias", single_node("Conv", {"x": (1, 3, 7, 5)}, opset=11, pads=[1, 0, 2, 1], strides=[2, 1],
                                           initializers={"w": w, "b": np.arange(4, dtype=np.float32)}))
show("conv_valid_dilated", single_node("Conv", {"x": (2, 3, 9, 9), "w": (4, 3, 3, 3)}, opset=22, dilations=[2, 1],
                                       auto_pad="VALID"))
show("conv_same_upper", single_node("Conv", {"x": (1, 3, 6, 6), "w": (2, 3, 4, 4)}, opset=11, strides=[2, 2],
                                    auto_pad="SAME_UPPER"))

# CHECK-LABEL: // CASE: conv_pads_strides_bias
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
# CHECK-DAG:   #[[CH:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
# CHECK:       func.func @main(%[[X:.*]]: tensor<1x3x7x5xf32>) -> tensor<1x4x4x5xf32>
# CHECK:         %[[W:.*]] = arith.constant dense_resource<w> : tensor<4x3x3x2xf32>
# CHECK:         %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 0] high[0, 0, 1, 1]
# CHECK:           tensor.yield %{{.*}} : f32
# CHECK:         } : tensor<1x3x7x5xf32> to tensor<1x3x9x6xf32>
# CHECK:         %[[F:.*]] = linalg.fill {swmlir.node = "conv"} {{.*}} -> tensor<1x4x4x5xf32>
# CHECK:         %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>, swmlir.node = "conv"}
# CHECK-SAME:      ins(%[[P]], %[[W]] : tensor<1x3x9x6xf32>, tensor<4x3x3x2xf32>) outs(%[[F]] : tensor<1x4x4x5xf32>)
# CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
# CHECK-SAME:      ins(%[[C]], %{{.*}} : tensor<1x4x4x5xf32>, tensor<4xf32>)
# CHECK:           arith.addf
# CHECK:       dialect_resources
# CHECK:         w: "0x04000000

# CHECK-LABEL: // CASE: conv_valid_dilated
# CHECK-NOT:     tensor.pad
# CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, swmlir.node = "conv"}
# CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<2x4x5x7xf32>)
# CHECK-NOT:     linalg.generic

# SAME_UPPER: out = ceil(6 / 2) = 3, total pad 2 -> 1 before, 1 after.
# CHECK-LABEL: // CASE: conv_same_upper
# CHECK:         tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
# CHECK:         linalg.conv_2d_nchw_fchw {{.*}} outs(%{{.*}} : tensor<1x2x3x3xf32>)
