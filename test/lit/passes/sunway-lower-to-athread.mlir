// RUN: swmlir-opt %s --split-input-file --sunway-lower-to-athread | FileCheck %s
// The C it becomes, with the rest of the kernel emission pipeline (swmlir.pipeline.KERNEL_EMIT):
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-lower-to-athread, convert-math-to-emitc{language-target=c99}, \
// RUN:   convert-to-emitc, reconcile-unrealized-casts, canonicalize)" | mlir-translate --mlir-to-cpp | FileCheck %s --check-prefix=C

// A contiguous view is one request: len = 128 floats = 512 bytes, stride = bsize = 0. The LDM buffer becomes a
// local array (the CPE stack is in the LDM), registered with its bytes by swmlir_ldm_array (swmlir_slave.h: the
// emulator's record of the LDM buffer, nothing on the machine), the reply word a volatile int, the CPE id
// athread_get_id(-1).
// athread_get(mode, main, ldm, len, reply, mask, stride, bsize); athread_put(mode, ldm, main, len, reply, stride, bsize).

// CHECK-LABEL: func.func private @contiguous
//   CHECK-NOT:   "sunway.
//       CHECK:   %[[ID32:.*]] = emitc.call_opaque "athread_get_id"() {args = [-1 : i32]} : () -> i32
//       CHECK:   %[[ID:.*]] = arith.index_cast %[[ID32]] : i32 to index
//       CHECK:   %[[RV:.*]] = "emitc.variable"() <{value = #emitc.opaque<"0">}> : () -> !emitc.lvalue<!emitc.opaque<"volatile int">>
//       CHECK:   %[[R:.*]] = emitc.address_of %[[RV]]
//       CHECK:   %[[L:.*]] = memref.alloca() : memref<1x128xf32>
//  CHECK-NEXT:   %[[LA:.*]] = builtin.unrealized_conversion_cast %[[L]] : memref<1x128xf32> to !emitc.array<1x128xf32>
//  CHECK-NEXT:   emitc.call_opaque "swmlir_ldm_array"(%[[LA]]) {args = [0 : index, #emitc.opaque<"512">]}
//       CHECK:   arith.muli %[[ID]], %{{.*}} : index
//       CHECK:   emitc.call_opaque "athread_get"(%{{.*}}, %{{.*}}, %{{.*}}) {args = [#emitc.opaque<"PE_MODE">, 0 : index, 1 : index, #emitc.opaque<"512">, 2 : index, #emitc.opaque<"0">, #emitc.opaque<"0">, #emitc.opaque<"0">]}
//       CHECK:   emitc.call_opaque "swmlir_dma_wait"(%[[R]]) {args = [0 : index, #emitc.opaque<"1">]}
//       CHECK:   emitc.call_opaque "athread_put"(%{{.*}}, %{{.*}}, %{{.*}}) {args = [#emitc.opaque<"PE_MODE">, 0 : index, 1 : index, #emitc.opaque<"512">, 2 : index, #emitc.opaque<"0">, #emitc.opaque<"0">]}
//       CHECK:   emitc.call_opaque "swmlir_dma_wait"(%[[R]]) {args = [0 : index, #emitc.opaque<"1">]}
//   CHECK-NOT:   "sunway.
//       CHECK:   return

