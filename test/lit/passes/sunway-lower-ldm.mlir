// RUN: swmlir-opt %s --split-input-file --sunway-lower-ldm | FileCheck %s

// An allocation in memory space 2 (the LDM) becomes sunway.ldm_alloc of the same type; its uses follow.

// CHECK-LABEL: func.func @alloc
//       CHECK:   %[[BUF:.*]] = "sunway.ldm_alloc"() : () -> memref<1x128xf32, 2>
//   CHECK-NOT:   memref.alloc
//       CHECK:   linalg.generic
//  CHECK-SAME:     outs(%[[BUF]] : memref<1x128xf32, 2>)
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @alloc(%cst: f32) {
  %buf = memref.alloc() {alignment = 64 : i64} : memref<1x128xf32, 2>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%cst : f32) outs(%buf : memref<1x128xf32, 2>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// An alloca in the LDM too.

// CHECK-LABEL: func.func @alloca
//       CHECK:   %[[BUF:.*]] = "sunway.ldm_alloc"() : () -> memref<16x16xf64, 2>
//   CHECK-NOT:   memref.alloca
//       CHECK:   memref.store %{{.*}}, %[[BUF]][%{{.*}}, %{{.*}}] : memref<16x16xf64, 2>
func.func @alloca(%v: f64, %i: index) {
  %buf = memref.alloca() : memref<16x16xf64, 2>
  memref.store %v, %buf[%i, %i] : memref<16x16xf64, 2>
  return
}

// -----

// Main-memory allocations (default memory space) are not touched.

// CHECK-LABEL: func.func @main_memory
//       CHECK:   memref.alloc() {alignment = 64 : i64} : memref<64x64xf32>
//       CHECK:   memref.alloca() : memref<4xf32, 1>
//   CHECK-NOT:   sunway.ldm_alloc
func.func @main_memory() -> (memref<64x64xf32>, memref<4xf32, 1>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<64x64xf32>
  %b = memref.alloca() : memref<4xf32, 1>
  return %a, %b : memref<64x64xf32>, memref<4xf32, 1>
}

// -----

// An LDM buffer lives as long as the kernel: its deallocation is dropped (a main-memory one is kept).

// CHECK-LABEL: func.func @dealloc
//       CHECK:   %[[M:.*]] = memref.alloc() : memref<8xf32>
//       CHECK:   %[[L:.*]] = "sunway.ldm_alloc"() : () -> memref<8xf32, 2>
//       CHECK:   memref.copy %[[M]], %[[L]]
//   CHECK-NOT:   memref.dealloc %[[L]]
//       CHECK:   memref.dealloc %[[M]] : memref<8xf32>
//   CHECK-NOT:   memref.dealloc
//       CHECK:   return
func.func @dealloc() {
  %m = memref.alloc() : memref<8xf32>
  %l = memref.alloc() : memref<8xf32, 2>
  memref.copy %m, %l : memref<8xf32> to memref<8xf32, 2>
  memref.dealloc %l : memref<8xf32, 2>
  memref.dealloc %m : memref<8xf32>
  return
}
