// RUN: swmlir-opt %s --sunway-unroll-latency-bound | FileCheck %s

// A ReLU over an LDM tile: each iteration is one chain load -> max -> store (4 + 7 cycles before the store can
// issue) for 2 LDM accesses and the loop's 2 instructions. Unrolled by 4, four independent chains share one
// body (issue 13 cycles against a path of 13); the copies' offsets are folded.
// CHECK-LABEL: func.func private @relu
//       CHECK:   scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c4
//       CHECK:     memref.load %{{.*}}[%[[I]]]
//       CHECK:     arith.maximumf
//       CHECK:     memref.store
//       CHECK:     %[[I1:.*]] = arith.addi %[[I]], %c1
//       CHECK:     memref.load %{{.*}}[%[[I1]]]
// CHECK-COUNT-2:   arith.maximumf
//   CHECK-NOT:   swmlir.unroll
func.func private @relu(%a: memref<64xf32, 2>, %b: memref<64xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %a[%i] : memref<64xf32, 2>
    %y = arith.maximumf %x, %zero : f32
    memref.store %y, %b[%i] : memref<64xf32, 2>
  }
  return
}

// A running sum in LDM (the chain goes through the loop's iterations) and a loop with an odd trip count are left
// alone, as is a loop outside a kernel.
// CHECK-LABEL: func.func private @running_sum
//       CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
//   CHECK-NOT:   step %c2
// CHECK-LABEL: func.func private @odd
//       CHECK:   step %c1
// CHECK-LABEL: func.func @host
//       CHECK:   step %c1
func.func private @running_sum(%a: memref<64xf32, 2>, %s: memref<1xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %a[%i] : memref<64xf32, 2>
    %o = memref.load %s[%c0] : memref<1xf32, 2>
    %y = arith.addf %x, %o : f32
    memref.store %y, %s[%c0] : memref<1xf32, 2>
  }
  return
}
func.func private @odd(%a: memref<7xf32, 2>, %b: memref<7xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c7 step %c1 {
    %x = memref.load %a[%i] : memref<7xf32, 2>
    %y = arith.maximumf %x, %zero : f32
    memref.store %y, %b[%i] : memref<7xf32, 2>
  }
  return
}
func.func @host(%a: memref<64xf32>, %b: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %a[%i] : memref<64xf32>
    %y = arith.maximumf %x, %zero : f32
    memref.store %y, %b[%i] : memref<64xf32>
  }
  return
}
