# RUN: %python %s | FileCheck %s
"""Conv: tensor.pad (asymmetric, cut to what the windows read), zero-filled conv_2d_nchw_fchw, bias generic.
A 2-D output width is computed as whole 4-float vectors and sliced; a constant kernel with a width stride runs on
column phases of the input (strided_conv_2d)."""
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
show("conv_width_stride", single_node("Conv", {"x": (1, 2, 9, 9)}, opset=11, strides=[2, 2], pads=[1, 1, 1, 1],
                                      initializers={"w": np.ones((4, 2, 3, 3), np.float32)}))

# Width 5 is computed as 8 (3 more zero input columns), then sliced; useful_fraction keeps flop counts exact.
# CHECK-LABEL: // CASE: conv_pads_strides_bias
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
# CHECK-DAG:   #[[CH:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
# CHECK:       func.func @main(%[[X:.*]]: tensor<1x3x7x5xf32>) -> tensor<1x4x4x5xf32>
# CHECK:         %[[W:.*]] = arith.constant dense_resource<w> : tensor<4x3x3x2xf32>
# CHECK:         %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 0] high[0, 0, 1, 4]
# CHECK:           tensor.yield %{{.*}} : f32
# CHECK:         } : tensor<1x3x7x5xf32> to tensor<1x3x9x9xf32>
# CHECK:         %[[F:.*]] = linalg.fill {swmlir.node = "conv"} {{.*}} -> tensor<1x4x4x8xf32>
# CHECK:         %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>, swmlir.node = "conv", swmlir.useful_fraction = 6.250000e-01 : f64}
# CHECK-SAME:      ins(%[[P]], %[[W]] : tensor<1x3x9x9xf32>, tensor<4x3x3x2xf32>) outs(%[[F]] : tensor<1x4x4x8xf32>)
# CHECK:         %[[S:.*]] = tensor.extract_slice %[[C]][0, 0, 0, 0] [1, 4, 4, 5] [1, 1, 1, 1]
# CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
# CHECK-SAME:      ins(%[[S]], %{{.*}} : tensor<1x4x4x5xf32>, tensor<4xf32>)
# CHECK:           arith.addf
# CHECK:       dialect_resources
# CHECK:         w: "0x04000000

# CHECK-LABEL: // CASE: conv_valid_dilated
# CHECK:         tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 0, 1]
# CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, swmlir.node = "conv", swmlir.useful_fraction = 8.750000e-01 : f64}
# CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<2x3x9x10xf32>, tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<2x4x5x8xf32>)
# CHECK:         tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 4, 5, 7] [1, 1, 1, 1]
# CHECK-NOT:     linalg.generic

# SAME_UPPER: out = ceil(6 / 2) = 3, total pad 2 -> 1 before, 1 after (and 2 more columns for the 4th output).
# A run-time kernel keeps the named op and its width stride.
# CHECK-LABEL: // CASE: conv_same_upper
# CHECK:         tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 3]
# CHECK:         linalg.conv_2d_nchw_fchw {{.*}} outs(%{{.*}} : tensor<1x2x3x4xf32>)

# Width stride 2, 3 taps, width 5 computed as 8: 2 column phases of 9 columns (8 outputs + 1 more tap) of the
# input padded to 18 columns; the kernel as [F, C, KH, 2 taps, 2 phases] with zeros where 2 * q + b >= 3;
# useful 3/4 (taps) * 5/8 (width).
# CHECK-LABEL: // CASE: conv_width_stride
# CHECK-DAG:     #[[SPLIT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4 * 2 + d3)>
# CHECK-DAG:     #[[XIN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d4, d2 * 2 + d5, d7, d3 + d6)>
# CHECK-DAG:     #[[WIN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d4, d5, d6, d7)>
# CHECK:         %[[XS:.*]] = linalg.generic {indexing_maps = [#[[SPLIT]], {{.*}}]{{.*}} ins(%{{.*}} : tensor<1x2x11x18xf32>) outs(%{{.*}} : tensor<1x2x11x2x9xf32>)
# CHECK:         %[[WP:.*]] = arith.constant dense_resource<w_phases> : tensor<4x2x3x2x2xf32>
# CHECK:         linalg.generic {indexing_maps = [#[[XIN]], #[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
# CHECK-SAME:      ins(%[[XS]], %[[WP]] : tensor<1x2x11x2x9xf32>, tensor<4x2x3x2x2xf32>) outs(%{{.*}} : tensor<1x4x5x8xf32>)
# CHECK-SAME:      swmlir.useful_fraction = 4.687500e-01 : f64
# CHECK:         tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 4, 5, 5] [1, 1, 1, 1]
