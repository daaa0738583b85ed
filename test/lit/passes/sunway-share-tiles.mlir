// RUN: swmlir-opt %s --split-input-file --sunway-share-tiles | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-share-tiles=target=sw26010pro | FileCheck %s --check-prefix=PRO
// RUN: swmlir-opt %s --split-input-file --sunway-double-buffer --sunway-share-tiles | FileCheck %s --check-prefix=DB

// A matmul's work-item loop: 128 items, item t computes rows 8*(t/16).. of the output with the 8x64 row panel of A
// (the same for 16 consecutive items, so for the 8 CPEs of every mesh row) and column block t%16 of B^T (different
// in every CPE of a row, and down a column too: rows r and r+2 share it, r and r+1 do not). A is fetched in eighths (one row of the panel per CPE, at its
// column position in the mesh) and gathered over the row; B is left alone. SW26010-Pro has no register
// communication: nothing changes there.

// CHECK-LABEL: func.func private @rows
//  CHECK-SAME:   sunway.shared_tiles = 1
//       CHECK:   scf.for %[[T:.*]] = %[[ID:.*]] to %c128 step %c64
//       CHECK:     %[[R:.*]] = "sunway.reply"()
//       CHECK:     %[[A:.*]] = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
//       CHECK:     %[[POS:.*]] = "sunway.cpe_col"()
//       CHECK:     %[[ROW:.*]] = arith.muli %[[POS]], %c1
//       CHECK:     %[[SRC:.*]] = memref.subview %{{.*}}[%[[ROW]], 0] [1, 64] [1, 1]
//       CHECK:     %[[DST:.*]] = memref.subview %[[A]][%[[ROW]], 0] [1, 64] [1, 1]
//       CHECK:     "sunway.dma_get"(%[[SRC]], %[[DST]], %[[R]])
//       CHECK:     %[[B:.*]] = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
//       CHECK:     "sunway.dma_get"(%{{.*}}, %[[B]], %[[R]]) : (memref<8x64xf32
//       CHECK:     "sunway.dma_wait"(%[[R]], %c2)
//  CHECK-NEXT:     "sunway.mesh_allgather"(%[[A]]) {axis = 0 : i64, dim = 0 : i64}
//  CHECK-NEXT:     "sunway.ldm_alloc"
//  CHECK-NEXT:     linalg.generic {{.*}} ins(%[[A]], %[[B]]
//       CHECK:     "sunway.dma_put"
//       CHECK:     "sunway.dma_wait"(%[[R]], %c1)
//   CHECK-NOT:     sunway.mesh_allgather
//       CHECK:   return

