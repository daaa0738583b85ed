// RUN: swmlir-opt %s --sunway-fold-transposes --canonicalize | FileCheck %s

// Attention's QKᵀ: K split into heads and transposed to [1, H, D, S], the unit batch dropped, read by a batched
// matmul. The matmul is generalized and reads the head-split K [S, H, D] directly, reducing along D (contiguous);
// the transpose is gone. A transpose with another reader (here returned as well) is left alone.
// CHECK-DAG:   #[[Q:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[K:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3)>
// CHECK-LABEL: func.func @qk
//   CHECK-NOT:   linalg.transpose
//       CHECK:   %[[KH:.*]] = tensor.expand_shape %arg1 {{\[}}[0], [1, 2]] output_shape [128, 4, 64]
//       CHECK:   linalg.generic {indexing_maps = [#[[Q]], #[[K]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %[[KH]] : tensor<4x128x64xf32>, tensor<128x4x64xf32>)
//  CHECK-SAME:   swmlir.node = "qk"
// CHECK-LABEL: func.func @two_readers
//       CHECK:   linalg.transpose
func.func @qk(%q: tensor<4x128x64xf32>, %k: tensor<128x256xf32>) -> tensor<4x128x128xf32> {
  %zero = arith.constant 0.0 : f32
  %kh = tensor.expand_shape %k [[0, 1], [2, 3]] output_shape [1, 128, 4, 64] : tensor<128x256xf32> into tensor<1x128x4x64xf32>
  %e = tensor.empty() : tensor<1x4x64x128xf32>
  %kt = linalg.transpose ins(%kh : tensor<1x128x4x64xf32>) outs(%e : tensor<1x4x64x128xf32>) permutation = [0, 2, 3, 1]
  %kc = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x64x128xf32> into tensor<4x64x128xf32>
  %o = tensor.empty() : tensor<4x128x128xf32>
  %z = linalg.fill ins(%zero : f32) outs(%o : tensor<4x128x128xf32>) -> tensor<4x128x128xf32>
  %s = linalg.batch_matmul {swmlir.node = "qk"} ins(%q, %kc : tensor<4x128x64xf32>, tensor<4x64x128xf32>) outs(%z : tensor<4x128x128xf32>) -> tensor<4x128x128xf32>
  return %s : tensor<4x128x128xf32>
}
func.func @two_readers(%a: tensor<64x48xf32>, %b: tensor<64x32xf32>) -> (tensor<48x32xf32>, tensor<48x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<48x64xf32>
  %at = linalg.transpose ins(%a : tensor<64x48xf32>) outs(%e : tensor<48x64xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<48x32xf32>
  %z = linalg.fill ins(%zero : f32) outs(%o : tensor<48x32xf32>) -> tensor<48x32xf32>
  %y = linalg.matmul ins(%at, %b : tensor<48x64xf32>, tensor<64x32xf32>) outs(%z : tensor<48x32xf32>) -> tensor<48x32xf32>
  return %y, %at : tensor<48x32xf32>, tensor<48x64xf32>
}
