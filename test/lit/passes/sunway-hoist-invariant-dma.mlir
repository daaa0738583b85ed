// RUN: swmlir-opt %s --sunway-hoist-invariant-dma | FileCheck %s

// A kernel over an (8, 16) grid of work items on 64 CPEs: CPE c runs items t = c and c + 64. The column coordinate t mod 16 is c mod 16 for both, so the weight tile it indexes
// is fetched once before the loop, with a reply word and a wait of its own; the row tile (t / 16 changes)
// and the output stay in the loop.

// CHECK-LABEL: func.func private @weight_stationary
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"
//       CHECK:   %[[COL:.*]] = arith.remsi %[[ID]], %c16
//       CHECK:   %[[R:.*]] = "sunway.reply"
//       CHECK:   %[[OFF:.*]] = affine.apply #{{.*}}(%[[COL]])
//       CHECK:   %[[WV:.*]] = memref.subview %arg1[%[[OFF]], 0] [4, 64]
//       CHECK:   %[[WL:.*]] = "sunway.ldm_alloc"() : () -> memref<4x64xf32, 2>
//       CHECK:   "sunway.dma_get"(%[[WV]], %[[WL]], %[[R]])
//       CHECK:   "sunway.dma_wait"(%[[R]]
//       CHECK:   scf.for %[[T:.*]] = %[[ID]] to %c128 step %c64
//       CHECK:     arith.divsi %[[T]], %c16
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[XL:.*]], %{{.*}})
//   CHECK-NOT:     "sunway.dma_get"
//       CHECK:     linalg.generic {{.*}} ins(%[[XL]], %[[WL]]
//       CHECK:     "sunway.dma_put"
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#m4 = affine_map<(d0) -> (d0 * 4)>
#m8 = affine_map<(d0) -> (d0 * 8)>
func.func private @weight_stationary(%X: memref<64x64xf32>, %W: memref<64x64xf32>, %Y: memref<64x64xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c128 step %c64 {
    %col = arith.remsi %t, %c16 : index
    %row = arith.divsi %t, %c16 : index
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %i = affine.apply #m8(%row)
    %j = affine.apply #m4(%col)
    %xv = memref.subview %X[%i, 0] [8, 64] [1, 1] : memref<64x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
    %xl = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%xv, %xl, %r) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    %wv = memref.subview %W[%j, 0] [4, 64] [1, 1] : memref<64x64xf32> to memref<4x64xf32, strided<[64, 1], offset: ?>>
    %wl = "sunway.ldm_alloc"() : () -> memref<4x64xf32, 2>
    "sunway.dma_get"(%wv, %wl, %r) : (memref<4x64xf32, strided<[64, 1], offset: ?>>, memref<4x64xf32, 2>, memref<i32, 2>) -> ()
    %yl = "sunway.ldm_alloc"() : () -> memref<8x4xf32, 2>
    "sunway.dma_wait"(%r, %c2) : (memref<i32, 2>, index) -> ()
    linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xl, %wl : memref<8x64xf32, 2>, memref<4x64xf32, 2>) outs(%yl : memref<8x4xf32, 2>) {
    ^bb0(%a: f32, %b: f32, %z: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %z, %m : f32
      linalg.yield %s : f32
    }
    %yv = memref.subview %Y[%i, %j] [8, 4] [1, 1] : memref<64x64xf32> to memref<8x4xf32, strided<[64, 1], offset: ?>>
    "sunway.dma_put"(%yl, %yv, %r) : (memref<8x4xf32, 2>, memref<8x4xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}
