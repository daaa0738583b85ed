// RUN: swmlir-opt %s --split-input-file --sunway-fold-add-into-init | FileCheck %s

// A residual block's tail: conv from zeros, + bias, + the block's input. The conv starts from the input instead
// (its init), the residual add is gone, the bias add reads the conv directly.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @residual
//  CHECK-SAME:   (%[[X:.*]]: tensor<1x8x6x6xf32>, %[[P:.*]]: tensor<1x8x8x8xf32>
//   CHECK-NOT:   linalg.fill
//       CHECK:   %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} outs(%[[X]] : tensor<1x8x6x6xf32>)
//       CHECK:   %[[B:.*]] = linalg.generic {{.*}} ins(%[[C]], %{{.*}} : tensor<1x8x6x6xf32>, tensor<8xf32>)
//   CHECK-NOT:   linalg.generic
//       CHECK:   return %[[B]]
func.func @residual(%x: tensor<1x8x6x6xf32>, %p: tensor<1x8x8x8xf32>, %w: tensor<8x8x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x6x6xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) outs(%f : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %cb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %b : tensor<1x8x6x6xf32>, tensor<8xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<1x8x6x6xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cb, %x : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<1x8x6x6xf32>
  return %r : tensor<1x8x6x6xf32>
}

// -----

// Left alone: the conv's biased result is also returned (a graph output), so it must stay as computed; and a
// sum of two contractions (a shortcut conv added to the main path) keeps its epilogue.

#id2 = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @kept
//       CHECK:   linalg.fill
//       CHECK:   linalg.matmul {{.*}} outs(%{{.*}} : tensor<16x16xf32>)
//       CHECK:   linalg.generic
//       CHECK:   linalg.matmul
//       CHECK:   linalg.matmul
//       CHECK:   linalg.generic
func.func @kept(%a: tensor<16x32xf32>, %w: tensor<32x16xf32>, %x: tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %m = linalg.matmul ins(%a, %w : tensor<16x32xf32>, tensor<32x16xf32>) outs(%f : tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m, %x : tensor<16x16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %m1 = linalg.matmul ins(%a, %w : tensor<16x32xf32>, tensor<32x16xf32>) outs(%f2 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %m2 = linalg.matmul ins(%a, %w : tensor<16x32xf32>, tensor<32x16xf32>) outs(%f3 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m2, %m1 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  return %r, %m, %sum : tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>
}
