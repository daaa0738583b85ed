# RUN: %python %s | FileCheck %s
"""Neural-network ops as linalg: grouped / depthwise Conv as a generic with a group loop and affine window maps,
ConvTranspose as a stride-1 conv over a zero-inserted, padded input with a flipped kernel, N-D pools as
generics (MaxPool's Indices as a second result), Einsum as one generic, MatMulInteger / QLinearMatMul."""
import numpy as np
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("conv_grouped", single_node("Conv", {"x": (1, 4, 6, 5), "w": (6, 2, 3, 3)}, opset=22, group=2, strides=[2, 1]))
show("conv_depthwise_1d", single_node("Conv", {"x": (1, 3, 8), "w": (3, 1, 3)}, opset=22, group=3, pads=[1, 1]))
show("conv_3d", single_node("Conv", {"x": (1, 2, 4, 5, 6), "w": (3, 2, 2, 2, 2)}, opset=22))
show("conv_transpose_strided", single_node("ConvTranspose", {"x": (1, 2, 3, 3), "w": (2, 1, 3, 3)}, opset=22,
                                           strides=[2, 2], pads=[1, 1, 0, 0]))
show("conv_transpose_constant_w", single_node("ConvTranspose", {"x": (1, 1, 3)}, opset=22,
                                              initializers={"w": np.arange(6, dtype=np.float32).reshape(1, 2, 3)}))
show("maxpool_3d", single_node("MaxPool", {"x": (1, 2, 6, 6, 6)}, opset=22, kernel_shape=[2, 2, 2], strides=[2, 2, 2]))
show("maxpool_indices", single_node("MaxPool", {"x": (1, 1, 4, 4)}, {"y": None, "i": (None, np.int64)}, opset=22,
                                    kernel_shape=[2, 2], strides=[2, 2], storage_order=1))
show("lppool", single_node("LpPool", {"x": (1, 2, 5)}, opset=22, kernel_shape=[2], p=3))
show("globalmaxpool", single_node("GlobalMaxPool", {"x": (1, 2, 5, 4)}, opset=22))
show("einsum_bmm", single_node("Einsum", {"a": (2, 3, 4), "b": (2, 4, 5)}, opset=12, equation="bij,bjk->bik"))
show("einsum_diagonal", single_node("Einsum", {"a": (3, 4, 4)}, opset=12, equation="...ii->...i"))
show("matmulinteger", single_node("MatMulInteger", {"a": ((4, 3), np.uint8), "b": ((3, 5), np.int8),
                                                    "az": ((), np.uint8), "bz": ((5,), np.int8)},
                                  {"y": (None, np.int32)}, opset=10))
show("qlinearmatmul", single_node("QLinearMatMul", {"a": ((2, 4), np.int8), "as": ((), np.float32),
                                                    "az": ((), np.int8), "b": ((4, 3), np.int8),
                                                    "bs": ((), np.float32), "bz": ((), np.int8),
                                                    "ys": ((), np.float32), "yz": ((), np.int8)},
                                  {"y": (None, np.int8)}, opset=21))

# Loops (n, g, f, oh, ow, c, kh, kw): X [N, G, C/G, H, W] read at (n, g, c, oh * 2 + kh, ow + kw).
# CHECK-LABEL: // CASE: conv_grouped
# CHECK-DAG:   #[[X:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 + d7)>
# CHECK-DAG:   #[[W:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
# CHECK-DAG:   #[[Y:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
# CHECK:         %[[XG:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 6, 5]
# CHECK:         %[[WG:.*]] = tensor.expand_shape %arg1 {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
# CHECK:         %[[ACC:.*]] = linalg.fill {{.*}} -> tensor<1x2x3x2x3xf32>
# CHECK:         %[[C:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
# CHECK-SAME:      ins(%[[XG]], %[[WG]] : tensor<1x2x2x6x5xf32>, tensor<2x3x2x3x3xf32>) outs(%[[ACC]] : tensor<1x2x3x2x3xf32>)
# CHECK:           arith.mulf
# CHECK:           arith.addf
# CHECK:         tensor.collapse_shape %[[C]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x3x2x3xf32> into tensor<1x6x2x3xf32>

