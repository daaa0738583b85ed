// RUN: swmlir-opt %s --sunway-unroll-microkernel | FileCheck %s

// A 4x16 register block over a K step of 32 (MatMul 512's micro-kernel): per k 16 vector FMAs on P0 and 12 P1
// slots (4 broadcast loads of A, 4 unaligned vector loads of B at 2 slots), so 4 P1 slots idle per iteration.
// The 16 accumulator loads before the loop take 32 slots: the first 8 iterations are peeled into their block;
// the 16 stores after it: the last 8 into theirs. The loop keeps iterations 8..24.
// CHECK-LABEL: func.func private @peeled
// CHECK-COUNT-16: vector.load %arg2
// CHECK-COUNT-128: vector.fma
//       CHECK:   scf.for %{{.*}} = %{{.*}} to %c24 step %c1
// CHECK-COUNT-16:   vector.fma
//       CHECK:     scf.yield
// CHECK-COUNT-128: vector.fma
// CHECK-COUNT-16: vector.store
//       CHECK:   return

// The same block over a K step of 8: 8 + 8 iterations cover the loop, which is unrolled whole.
// CHECK-LABEL: func.func private @whole
//   CHECK-NOT:   scf.for
// CHECK-COUNT-128: vector.fma
//   CHECK-NOT:   scf.for
//       CHECK:   return

// One row of 4 vectors: 4 FMAs against 9 P1 slots per k, no idle slot to fill: left alone.
// CHECK-LABEL: func.func private @no_idle_slots
//       CHECK:   scf.for
// CHECK-COUNT-4:   vector.fma
//   CHECK-NOT:   vector.fma
//       CHECK:   return

