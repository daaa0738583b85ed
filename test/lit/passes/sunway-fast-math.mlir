// RUN: swmlir-opt %s --sunway-fast-math | FileCheck %s

// A softmax's normalization: the row sum is loaded inside the column loop from an element the loop neither
// moves nor writes; its reciprocal is computed once before the loop and the loop multiplies. A division by a
// constant multiplies by the rounded reciprocal (1/3). exp becomes the range-reduced polynomial with 2^n built
// in the exponent bits; erf the clamped odd polynomial. No libm call and no division is left in the loop.
// CHECK-LABEL: func.func private @softmax_row
//       CHECK:   %[[S:.*]] = memref.load %arg1[%{{.*}}]
//       CHECK:   %[[R:.*]] = arith.divf %{{.*}}, %[[S]]
//       CHECK:   scf.for
//   CHECK-NOT:     arith.divf
//   CHECK-NOT:     math.exp
//       CHECK:     arith.fptosi
//       CHECK:     arith.shli
//       CHECK:     arith.bitcast %{{.*}} : i32 to f32
//       CHECK:     arith.mulf %{{.*}}, %[[R]]
//   CHECK-NOT:     math.erf
//       CHECK:     arith.mulf %{{.*}}, %cst{{.*}} : f32
//       CHECK:     memref.store
// CHECK-LABEL: func.func @host
//       CHECK:   math.exp
//       CHECK:   arith.divf
func.func private @softmax_row(%x: memref<64xf32, 2>, %sum: memref<1xf32, 2>, %y: memref<64xf32, 2>, %z: memref<64xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %three = arith.constant 3.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    %v = memref.load %x[%i] : memref<64xf32, 2>
    %e = math.exp %v : f32
    %s = memref.load %sum[%c0] : memref<1xf32, 2>
    %q = arith.divf %e, %s : f32
    memref.store %q, %y[%i] : memref<64xf32, 2>
    %f = math.erf %v : f32
    %t = arith.divf %f, %three : f32
    memref.store %t, %z[%i] : memref<64xf32, 2>
  }
  return
}
func.func @host(%a: f32, %b: f32) -> f32 {
  %e = math.exp %a : f32
  %q = arith.divf %e, %b : f32
  return %q : f32
}

// A quantization, round(x / scale) + zero point: one ulp of a reciprocal could move the quotient across a
// rounding boundary, so the division stays; a division by 2 (an exact reciprocal) still multiplies.
// CHECK-LABEL: func.func private @quantize
//       CHECK:   scf.for
//       CHECK:     arith.divf %{{.*}}, %{{.*}} : f32
//       CHECK:     math.roundeven
//       CHECK:     arith.mulf %{{.*}}, %cst{{.*}} : f32
//   CHECK-NOT:     arith.divf
func.func private @quantize(%x: memref<64xf32, 2>, %scale: memref<1xf32, 2>, %y: memref<64xf32, 2>, %z: memref<64xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zp = arith.constant 3.0 : f32
  %two = arith.constant 2.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    %v = memref.load %x[%i] : memref<64xf32, 2>
    %s = memref.load %scale[%c0] : memref<1xf32, 2>
    %q = arith.divf %v, %s : f32
    %r = math.roundeven %q : f32
    %o = arith.addf %r, %zp : f32
    memref.store %o, %y[%i] : memref<64xf32, 2>
    %h = arith.divf %v, %two : f32
    %hr = math.roundeven %h : f32
    memref.store %hr, %z[%i] : memref<64xf32, 2>
  }
  return
}
