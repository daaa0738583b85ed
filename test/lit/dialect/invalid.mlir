// The IRDL verifier of the sunway ops, through swmlir-opt: an invalid op is reported and the tool exits 1.
// RUN: not swmlir-opt %s --split-input-file 2>&1 | FileCheck %s

// CHECK: error: {{.*}}expected base type 'builtin.memref' but got 'builtin.f32'
// CHECK-NEXT: see current operation: "sunway.dma_get"
func.func @get_from_a_scalar(%f: f32, %l: memref<4xf32, 2>, %r: memref<i32, 2>) {
  "sunway.dma_get"(%f, %l, %r) : (f32, memref<4xf32, 2>, memref<i32, 2>) -> ()
  return
}

// -----

// CHECK: error: {{.*}}expected base type 'builtin.memref' but got 'builtin.tensor'
// CHECK-NEXT: see current operation: "sunway.dma_put"
func.func @put_a_tensor(%t: tensor<4xf32>, %m: memref<4xf32>, %r: memref<i32, 2>) {
  "sunway.dma_put"(%t, %m, %r) : (tensor<4xf32>, memref<4xf32>, memref<i32, 2>) -> ()
  return
}

// -----

// CHECK: error: {{.*}}expected 'index' but got 'i32'
// CHECK-NEXT: see current operation: "sunway.dma_wait"
func.func @wait_count_not_index(%r: memref<i32, 2>, %n: i32) {
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, i32) -> ()
  return
}

// -----

// CHECK: error: {{.*}}expected 'index' but got 'i32'
// CHECK-NEXT: see current operation: %0 = "sunway.cpe_id"
func.func @cpe_id_not_index() {
  %0 = "sunway.cpe_id"() : () -> i32
  return
}

// -----

// Spawn arguments are index words (buffer addresses), not memrefs.
// CHECK: error: {{.*}}expected 'index' but got 'memref<4xf32>'
// CHECK-NEXT: see current operation: "sunway.spawn"
func.func @spawn_with_a_memref(%m: memref<4xf32>) {
  "sunway.spawn"(%m) {kernel = @k} : (memref<4xf32>) -> ()
  return
}

// -----

// CHECK: error: {{.*}}'sunway.spawn' op attribute "kernel" is expected but not provided
func.func @spawn_without_kernel(%a: index) {
  "sunway.spawn"(%a) : (index) -> ()
  return
}

// -----

// CHECK: error: {{.*}}op expects exactly 0 operands, but got 1
// CHECK-NEXT: see current operation: "sunway.join"
func.func @join_with_operand(%a: index) {
  "sunway.join"(%a) : (index) -> ()
  return
}

// -----

// CHECK: error: {{.*}}expected base type 'builtin.memref' but got 'builtin.tensor'
// CHECK-NEXT: see current operation: %0 = "sunway.ldm_alloc"
func.func @ldm_alloc_of_a_tensor() {
  %0 = "sunway.ldm_alloc"() : () -> tensor<4xf32>
  return
}
