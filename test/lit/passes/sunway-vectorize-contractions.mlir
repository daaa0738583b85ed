// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-vectorize-contractions, canonicalize, cse)" | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-vectorize-contractions{target=sw26010pro}, canonicalize, cse)" | FileCheck %s --check-prefix=PRO

// A matmul tile in LDM, C[m][n] += A[m][k] * B[k][n]: vectors run along n (C and B contiguous, A constant), the
// register block is 4 rows x 4 vectors = 16 accumulators carried through the k loop; per k step: 4 vector
// loads of B, 4 scalar loads of A broadcast, 16 FMAs.

// CHECK-LABEL: func.func private @matmul
//       CHECK:   scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %c4
//   CHECK-COUNT-16: vector.load %arg2
//       CHECK:       scf.for %[[K:.*]] = %{{.*}} to %c32 step %c1 iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
//       CHECK:         memref.load %arg0[%[[M]], %[[K]]]
//       CHECK:         vector.broadcast %{{.*}} : f32 to vector<4xf32>
//       CHECK:         vector.load %arg1[%[[K]], %c0] : memref<32x16xf32, 2>, vector<4xf32>
//       CHECK:         vector.fma
//       CHECK:         vector.load %arg1[%[[K]], %c4]
//       CHECK:         vector.load %arg1[%[[K]], %c8]
//       CHECK:         vector.load %arg1[%[[K]], %c12]
//   CHECK-COUNT-13:    vector.fma
//   CHECK-NOT:         vector.load
//       CHECK:         scf.yield
//   CHECK-COUNT-16:  vector.store
//   CHECK-NOT:   linalg.generic
// PRO-LABEL: func.func private @matmul
//       PRO:   vector<8xf32>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @matmul(%A: memref<8x32xf32, 2>, %B: memref<32x16xf32, 2>, %C: memref<8x16xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %B : memref<8x32xf32, 2>, memref<32x16xf32, 2>) outs(%C : memref<8x16xf32, 2>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// With the weight transposed (B^T[n][k], as the importer stores MatMul weights), both inputs are contiguous
// along k: vectors run along the reduction, 4x4 accumulators of partial sums, one horizontal sum per output.

