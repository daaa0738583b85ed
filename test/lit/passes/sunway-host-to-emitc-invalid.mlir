// RUN: not swmlir-opt %s --split-input-file --sunway-host-to-emitc 2>&1 | FileCheck %s

// The host only copies whole contiguous buffers (memcpy); a strided copy should have been a kernel.
// CHECK: error: [emit] memref.copy: strided copy on the host (should have been a kernel)
func.func @main(%x: memref<4x8xf32>, %y: memref<4x4xf32>) {
  %v = memref.subview %x[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  memref.copy %v, %y : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
  return
}

// -----

// The C API has one entry point.
// CHECK: error: [emit]: expected one host function, found 2
func.func @main(%x: memref<4xf32>) {
  return
}
func.func @other(%x: memref<4xf32>) {
  return
}

// -----

// A buffer without data cannot be placed in the weights file.
// CHECK: error: [emit] memref.get_global: global g has no initial value
memref.global "private" @g : memref<4xf32>
func.func @main(%x: memref<4xf32>) {
  %g = memref.get_global @g : memref<4xf32>
  memref.copy %g, %x : memref<4xf32> to memref<4xf32>
  return
}
