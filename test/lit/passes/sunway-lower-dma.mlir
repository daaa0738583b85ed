// RUN: swmlir-opt %s --split-input-file --sunway-lower-dma | FileCheck %s

// A copy of a main-memory view into an LDM buffer becomes a DMA get and a wait on a reply word; the reply is
// created at the start of the block.

// CHECK-LABEL: func.func @get
//  CHECK-SAME:   (%[[A:.*]]: memref<64x128xf32>, %[[I:.*]]: index)
//       CHECK:   %[[R:.*]] = "sunway.reply"() : () -> memref<i32, 2>
//       CHECK:   %[[V:.*]] = memref.subview %[[A]][%[[I]], 0] [1, 128] [1, 1]
//       CHECK:   %[[L:.*]] = "sunway.ldm_alloc"() : () -> memref<1x128xf32, 2>
//       CHECK:   "sunway.dma_get"(%[[V]], %[[L]], %[[R]]) : (memref<1x128xf32, strided<[128, 1], offset: ?>>, memref<1x128xf32, 2>, memref<i32, 2>) -> ()
//       CHECK:   %[[C1:.*]] = arith.constant 1 : index
//       CHECK:   "sunway.dma_wait"(%[[R]], %[[C1]]) : (memref<i32, 2>, index) -> ()
//   CHECK-NOT:   memref.copy
func.func @get(%a: memref<64x128xf32>, %i: index) {
  %v = memref.subview %a[%i, 0] [1, 128] [1, 1] : memref<64x128xf32> to memref<1x128xf32, strided<[128, 1], offset: ?>>
  %l = "sunway.ldm_alloc"() : () -> memref<1x128xf32, 2>
  memref.copy %v, %l : memref<1x128xf32, strided<[128, 1], offset: ?>> to memref<1x128xf32, 2>
  return
}

// -----

// The other way: a put. Copies in one block share one reply word.

// CHECK-LABEL: func.func @get_and_put
//  CHECK-SAME:   (%[[SRC:.*]]: memref<32xf32>, %[[DST:.*]]: memref<32xf32>)
//       CHECK:   %[[R:.*]] = "sunway.reply"() : () -> memref<i32, 2>
//   CHECK-NOT:   sunway.reply
//       CHECK:   "sunway.dma_get"(%[[SRC]], %[[L:.*]], %[[R]]) : (memref<32xf32>, memref<32xf32, 2>, memref<i32, 2>) -> ()
//       CHECK:   "sunway.dma_wait"(%[[R]], %{{.*}})
//       CHECK:   "sunway.dma_put"(%[[L]], %[[DST]], %[[R]]) : (memref<32xf32, 2>, memref<32xf32>, memref<i32, 2>) -> ()
//       CHECK:   "sunway.dma_wait"(%[[R]], %{{.*}})
//   CHECK-NOT:   memref.copy
func.func @get_and_put(%src: memref<32xf32>, %dst: memref<32xf32>) {
  %l = "sunway.ldm_alloc"() : () -> memref<32xf32, 2>
  memref.copy %src, %l : memref<32xf32> to memref<32xf32, 2>
  memref.copy %l, %dst : memref<32xf32, 2> to memref<32xf32>
  return
}

// -----

// linalg.copy on buffers is a copy too.

// CHECK-LABEL: func.func @linalg_copy
//       CHECK:   "sunway.dma_put"(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<4x4xf32, 2>, memref<4x4xf32>, memref<i32, 2>) -> ()
//       CHECK:   "sunway.dma_wait"
//   CHECK-NOT:   linalg.copy
func.func @linalg_copy(%dst: memref<4x4xf32>) {
  %l = "sunway.ldm_alloc"() : () -> memref<4x4xf32, 2>
  linalg.copy ins(%l : memref<4x4xf32, 2>) outs(%dst : memref<4x4xf32>)
  return
}

// -----

// The tile of an init that the op does not read (a fill) would be moved for nothing: the get is dropped, the
// put of the result stays.

