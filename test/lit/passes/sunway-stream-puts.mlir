// RUN: swmlir-opt %s --sunway-stream-puts | FileCheck %s

// An output tile of 8 rows written by two nests (the micro-kernel's full blocks and its remainder columns), both
// walking the rows by 4 with accesses at rows iv + 0..3: each outer loop is split at row 4, the first halves
// run, rows 0..3 are put, the second halves run beside that DMA, rows 4..7 are put, one wait.
// CHECK-LABEL: func.func private @tile
//       CHECK:   %[[DST:.*]] = memref.subview %arg1
//       CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c4
//       CHECK:     vector.store
//       CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c4
//       CHECK:     memref.store
//       CHECK:   %[[A:.*]] = memref.subview %[[BUF:.*]][0, 0] [4, 16] [1, 1]
//       CHECK:   %[[B:.*]] = memref.subview %[[DST]][0, 0] [4, 16] [1, 1]
//       CHECK:   "sunway.dma_put"(%[[A]], %[[B]], %{{.*}}) {sunway.streamed}
//       CHECK:   scf.for %{{.*}} = %c4{{.*}} to %c8 step %c4
//       CHECK:     vector.store
//       CHECK:   scf.for %{{.*}} = %c4{{.*}} to %c8 step %c4
//       CHECK:     memref.store
//       CHECK:   %[[C:.*]] = memref.subview %[[BUF]][4, 0] [4, 16] [1, 1]
//       CHECK:   %[[D:.*]] = memref.subview %[[DST]][4, 0] [4, 16] [1, 1]
//       CHECK:   "sunway.dma_put"(%[[C]], %[[D]], %{{.*}}) {sunway.streamed}
//   CHECK-NOT:   sunway.dma_put
//       CHECK:   "sunway.dma_wait"
func.func private @tile(%a: memref<8x16xf32, 2>, %out: memref<64x16xf32>, %row: index) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %c16 = arith.constant 16 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  scf.for %i = %c0 to %c8 step %c4 {
    %i1 = arith.addi %i, %c1 : index
    scf.for %j = %c0 to %c12 step %c4 {
      %x = vector.load %a[%i, %j] : memref<8x16xf32, 2>, vector<4xf32>
      %y = vector.load %a[%i1, %j] : memref<8x16xf32, 2>, vector<4xf32>
      vector.store %x, %buf[%i, %j] : memref<8x16xf32, 2>, vector<4xf32>
      vector.store %y, %buf[%i1, %j] : memref<8x16xf32, 2>, vector<4xf32>
    }
  }
  scf.for %i = %c0 to %c8 step %c4 {
    %i3 = arith.addi %i, %c3 : index
    scf.for %j = %c12 to %c16 step %c1 {
      %x = memref.load %a[%i3, %j] : memref<8x16xf32, 2>
      memref.store %x, %buf[%i3, %j] : memref<8x16xf32, 2>
    }
  }
  %dst = memref.subview %out[%row, 0] [8, 16] [1, 1] : memref<64x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
  "sunway.dma_put"(%buf, %dst, %r) : (memref<8x16xf32, 2>, memref<8x16xf32, strided<[16, 1], offset: ?>>, memref<i32, 2>) -> ()
  %n = arith.constant 1 : index
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, index) -> ()
  return
}

