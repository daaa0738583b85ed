// Round trip of every sunway op: parsed and printed by swmlir-opt (the dialect loaded from Python) and by
// upstream mlir-opt with the same IRDL file. IRDL ops have no custom syntax: they print in generic form.
// RUN: swmlir-opt %s | FileCheck %s
// RUN: mlir-opt --irdl-file=%irdl %s | FileCheck %s
// Text printed by one tool parses in the other.
// RUN: swmlir-opt %s | mlir-opt --irdl-file=%irdl | FileCheck %s
// RUN: mlir-opt --irdl-file=%irdl %s | swmlir-opt | FileCheck %s
// Without the IRDL file upstream mlir-opt does not know the dialect.
// RUN: not mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOREG
// NOREG: operation being parsed with an unregistered dialect

// CHECK-LABEL: func.func @host
//  CHECK-SAME:   (%[[A:.*]]: memref<64x64xf32>, %[[N:.*]]: index)
//       CHECK:   %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
//       CHECK:   "sunway.spawn"(%[[P]], %[[N]]) {kernel = @kernel} : (index, index) -> ()
//       CHECK:   "sunway.spawn"() {kernel = @no_args} : () -> ()
//       CHECK:   "sunway.join"() : () -> ()
func.func @host(%a: memref<64x64xf32>, %n: index) {
  %p = memref.extract_aligned_pointer_as_index %a : memref<64x64xf32> -> index
  "sunway.spawn"(%p, %n) {kernel = @kernel} : (index, index) -> ()
  "sunway.spawn"() {kernel = @no_args} : () -> ()
  "sunway.join"() : () -> ()
  return
}

// CHECK-LABEL: func.func @ids
//       CHECK:   %{{.*}} = "sunway.cpe_id"() : () -> index
//       CHECK:   %{{.*}} = "sunway.cpe_row"() : () -> index
//       CHECK:   %{{.*}} = "sunway.cpe_col"() : () -> index
//       CHECK:   "sunway.barrier"() : () -> ()
func.func @ids() -> (index, index, index) {
  %id = "sunway.cpe_id"() : () -> index
  %row = "sunway.cpe_row"() : () -> index
  %col = "sunway.cpe_col"() : () -> index
  "sunway.barrier"() : () -> ()
  return %id, %row, %col : index, index, index
}

// CHECK-LABEL: func.func @dma
//  CHECK-SAME:   (%[[SRC:.*]]: memref<64x64xf32>, %[[OFF:.*]]: index)
//       CHECK:   %[[R:.*]] = "sunway.reply"() : () -> memref<i32, 2>
//       CHECK:   %[[BUF:.*]] = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
//       CHECK:   %[[V:.*]] = memref.subview %[[SRC]][%[[OFF]], 0] [8, 64] [1, 1]
//       CHECK:   "sunway.dma_get"(%[[V]], %[[BUF]], %[[R]]) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
//       CHECK:   %[[C1:.*]] = arith.constant 1 : index
//       CHECK:   "sunway.dma_wait"(%[[R]], %[[C1]]) : (memref<i32, 2>, index) -> ()
//       CHECK:   "sunway.dma_put"(%[[BUF]], %[[V]], %[[R]]) : (memref<8x64xf32, 2>, memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
//       CHECK:   "sunway.dma_wait"(%[[R]], %[[C1]]) : (memref<i32, 2>, index) -> ()
func.func @dma(%src: memref<64x64xf32>, %off: index) {
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x64xf32, 2>
  %v = memref.subview %src[%off, 0] [8, 64] [1, 1] : memref<64x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
  "sunway.dma_get"(%v, %buf, %r) : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<8x64xf32, 2>, memref<i32, 2>) -> ()
  %c1 = arith.constant 1 : index
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  "sunway.dma_put"(%buf, %v, %r) : (memref<8x64xf32, 2>, memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// IRDL ops have no side-effect information: an unused op is not dead code for canonicalize.
// RUN: swmlir-opt %s --canonicalize | FileCheck %s --check-prefix=KEEP
// KEEP-LABEL: func.func @unused
//       KEEP:   "sunway.cpe_row"() : () -> index
//       KEEP:   "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
func.func @unused() {
  %row = "sunway.cpe_row"() : () -> index
  %buf = "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
  return
}
