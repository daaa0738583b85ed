// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls,canonicalize)" | FileCheck %s
// The LLVM IR with the rest of the host pipeline of the LLVM output (swmlir.pipeline.HOST_LLVM); llvm-as parses it.
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls,canonicalize, \
// RUN:   convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-arith-to-llvm,reconcile-unrealized-casts)" \
// RUN:   | mlir-translate --mlir-to-llvmir -o %t.ll
// RUN: FileCheck %s --check-prefix=LL < %t.ll
// RUN: llvm-as %t.ll -o /dev/null

// The host of a two-kernel model: the intermediate %t is arena bytes [0, 128) (the C host's memory plan), the
// argument slot of the launches follows at 128 (4 words: the arena is 160 bytes); the weights are the weights
// file's blocks at 0 (@w) and 128 (@b). A launch stores its words (addresses, the integer 7) in the slot and calls
// what athread_spawn(k, arg) expands to, __real_athread_spawn(slave_k, arg).

//       CHECK: module attributes {swmlir.arena_bytes = 160 : i64, swmlir.intermediate_bytes = 128 : i64, swmlir.weights_bytes = 256 : i64}
//   CHECK-DAG: func.func private @athread_init() -> i32
//   CHECK-DAG: func.func private @__real_athread_spawn(!llvm.ptr, !llvm.ptr) -> i32
//   CHECK-DAG: func.func private @swmlir_load_weights(!llvm.ptr, i64) -> !llvm.ptr
//   CHECK-DAG: llvm.func @slave_k0(!llvm.ptr)
//   CHECK-DAG: llvm.func @slave_k1(!llvm.ptr)
//   CHECK-DAG: llvm.mlir.global internal @swmlir_arena()
//   CHECK-DAG: llvm.mlir.global external constant @swmlir_input_bytes(dense<16> : tensor<1xi64>)
//   CHECK-DAG: llvm.mlir.global external constant @swmlir_output_bytes(dense<32> : tensor<1xi64>)
//   CHECK-NOT: memref.global
// CHECK-LABEL: func.func @swmlir_run(
//  CHECK-SAME:   %[[X:.*]]: !llvm.ptr, %[[Y:.*]]: !llvm.ptr)
//   CHECK-DAG:   %[[K1:.*]] = llvm.mlir.addressof @slave_k1
//   CHECK-DAG:   %[[K0:.*]] = llvm.mlir.addressof @slave_k0
//       CHECK:   %[[WB:.*]] = llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
//       CHECK:   %[[AB:.*]] = llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
//       CHECK:   %[[B:.*]] = llvm.getelementptr %[[WB]][128] : (!llvm.ptr) -> !llvm.ptr, i8
//       CHECK:   %[[SLOT:.*]] = llvm.getelementptr %[[AB]][128] : (!llvm.ptr) -> !llvm.ptr, i8
//       CHECK:   llvm.store %[[X]], %[[SLOT]]
//       CHECK:   %[[F1:.*]] = llvm.getelementptr %[[SLOT]][8]
//       CHECK:   llvm.store %[[WB]], %[[F1]]
//       CHECK:   %[[F2:.*]] = llvm.getelementptr %[[SLOT]][16]
//       CHECK:   llvm.store %[[AB]], %[[F2]]
//       CHECK:   %[[F3:.*]] = llvm.getelementptr %[[SLOT]][24]
//       CHECK:   llvm.store %c7_i64, %[[F3]] {alignment = 8 : i64} : i64, !llvm.ptr
//       CHECK:   call @__real_athread_spawn(%[[K0]], %[[SLOT]])
//       CHECK:   call @athread_join()
//       CHECK:   %[[ROW:.*]] = llvm.getelementptr %[[AB]][16]
//       CHECK:   llvm.store %[[ROW]], %{{.*}}
//       CHECK:   llvm.store %[[B]], %{{.*}}
//       CHECK:   llvm.store %[[Y]], %{{.*}}
//       CHECK:   call @__real_athread_spawn(%[[K1]], %{{.*}})
//       CHECK:   call @athread_join()
//       CHECK:   call @memcpy(%[[Y]], %[[AB]], %c32_i64)
//       CHECK:   return
// CHECK-LABEL: func.func @swmlir_init(
//  CHECK-SAME:   %[[PATH:.*]]: !llvm.ptr) -> i32
//       CHECK:   call @athread_init()
//       CHECK:   %[[W:.*]] = call @swmlir_load_weights(%[[PATH]], %c256_i64)
//       CHECK:   %[[A:.*]] = call @swmlir_alloc(%c160_i64)
//       CHECK:   call @swmlir_name_buffer(%[[A]],
// CHECK-LABEL: func.func @swmlir_run_packed
//       CHECK:   call @swmlir_run(
// CHECK-LABEL: func.func @swmlir_finalize()
//       CHECK:   call @swmlir_free(
//       CHECK:   call @swmlir_free(
//       CHECK:   call @athread_halt()

//       LL: @swmlir_input_bytes = constant [1 x i64] [i64 16]
//       LL: @swmlir_output_bytes = constant [1 x i64] [i64 32]
//       LL: declare i32 @__real_athread_spawn(ptr, ptr)
//       LL: declare void @slave_k0(ptr)
// LL-LABEL: define void @swmlir_run(ptr %0, ptr %1)
//       LL:   call i32 @__real_athread_spawn(ptr @slave_k0, ptr %{{.*}})
//       LL:   call i32 @athread_join()
//       LL:   call i32 @__real_athread_spawn(ptr @slave_k1, ptr %{{.*}})
//       LL:   call ptr @memcpy(ptr %1, ptr %{{.*}}, i64 32)
//       LL: define i32 @swmlir_init(ptr %0)
//       LL: define void @swmlir_run_packed(ptr %0, ptr %1)
//       LL: define void @swmlir_finalize()
memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
memref.global "private" constant @b : memref<2xf32> = dense<[5.0, 6.0]> {alignment = 64 : i64}
func.func @main(%x: memref<4xf32>, %y: memref<2x4xf32>) attributes {swmlir.num_inputs = 1 : i64} {
  %c7 = arith.constant 7 : index
  %w = memref.get_global @w : memref<4xf32>
  %b = memref.get_global @b : memref<2xf32>
  %t = memref.alloc() {alignment = 64 : i64} : memref<2x4xf32>
  %px = memref.extract_aligned_pointer_as_index %x : memref<4xf32> -> index
  %pw = memref.extract_aligned_pointer_as_index %w : memref<4xf32> -> index
  %pt = memref.extract_aligned_pointer_as_index %t : memref<2x4xf32> -> index
  "sunway.spawn"(%px, %pw, %pt, %c7) {kernel = @k0} : (index, index, index, index) -> ()
  "sunway.join"() : () -> ()
  %row = memref.subview %t[1, 0] [1, 4] [1, 1] : memref<2x4xf32> to memref<1x4xf32, strided<[4, 1], offset: 4>>
  %pr = memref.extract_aligned_pointer_as_index %row : memref<1x4xf32, strided<[4, 1], offset: 4>> -> index
  %pb = memref.extract_aligned_pointer_as_index %b : memref<2xf32> -> index
  %py = memref.extract_aligned_pointer_as_index %y : memref<2x4xf32> -> index
  "sunway.spawn"(%pr, %pb, %py) {kernel = @k1} : (index, index, index) -> ()
  "sunway.join"() : () -> ()
  memref.copy %t, %y : memref<2x4xf32> to memref<2x4xf32>
  memref.dealloc %t : memref<2x4xf32>
  return
}
