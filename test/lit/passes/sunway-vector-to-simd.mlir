// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-vector-to-simd)" | FileCheck %s
// The C it becomes (the SIMD helpers of swmlir_slave.h on floatv4):
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-vector-to-simd, convert-to-emitc, \
// RUN:   reconcile-unrealized-casts, canonicalize)" | mlir-translate --mlir-to-cpp | FileCheck %s --check-prefix=C

// A micro-kernel: accumulators carried by a loop become floatv4 values; loads, broadcasts, FMAs, stores and
// horizontal sums become helper calls on element addresses of the LDM arrays. A broadcast of a load used
// nowhere else is one load_splat (simd_loade); a loaded value that is used again is loaded, then splat.

// CHECK-LABEL: func.func private @kernel
//       CHECK:   emitc.call_opaque "swmlir_f4_splat"
//       CHECK:   scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (!emitc.opaque<"floatv4">)
//       CHECK:     emitc.call_opaque "swmlir_f4_load"({{.*}}) : (!emitc.ptr<f32>) -> !emitc.opaque<"floatv4">
//       CHECK:     emitc.call_opaque "swmlir_f4_load_splat"({{.*}}) : (!emitc.ptr<f32>) -> !emitc.opaque<"floatv4">
//       CHECK:     memref.load
//       CHECK:     emitc.call_opaque "swmlir_f4_splat"({{.*}}) : (f32) -> !emitc.opaque<"floatv4">
//       CHECK:     emitc.call_opaque "swmlir_f4_fma"
//       CHECK:     scf.yield {{.*}} : !emitc.opaque<"floatv4">
//       CHECK:   emitc.call_opaque "swmlir_f4_store"
//       CHECK:   emitc.call_opaque "swmlir_f4_sum"({{.*}}) : (!emitc.opaque<"floatv4">) -> f32
//   CHECK-NOT:   vector.

//       C: floatv4 [[ZERO:v[0-9]+]] = swmlir_f4_splat(0.0f);
//       C: for (size_t
//       C:   floatv4 [[X:v[0-9]+]] = swmlir_f4_load(
//       C:   floatv4 [[B:v[0-9]+]] = swmlir_f4_load_splat(
//       C:   floatv4 [[S:v[0-9]+]] = swmlir_f4_splat(
//       C:   floatv4 [[P:v[0-9]+]] = swmlir_f4_fma([[X]], [[B]],
//       C:   floatv4 {{v[0-9]+}} = swmlir_f4_fma([[X]], [[S]], [[P]])
//       C: swmlir_f4_store(
//       C: float {{v[0-9]+}} = swmlir_f4_sum(
// A splat constant with no digits (the -inf padding of a max pool) is written with math.h's INFINITY, as EmitC
// writes scalar ones.
//       C: swmlir_f4_splat((-INFINITY))
func.func private @kernel(%a: memref<16xf32>, %s: memref<4xf32>, %o: memref<4xf32>, %r: memref<1xf32>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %acc = scf.for %i = %c0 to %c16 step %c4 iter_args(%v = %zero) -> (vector<4xf32>) {
    %x = vector.load %a[%i] : memref<16xf32>, vector<4xf32>
    %e = memref.load %s[%c0] : memref<4xf32>
    %b = vector.broadcast %e : f32 to vector<4xf32>
    %e1 = memref.load %s[%c1] : memref<4xf32>
    memref.store %e1, %s[%c0] : memref<4xf32>
    %b1 = vector.broadcast %e1 : f32 to vector<4xf32>
    %p = vector.fma %x, %b, %v : vector<4xf32>
    %n = vector.fma %x, %b1, %p : vector<4xf32>
    scf.yield %n : vector<4xf32>
  }
  vector.store %acc, %o[%c0] : memref<4xf32>, vector<4xf32>
  %t = vector.reduction <add>, %acc : vector<4xf32> into f32
  memref.store %t, %r[%c0] : memref<1xf32>
  %ninf = arith.constant dense<0xFF800000> : vector<4xf32>
  vector.store %ninf, %o[%c0] : memref<4xf32>, vector<4xf32>
  return
}