// C-LABEL: static void contiguous(
//  C-SAME:   float [[A:v[0-9]+]][64][128])
//       C:   int32_t {{v[0-9]+}} = athread_get_id(-1);
//       C:   volatile int [[R:v[0-9]+]] = 0;
//       C:   volatile int* [[RP:v[0-9]+]] = &[[R]];
//       C:   float [[L:v[0-9]+]][1][128];
//  C-NEXT:   swmlir_ldm_array([[L]], 512);
//       C:   float* [[A0:v[0-9]+]] = &[[A]][{{.*}}];
//       C:   float* [[MAIN:v[0-9]+]] = [[A0]] + {{v[0-9]+}};
//       C:   float* [[L0:v[0-9]+]] = &[[L]][{{.*}}];
//       C:   float* [[LDM:v[0-9]+]] = [[L0]] + {{v[0-9]+}};
//       C:   void* [[RV:v[0-9]+]] = (void*) [[RP]];
//       C:   athread_get(PE_MODE, [[MAIN]], [[LDM]], 512, [[RV]], 0, 0, 0);
//  C-NEXT:   swmlir_dma_wait([[RP]], 1);
//       C:   athread_put(PE_MODE, {{v[0-9]+}}, {{v[0-9]+}}, 512, {{v[0-9]+}}, 0, 0);
//  C-NEXT:   swmlir_dma_wait([[RP]], 1);
func.func private @contiguous(%a: memref<64x128xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %id = "sunway.cpe_id"() : () -> index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<1x128xf32, 2>
  %v = memref.subview %a[%id, 0] [1, 128] [1, 1] : memref<64x128xf32> to memref<1x128xf32, strided<[128, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<1x128xf32, strided<[128, 1], offset: ?>>, memref<1x128xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  "sunway.dma_put"(%l, %v, %r) : (memref<1x128xf32, 2>, memref<1x128xf32, strided<[128, 1], offset: ?>>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// A 2-D tile of a matrix is one strided request: 8 rows of 16 floats, len = 512 bytes, bsize = 64 bytes per row,
// stride = (64 - 16) * 4 = 192 bytes skipped between rows. Its first element is at i * 64 + 16.

// CHECK-LABEL: func.func private @strided_2d
//  CHECK-SAME:   (%[[A:.*]]: memref<64x64xf32>, %[[I:.*]]: index)
//       CHECK:   %[[C64:.*]] = arith.constant 64 : index
//       CHECK:   %[[ROW:.*]] = arith.muli %[[I]], %[[C64]] : index
//       CHECK:   %[[R0:.*]] = arith.addi %{{.*}}, %[[ROW]] : index
//       CHECK:   %[[C16:.*]] = arith.constant 16 : index
//       CHECK:   %[[OFF:.*]] = arith.addi %[[R0]], %[[C16]] : index
//       CHECK:   %[[ARR:.*]] = builtin.unrealized_conversion_cast %[[A]] : memref<64x64xf32> to !emitc.array<64x64xf32>
//       CHECK:   %[[E:.*]] = emitc.subscript %[[ARR]]
//       CHECK:   %[[BASE:.*]] = emitc.address_of %[[E]]
//       CHECK:   %[[OFF64:.*]] = arith.index_cast %[[OFF]] : index to i64
//       CHECK:   %[[MAIN:.*]] = emitc.add %[[BASE]], %[[OFF64]] : (!emitc.ptr<f32>, i64) -> !emitc.ptr<f32>
//       CHECK:   emitc.call_opaque "athread_get"(%[[MAIN]], %{{.*}}, %{{.*}}) {args = [#emitc.opaque<"PE_MODE">, 0 : index, 1 : index, #emitc.opaque<"512">, 2 : index, #emitc.opaque<"0">, #emitc.opaque<"192">, #emitc.opaque<"64">]}
//       CHECK:   emitc.call_opaque "swmlir_dma_wait"(%{{.*}}) {args = [0 : index, #emitc.opaque<"1">]}

// C-LABEL: static void strided_2d(
//       C:   athread_get(PE_MODE, {{v[0-9]+}}, {{v[0-9]+}}, 512, {{v[0-9]+}}, 0, 192, 64);
func.func private @strided_2d(%a: memref<64x64xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  %v = memref.subview %a[%i, 16] [8, 16] [1, 1] : memref<64x64xf32> to memref<8x16xf32, strided<[64, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<8x16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// A column: no contiguous run, so blocks of one element: 100 blocks of 4 bytes, 36 bytes skipped between them.

// CHECK-LABEL: func.func private @column
//       CHECK:   emitc.call_opaque "athread_get"{{.*}}#emitc.opaque<"400">, 2 : index, #emitc.opaque<"0">, #emitc.opaque<"36">, #emitc.opaque<"4">]}

// C-LABEL: static void column(
//       C:   athread_get(PE_MODE, {{v[0-9]+}}, {{v[0-9]+}}, 400, {{v[0-9]+}}, 0, 36, 4);
func.func private @column(%a: memref<100x10xf32>, %j: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<100x1xf32, 2>
  %v = memref.subview %a[0, %j] [100, 1] [1, 1] : memref<100x10xf32> to memref<100x1xf32, strided<[10, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<100x1xf32, strided<[10, 1], offset: ?>>, memref<100x1xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// A 3-D box that is strided in two levels needs a loop of requests: 2 requests of 3 rows x 4 floats
// (len 48, bsize 16, stride (8 - 4) * 4 = 16), the main address advancing by 64 floats and the LDM address by
// 12 floats per request. The wait then counts 2 replies.

// CHECK-LABEL: func.func private @box_3d
//  CHECK-SAME:   (%[[A:.*]]: memref<4x8x8xf32>, %[[I:.*]]: index)
//       CHECK:   %[[L:.*]] = memref.alloca() : memref<2x3x4xf32>
//       CHECK:   %[[C2:.*]] = arith.constant 2 : index
//       CHECK:   scf.for %[[K:.*]] = %{{.*}} to %[[C2]] step %{{.*}} {
//       CHECK:     %[[C64:.*]] = arith.constant 64 : index
//       CHECK:     arith.muli %[[K]], %[[C64]] : index
//       CHECK:     %[[C12:.*]] = arith.constant 12 : index
//       CHECK:     arith.muli %[[K]], %[[C12]] : index
//       CHECK:     emitc.call_opaque "athread_get"{{.*}}#emitc.opaque<"48">, 2 : index, #emitc.opaque<"0">, #emitc.opaque<"16">, #emitc.opaque<"16">]}
//  CHECK-NEXT:   }
//  CHECK-NEXT:   emitc.call_opaque "swmlir_dma_wait"(%{{.*}}) {args = [0 : index, #emitc.opaque<"2">]}

// C-LABEL: static void box_3d(
//       C:   float [[L:v[0-9]+]][2][3][4];
//  C-NEXT:   swmlir_ldm_array([[L]], 96);
//       C:   for (size_t [[K:i[0-9]+]] = {{v[0-9]+}}; [[K]] < {{v[0-9]+}}; [[K]] += {{v[0-9]+}}) {
//       C:     athread_get(PE_MODE, {{v[0-9]+}}, {{v[0-9]+}}, 48, {{v[0-9]+}}, 0, 16, 16);
//  C-NEXT:   }
//  C-NEXT:   swmlir_dma_wait({{v[0-9]+}}, 2);
func.func private @box_3d(%a: memref<4x8x8xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<2x3x4xf32, 2>
  %v = memref.subview %a[%i, 2, 4] [2, 3, 4] [1, 1, 1] : memref<4x8x8xf32> to memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>, memref<2x3x4xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// The wait counts the requests issued on its reply word since the previous wait (its count operand is
// recomputed): two gets, then one wait for 2.

// CHECK-LABEL: func.func private @two_gets_one_wait
//       CHECK:   emitc.call_opaque "athread_get"
//       CHECK:   emitc.call_opaque "athread_get"
//       CHECK:   emitc.call_opaque "swmlir_dma_wait"(%{{.*}}) {args = [0 : index, #emitc.opaque<"2">]}

// C-LABEL: static void two_gets_one_wait(
//       C:   athread_get(
//       C:   athread_get(
//       C:   swmlir_dma_wait({{v[0-9]+}}, 2);
func.func private @two_gets_one_wait(%a: memref<16xf32>, %b: memref<16xf32>) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %la = "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
  %lb = "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
  "sunway.dma_get"(%a, %la, %r) : (memref<16xf32>, memref<16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_get"(%b, %lb, %r) : (memref<16xf32>, memref<16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// A barrier of the whole core group.

// CHECK-LABEL: func.func private @barrier
//       CHECK:   emitc.call_opaque "athread_syn"() {args = [#emitc.opaque<"ARRAY_SCOPE">, #emitc.opaque<"0xffff">]}
//   CHECK-NOT:   sunway.barrier

// C-LABEL: static void barrier(
//       C:   athread_syn(ARRAY_SCOPE, 0xffff);
func.func private @barrier() attributes {sunway.kernel} {
  "sunway.barrier"() : () -> ()
  return
}

// -----

// Scalar float math in kernels becomes C99 libm calls (f suffix for f32); rsqrt is 1 / sqrt.

// CHECK-LABEL: func.func private @libm
//  CHECK-SAME:   (%[[X:.*]]: f32, %[[Y:.*]]: f64
//   CHECK-NOT:   math.
//       CHECK:   %[[E:.*]] = emitc.call_opaque "expf"(%[[X]]) : (f32) -> f32
//       CHECK:   %[[T:.*]] = emitc.call_opaque "tanhf"(%[[X]]) : (f32) -> f32
//       CHECK:   %[[S:.*]] = emitc.call_opaque "sqrtf"(%[[X]]) : (f32) -> f32
//       CHECK:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
//       CHECK:   %[[R:.*]] = arith.divf %[[ONE]], %[[S]] : f32
//       CHECK:   %[[L:.*]] = emitc.call_opaque "log"(%[[Y]]) : (f64) -> f64
//   CHECK-NOT:   math.

// C-LABEL: static void libm(
//       C:   expf(
//       C:   tanhf(
//       C:   sqrtf(
//       C:   log(
func.func private @libm(%x: f32, %y: f64, %out: memref<3xf32>, %out64: memref<1xf64>) attributes {sunway.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.rsqrt %x : f32
  %l = math.log %y : f64
  memref.store %e, %out[%c0] : memref<3xf32>
  memref.store %t, %out[%c1] : memref<3xf32>
  memref.store %r, %out[%c2] : memref<3xf32>
  memref.store %l, %out64[%c0] : memref<1xf64>
  return
}
