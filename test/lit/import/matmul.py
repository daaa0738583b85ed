# RUN: %python %s | FileCheck %s
"""MatMul and Gemm: zero-filled linalg.matmul / batch_matmul; reshapes around them; bias as a generic."""
import numpy as np
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("matmul_2d", single_node("MatMul", {"a": (7, 5), "b": (5, 3)}, opset=13))
show("matmul_vec", single_node("MatMul", {"a": (5,), "b": (5, 3)}, opset=13))
show("matmul_batch_x_matrix", single_node("MatMul", {"a": (2, 7, 5), "b": (5, 3)}, opset=13))
show("matmul_batch_broadcast", single_node("MatMul", {"a": (2, 1, 7, 5), "b": (3, 5, 4)}, opset=13))
show("gemm", single_node("Gemm", {"a": (4, 3)}, opset=13, transB=1, alpha=0.5,
                         initializers={"w": np.ones((2, 3), np.float32), "c": np.array([1.0, 2.0], np.float32)}))
show("gemm_many_rows", single_node("Gemm", {"a": (32, 3)}, opset=13, transB=1,
                                   initializers={"w": np.arange(6, dtype=np.float32).reshape(2, 3)}))
show("matmul_many_rows", single_node("MatMul", {"a": (2, 32, 5)}, opset=13,
                                     initializers={"b": np.arange(15, dtype=np.float32).reshape(5, 3)}))
show("gemm_trans_b_input", single_node("Gemm", {"a": (4, 3), "b": (2, 3)}, opset=13, transB=1))
show("gemm_trans_a_input", single_node("Gemm", {"a": (3, 4), "b": (3, 2)}, opset=13, transA=1))

# CHECK-LABEL: // CASE: matmul_2d
# CHECK:       func.func @main(%[[A:.*]]: tensor<7x5xf32>, %[[B:.*]]: tensor<5x3xf32>) -> tensor<7x3xf32>
# CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
# CHECK:         %[[E:.*]] = tensor.empty() : tensor<7x3xf32>
# CHECK:         %[[F:.*]] = linalg.fill {swmlir.node = "matmul"} ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<7x3xf32>)
# CHECK:         %[[R:.*]] = linalg.matmul {swmlir.node = "matmul"} ins(%[[A]], %[[B]] : tensor<7x5xf32>, tensor<5x3xf32>) outs(%[[F]] : tensor<7x3xf32>)
# CHECK:         return %[[R]]

# CHECK-LABEL: // CASE: matmul_vec
# CHECK:         %[[A2:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 5] : tensor<5xf32> into tensor<1x5xf32>
# CHECK:         %[[R:.*]] = linalg.matmul {{.*}} ins(%[[A2]], %{{.*}} : tensor<1x5xf32>, tensor<5x3xf32>)
# CHECK:         tensor.collapse_shape %[[R]] {{\[\[}}0, 1]] : tensor<1x3xf32> into tensor<3xf32>

# CHECK-LABEL: // CASE: matmul_batch_x_matrix
# CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x7x5xf32> into tensor<14x5xf32>
# CHECK:         linalg.matmul {{.*}} : tensor<14x5xf32>, tensor<5x3xf32>
# CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, 7, 3] : tensor<14x3xf32> into tensor<2x7x3xf32>

# CHECK-LABEL: // CASE: matmul_batch_broadcast
# CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<2x1x7x5xf32>) outs(%{{.*}} : tensor<2x3x7x5xf32>)
# CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<3x5x4xf32>) outs(%{{.*}} : tensor<2x3x5x4xf32>)
# CHECK:         linalg.batch_matmul {swmlir.node = "matmul"} ins(%{{.*}}, %{{.*}} : tensor<6x7x5xf32>, tensor<6x5x4xf32>) outs(%{{.*}} : tensor<6x7x4xf32>)
# CHECK:         tensor.expand_shape %{{.*}} output_shape [2, 3, 7, 4] : tensor<6x7x4xf32> into tensor<2x3x7x4xf32>

# A constant B is kept (N, K) (transB=1 here: as stored) and read through a transposed map, so that a tile of
# N columns is contiguous rows for the DMA; alpha and C are applied by one generic.
# CHECK-LABEL: // CASE: gemm
# A constant B of a product with few rows (4 < STREAMED_ROWS) is stored (N, K): long DMA blocks along K
# CHECK:         %[[W:.*]] = arith.constant dense<1.000000e+00> : tensor<2x3xf32>
# CHECK:         %[[MM:.*]] = linalg.matmul indexing_maps = [#map, #map1, #map2] {swmlir.node = "gemm"} ins(%{{.*}}, %[[W]] : tensor<4x3xf32>, tensor<2x3xf32>)
# CHECK:         linalg.generic {{.*}} ins(%[[MM]], %{{.*}} : tensor<4x2xf32>, tensor<2xf32>) outs(%{{.*}} : tensor<4x2xf32>) attrs = {swmlir.node = "gemm"}
# CHECK:           %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
# CHECK:           %[[S:.*]] = arith.mulf %{{.*}}, %[[ALPHA]] : f32
# CHECK:           arith.addf %[[S]], %{{.*}} : f32

# With many rows (32), a constant B is stored (K, N), transposed in numpy under transB: vectors run along N
# CHECK-LABEL: // CASE: gemm_many_rows
# CHECK:         %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<3x2xf32>
# CHECK:         linalg.matmul {swmlir.node = "gemm"} ins(%{{.*}}, %[[W]] : tensor<32x3xf32>, tensor<3x2xf32>)
# CHECK-LABEL: // CASE: matmul_many_rows
# CHECK:         linalg.matmul {swmlir.node = "matmul"} ins(%{{.*}}, %{{.*}} : tensor<64x5xf32>, tensor<5x3xf32>)

# A run-time B under transB is read in place, (N, K), through the matmul's indexing maps
# CHECK-LABEL: // CASE: gemm_trans_b_input
# CHECK:         linalg.matmul indexing_maps = [#map, #map1, #map2] {swmlir.node = "gemm"} ins(%{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<2x3xf32>)

# CHECK-LABEL: // CASE: gemm_trans_a_input
# CHECK:         %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<3x4xf32>) outs(%{{.*}} : tensor<4x3xf32>) permutation = [1, 0] {swmlir.node = "gemm"}
# CHECK:         linalg.matmul {swmlir.node = "gemm"} ins(%[[T]], %{{.*}} : tensor<4x3xf32>, tensor<3x2xf32>)
