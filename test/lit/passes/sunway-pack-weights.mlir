// RUN: swmlir-opt %s --split-input-file --sunway-pack-weights --canonicalize | FileCheck %s

// A weight read in [4, 2] tiles at offsets (4 i, 2 j): each tile is 4 rows of 8 bytes in the row-major
// constant. It is stored tile-major, P[i, j] = W[4i:4i+4, 2j:2j+2], and each work item reads its tile as one
// contiguous 32-byte block through a rank-reducing slice of P.

// CHECK-LABEL: func.func @columns
//   CHECK-NOT:   arith.constant {{.*}} : tensor<8x4xf32>
//       CHECK:   %[[P:.*]] = arith.constant dense_resource<[[BLOB:.*]]> : tensor<2x2x4x2xf32>
//       CHECK:   scf.forall (%[[I:.*]], %[[J:.*]]) in (2, 2)
//       CHECK:     tensor.extract_slice %[[P]][%[[I]], %[[J]], 0, 0] [1, 1, 4, 2] [1, 1, 1, 1] : tensor<2x2x4x2xf32> to tensor<4x2xf32>
// The blob (after its 4-byte alignment word): tile (0, 0) = rows 0-3 of columns 0-1 = 0 1 4 5 8 9 12 13,
// then tile (0, 1) = 2 3 6 7 10 11 14 15.
//       CHECK:   [[BLOB]]: "0x04000000{{000000000000803F000080400000A0400000004100001041000040410000504100000040000040400000C0400000E04000002041000030410000604100007041}}
#r = affine_map<(d0) -> (d0 * 4)>
#c = affine_map<(d0) -> (d0 * 2)>
func.func @columns(%o: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0],
                             [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0], [28.0, 29.0, 30.0, 31.0]]> : tensor<8x4xf32>
  %r = scf.forall (%i, %j) in (2, 2) shared_outs(%out = %o) -> (tensor<8x4xf32>) {
    %a = affine.apply #r(%i)
    %b = affine.apply #c(%j)
    %t = tensor.extract_slice %w[%a, %b] [4, 2] [1, 1] : tensor<8x4xf32> to tensor<4x2xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %out[%a, %b] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<8x4xf32>
    }
  }
  return %r : tensor<8x4xf32>
}

// -----

// A reduction loop of step 2 inside the work item reads [2, 2] sub-tiles of the work item's [4, 2] slice:
// the leaf offsets are (4 i + k, 2 j), multiples of the leaf sizes, so the constant is stored in [2, 2] tiles
// and the leaf reads P[(4 i + k) / 2, j].

// CHECK-LABEL: func.func @reduction_steps
//       CHECK:   %[[P:.*]] = arith.constant {{.*}} : tensor<4x2x2x2xf32>
//       CHECK:   scf.forall (%[[I:.*]], %[[J:.*]]) in (2, 2)
//       CHECK:     scf.for %[[K:.*]] = %c0 to %c4 step %c2
//       CHECK:       %[[ROW:.*]] = affine.apply #{{.*}}(%[[K]], %[[I]])
//       CHECK:       tensor.extract_slice %[[P]][%[[ROW]], %[[J]], 0, 0] [1, 1, 2, 2] [1, 1, 1, 1] : tensor<4x2x2x2xf32> to tensor<2x2xf32>
#r = affine_map<(d0) -> (d0 * 4)>
#c = affine_map<(d0) -> (d0 * 2)>
func.func @reduction_steps(%o: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0],
                             [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0], [28.0, 29.0, 30.0, 31.0]]> : tensor<8x4xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %r = scf.forall (%i, %j) in (2, 2) shared_outs(%out = %o) -> (tensor<2x4xf32>) {
    %a = affine.apply #r(%i)
    %b = affine.apply #c(%j)
    %s = tensor.extract_slice %w[%a, %b] [4, 2] [1, 1] : tensor<8x4xf32> to tensor<4x2xf32>
    %init = tensor.extract_slice %out[0, %b] [2, 2] [1, 1] : tensor<2x4xf32> to tensor<2x2xf32>
    %acc = scf.for %k = %c0 to %c4 step %c2 iter_args(%x = %init) -> (tensor<2x2xf32>) {
      %t = tensor.extract_slice %s[%k, 0] [2, 2] [1, 1] : tensor<4x2xf32> to tensor<2x2xf32>
      %y = arith.addf %x, %t : tensor<2x2xf32>
      scf.yield %y : tensor<2x2xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %acc into %out[0, %b] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x4xf32>
    }
  }
  return %r : tensor<2x4xf32>
}

// -----

// Left as it is: a tile at offset j (not a multiple of its width 2) straddles two tiles of any tile-major
// order; a tile of whole rows is contiguous already.

// CHECK-LABEL: func.func @unaligned
//       CHECK:   arith.constant {{.*}} : tensor<8x4xf32>
//   CHECK-NOT:   tensor<2x2x4x2xf32>
//       CHECK:   tensor.extract_slice %{{.*}}[%{{.*}}, %{{.*}}] [4, 2] [1, 1] : tensor<8x4xf32> to tensor<4x2xf32>
#r = affine_map<(d0) -> (d0 * 4)>
func.func @unaligned(%o: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0],
                             [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0], [28.0, 29.0, 30.0, 31.0]]> : tensor<8x4xf32>
  %r = scf.forall (%i, %j) in (2, 2) shared_outs(%out = %o) -> (tensor<8x4xf32>) {
    %a = affine.apply #r(%i)
    %t = tensor.extract_slice %w[%a, %j] [4, 2] [1, 1] : tensor<8x4xf32> to tensor<4x2xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %out[%a, %j] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<8x4xf32>
    }
  }
  return %r : tensor<8x4xf32>
}

// CHECK-LABEL: func.func @whole_rows
//       CHECK:   arith.constant {{.*}} : tensor<8x4xf32>
//       CHECK:   tensor.extract_slice %{{.*}}[%{{.*}}, 0] [4, 4] [1, 1] : tensor<8x4xf32> to tensor<4x4xf32>
func.func @whole_rows(%o: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0],
                             [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0], [28.0, 29.0, 30.0, 31.0]]> : tensor<8x4xf32>
  %r = scf.forall (%i) in (2) shared_outs(%out = %o) -> (tensor<8x4xf32>) {
    %a = affine.apply #r(%i)
    %t = tensor.extract_slice %w[%a, 0] [4, 4] [1, 1] : tensor<8x4xf32> to tensor<4x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %out[%a, 0] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<8x4xf32>
    }
  }
  return %r : tensor<8x4xf32>
}