// Left alone: a nest that also stores into another buffer, and a nest whose accesses to the tile move two
// dimensions with its outer loop.
// CHECK-LABEL: func.func private @stores_elsewhere
//       CHECK:   scf.for %{{.*}} = %c0 to %c8 step %c4
//       CHECK:   "sunway.dma_put"(%{{.*}}, %{{.*}}, %{{.*}}) :
//   CHECK-NOT:   sunway.streamed
// CHECK-LABEL: func.func private @diagonal
//   CHECK-NOT:   sunway.streamed
func.func private @stores_elsewhere(%a: memref<8x16xf32, 2>, %s: memref<8x16xf32, 2>, %out: memref<8x16xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  scf.for %i = %c0 to %c8 step %c4 {
    %x = vector.load %a[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    vector.store %x, %buf[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    vector.store %x, %s[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
  }
  "sunway.dma_put"(%buf, %out, %r) : (memref<8x16xf32, 2>, memref<8x16xf32>, memref<i32, 2>) -> ()
  %n = arith.constant 1 : index
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, index) -> ()
  return
}
func.func private @diagonal(%a: memref<8x16xf32, 2>, %out: memref<8x16xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  scf.for %i = %c0 to %c8 step %c4 {
    %x = vector.load %a[%i, %i] : memref<8x16xf32, 2>, vector<4xf32>
    vector.store %x, %buf[%i, %i] : memref<8x16xf32, 2>, vector<4xf32>
  }
  "sunway.dma_put"(%buf, %out, %r) : (memref<8x16xf32, 2>, memref<8x16xf32>, memref<i32, 2>) -> ()
  %n = arith.constant 1 : index
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, index) -> ()
  return
}

// An epilogue's operand fetched between the micro-kernel and the epilogue (a bias: its LDM buffer, get and wait)
// moves before the nests, which the micro-kernel does not read; then both nests are split.
// CHECK-LABEL: func.func private @epilogue_fetch
//       CHECK:   "sunway.ldm_alloc"() : () -> memref<8xf32, 2>
//       CHECK:   "sunway.dma_get"
//       CHECK:   "sunway.dma_wait"
//       CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c4
//       CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c4
//       CHECK:   "sunway.dma_put"({{.*}}) {sunway.streamed}
//       CHECK:   scf.for %{{.*}} = %c4{{.*}} to %c8 step %c4
//       CHECK:   scf.for %{{.*}} = %c4{{.*}} to %c8 step %c4
//       CHECK:   "sunway.dma_put"({{.*}}) {sunway.streamed}
func.func private @epilogue_fetch(%a: memref<8x16xf32, 2>, %bias: memref<8xf32>, %out: memref<8x16xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  scf.for %i = %c0 to %c8 step %c4 {
    %x = vector.load %a[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    vector.store %x, %buf[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
  }
  %b = "sunway.ldm_alloc"() : () -> memref<8xf32, 2>
  "sunway.dma_get"(%bias, %b, %r) : (memref<8xf32>, memref<8xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  scf.for %i = %c0 to %c8 step %c4 {
    %x = memref.load %buf[%i, %c0] : memref<8x16xf32, 2>
    %y = memref.load %b[%i] : memref<8xf32, 2>
    %z = arith.addf %x, %y : f32
    memref.store %z, %buf[%i, %c0] : memref<8x16xf32, 2>
  }
  "sunway.dma_put"(%buf, %out, %r) : (memref<8x16xf32, 2>, memref<8x16xf32>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// A fetch into a tile that an earlier nest reads (through a view) does not move before that nest: the chain
// stops there, and only the last nest is split.
// CHECK-LABEL: func.func private @fetch_into_a_tile_read_before
//       CHECK:   scf.for %{{.*}} = %c0 to %c8 step %c4
//       CHECK:   "sunway.dma_get"
//       CHECK:   "sunway.dma_wait"
//       CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c4
//       CHECK:   "sunway.dma_put"({{.*}}) {sunway.streamed}
//       CHECK:   scf.for %{{.*}} = %c4{{.*}} to %c8 step %c4
//       CHECK:   "sunway.dma_put"({{.*}}) {sunway.streamed}
func.func private @fetch_into_a_tile_read_before(%src: memref<8x16xf32>, %out: memref<8x16xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %t = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  %tv = memref.subview %t[0, 0] [8, 16] [1, 1] : memref<8x16xf32, 2> to memref<8x16xf32, strided<[16, 1]>, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  scf.for %i = %c0 to %c8 step %c4 {
    %x = vector.load %tv[%i, %c0] : memref<8x16xf32, strided<[16, 1]>, 2>, vector<4xf32>
    vector.store %x, %buf[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
  }
  "sunway.dma_get"(%src, %t, %r) : (memref<8x16xf32>, memref<8x16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  scf.for %i = %c0 to %c8 step %c4 {
    %x = vector.load %t[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    %y = vector.load %buf[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    %z = arith.addf %x, %y : vector<4xf32>
    vector.store %z, %buf[%i, %c0] : memref<8x16xf32, 2>, vector<4xf32>
  }
  "sunway.dma_put"(%buf, %out, %r) : (memref<8x16xf32, 2>, memref<8x16xf32>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}
