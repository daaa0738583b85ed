// RUN: not swmlir-opt %s --split-input-file --sunway-outline-kernels 2>&1 | FileCheck %s

// A kernel's arguments are words of the athread argument struct (addresses and integers): a float computed on
// the host cannot be passed.
// CHECK: error: [lower] scf.forall: kernel scalar_k0_copy captures a value of type f32
func.func @scalar(%x: f32, %out: memref<4xf32>) {
  scf.forall (%i) in (4) {
    memref.store %x, %out[%i] : memref<4xf32>
  }
  return
}

// -----

// A strided view that is not made by a view op of the function (here: a function argument) cannot be rebuilt
// inside the kernel from a bare address.
// CHECK: error: [lower] scf.forall: kernel strided_k0_copy would receive the strided view memref<4xf32, strided<[2]>>
func.func @strided(%v: memref<4xf32, strided<[2]>>) {
  scf.forall (%i) in (4) {
    %c = arith.constant 1.0 : f32
    memref.store %c, %v[%i] : memref<4xf32, strided<[2]>>
  }
  return
}