# Depthwise: the channel loop (d4) has size 1.
# CHECK-LABEL: // CASE: conv_depthwise_1d
# CHECK-DAG:   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5)>
# CHECK:         tensor.pad %arg0 low[0, 0, 1] high[0, 0, 1]
# CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x3x1x10xf32>, tensor<3x1x1x3xf32>) outs(%{{.*}} : tensor<1x3x1x8xf32>)

# CHECK-LABEL: // CASE: conv_3d
# CHECK:         linalg.conv_3d_ncdhw_fcdhw {{.*}} ins(%arg0, %arg1 : tensor<1x2x4x5x6xf32>, tensor<3x2x2x2x2xf32>) outs(%{{.*}} : tensor<1x3x3x4x5xf32>)

# Zero insertion: a generic over [N, C, H, 2, W, 2] that keeps x where both masks are set; then the pad
# (k - 1) - pad_begin = 1 before, and after the trailing zero of the last element (k - 1) - pad_end - 1 = 1 more;
# the run-time kernel is transposed and flipped by a select-sum with anti-diagonal masks.
# CHECK-LABEL: // CASE: conv_transpose_strided
# CHECK:         %[[M:.*]] = arith.constant dense<[1, 0]> : tensor<2xi8>
# CHECK:         %[[Z:.*]] = linalg.generic {{.*}} ins(%arg0, %[[M]], %{{.*}} : tensor<1x2x3x3xf32>, tensor<2xi8>, tensor<2xi8>) outs(%{{.*}} : tensor<1x2x3x2x3x2xf32>)
# CHECK:           arith.cmpi ne
# CHECK:           arith.andi
# CHECK:           arith.select
# CHECK:         %[[ZC:.*]] = tensor.collapse_shape %[[Z]] {{.*}} into tensor<1x2x6x6xf32>
# CHECK:         %[[P:.*]] = tensor.pad %[[ZC]] low[0, 0, 1, 1] high[0, 0, 1, 1]
# CHECK:         %[[J:.*]] = arith.constant dense<{{\[\[}}0, 0, 1], [0, 1, 0], [1, 0, 0]]> : tensor<3x3xi8>
# CHECK:         %[[F:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
# CHECK-SAME:      ins(%{{.*}}, %[[J]], %{{.*}} : tensor<1x2x1x3x3xf32>, tensor<3x3xi8>, tensor<3x3xi8>)
# CHECK:         %[[FW:.*]] = tensor.collapse_shape %[[F]] {{.*}} into tensor<1x2x3x3xf32>
# CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, swmlir.node = "convtranspose"}
# CHECK-SAME:      ins(%[[P]], %[[FW]] : tensor<1x2x8x8xf32>, tensor<1x2x3x3xf32>) outs(%{{.*}} : tensor<1x1x6x6xf32>)

# A constant kernel is transposed and flipped at import time.
# CHECK-LABEL: // CASE: conv_transpose_constant_w
# CHECK:         tensor.pad %arg0 low[0, 0, 2] high[0, 0, 2]
# CHECK:         %[[FW:.*]] = arith.constant dense<{{\[\[\[}}2.000000e+00, 1.000000e+00, 0.000000e+00]], {{\[\[}}5.000000e+00, 4.000000e+00, 3.000000e+00]]]> : tensor<2x1x3xf32>
# CHECK:         linalg.conv_1d_ncw_fcw {{.*}} ins(%{{.*}}, %[[FW]] : tensor<1x1x7xf32>, tensor<2x1x3xf32>)

