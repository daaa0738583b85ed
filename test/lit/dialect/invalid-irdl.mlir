// The same verifier in upstream mlir-opt loading the IRDL file (upstream style: expected-error).
// RUN: mlir-opt --irdl-file=%irdl %s --split-input-file --verify-diagnostics

func.func @get_from_a_scalar(%f: f32, %l: memref<4xf32, 2>, %r: memref<i32, 2>) {
  // expected-error @below {{expected base type 'builtin.memref' but got 'builtin.f32'}}
  "sunway.dma_get"(%f, %l, %r) : (f32, memref<4xf32, 2>, memref<i32, 2>) -> ()
  return
}

// -----

func.func @wait_count_not_index(%r: memref<i32, 2>, %n: i64) {
  // expected-error @below {{expected 'index' but got 'i64'}}
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, i64) -> ()
  return
}

// -----

func.func @cpe_col_not_index() {
  // expected-error @below {{expected 'index' but got 'i32'}}
  %0 = "sunway.cpe_col"() : () -> i32
  return
}

// -----

func.func @reply_not_memref() {
  // expected-error @below {{expected base type 'builtin.memref' but got 'builtin.integer'}}
  %0 = "sunway.reply"() : () -> i32
  return
}

// -----

func.func @spawn_with_f32(%x: f32) {
  // expected-error @below {{expected 'index' but got 'f32'}}
  "sunway.spawn"(%x) {kernel = @k} : (f32) -> ()
  return
}

// -----

func.func @spawn_kernel_not_a_symbol(%a: index) {
  // expected-error @below {{expected base attribute 'builtin.symbol_ref' but got 'builtin.string'}}
  "sunway.spawn"(%a) {kernel = "k"} : (index) -> ()
  return
}

// -----

func.func @barrier_with_result() {
  // expected-error @below {{op expects exactly 0 results, but got 1}}
  %0 = "sunway.barrier"() : () -> index
  return
}