func.func private @peeled(%a: memref<4x32xf32, 2>, %b: memref<32x16xf32, 2>, %c: memref<4x16xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %cT = arith.constant 32 : index
  %acc00 = vector.load %c[%c0, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc01 = vector.load %c[%c0, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc02 = vector.load %c[%c0, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc03 = vector.load %c[%c0, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc10 = vector.load %c[%c1, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc11 = vector.load %c[%c1, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc12 = vector.load %c[%c1, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc13 = vector.load %c[%c1, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc20 = vector.load %c[%c2, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc21 = vector.load %c[%c2, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc22 = vector.load %c[%c2, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc23 = vector.load %c[%c2, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc30 = vector.load %c[%c3, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc31 = vector.load %c[%c3, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc32 = vector.load %c[%c3, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc33 = vector.load %c[%c3, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %res:16 = scf.for %k = %c0 to %cT step %c1 iter_args(%s00 = %acc00, %s01 = %acc01, %s02 = %acc02, %s03 = %acc03, %s10 = %acc10, %s11 = %acc11, %s12 = %acc12, %s13 = %acc13, %s20 = %acc20, %s21 = %acc21, %s22 = %acc22, %s23 = %acc23, %s30 = %acc30, %s31 = %acc31, %s32 = %acc32, %s33 = %acc33) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
    %b0 = vector.load %b[%k, %c0] : memref<32x16xf32, 2>, vector<4xf32>
    %b1 = vector.load %b[%k, %c4] : memref<32x16xf32, 2>, vector<4xf32>
    %b2 = vector.load %b[%k, %c8] : memref<32x16xf32, 2>, vector<4xf32>
    %b3 = vector.load %b[%k, %c12] : memref<32x16xf32, 2>, vector<4xf32>
    %x0 = memref.load %a[%c0, %k] : memref<4x32xf32, 2>
    %v0 = vector.broadcast %x0 : f32 to vector<4xf32>
    %f00 = vector.fma %v0, %b0, %s00 : vector<4xf32>
    %f01 = vector.fma %v0, %b1, %s01 : vector<4xf32>
    %f02 = vector.fma %v0, %b2, %s02 : vector<4xf32>
    %f03 = vector.fma %v0, %b3, %s03 : vector<4xf32>
    %x1 = memref.load %a[%c1, %k] : memref<4x32xf32, 2>
    %v1 = vector.broadcast %x1 : f32 to vector<4xf32>
    %f10 = vector.fma %v1, %b0, %s10 : vector<4xf32>
    %f11 = vector.fma %v1, %b1, %s11 : vector<4xf32>
    %f12 = vector.fma %v1, %b2, %s12 : vector<4xf32>
    %f13 = vector.fma %v1, %b3, %s13 : vector<4xf32>
    %x2 = memref.load %a[%c2, %k] : memref<4x32xf32, 2>
    %v2 = vector.broadcast %x2 : f32 to vector<4xf32>
    %f20 = vector.fma %v2, %b0, %s20 : vector<4xf32>
    %f21 = vector.fma %v2, %b1, %s21 : vector<4xf32>
    %f22 = vector.fma %v2, %b2, %s22 : vector<4xf32>
    %f23 = vector.fma %v2, %b3, %s23 : vector<4xf32>
    %x3 = memref.load %a[%c3, %k] : memref<4x32xf32, 2>
    %v3 = vector.broadcast %x3 : f32 to vector<4xf32>
    %f30 = vector.fma %v3, %b0, %s30 : vector<4xf32>
    %f31 = vector.fma %v3, %b1, %s31 : vector<4xf32>
    %f32 = vector.fma %v3, %b2, %s32 : vector<4xf32>
    %f33 = vector.fma %v3, %b3, %s33 : vector<4xf32>
    scf.yield %f00, %f01, %f02, %f03, %f10, %f11, %f12, %f13, %f20, %f21, %f22, %f23, %f30, %f31, %f32, %f33 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
  }
  vector.store %res#0, %c[%c0, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#1, %c[%c0, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#2, %c[%c0, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#3, %c[%c0, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#4, %c[%c1, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#5, %c[%c1, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#6, %c[%c1, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#7, %c[%c1, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#8, %c[%c2, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#9, %c[%c2, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#10, %c[%c2, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#11, %c[%c2, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#12, %c[%c3, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#13, %c[%c3, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#14, %c[%c3, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#15, %c[%c3, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  return
}

func.func private @whole(%a: memref<4x8xf32, 2>, %b: memref<8x16xf32, 2>, %c: memref<4x16xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %cT = arith.constant 8 : index
  %acc00 = vector.load %c[%c0, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc01 = vector.load %c[%c0, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc02 = vector.load %c[%c0, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc03 = vector.load %c[%c0, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc10 = vector.load %c[%c1, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc11 = vector.load %c[%c1, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc12 = vector.load %c[%c1, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc13 = vector.load %c[%c1, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc20 = vector.load %c[%c2, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc21 = vector.load %c[%c2, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc22 = vector.load %c[%c2, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc23 = vector.load %c[%c2, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %acc30 = vector.load %c[%c3, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  %acc31 = vector.load %c[%c3, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  %acc32 = vector.load %c[%c3, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  %acc33 = vector.load %c[%c3, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  %res:16 = scf.for %k = %c0 to %cT step %c1 iter_args(%s00 = %acc00, %s01 = %acc01, %s02 = %acc02, %s03 = %acc03, %s10 = %acc10, %s11 = %acc11, %s12 = %acc12, %s13 = %acc13, %s20 = %acc20, %s21 = %acc21, %s22 = %acc22, %s23 = %acc23, %s30 = %acc30, %s31 = %acc31, %s32 = %acc32, %s33 = %acc33) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
    %b0 = vector.load %b[%k, %c0] : memref<8x16xf32, 2>, vector<4xf32>
    %b1 = vector.load %b[%k, %c4] : memref<8x16xf32, 2>, vector<4xf32>
    %b2 = vector.load %b[%k, %c8] : memref<8x16xf32, 2>, vector<4xf32>
    %b3 = vector.load %b[%k, %c12] : memref<8x16xf32, 2>, vector<4xf32>
    %x0 = memref.load %a[%c0, %k] : memref<4x8xf32, 2>
    %v0 = vector.broadcast %x0 : f32 to vector<4xf32>
    %f00 = vector.fma %v0, %b0, %s00 : vector<4xf32>
    %f01 = vector.fma %v0, %b1, %s01 : vector<4xf32>
    %f02 = vector.fma %v0, %b2, %s02 : vector<4xf32>
    %f03 = vector.fma %v0, %b3, %s03 : vector<4xf32>
    %x1 = memref.load %a[%c1, %k] : memref<4x8xf32, 2>
    %v1 = vector.broadcast %x1 : f32 to vector<4xf32>
    %f10 = vector.fma %v1, %b0, %s10 : vector<4xf32>
    %f11 = vector.fma %v1, %b1, %s11 : vector<4xf32>
    %f12 = vector.fma %v1, %b2, %s12 : vector<4xf32>
    %f13 = vector.fma %v1, %b3, %s13 : vector<4xf32>
    %x2 = memref.load %a[%c2, %k] : memref<4x8xf32, 2>
    %v2 = vector.broadcast %x2 : f32 to vector<4xf32>
    %f20 = vector.fma %v2, %b0, %s20 : vector<4xf32>
    %f21 = vector.fma %v2, %b1, %s21 : vector<4xf32>
    %f22 = vector.fma %v2, %b2, %s22 : vector<4xf32>
    %f23 = vector.fma %v2, %b3, %s23 : vector<4xf32>
    %x3 = memref.load %a[%c3, %k] : memref<4x8xf32, 2>
    %v3 = vector.broadcast %x3 : f32 to vector<4xf32>
    %f30 = vector.fma %v3, %b0, %s30 : vector<4xf32>
    %f31 = vector.fma %v3, %b1, %s31 : vector<4xf32>
    %f32 = vector.fma %v3, %b2, %s32 : vector<4xf32>
    %f33 = vector.fma %v3, %b3, %s33 : vector<4xf32>
    scf.yield %f00, %f01, %f02, %f03, %f10, %f11, %f12, %f13, %f20, %f21, %f22, %f23, %f30, %f31, %f32, %f33 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
  }
  vector.store %res#0, %c[%c0, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#1, %c[%c0, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#2, %c[%c0, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#3, %c[%c0, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#4, %c[%c1, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#5, %c[%c1, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#6, %c[%c1, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#7, %c[%c1, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#8, %c[%c2, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#9, %c[%c2, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#10, %c[%c2, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#11, %c[%c2, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#12, %c[%c3, %c0] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#13, %c[%c3, %c4] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#14, %c[%c3, %c8] : memref<4x16xf32, 2>, vector<4xf32>
  vector.store %res#15, %c[%c3, %c12] : memref<4x16xf32, 2>, vector<4xf32>
  return
}

func.func private @no_idle_slots(%a: memref<1x32xf32, 2>, %b: memref<32x16xf32, 2>, %c: memref<1x16xf32, 2>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %cT = arith.constant 32 : index
  %acc0 = vector.load %c[%c0, %c0] : memref<1x16xf32, 2>, vector<4xf32>
  %acc1 = vector.load %c[%c0, %c4] : memref<1x16xf32, 2>, vector<4xf32>
  %acc2 = vector.load %c[%c0, %c8] : memref<1x16xf32, 2>, vector<4xf32>
  %acc3 = vector.load %c[%c0, %c12] : memref<1x16xf32, 2>, vector<4xf32>
  %res:4 = scf.for %k = %c0 to %cT step %c1 iter_args(%s0 = %acc0, %s1 = %acc1, %s2 = %acc2, %s3 = %acc3) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
    %b0 = vector.load %b[%k, %c0] : memref<32x16xf32, 2>, vector<4xf32>
    %b1 = vector.load %b[%k, %c4] : memref<32x16xf32, 2>, vector<4xf32>
    %b2 = vector.load %b[%k, %c8] : memref<32x16xf32, 2>, vector<4xf32>
    %b3 = vector.load %b[%k, %c12] : memref<32x16xf32, 2>, vector<4xf32>
    %x = memref.load %a[%c0, %k] : memref<1x32xf32, 2>
    %v = vector.broadcast %x : f32 to vector<4xf32>
    %f0 = vector.fma %v, %b0, %s0 : vector<4xf32>
    %f1 = vector.fma %v, %b1, %s1 : vector<4xf32>
    %f2 = vector.fma %v, %b2, %s2 : vector<4xf32>
    %f3 = vector.fma %v, %b3, %s3 : vector<4xf32>
    scf.yield %f0, %f1, %f2, %f3 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
  }
  vector.store %res#0, %c[%c0, %c0] : memref<1x16xf32, 2>, vector<4xf32>
  vector.store %res#1, %c[%c0, %c4] : memref<1x16xf32, 2>, vector<4xf32>
  vector.store %res#2, %c[%c0, %c8] : memref<1x16xf32, 2>, vector<4xf32>
  vector.store %res#3, %c[%c0, %c12] : memref<1x16xf32, 2>, vector<4xf32>
  return
}
