// RUN: not swmlir-opt %s --sunway-lower-ldm 2>&1 | FileCheck %s

// LDM buffers are static: a dynamic shape is an error, not a silent heap allocation.
// CHECK: error: [lower] memref.alloc: LDM buffer of dynamic shape memref<?x16xf32, 2>: LDM buffers must be static
func.func @dynamic(%n: index) {
  %l = memref.alloc(%n) : memref<?x16xf32, 2>
  return
}