// CHECK-LABEL: func.func private @matmul_bt
//       CHECK:   scf.for
//       CHECK:     scf.for
//       CHECK:       %[[ACC:.*]]:16 = scf.for %{{.*}} = %{{.*}} to %c32 step %c4 iter_args
//   CHECK-COUNT-16:    vector.fma
//       CHECK:       vector.reduction <add>, %[[ACC]]#0 : vector<4xf32> into f32
//       CHECK:       arith.addf
//       CHECK:       memref.store
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @matmul_bt(%A: memref<8x32xf32, 2>, %BT: memref<16x32xf32, 2>, %C: memref<8x16xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #bt, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %BT : memref<8x32xf32, 2>, memref<16x32xf32, 2>) outs(%C : memref<8x16xf32, 2>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution tile (n, f, oh, ow, c, kh, kw): vectors along the output width, which the input reads with
// unit stride (ow + kw); output channels are the other register-block dimension (the filter is constant
// along ow: one scalar broadcast per channel). The 3x3 window (9 steps) is unrolled: one loop over the input
// channels is left, and each of its steps issues 9 x 16 FMAs from loads at constant offsets (kw = 1 is the
// load at column 1); the input row that oh + 1 and kh = 1 both read is loaded once. No index arithmetic is
// left inside the loop.

// CHECK-LABEL: func.func private @conv
//       CHECK:   vector.load %arg2{{.*}} : memref<1x4x2x8xf32, 2>, vector<4xf32>
//       CHECK:   scf.for %[[C:.*]] = %c0 to %c3 step %c1 iter_args
//   CHECK-NOT:     scf.for
//       CHECK:     vector.load %arg0[%c0, %[[C]], %c0, %c0] : memref<1x3x4x10xf32, 2>, vector<4xf32>
//       CHECK:     memref.load %arg1[%c0, %[[C]], %c0, %c0]
//       CHECK:     vector.broadcast
//       CHECK:     vector.fma
//       CHECK:     vector.load %arg0[%c0, %[[C]], %c0, %c1]
//       CHECK:     memref.load %arg1[%c0, %[[C]], %c0, %c1]
//       CHECK:     memref.load %arg1[%c0, %[[C]], %c1, %c0]
//   CHECK-NOT:     arith.addi
//       CHECK:     scf.yield
//   CHECK-COUNT-16: vector.store
#in = affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>
#fl = affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>
#out = affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>
func.func private @conv(%X: memref<1x3x4x10xf32, 2>, %W: memref<4x3x3x3xf32, 2>, %O: memref<1x4x2x8xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#in, #fl, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%X, %W : memref<1x3x4x10xf32, 2>, memref<4x3x3x3xf32, 2>) outs(%O : memref<1x4x2x8xf32, 2>) {
  ^bb0(%x: f32, %w: f32, %o: f32):
    %m = arith.mulf %x, %w : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An extent that vectors do not divide (7 columns): 4 columns in vectors, a scalar tail of 3 whose
// accumulators are kept in registers too (no load and store of C per multiply-add). The reduction (5 steps)
// is unrolled: no loop is left around the FMAs.

// CHECK-LABEL: func.func private @odd
//       CHECK:   vector.load %arg2[%c0, %c0] : memref<3x7xf32, 2>, vector<4xf32>
//   CHECK-NOT:   scf.for
//   CHECK-COUNT-15: vector.fma
//       CHECK:   vector.store
//       CHECK:   scf.for %[[J:.*]] = %c4 to %c7 step %c1
//       CHECK:     memref.load %arg2[%c0, %[[J]]]
//   CHECK-NOT:     scf.for
//       CHECK:     arith.mulf
//       CHECK:     arith.addf
//       CHECK:     memref.store
//   CHECK-NOT:   linalg.generic
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @odd(%A: memref<3x5xf32, 2>, %B: memref<5x7xf32, 2>, %C: memref<3x7xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %B : memref<3x5xf32, 2>, memref<5x7xf32, 2>) outs(%C : memref<3x7xf32, 2>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// What the pass leaves alone: other element types, and buffers in main memory (kernels compute on LDM tiles).

// CHECK-LABEL: func.func private @f64
//       CHECK:   linalg.generic
// CHECK-LABEL: func.func private @main_memory
//       CHECK:   linalg.generic
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @f64(%A: memref<4x8xf64, 2>, %B: memref<8x8xf64, 2>, %C: memref<4x8xf64, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %B : memref<4x8xf64, 2>, memref<8x8xf64, 2>) outs(%C : memref<4x8xf64, 2>) {
  ^bb0(%x: f64, %y: f64, %z: f64):
    %m = arith.mulf %x, %y : f64
    %s = arith.addf %z, %m : f64
    linalg.yield %s : f64
  }
  return
}
func.func private @main_memory(%A: memref<4x8xf32>, %B: memref<8x8xf32>, %C: memref<4x8xf32>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %B : memref<4x8xf32>, memref<8x8xf32>) outs(%C : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 14 vectors along n: the full block (4 rows x 4 vectors) covers 12 of them; the 2 left over get a block of
// 4 rows x 2 vectors rather than the whole row a smaller block (the plan with the fewest modeled cycles).

// CHECK-LABEL: func.func private @rest
//       CHECK:   scf.for %{{.*}} = %c0 to %c48 step %c16
//       CHECK:     scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
//       CHECK:   scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
//       CHECK:     vector.load %arg1[%{{.*}}, %c48]
//       CHECK:     vector.load %arg1[%{{.*}}, %c52]
//   CHECK-NOT:   linalg.generic
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @rest(%A: memref<4x32xf32, 2>, %B: memref<32x56xf32, 2>, %C: memref<4x56xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%A, %B : memref<4x32xf32, 2>, memref<32x56xf32, 2>) outs(%C : memref<4x56xf32, 2>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}
