// RUN: swmlir-opt %s --split-input-file --sunway-double-buffer | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-double-buffer=target=sw26010pro | FileCheck %s --check-prefix=PRO

// A split-K loop of 4 steps: gets of a 16x64 and a 64x16 tile, a wait, the contraction. Each tile gets a
// second LDM buffer and each buffer set a reply word of its own; the steps run in pairs: the gets of step k+1
// are issued before step k is computed, those of k+2 before k+1 is. The last pair (steps 2 and 3) follows the
// loop without a third get, so no DMA is conditional.

// CHECK-LABEL: func.func private @splitk
//  CHECK-SAME:   attributes {sunway.double_buffered = 4 : i64, sunway.kernel}
//       CHECK:   %[[A0:.*]] = "sunway.ldm_alloc"() : () -> memref<16x64xf32, 2>
//       CHECK:   %[[B0:.*]] = "sunway.ldm_alloc"() : () -> memref<64x16xf32, 2>
//       CHECK:   %[[A1:.*]] = "sunway.ldm_alloc"() : () -> memref<16x64xf32, 2>
//       CHECK:   %[[B1:.*]] = "sunway.ldm_alloc"() : () -> memref<64x16xf32, 2>
//       CHECK:   %[[R0:.*]] = "sunway.reply"()
//       CHECK:   %[[R1:.*]] = "sunway.reply"()
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[A0]], %[[R0]])
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[B0]], %[[R0]])
//       CHECK:   scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c128
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[A1]], %[[R1]])
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[B1]], %[[R1]])
//       CHECK:     "sunway.dma_wait"(%[[R0]], %{{.*}})
//       CHECK:     linalg.generic {{.*}} ins(%[[A0]], %[[B0]]
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[A0]], %[[R0]])
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[B0]], %[[R0]])
//       CHECK:     "sunway.dma_wait"(%[[R1]], %{{.*}})
//       CHECK:     linalg.generic {{.*}} ins(%[[A1]], %[[B1]]
//       CHECK:   }
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[A1]], %[[R1]])
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[B1]], %[[R1]])
//       CHECK:   "sunway.dma_wait"(%[[R0]], %{{.*}})
//       CHECK:   linalg.generic {{.*}} ins(%[[A0]], %[[B0]]
//   CHECK-NOT:   "sunway.dma_get"
//       CHECK:   "sunway.dma_wait"(%[[R1]], %{{.*}})
//       CHECK:   linalg.generic {{.*}} ins(%[[A1]], %[[B1]]
//   CHECK-NOT:   scf.if
//       CHECK:   return
// On SW26010-Pro (216 KB usable) the second buffers fit as well.
// PRO: sunway.double_buffered = 4
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @splitk(%A: memref<16x256xf32>, %B: memref<256x16xf32>, %C: memref<16x16xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  scf.for %k = %c0 to %c256 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %va = memref.subview %A[0, %k] [16, 64] [1, 1] : memref<16x256xf32> to memref<16x64xf32, strided<[256, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<16x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<16x64xf32, strided<[256, 1], offset: ?>>, memref<16x64xf32, 2>, memref<i32, 2>) -> ()
    %vb = memref.subview %B[%k, 0] [64, 16] [1, 1] : memref<256x16xf32> to memref<64x16xf32, strided<[16, 1], offset: ?>>
    %lb = "sunway.ldm_alloc"() : () -> memref<64x16xf32, 2>
    "sunway.dma_get"(%vb, %lb, %r) : (memref<64x16xf32, strided<[16, 1], offset: ?>>, memref<64x16xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c2) : (memref<i32, 2>, index) -> ()
    linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%la, %lb : memref<16x64xf32, 2>, memref<64x16xf32, 2>) outs(%C : memref<16x16xf32, 2>) {
    ^bb0(%x: f32, %y: f32, %z: f32):
      %m = arith.mulf %x, %y : f32
      %s = arith.addf %z, %m : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// An odd step count (3): one pair with a third get into the first buffers, then that last step.

// CHECK-LABEL: func.func private @odd_steps
//  CHECK-SAME:   sunway.double_buffered = 3
//   CHECK-NOT:   scf.for
//       CHECK:   %[[L0:.*]] = "sunway.ldm_alloc"()
//       CHECK:   %[[L1:.*]] = "sunway.ldm_alloc"()
//       CHECK:   %[[R0:.*]] = "sunway.reply"()
//       CHECK:   %[[R1:.*]] = "sunway.reply"()
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[L0]], %[[R0]])
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[L1]], %[[R1]])
//       CHECK:   "sunway.dma_wait"(%[[R0]], %{{.*}})
//       CHECK:   linalg.generic {{.*}} ins(%[[L0]]
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[L0]], %[[R0]])
//       CHECK:   "sunway.dma_wait"(%[[R1]], %{{.*}})
//       CHECK:   linalg.generic {{.*}} ins(%[[L1]]
//   CHECK-NOT:   "sunway.dma_get"
//       CHECK:   "sunway.dma_wait"(%[[R0]], %{{.*}})
//       CHECK:   linalg.generic {{.*}} ins(%[[L0]]
//   CHECK-NOT:   scf.for
//       CHECK:   return
#a = affine_map<(d0, d1) -> (d0, d1)>
#o = affine_map<(d0, d1) -> (d0)>
func.func private @odd_steps(%A: memref<8x192xf32>, %C: memref<8xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c192 = arith.constant 192 : index
  scf.for %k = %c0 to %c192 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %va = memref.subview %A[0, %k] [8, 64] [1, 1] : memref<8x192xf32> to memref<8x64xf32, strided<[192, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<8x64xf32, strided<[192, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    linalg.generic {indexing_maps = [#a, #o], iterator_types = ["parallel", "reduction"]} ins(%la : memref<8x64xf32, 2>) outs(%C : memref<8xf32, 2>) {
    ^bb0(%x: f32, %z: f32):
      %s = arith.addf %z, %x : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// A loop whose body puts as well as gets (a work item's output) is double-buffered too: the puts and their
// waits stay after each step's compute, on a reply word of their own. Left alone: a kernel whose second
// buffers would not fit in the LDM (two 32 KB tiles on SW26010's 56 KB budget).

// CHECK-LABEL: func.func private @with_put
//  CHECK-SAME:   sunway.double_buffered = 2
//       CHECK:   %[[R0:.*]] = "sunway.reply"
//       CHECK:   %[[R1:.*]] = "sunway.reply"
//       CHECK:   %[[RP:.*]] = "sunway.reply"
//       CHECK:   "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R0]])
//       CHECK:   "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R1]])
//       CHECK:   "sunway.dma_wait"(%[[R0]]
//       CHECK:   "sunway.dma_put"(%{{.*}}, %{{.*}}, %[[RP]])
//       CHECK:   "sunway.dma_wait"(%[[RP]]
//       CHECK:   "sunway.dma_wait"(%[[R1]]
//       CHECK:   "sunway.dma_put"(%{{.*}}, %{{.*}}, %[[RP]])
//       CHECK:   "sunway.dma_wait"(%[[RP]]
// CHECK-LABEL: func.func private @too_big
//   CHECK-NOT:   sunway.double_buffered
// PRO-LABEL: func.func private @too_big
//  PRO-SAME:   sunway.double_buffered = 2
func.func private @with_put(%A: memref<8x128xf32>, %B: memref<8x128xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  scf.for %k = %c0 to %c128 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %va = memref.subview %A[0, %k] [8, 64] [1, 1] : memref<8x128xf32> to memref<8x64xf32, strided<[128, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<8x64xf32, strided<[128, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    %vb = memref.subview %B[0, %k] [8, 64] [1, 1] : memref<8x128xf32> to memref<8x64xf32, strided<[128, 1], offset: ?>>
    "sunway.dma_put"(%la, %vb, %r) : (memref<8x64xf32, 2>, memref<8x64xf32, strided<[128, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}
func.func private @too_big(%A: memref<64x256xf32>, %C: memref<64xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  scf.for %k = %c0 to %c256 step %c128 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %va = memref.subview %A[0, %k] [64, 128] [1, 1] : memref<64x256xf32> to memref<64x128xf32, strided<[256, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<64x128xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<64x128xf32, strided<[256, 1], offset: ?>>, memref<64x128xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%la : memref<64x128xf32, 2>) outs(%C : memref<64xf32, 2>) {
    ^bb0(%x: f32, %z: f32):
      %s = arith.addf %z, %x : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// A halo stage (sunway-fetch-halos) is copied into its padded tile right after the wait and read by nothing
// else: once copied it is free, so the next step's get lands in the same buffer while the step computes on the
// tile. No second buffer for it; per step: wait, copy, the next get, compute.

// CHECK-LABEL: func.func private @released_stage
//  CHECK-SAME:   sunway.double_buffered = 4
//       CHECK:   %[[S:.*]] = "sunway.ldm_alloc"() : () -> memref<16x16xf32, 2>
//   CHECK-NOT:   "sunway.ldm_alloc"() : () -> memref<16x16xf32, 2>
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[S]], %[[R0:[a-z0-9_]+]])
//       CHECK:   scf.for
//       CHECK:     "sunway.dma_wait"(%[[R0]], %{{.*}})
//       CHECK:     linalg.copy ins(%[[S]]
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[S]], %[[R1:[a-z0-9_]+]])
//       CHECK:     linalg.generic
//       CHECK:     "sunway.dma_wait"(%[[R1]], %{{.*}})
//       CHECK:     linalg.copy ins(%[[S]]
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[S]], %[[R0]])
//       CHECK:     linalg.generic
#in = affine_map<(d0, d1) -> (d0, d1 + 1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func private @released_stage(%X: memref<64x16xf32>, %C: memref<16x16xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %t = "sunway.ldm_alloc"() : () -> memref<16x18xf32, 2>
  %sv = memref.subview %t[0, 1] [16, 16] [1, 1] : memref<16x18xf32, 2> to memref<16x16xf32, strided<[18, 1], offset: 1>, 2>
  scf.for %k = %c0 to %c64 step %c16 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %v = memref.subview %X[%k, 0] [16, 16] [1, 1] : memref<64x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
    %stage = "sunway.ldm_alloc"() : () -> memref<16x16xf32, 2>
    "sunway.dma_get"(%v, %stage, %r) : (memref<16x16xf32, strided<[16, 1], offset: ?>>, memref<16x16xf32, 2>, memref<i32, 2>) -> ()
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

// A work-item loop (sunway-map-cpes: from the CPE id, step 64) of 256 items: 4 per CPE on every CPE, so the
// loop is double-buffered like a split-K loop, its bounds offsets of the CPE's first item: the first item's
// gets before the loop, a loop of one pair (items t+0, t+64 fetching t+128), the last pair after it.

// CHECK-LABEL: func.func private @work_items
//  CHECK-SAME:   sunway.double_buffered = 4
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"
//       CHECK:   "sunway.dma_get"
//       CHECK:   %[[END:.*]] = arith.addi %[[ID]], %c128
//       CHECK:   scf.for %{{.*}} = %[[ID]] to %[[END]] step %c128
//       CHECK:     "sunway.dma_get"
//       CHECK:     "sunway.dma_put"
//       CHECK:     "sunway.dma_get"
//       CHECK:     "sunway.dma_put"
//       CHECK:   }
//       CHECK:   "sunway.dma_get"
//       CHECK:   "sunway.dma_put"
//       CHECK:   "sunway.dma_put"
//   CHECK-NOT:   "sunway.dma_get"
//       CHECK:   return
func.func private @work_items(%A: memref<256x64xf32>, %B: memref<256x64xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c256 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %va = memref.subview %A[%t, 0] [1, 64] [1, 1] : memref<256x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<1x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<1x64xf32, strided<[64, 1], offset: ?>>, memref<1x64xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    %lo = "sunway.ldm_alloc"() : () -> memref<1x64xf32, 2>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%la : memref<1x64xf32, 2>) outs(%lo : memref<1x64xf32, 2>) {
    ^bb0(%x: f32, %z: f32):
      %s = arith.mulf %x, %x : f32
      linalg.yield %s : f32
    }
    %vb = memref.subview %B[%t, 0] [1, 64] [1, 1] : memref<256x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    "sunway.dma_put"(%lo, %vb, %r) : (memref<1x64xf32, 2>, memref<1x64xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}