# CHECK-LABEL: // CASE: maxpool_3d
# CHECK-DAG:   #[[X:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2 * 2 + d5, d3 * 2 + d6, d4 * 2 + d7)>
# CHECK-DAG:   #[[K:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7)>
# CHECK:         %[[WIN:.*]] = tensor.empty() : tensor<2x2x2xf32>
# CHECK:         linalg.generic {indexing_maps = [#[[X]], #[[K]], #{{map[0-9]*}}]
# CHECK-SAME:      ins(%arg0, %[[WIN]] : tensor<1x2x6x6x6xf32>, tensor<2x2x2xf32>) outs(%{{.*}} : tensor<1x2x3x3x3xf32>)
# CHECK:           arith.maximumf

# storage_order=1: the position table is column-major; values and indices come out of one generic.
# CHECK-LABEL: // CASE: maxpool_indices
# CHECK:         %[[POS:.*]] = arith.constant dense<{{\[\[}}0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15]]> : tensor<4x4xi64>
# CHECK:         %[[R:.*]]:2 = linalg.generic
# CHECK-SAME:      ins(%arg0, %[[POS]], %{{.*}}, %{{.*}} : tensor<1x1x4x4xf32>, tensor<4x4xi64>, tensor<1x1xi64>, tensor<2x2xf32>)
# CHECK-SAME:      outs(%{{.*}}, %{{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
# CHECK:           %[[GT:.*]] = arith.cmpf ogt
# CHECK:           arith.select %[[GT]]
# CHECK:           arith.addi
# CHECK:           arith.select %[[GT]]
# CHECK:         return %[[R]]#0, %[[R]]#1

# CHECK-LABEL: // CASE: lppool
# CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
# CHECK:           math.absf
# CHECK:           arith.mulf
# CHECK:           arith.mulf
# CHECK:           arith.addf
# CHECK:         linalg.generic
# CHECK:           %[[THIRD:.*]] = arith.constant 0.333333343 : f32
# CHECK:           math.powf %{{.*}}, %[[THIRD]]

# CHECK-LABEL: // CASE: globalmaxpool
# CHECK:         %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
# CHECK:           arith.maximumf
# CHECK:         tensor.expand_shape %[[M]] {{.*}} : tensor<1x2xf32> into tensor<1x2x1x1xf32>

# CHECK-LABEL: // CASE: einsum_bmm
# CHECK-DAG:   #[[A:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
# CHECK-DAG:   #[[B:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
# CHECK-DAG:   #[[O:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
# CHECK:         linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}

# A diagonal reads the same loop twice.
# CHECK-LABEL: // CASE: einsum_diagonal
# CHECK-DAG:   #[[D:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1, d1)>
# CHECK:         linalg.generic {indexing_maps = [#[[D]], #{{map[0-9]*}}], iterator_types = ["parallel", "parallel"]}
# CHECK-SAME:      ins(%arg0 : tensor<3x4x4xf32>) outs(%{{.*}} : tensor<3x4xf32>)

# uint8 A widens with extui, int8 B with extsi; the per-column zero point is read by the n loop.
# CHECK-LABEL: // CASE: matmulinteger
# CHECK-DAG:   #[[ZA:map[0-9]*]] = affine_map<(d0, d1, d2) -> (0)>
# CHECK-DAG:   #[[ZB:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1)>
# CHECK:         linalg.generic {indexing_maps = [#{{map[0-9]*}}, #{{map[0-9]*}}, #[[ZA]], #[[ZB]], #{{map[0-9]*}}]
# CHECK:           arith.extui %{{.*}} : i8 to i32
# CHECK:           arith.extsi %{{.*}} : i8 to i32
# CHECK:           arith.subi
# CHECK:           arith.muli
# CHECK:           arith.addi
# CHECK:         -> tensor<4x5xi32>

# CHECK-LABEL: // CASE: qlinearmatmul
# CHECK:         %[[ACC:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3xi32>)
# CHECK:         linalg.generic {{.*}} ins(%[[ACC]], {{.*}}) outs(%{{.*}} : tensor<2x3xi8>)
# CHECK:           arith.divf
# CHECK:           arith.extf %{{.*}} : f32 to f64
# CHECK:           math.roundeven %{{.*}} : f64
# CHECK:           arith.fptosi %{{.*}} : f64 to i8
