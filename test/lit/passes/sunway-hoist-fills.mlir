// RUN: swmlir-opt %s --split-input-file --sunway-hoist-fills | FileCheck %s

// A halo tile (sunway-fetch-halos) in a split-K loop: each step fills the 16x18 tile with the pad value and
// copies the 16x16 stage into columns 1..16. The copy lands at the same place every step, so the border keeps
// the pad value: the tile and its fill move before the loop, which keeps only the copy.

// CHECK-LABEL: func.func private @fixed_landing
//       CHECK:   %[[T:.*]] = "sunway.ldm_alloc"() : () -> memref<16x18xf32, 2>
//       CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%[[T]] : memref<16x18xf32, 2>)
//       CHECK:   scf.for
//   CHECK-NOT:     linalg.fill
//       CHECK:     linalg.copy
//       CHECK:     linalg.generic
#in = affine_map<(d0, d1) -> (d0, d1 + 1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func private @fixed_landing(%X: memref<64x16xf32>, %C: memref<16x16xf32, 2>) attributes {sunway.kernel} {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c16 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %v = memref.subview %X[%k, 0] [16, 16] [1, 1] : memref<64x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
    %stage = "sunway.ldm_alloc"() : () -> memref<16x16xf32, 2>
    "sunway.dma_get"(%v, %stage, %r) : (memref<16x16xf32, strided<[16, 1], offset: ?>>, memref<16x16xf32, 2>, memref<i32, 2>) -> ()
    %t = "sunway.ldm_alloc"() : () -> memref<16x18xf32, 2>
    linalg.fill ins(%cst : f32) outs(%t : memref<16x18xf32, 2>)
    %sv = memref.subview %t[0, 1] [16, 16] [1, 1] : memref<16x18xf32, 2> to memref<16x16xf32, strided<[18, 1], offset: 1>, 2>
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    linalg.copy ins(%stage : memref<16x16xf32, 2>) outs(%sv : memref<16x16xf32, strided<[18, 1], offset: 1>, 2>)
    linalg.generic {indexing_maps = [#in, #id], iterator_types = ["parallel", "parallel"]}
        ins(%t : memref<16x18xf32, 2>) outs(%C : memref<16x16xf32, 2>) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// The landing row depends on the loop (a window whose rows are tiled by the loop): the fill stays in it.

// CHECK-LABEL: func.func private @moving_landing
//       CHECK:   scf.for
//       CHECK:     linalg.fill
//       CHECK:     linalg.copy
#in = affine_map<(d0, d1) -> (d0, d1 + 1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func private @moving_landing(%X: memref<64x16xf32>, %C: memref<16x16xf32, 2>) attributes {sunway.kernel} {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c2 step %c1 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %v = memref.subview %X[%k, 0] [15, 16] [1, 1] : memref<64x16xf32> to memref<15x16xf32, strided<[16, 1], offset: ?>>
    %stage = "sunway.ldm_alloc"() : () -> memref<15x16xf32, 2>
    "sunway.dma_get"(%v, %stage, %r) : (memref<15x16xf32, strided<[16, 1], offset: ?>>, memref<15x16xf32, 2>, memref<i32, 2>) -> ()
    %t = "sunway.ldm_alloc"() : () -> memref<16x18xf32, 2>
    linalg.fill ins(%cst : f32) outs(%t : memref<16x18xf32, 2>)
    %sv = memref.subview %t[%k, 1] [15, 16] [1, 1] : memref<16x18xf32, 2> to memref<15x16xf32, strided<[18, 1], offset: ?>, 2>
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    linalg.copy ins(%stage : memref<15x16xf32, 2>) outs(%sv : memref<15x16xf32, strided<[18, 1], offset: ?>, 2>)
    linalg.generic {indexing_maps = [#in, #id], iterator_types = ["parallel", "parallel"]}
        ins(%t : memref<16x18xf32, 2>) outs(%C : memref<16x16xf32, 2>) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  }
  return
}
