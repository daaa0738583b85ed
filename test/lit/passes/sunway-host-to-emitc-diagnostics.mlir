// The refusals of sunway-host-to-emitc are error diagnostics on the op they are about (the -re forms and the
// @above / @+N designators of mlir-opt's --verify-diagnostics).
// RUN: swmlir-opt %s --split-input-file --verify-diagnostics --sunway-host-to-emitc -o /dev/null
// An error nobody expected fails the check, naming it:
// RUN: not swmlir-opt %S/sunway-host-to-emitc-invalid.mlir --split-input-file --verify-diagnostics \
// RUN:   --sunway-host-to-emitc -o /dev/null 2>&1 | FileCheck %s
// CHECK: sunway-host-to-emitc-invalid.mlir:7:3: error: unexpected error: [emit] memref.copy: strided copy on the host

func.func @main(%x: memref<4x8xf32>, %y: memref<4x4xf32>) {
  %v = memref.subview %x[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  memref.copy %v, %y : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
  // expected-error@above {{strided copy on the host (should have been a kernel)}}
  return
}

// -----

// The C API has one entry point: the error is on the second function.
func.func @main(%x: memref<4xf32>) {
  return
}
// expected-error-re@+1 {{expected one host function, found {{[0-9]+}}}}
func.func @other(%x: memref<4xf32>) {
  return
}

// -----

memref.global "private" @g : memref<4xf32>
func.func @main(%x: memref<4xf32>) {
  %g = memref.get_global @g : memref<4xf32> // expected-error {{global g has no initial value}}
  memref.copy %g, %x : memref<4xf32> to memref<4xf32>
  return
}