// CHECK-LABEL: func.func @dead_get_before_fill
//  CHECK-SAME:   (%[[OUT:.*]]: memref<1x64xf32>, %[[CST:.*]]: f32)
//   CHECK-NOT:   sunway.dma_get
//   CHECK-NOT:   memref.copy
//       CHECK:   linalg.generic
//  CHECK-SAME:     ins(%[[CST]] : f32) outs(%[[L:.*]] : memref<1x64xf32, 2>)
//       CHECK:   "sunway.dma_put"(%[[L]], %[[OUT]], %{{.*}})
//   CHECK-NOT:   sunway.dma_get
func.func @dead_get_before_fill(%out: memref<1x64xf32>, %cst: f32) {
  %l = "sunway.ldm_alloc"() : () -> memref<1x64xf32, 2>
  memref.copy %out, %l : memref<1x64xf32> to memref<1x64xf32, 2>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%cst : f32) outs(%l : memref<1x64xf32, 2>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  memref.copy %l, %out : memref<1x64xf32, 2> to memref<1x64xf32>
  return
}

// -----

// An accumulator is read by the op: its get stays.

// CHECK-LABEL: func.func @live_get_before_accumulate
//       CHECK:   "sunway.dma_get"
//       CHECK:   "sunway.dma_wait"
//       CHECK:   linalg.generic
//       CHECK:   "sunway.dma_put"
func.func @live_get_before_accumulate(%out: memref<1x64xf32>, %cst: f32) {
  %l = "sunway.ldm_alloc"() : () -> memref<1x64xf32, 2>
  memref.copy %out, %l : memref<1x64xf32> to memref<1x64xf32, 2>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%cst : f32) outs(%l : memref<1x64xf32, 2>) {
  ^bb0(%in: f32, %o: f32):
    %s = arith.addf %in, %o : f32
    linalg.yield %s : f32
  }
  memref.copy %l, %out : memref<1x64xf32, 2> to memref<1x64xf32>
  return
}

// -----

// Copies that do not cross between main memory and the LDM are not DMA: LDM to LDM is an ordinary copy on the
// CPE (a linalg.copy, which becomes loops), main to main is left to the host.

