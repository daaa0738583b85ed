// RUN: swmlir-opt %s --split-input-file --sunway-sink-slices | FileCheck %s

// A conv computed 16 columns wide and cut to 14: the bias (per channel) and the ReLU run on all 16 columns; the
// cut moves after them, so the conv's result has one reader (fusion) and the chain reads whole rows.

// CHECK-LABEL: func.func @bias_relu
//  CHECK-SAME:   (%[[Y:.*]]: tensor<1x8x14x16xf32>, %[[B:.*]]: tensor<8xf32>)
//       CHECK:   %[[BIAS:.*]] = linalg.generic {{.*}} ins(%[[Y]], %[[B]] : tensor<1x8x14x16xf32>, tensor<8xf32>) outs(%{{.*}} : tensor<1x8x14x16xf32>)
//       CHECK:   %[[RELU:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<1x8x14x16xf32>) outs(%{{.*}} : tensor<1x8x14x16xf32>)
//       CHECK:   %[[CUT:.*]] = tensor.extract_slice %[[RELU]][0, 0, 0, 0] [1, 8, 14, 14] [1, 1, 1, 1]
//       CHECK:   return %[[CUT]]
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @bias_relu(%y: tensor<1x8x14x16xf32>, %b: tensor<8xf32>) -> tensor<1x8x14x14xf32> {
  %z = arith.constant 0.0 : f32
  %s = tensor.extract_slice %y[0, 0, 0, 0] [1, 8, 14, 14] [1, 1, 1, 1] : tensor<1x8x14x16xf32> to tensor<1x8x14x14xf32>
  %e = tensor.empty() : tensor<1x8x14x14xf32>
  %a = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s, %b : tensor<1x8x14x14xf32>, tensor<8xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%x: f32, %c: f32, %o: f32):
    %r = arith.addf %x, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x8x14x14xf32>
  %m = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x8x14x14xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %z : f32
    linalg.yield %r : f32
  } -> tensor<1x8x14x14xf32>
  return %m : tensor<1x8x14x14xf32>
}

// -----

// A residual add of two tensors cut the same way sinks too; one of a cut tensor and an uncut one does not (the
// uncut one has no extra columns to compute with), nor does an op that reads its init, nor a real crop (one
// row of 64: the op would compute 64 times the values it keeps).

// CHECK-LABEL: func.func @residual
//       CHECK:   %[[ADD:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<1x8x7x8xf32>, tensor<1x8x7x8xf32>)
//       CHECK:   tensor.extract_slice %[[ADD]][0, 0, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1]
// CHECK-LABEL: func.func @mixed
//       CHECK:   %[[S:.*]] = tensor.extract_slice %arg0
//       CHECK:   linalg.generic {{.*}} ins(%[[S]], %arg1 : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>)
// CHECK-LABEL: func.func @reads_init
//       CHECK:   %[[S:.*]] = tensor.extract_slice %arg0
//       CHECK:   linalg.generic {{.*}} ins(%[[S]] : tensor<1x8x7x7xf32>) outs(%arg1 : tensor<1x8x7x7xf32>)
// CHECK-LABEL: func.func @crop
//       CHECK:   %[[S:.*]] = tensor.extract_slice %arg0
//       CHECK:   linalg.generic {{.*}} ins(%[[S]] : tensor<1x128xf32>)
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @residual(%a: tensor<1x8x7x8xf32>, %b: tensor<1x8x7x8xf32>) -> tensor<1x8x7x7xf32> {
  %sa = tensor.extract_slice %a[0, 0, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1] : tensor<1x8x7x8xf32> to tensor<1x8x7x7xf32>
  %sb = tensor.extract_slice %b[0, 0, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1] : tensor<1x8x7x8xf32> to tensor<1x8x7x7xf32>
  %e = tensor.empty() : tensor<1x8x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sa, %sb : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) outs(%e : tensor<1x8x7x7xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<1x8x7x7xf32>
  return %r : tensor<1x8x7x7xf32>
}
func.func @mixed(%a: tensor<1x8x7x8xf32>, %b: tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32> {
  %sa = tensor.extract_slice %a[0, 0, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1] : tensor<1x8x7x8xf32> to tensor<1x8x7x7xf32>
  %e = tensor.empty() : tensor<1x8x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sa, %b : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) outs(%e : tensor<1x8x7x7xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<1x8x7x7xf32>
  return %r : tensor<1x8x7x7xf32>
}
func.func @reads_init(%a: tensor<1x8x7x8xf32>, %acc: tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32> {
  %sa = tensor.extract_slice %a[0, 0, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1] : tensor<1x8x7x8xf32> to tensor<1x8x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sa : tensor<1x8x7x7xf32>) outs(%acc : tensor<1x8x7x7xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  } -> tensor<1x8x7x7xf32>
  return %r : tensor<1x8x7x7xf32>
}
func.func @crop(%a: tensor<64x128xf32>) -> tensor<1x128xf32> {
  %s = tensor.extract_slice %a[5, 0] [1, 128] [1, 1] : tensor<64x128xf32> to tensor<1x128xf32>
  %e = tensor.empty() : tensor<1x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<1x128xf32>) outs(%e : tensor<1x128xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<1x128xf32>
  return %r : tensor<1x128xf32>
}