// PRO-LABEL: func.func private @rows
//   PRO-NOT:   sunway.mesh_allgather
//   PRO-NOT:   sunway.shared_tiles
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func private @rows(%A: memref<64x64xf32>, %BT: memref<128x64xf32>, %C: memref<64x128xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c128 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %m = arith.divsi %t, %c16 : index
    %n = arith.remsi %t, %c16 : index
    %m0 = arith.muli %m, %c8 : index
    %n0 = arith.muli %n, %c8 : index
    %va = memref.subview %A[%m0, 0] [8, 64] [1, 1] : memref<64x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    %vb = memref.subview %BT[%n0, 0] [8, 64] [1, 1] : memref<128x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
    %lb = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%vb, %lb, %r) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c2) : (memref<i32, 2>, index) -> ()
    %lc = "sunway.ldm_alloc"() : () -> memref<8x8xf32, 2>
    linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%la, %lb : memref<8x64xf32, 2>, memref<8x64xf32, 2>) outs(%lc : memref<8x8xf32, 2>) {
    ^bb0(%x: f32, %y: f32, %z: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %z, %p : f32
      linalg.yield %s : f32
    }
    %vc = memref.subview %C[%m0, %n0] [8, 8] [1, 1] : memref<64x128xf32> to memref<8x8xf32, strided<[128, 1], offset: ?>>
    "sunway.dma_put"(%lc, %vc, %r) : (memref<8x8xf32, 2>, memref<8x8xf32, strided<[128, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}

// -----

// A split-K loop inside the work-item loop (64 items, one per CPE: item t = 8 * row + column of the mesh owns
// output block (t / 8, t % 8)). At every step k the A tile depends on the row and k only, the B tile on the
// column and k only: A is gathered over the row, B over the column, each CPE fetching an eighth of both.

// CHECK-LABEL: func.func private @summa
//  CHECK-SAME:   sunway.shared_tiles = 2
//       CHECK:   scf.for
//       CHECK:     scf.for %[[K:.*]] =
//       CHECK:       "sunway.cpe_col"()
//       CHECK:       "sunway.dma_get"(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<1x32xf32
//       CHECK:       "sunway.cpe_row"()
//       CHECK:       "sunway.dma_get"(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<4x8xf32
//       CHECK:       "sunway.dma_wait"
//  CHECK-NEXT:       "sunway.mesh_allgather"(%{{.*}}) {axis = 0 : i64, dim = 0 : i64} : (memref<8x32xf32, 2>)
//  CHECK-NEXT:       "sunway.mesh_allgather"(%{{.*}}) {axis = 1 : i64, dim = 0 : i64} : (memref<32x8xf32, 2>)
//  CHECK-NEXT:       linalg.generic

// Double-buffered first (as the pipeline runs them): every get of the prologue, the loop and the epilogue is
// sliced, and each wait is followed by the gathers of the buffers its reply word completes.
// DB-LABEL: func.func private @summa
//  DB-SAME:   sunway.double_buffered = 8
//  DB-SAME:   sunway.shared_tiles = 8
//       DB:   "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R0:.*]]) : (memref<1x32xf32
//       DB:   "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R0]]) : (memref<4x8xf32
//       DB:   scf.for
//       DB:     "sunway.dma_get"(%{{.*}}, %[[A1:[^,]*]], %[[R1:.*]]) : (memref<1x32xf32
//       DB:     "sunway.dma_get"(%{{.*}}, %{{.*}}, %[[R1]]) : (memref<4x8xf32
//       DB:     "sunway.dma_wait"(%[[R0]]
//  DB-NEXT:     "sunway.mesh_allgather"({{.*}}) {axis = 0
//  DB-NEXT:     "sunway.mesh_allgather"({{.*}}) {axis = 1
//  DB-NEXT:     linalg.generic
//       DB:     "sunway.dma_wait"(%[[R1]]
//  DB-NEXT:     "sunway.mesh_allgather"({{.*}}) {axis = 0
//  DB-NEXT:     "sunway.mesh_allgather"({{.*}}) {axis = 1
//  DB-NEXT:     linalg.generic
//       DB:   }
//       DB:   "sunway.dma_wait"(%[[R0]]
//  DB-NEXT:   "sunway.mesh_allgather"
//  DB-NEXT:   "sunway.mesh_allgather"
//       DB:   "sunway.dma_wait"(%[[R1]]
//  DB-NEXT:   "sunway.mesh_allgather"
//  DB-NEXT:   "sunway.mesh_allgather"
func.func private @summa(%A: memref<64x256xf32>, %B: memref<256x64xf32>, %C: memref<64x64xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c64 step %c64 {
    %m = arith.divsi %t, %c8 : index
    %n = arith.remsi %t, %c8 : index
    %m0 = arith.muli %m, %c8 : index
    %n0 = arith.muli %n, %c8 : index
    %lc = "sunway.ldm_alloc"() : () -> memref<8x8xf32, 2>
    scf.for %k = %c0 to %c256 step %c32 {
      %r = "sunway.reply"() : () -> memref<i32, 2>
      %va = memref.subview %A[%m0, %k] [8, 32] [1, 1] : memref<64x256xf32> to memref<8x32xf32, strided<[256, 1], offset: ?>>
      %la = "sunway.ldm_alloc"() : () -> memref<8x32xf32, 2>
      "sunway.dma_get"(%va, %la, %r) : (memref<8x32xf32, strided<[256, 1], offset: ?>>, memref<8x32xf32, 2>, memref<i32, 2>) -> ()
      %vb = memref.subview %B[%k, %n0] [32, 8] [1, 1] : memref<256x64xf32> to memref<32x8xf32, strided<[64, 1], offset: ?>>
      %lb = "sunway.ldm_alloc"() : () -> memref<32x8xf32, 2>
      "sunway.dma_get"(%vb, %lb, %r) : (memref<32x8xf32, strided<[64, 1], offset: ?>>, memref<32x8xf32, 2>, memref<i32, 2>) -> ()
      "sunway.dma_wait"(%r, %c2) : (memref<i32, 2>, index) -> ()
      linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%la, %lb : memref<8x32xf32, 2>, memref<32x8xf32, 2>) outs(%lc : memref<8x8xf32, 2>) {
      ^bb0(%x: f32, %y: f32, %z: f32):
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %z, %p : f32
        linalg.yield %s : f32
      }
    }
    %vc = memref.subview %C[%m0, %n0] [8, 8] [1, 1] : memref<64x64xf32> to memref<8x8xf32, strided<[64, 1], offset: ?>>
    "sunway.dma_put"(%lc, %vc, %lc) : (memref<8x8xf32, 2>, memref<8x8xf32, strided<[64, 1], offset: ?>>, memref<8x8xf32, 2>) -> ()
  }
  return
}

// -----

// Left alone: every CPE of a row needs a different tile (the address moves with the column position).

// CHECK-LABEL: func.func private @private_tiles
//   CHECK-NOT:   sunway.mesh_allgather
//   CHECK-NOT:   sunway.shared_tiles
func.func private @private_tiles(%A: memref<512x64xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c64 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %m0 = arith.muli %t, %c8 : index
    %va = memref.subview %A[%m0, 0] [8, 64] [1, 1] : memref<512x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
    %la = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
    "sunway.dma_get"(%va, %la, %r) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}