// CHECK-LABEL: func.func @not_dma
//   CHECK-NOT:   sunway.reply
//   CHECK-NOT:   sunway.dma
//       CHECK:   linalg.copy {{.*}}ins(%{{.*}} : memref<16xf32, 2>) outs(%{{.*}} : memref<16xf32, 2>)
//       CHECK:   memref.copy %{{.*}}, %{{.*}} : memref<16xf32> to memref<16xf32>
//   CHECK-NOT:   sunway.dma
func.func @not_dma(%m0: memref<16xf32>, %m1: memref<16xf32>) {
  %l0 = "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
  %l1 = "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
  memref.copy %l0, %l1 : memref<16xf32, 2> to memref<16xf32, 2>
  memref.copy %m0, %m1 : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A copy inside a loop (reduction tiling) waits on a reply word of the loop body.

// CHECK-LABEL: func.func @in_loop
//       CHECK:   %[[R0:.*]] = "sunway.reply"() : () -> memref<i32, 2>
//       CHECK:   "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R0]])
//       CHECK:   scf.for
//  CHECK-NEXT:     %[[R1:.*]] = "sunway.reply"() : () -> memref<i32, 2>
//       CHECK:     "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R1]]) : (memref<1x256xf32, strided<[1024, 1], offset: ?>>, memref<1x256xf32, 2>, memref<i32, 2>) -> ()
//       CHECK:     "sunway.dma_wait"(%[[R1]], %{{.*}})
//       CHECK:   }
//       CHECK:   "sunway.dma_put"(%{{.*}}, %{{.*}}, %[[R0]])
func.func @in_loop(%a: memref<1x1024xf32>, %acc: memref<1x1xf32>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c1024 = arith.constant 1024 : index
  %l = "sunway.ldm_alloc"() : () -> memref<1x1xf32, 2>
  memref.copy %acc, %l : memref<1x1xf32> to memref<1x1xf32, 2>
  scf.for %k = %c0 to %c1024 step %c256 {
    %v = memref.subview %a[0, %k] [1, 256] [1, 1] : memref<1x1024xf32> to memref<1x256xf32, strided<[1024, 1], offset: ?>>
    %t = "sunway.ldm_alloc"() : () -> memref<1x256xf32, 2>
    memref.copy %v, %t : memref<1x256xf32, strided<[1024, 1], offset: ?>> to memref<1x256xf32, 2>
  }
  memref.copy %l, %acc : memref<1x1xf32, 2> to memref<1x1xf32>
  return
}

// -----

// The gets of one tile are in flight together: one wait for both, right before the first op that reads them;
// the put is waited for at the end of the block.
// CHECK-LABEL: func.func @batched_waits
//       CHECK:   %[[R:.*]] = "sunway.reply"
//       CHECK:   "sunway.dma_get"(%{{.*}}, %[[A:.*]], %[[R]])
//  CHECK-NEXT:   "sunway.dma_get"(%{{.*}}, %[[B:.*]], %[[R]])
//  CHECK-NEXT:   %[[C2:.*]] = arith.constant 2 : index
//  CHECK-NEXT:   "sunway.dma_wait"(%[[R]], %[[C2]])
//  CHECK-NEXT:   linalg.add
//  CHECK-NEXT:   "sunway.dma_put"
//  CHECK-NEXT:   %[[C1:.*]] = arith.constant 1 : index
//  CHECK-NEXT:   "sunway.dma_wait"(%[[R]], %[[C1]])
//  CHECK-NEXT:   return
func.func @batched_waits(%x: memref<16xf32>, %y: memref<16xf32>, %z: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32, 2>
  %b = memref.alloc() : memref<16xf32, 2>
  %c = memref.alloc() : memref<16xf32, 2>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32, 2>
  memref.copy %y, %b : memref<16xf32> to memref<16xf32, 2>
  linalg.add ins(%a, %b : memref<16xf32, 2>, memref<16xf32, 2>) outs(%c : memref<16xf32, 2>)
  memref.copy %c, %z : memref<16xf32, 2> to memref<16xf32>
  return
}

// -----

// A pad built in LDM: the source tile comes in by DMA, is copied into the interior of the padded tile on the CPE
// (LDM to LDM: a linalg.copy, which becomes loops; no DMA) after the wait for the get, and the padded tile goes
// out whole.

// CHECK-LABEL: func.func @pad_in_ldm
//       CHECK:   "sunway.dma_get"(%{{[a-z0-9_]+}}, %[[SRC:[a-z0-9_]+]], %[[R:[a-z0-9_]+]]) : (memref<4x4xf32>, memref<4x4xf32, 2>
//       CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%[[P:[a-z0-9_]+]] : memref<6x6xf32, 2>)
//       CHECK:   %[[IN:[a-z0-9_]+]] = memref.subview %[[P]][1, 1] [4, 4] [1, 1]
//       CHECK:   "sunway.dma_wait"(%[[R]], %{{.*}})
//  CHECK-NEXT:   linalg.copy {{.*}}ins(%[[SRC]] : memref<4x4xf32, 2>) outs(%[[IN]] : memref<4x4xf32, strided<[6, 1], offset: 7>, 2>)
//  CHECK-NEXT:   "sunway.dma_put"(%[[P]], %{{.*}}, %[[R]])
//   CHECK-NOT:   memref.copy
func.func @pad_in_ldm(%a: memref<4x4xf32>, %b: memref<6x6xf32>) {
  %z = arith.constant 0.0 : f32
  %s = "sunway.ldm_alloc"() : () -> memref<4x4xf32, 2>
  memref.copy %a, %s : memref<4x4xf32> to memref<4x4xf32, 2>
  %p = "sunway.ldm_alloc"() : () -> memref<6x6xf32, 2>
  linalg.fill ins(%z : f32) outs(%p : memref<6x6xf32, 2>)
  %in = memref.subview %p[1, 1] [4, 4] [1, 1] : memref<6x6xf32, 2> to memref<4x4xf32, strided<[6, 1], offset: 7>, 2>
  memref.copy %s, %in : memref<4x4xf32, 2> to memref<4x4xf32, strided<[6, 1], offset: 7>, 2>
  memref.copy %p, %b : memref<6x6xf32, 2> to memref<6x6xf32>
  return
}
