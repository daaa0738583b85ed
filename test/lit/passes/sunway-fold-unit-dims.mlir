// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-fold-unit-dims, canonicalize)" | FileCheck %s

// A MatMul of a [1, 128, 64] activation: a 2-D matmul, an expand_shape to [1, 128, 32], the bias add, a residual
// add. The adds run on [128, 32] (the bias keeps its map on the channel loop, the residual operand is collapsed);
// the expand_shape moves after them, and the bias add reads the matmul directly (it can then fuse into it).

// CHECK-LABEL: func.func @bias_after_matmul
//  CHECK-SAME:   (%[[A:.*]]: tensor<128x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>, %[[R:.*]]: tensor<1x128x32xf32>)
//       CHECK:   %[[MM:.*]] = linalg.matmul
//       CHECK:   %[[BIAS:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
//  CHECK-SAME:     ins(%[[MM]], %[[B]] : tensor<128x32xf32>, tensor<32xf32>)
//  CHECK-SAME:     swmlir.node = "bias"
//       CHECK:   %[[RC:.*]] = tensor.collapse_shape %[[R]] {{\[}}[0, 1], [2]]
//       CHECK:   %[[RES:.*]] = linalg.generic
//  CHECK-SAME:     ins(%[[BIAS]], %[[RC]] : tensor<128x32xf32>, tensor<128x32xf32>)
//       CHECK:   %[[OUT:.*]] = tensor.expand_shape %[[RES]] {{\[}}[0, 1], [2]] output_shape [1, 128, 32]
//       CHECK:   return %[[OUT]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ch = affine_map<(d0, d1, d2) -> (d2)>
func.func @bias_after_matmul(%a: tensor<128x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>,
                             %r: tensor<1x128x32xf32>) -> tensor<1x128x32xf32> {
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<128x32xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %mm = linalg.matmul ins(%a, %w : tensor<128x64xf32>, tensor<64x32xf32>) outs(%f : tensor<128x32xf32>) -> tensor<128x32xf32>
  %x = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, 128, 32] : tensor<128x32xf32> into tensor<1x128x32xf32>
  %e = tensor.empty() : tensor<1x128x32xf32>
  %y = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<1x128x32xf32>, tensor<32xf32>) outs(%e : tensor<1x128x32xf32>) attrs = {swmlir.node = "bias"} {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<1x128x32xf32>
  %res = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %r : tensor<1x128x32xf32>, tensor<1x128x32xf32>) outs(%e : tensor<1x128x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<1x128x32xf32>
  return %res : tensor<1x128x32xf32>
}

// -----

// A reduction (a softmax's row max, a norm's mean) folds the same way: its zero-filled init is filled at the
// lower rank (the fill keeps its attributes). Left alone: an expand_shape that splits a dim (heads), and
// dynamic shapes.

// CHECK-LABEL: func.func @split_heads
//       CHECK:   tensor.expand_shape %arg0 {{\[}}[0], [1, 2]]
//       CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-LABEL: func.func @reduction
//       CHECK:   %[[F:.*]] = linalg.fill {swmlir.node = "mean"} ins(%{{.*}} : f32) outs(%{{.*}} : tensor<128xf32>)
//       CHECK:   %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<128x32xf32>) outs(%[[F]] : tensor<128xf32>)
//       CHECK:   tensor.expand_shape %[[R]] {{\[}}[0, 1]] output_shape [1, 128]
// CHECK-LABEL: func.func @dynamic
//       CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @split_heads(%a: tensor<128x256xf32>) -> tensor<128x4x64xf32> {
  %x = tensor.expand_shape %a [[0], [1, 2]] output_shape [128, 4, 64] : tensor<128x256xf32> into tensor<128x4x64xf32>
  %e = tensor.empty() : tensor<128x4x64xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<128x4x64xf32>) outs(%e : tensor<128x4x64xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.negf %p : f32
    linalg.yield %s : f32
  } -> tensor<128x4x64xf32>
  return %y : tensor<128x4x64xf32>
}
func.func @reduction(%a: tensor<128x32xf32>) -> tensor<1x128xf32> {
  %z = arith.constant 0.0 : f32
  %x = tensor.expand_shape %a [[0, 1], [2]] output_shape [1, 128, 32] : tensor<128x32xf32> into tensor<1x128x32xf32>
  %e = tensor.empty() : tensor<1x128xf32>
  %f = linalg.fill {swmlir.node = "mean"} ins(%z : f32) outs(%e : tensor<1x128xf32>) -> tensor<1x128xf32>
  %y = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<1x128x32xf32>) outs(%f : tensor<1x128xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.addf %p, %o : f32
    linalg.yield %s : f32
  } -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}
func.func @dynamic(%a: tensor<?x32xf32>, %r: tensor<1x?x32xf32>, %n: index) -> tensor<1x?x32xf32> {
  %x = tensor.expand_shape %a [[0, 1], [2]] output_shape [1, %n, 32] : tensor<?x32xf32> into tensor<1x?x32xf32>
  %e = tensor.empty(%n) : tensor<1x?x32xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %r : tensor<1x?x32xf32>, tensor<1x?x32xf32>) outs(%e : tensor<1x?x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}
