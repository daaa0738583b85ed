// RUN: swmlir-opt %s --split-input-file --sunway-gather-put-rows | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-gather-put-rows=target=sw26010pro | FileCheck %s --check-prefix=PRO

// A 512x512 GEMM's output: CPE (r, p) puts its 64x64 tile at rows 64r, columns 64p -- 64 blocks of 256 bytes. The
// 8 tiles of a mesh row are 64 whole rows of 2 KB, so the CPE at position p gathers rows 8p.. of all 8 tiles by
// register communication and puts them as whole rows: two strips of 4 rows (8 KB, one contiguous block each; the
// strip is what fits beside the kernel's 46 KB of buffers), each gathered, put and waited for in turn.
// SW26010-Pro has no register communication: nothing changes there.

// CHECK-LABEL: func.func private @gemm_out
//  CHECK-SAME:   sunway.gathered_puts = 1
//       CHECK:   scf.for %[[T:.*]] = %[[ID:.*]] to %c64 step %c64
//       CHECK:     %[[TILE:.*]] = "sunway.ldm_alloc"() : () -> memref<64x64xf32, 2>
//       CHECK:     %[[STRIP:.*]] = "sunway.ldm_alloc"() : () -> memref<4x512xf32, 2>
//       CHECK:     %[[POS:.*]] = "sunway.cpe_col"()
//       CHECK:     %[[R8:.*]] = arith.muli %[[POS]], %c8{{.*}}
//       CHECK:     %[[ROW:.*]] = arith.addi %[[M0:.*]], %[[R8]]
//       CHECK:     %[[W:.*]] = arith.muli %[[POS]], %c64{{.*}}
//       CHECK:     %[[COL:.*]] = arith.subi %[[N0:.*]], %[[W]]
//       CHECK:     "sunway.mesh_gather_rows"(%[[TILE]], %[[STRIP]]) {first = 0 : i64}
//       CHECK:     %[[V0:.*]] = memref.subview %{{.*}}[%[[ROW]], %[[COL]]] [4, 512] [1, 1]
//       CHECK:     "sunway.dma_put"(%[[STRIP]], %[[V0]], %[[R:[0-9]+]])
//       CHECK:     "sunway.dma_wait"(%[[R]], %c1{{.*}})
//       CHECK:     "sunway.mesh_gather_rows"(%[[TILE]], %[[STRIP]]) {first = 4 : i64}
//       CHECK:     %[[ROW4:.*]] = arith.addi %[[ROW]], %c4
//       CHECK:     %[[V1:.*]] = memref.subview %{{.*}}[%[[ROW4]], %[[COL]]] [4, 512] [1, 1]
//       CHECK:     "sunway.dma_put"(%[[STRIP]], %[[V1]], %[[R]])
//       CHECK:     "sunway.dma_wait"(%[[R]], %c1{{.*}})
//   CHECK-NOT:     "sunway.dma_put"
//       CHECK:   return

// PRO-LABEL: func.func private @gemm_out
//   PRO-NOT:   sunway.mesh_gather_rows
//       PRO:   "sunway.dma_put"(%{{.*}}) : (memref<64x64xf32, 2>
//   PRO-NOT:   sunway.gathered_puts
func.func private @gemm_out(%C: memref<512x512xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %cst = arith.constant 0.0 : f32
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c64 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %m = arith.divsi %t, %c8 : index
    %n = arith.remsi %t, %c8 : index
    %m0 = arith.muli %m, %c64 : index
    %n0 = arith.muli %n, %c64 : index
    %tile = "sunway.ldm_alloc"() : () -> memref<64x64xf32, 2>
    %a = "sunway.ldm_alloc"() : () -> memref<2x64x32xf32, 2>
    %b = "sunway.ldm_alloc"() : () -> memref<2x32x56xf32, 2>
    linalg.fill ins(%cst : f32) outs(%tile : memref<64x64xf32, 2>)
    %v = memref.subview %C[%m0, %n0] [64, 64] [1, 1] : memref<512x512xf32> to memref<64x64xf32, strided<[512, 1], offset: ?>>
    "sunway.dma_put"(%tile, %v, %r) : (memref<64x64xf32, 2>, memref<64x64xf32, strided<[512, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}

// -----

// Tiles of one mesh row that are not side by side (item t puts at columns 64 * (t / 8): the same place for the
// whole row) are left alone.

// CHECK-LABEL: func.func private @not_side_by_side
//   CHECK-NOT:   sunway.mesh_gather_rows
//       CHECK:   "sunway.dma_put"(%{{.*}}) : (memref<64x64xf32, 2>
func.func private @not_side_by_side(%C: memref<512x512xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %id = "sunway.cpe_id"() : () -> index
  scf.for %t = %id to %c64 step %c64 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %m = arith.divsi %t, %c8 : index
    %n0 = arith.muli %m, %c64 : index
    %tile = "sunway.ldm_alloc"() : () -> memref<64x64xf32, 2>
    %v = memref.subview %C[0, %n0] [64, 64] [1, 1] : memref<512x512xf32> to memref<64x64xf32, strided<[512, 1], offset: ?>>
    "sunway.dma_put"(%tile, %v, %r) : (memref<64x64xf32, 2>, memref<64x64xf32, strided<[512, 1], offset: ?>>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  }
  return
}
