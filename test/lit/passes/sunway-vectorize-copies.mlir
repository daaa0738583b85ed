// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-vectorize-copies, canonicalize)" | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-vectorize-copies{target=sw26010pro}, canonicalize)" | FileCheck %s --check-prefix=PRO

// A pad built in LDM: the fill of the 2 x 10 padded tile (vectors of 4 over 8 columns, a scalar tail of 2) and
// the copy of the 2 x 8 source into its interior, which starts one float off the vector boundary (unaligned
// vector stores; the helpers use simd_storeu).

// CHECK-LABEL: func.func private @pad_tile
//       CHECK:   %[[SPLAT:.*]] = arith.constant dense<0.000000e+00> : vector<4xf32>
//       CHECK:   scf.for %[[I:.*]] = %c0 to %c2 step %c1
//       CHECK:     scf.for %[[J:.*]] = %c0 to %c8 step %c4
//       CHECK:       vector.store %[[SPLAT]], %arg1[%[[I]], %[[J]]] : memref<2x10xf32, 2>, vector<4xf32>
//       CHECK:     scf.for %[[T:.*]] = %c8 to %c10 step %c1
//       CHECK:       memref.store %{{.*}}, %arg1[%[[I]], %[[T]]]
//       CHECK:   scf.for %[[R:.*]] = %c0 to %c2 step %c1
//       CHECK:     scf.for %[[C:.*]] = %c0 to %c8 step %c4
//       CHECK:       %[[V:.*]] = vector.load %arg0[%[[R]], %[[C]]] : memref<2x8xf32, 2>, vector<4xf32>
//       CHECK:       vector.store %[[V]], %{{.*}}[%[[R]], %[[C]]] : memref<2x8xf32, strided<[10, 1], offset: 1>, 2>, vector<4xf32>
//   CHECK-NOT:   linalg.
// PRO-LABEL: func.func private @pad_tile
//       PRO:   vector<8xf32>
func.func private @pad_tile(%src: memref<2x8xf32, 2>, %tile: memref<2x10xf32, 2>) attributes {sunway.kernel} {
  %z = arith.constant 0.0 : f32
  linalg.map outs(%tile : memref<2x10xf32, 2>) (%init: f32) {
    linalg.yield %z : f32
  }
  %in = memref.subview %tile[0, 1] [2, 8] [1, 1] : memref<2x10xf32, 2> to memref<2x8xf32, strided<[10, 1], offset: 1>, 2>
  linalg.copy ins(%src : memref<2x8xf32, 2>) outs(%in : memref<2x8xf32, strided<[10, 1], offset: 1>, 2>)
  return
}

// -----

// Left alone: integer tiles (the SIMD helpers are f32), rows shorter than a vector, a copy along a strided
// innermost dimension, and ops on main memory.

// CHECK-LABEL: func.func private @left_alone
//   CHECK-NOT:   vector.
//       CHECK:   linalg.fill ins(%{{.*}} : i32)
//       CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<8x3xf32, 2>)
//       CHECK:   linalg.copy
//       CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<64xf32>)
func.func private @left_alone(%i: memref<8x8xi32, 2>, %short: memref<8x3xf32, 2>, %a: memref<8x8xf32, 2>,
                              %m: memref<64xf32>) attributes {sunway.kernel} {
  %zi = arith.constant 0 : i32
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%zi : i32) outs(%i : memref<8x8xi32, 2>)
  linalg.fill ins(%z : f32) outs(%short : memref<8x3xf32, 2>)
  %col = memref.subview %a[0, 0] [8, 4] [1, 2] : memref<8x8xf32, 2> to memref<8x4xf32, strided<[8, 2]>, 2>
  %col2 = memref.subview %a[0, 1] [8, 4] [1, 2] : memref<8x8xf32, 2> to memref<8x4xf32, strided<[8, 2], offset: 1>, 2>
  linalg.copy ins(%col : memref<8x4xf32, strided<[8, 2]>, 2>) outs(%col2 : memref<8x4xf32, strided<[8, 2], offset: 1>, 2>)
  linalg.fill ins(%z : f32) outs(%m : memref<64xf32>)
  return
}
