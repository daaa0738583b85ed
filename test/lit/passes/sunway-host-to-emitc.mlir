// RUN: swmlir-opt %s --split-input-file --sunway-host-to-emitc | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-host-to-emitc \
// RUN:   | mlir-translate --split-input-file --mlir-to-cpp | FileCheck %s --check-prefix=C
// RUN: swmlir-opt %s --split-input-file --sunway-host-to-emitc=num-inputs=0 | FileCheck %s --check-prefix=NOIN

// The host function of a model: two constant buffers (weights), three buffers of intermediate results, two
// kernel launches, a copy between buffers and the copy of the result into the output argument.
//   arena:   %a 128 B at 0 (dead after the copy), %c 64 B at 128 (offsets are 128-byte aligned), %b 40 B at 0
//            (it lives from the second launch on, when %a is dead): 256 bytes
//   weights: @w0 12 B at 0, @w1 16 B at 128: 256 bytes

// CHECK-LABEL: module attributes
//  CHECK-SAME:   swmlir.arena_bytes = 256 : i64
//  CHECK-SAME:   swmlir.weights_bytes = 256 : i64
// CHECK-DAG: emitc.include <"athread.h">
// CHECK-DAG: emitc.include <"string.h">
// CHECK-DAG: emitc.include "swmlir_runtime.h"
// CHECK-DAG: emitc.global static @swmlir_weights : !emitc.ptr<!emitc.opaque<"char">> = #emitc.opaque<"NULL">
// CHECK-DAG: emitc.global static @swmlir_arena : !emitc.ptr<!emitc.opaque<"char">> = #emitc.opaque<"NULL">
// CHECK-NOT: func.func
// CHECK-NOT: memref.global
// CHECK-LABEL: emitc.func @swmlir_run
//  CHECK-SAME:   (%[[X:.*]]: !emitc.ptr<!emitc.opaque<"void">>, %[[Y:.*]]: !emitc.ptr<!emitc.opaque<"void">>)
// its input count, which model.h's declaration is written from (run_signature):
//  CHECK-SAME:   attributes {swmlir.num_inputs = 1 : i64}
//   CHECK-NOT:   memref.
//   CHECK-NOT:   "sunway.
//       CHECK:   call_opaque "swmlir_register_tensor"(%{{.*}}) {args = [0 : index, #emitc.opaque<"128">, #emitc.opaque<"\22input 0 (4x8xf32)\22">]}
//       CHECK:   call_opaque "athread_spawn"(%{{.*}}) {args = [#emitc.opaque<"main_k0_conv">, 0 : index]}
//       CHECK:   call_opaque "athread_join"()
//       CHECK:   call_opaque "memcpy"(%{{.*}}, %{{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"64">]}
//       CHECK:   call_opaque "athread_spawn"(%{{.*}}) {args = [#emitc.opaque<"main_k1_fc">, 0 : index]}
//       CHECK:   call_opaque "athread_join"()
//       CHECK:   call_opaque "memcpy"(%{{.*}}, %{{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"40">]}
//   CHECK-NOT:   memref.
//   CHECK-NOT:   "sunway.
//       CHECK: emitc.func @swmlir_init
//       CHECK: emitc.func @swmlir_run_packed
//       CHECK: emitc.func @swmlir_finalize
//       CHECK: emitc.global const @swmlir_input_bytes : !emitc.array<1xi64> = dense<128>
//       CHECK: emitc.global const @swmlir_output_bytes : !emitc.array<1xi64> = dense<40>

// In C. Buffers are byte pointers into the arena and the weights; a view is its buffer plus its byte offset.
// C-LABEL: void swmlir_run(
//  C-SAME:   void* [[XV:v[0-9]+]], void* [[YV:v[0-9]+]])
//       C:   char* [[X:v[0-9]+]] = (char*) [[XV]];
//       C:   char* [[Y:v[0-9]+]] = (char*) [[YV]];
// Every tensor handed to a kernel is registered with its bytes and a name (under the emulator a DMA must stay
// inside the tensor it starts in; nothing on the machine): the input and the weights where they are defined, an
// arena slot right before the op that first uses it (slots that share bytes are registered in turn).
// %y only receives a host copy: not registered. %c is a kernel's input, filled by a host copy.
//  C-NEXT:   swmlir_register_tensor([[X]], 128, "input 0 (4x8xf32)");
//  C-NEXT:   char* [[W:v[0-9]+]] = swmlir_weights;
//  C-NEXT:   char* [[A:v[0-9]+]] = swmlir_arena;
//       C:   char* [[CC:v[0-9]+]] = [[A]] + 128;
//       C:   swmlir_register_tensor([[W]], 12, "weight w0");
//       C:   char* [[W1:v[0-9]+]] = [[W]] + 128;
//  C-NEXT:   swmlir_register_tensor([[W1]], 16, "weight w1");
//       C:   swmlir_register_tensor([[A]], 128, "intermediate 4x8xf32 at arena byte 0");
// The kernel's arguments go in its struct, in the order of sunway.spawn's operands.
//       C:   struct main_k0_conv_args [[S0:v[0-9]+]];
//       C:   void* [[T0:v[0-9]+]] = (void*) [[X]];
//       C:   [[S0]].a0 = [[T0]];
//       C:   void* [[T1:v[0-9]+]] = (void*) [[W1]];
//       C:   [[S0]].a1 = [[T1]];
//       C:   void* [[T2:v[0-9]+]] = (void*) [[A]];
//       C:   [[S0]].a2 = [[T2]];
//       C:   struct main_k0_conv_args* [[P0:v[0-9]+]] = &[[S0]];
//       C:   athread_spawn(main_k0_conv, [[P0]]);
//  C-NEXT:   athread_join();
// Rows 1..2 of %a (byte offset 32) copied into %c; %b takes %a's bytes from the second launch on.
//       C:   char* [[ROWS:v[0-9]+]] = [[A]] + 32;
//  C-NEXT:   swmlir_register_tensor([[CC]], 64, "intermediate 2x8xf32 at arena byte 128");
//  C-NEXT:   memcpy([[CC]], [[ROWS]], 64);
//  C-NEXT:   swmlir_register_tensor([[A]], 40, "intermediate 10xf32 at arena byte 0");
//       C:   struct main_k1_fc_args [[S1:v[0-9]+]];
//       C:   [[S1]].a1 = {{v[0-9]+}};
//       C:   athread_spawn(main_k1_fc, {{v[0-9]+}});
//  C-NEXT:   athread_join();
//  C-NEXT:   memcpy([[Y]], [[A]], 40);
//  C-NEXT:   return;

// C-LABEL: int32_t swmlir_init(
//  C-SAME:   const char* {{v[0-9]+}}) {
//  C-NEXT:   athread_init();
//  C-NEXT:   void* [[WP:v[0-9]+]] = swmlir_load_weights({{v[0-9]+}}, 256);
//  C-NEXT:   void* [[AP:v[0-9]+]] = swmlir_alloc(256);
//       C:   swmlir_weights = {{v[0-9]+}};
//       C:   swmlir_arena = {{v[0-9]+}};
//       C:   bool {{v[0-9]+}} = [[WP]] == NULL;
//       C:   bool {{v[0-9]+}} = [[AP]] == NULL;
//       C:   return

// The packed entry takes the inputs (swmlir.num_inputs = 1) and the outputs in two arrays of pointers.
// C-LABEL: void swmlir_run_packed(
//  C-SAME:   void** [[IN:v[0-9]+]], void** [[OUT:v[0-9]+]]) {
//  C-NEXT:   void* [[I0:v[0-9]+]] = [[IN]][0];
//  C-NEXT:   void* [[O0:v[0-9]+]] = [[OUT]][0];
//  C-NEXT:   swmlir_run([[I0]], [[O0]]);

// C-LABEL: void swmlir_finalize() {
//  C-NEXT:   char* [[A2:v[0-9]+]] = swmlir_arena;
//  C-NEXT:   swmlir_free([[A2]]);
//  C-NEXT:   char* [[W2:v[0-9]+]] = swmlir_weights;
//  C-NEXT:   swmlir_free([[W2]]);
//  C-NEXT:   athread_halt();

//       C: const int64_t swmlir_input_bytes[1] = {128};
//       C: const int64_t swmlir_output_bytes[1] = {40};

// The num-inputs option overrides the attribute: both arguments are outputs.
//       NOIN: emitc.func @swmlir_run({{.*}}) attributes {swmlir.num_inputs = 0 : i64}
//       NOIN: emitc.global const @swmlir_input_bytes : !emitc.array<1xi64> = dense<0>
//       NOIN: emitc.global const @swmlir_output_bytes : !emitc.array<2xi64> = dense<[128, 40]>

memref.global "private" constant @w0 : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
memref.global "private" constant @w1 : memref<2x2xf32> = dense<0.5>
func.func @main(%x: memref<4x8xf32>, %y: memref<10xf32>) attributes {swmlir.num_inputs = 1 : i64} {
  %a = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  %b = memref.alloc() : memref<10xf32>
  %c = memref.alloc() : memref<2x8xf32>
  %w0 = memref.get_global @w0 : memref<3xf32>
  %w1 = memref.get_global @w1 : memref<2x2xf32>
  %px = memref.extract_aligned_pointer_as_index %x : memref<4x8xf32> -> index
  %pw1 = memref.extract_aligned_pointer_as_index %w1 : memref<2x2xf32> -> index
  %pa = memref.extract_aligned_pointer_as_index %a : memref<4x8xf32> -> index
  "sunway.spawn"(%px, %pw1, %pa) {kernel = @main_k0_conv} : (index, index, index) -> ()
  "sunway.join"() : () -> ()
  %rows = memref.subview %a[1, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %rows, %c : memref<2x8xf32, strided<[8, 1], offset: 8>> to memref<2x8xf32>
  %pc = memref.extract_aligned_pointer_as_index %c : memref<2x8xf32> -> index
  %pw0 = memref.extract_aligned_pointer_as_index %w0 : memref<3xf32> -> index
  %pb = memref.extract_aligned_pointer_as_index %b : memref<10xf32> -> index
  "sunway.spawn"(%pc, %pw0, %pb) {kernel = @main_k1_fc} : (index, index, index) -> ()
  "sunway.join"() : () -> ()
  memref.copy %b, %y : memref<10xf32> to memref<10xf32>
  memref.dealloc %c : memref<2x8xf32>
  return
}

// -----

// The static memory plan: a buffer's bytes are reused once its last use has passed. %t1 is dead when %t3 is
// allocated, so %t3 takes its place: an arena of 512 bytes for 768 bytes of intermediates. No kernel: no tensor
// is registered.

// CHECK-LABEL: module attributes
//  CHECK-SAME:   swmlir.arena_bytes = 512 : i64
//  CHECK-SAME:   swmlir.intermediate_bytes = 768 : i64

// C-LABEL: void swmlir_run(
//  C-SAME:   void* [[XV:v[0-9]+]], void* [[YV:v[0-9]+]])
//       C:   char* [[X:v[0-9]+]] = (char*) [[XV]];
//       C:   char* [[Y:v[0-9]+]] = (char*) [[YV]];
//       C:   char* [[A:v[0-9]+]] = swmlir_arena;
//  C-NEXT:   /* intermediate 64xf32: arena bytes [0, 256) */
//  C-NEXT:   memcpy([[A]], [[X]], 256);
//  C-NEXT:   /* intermediate 64xf32: arena bytes [256, 512) */
//  C-NEXT:   char* [[T2:v[0-9]+]] = [[A]] + 256;
//  C-NEXT:   memcpy([[T2]], [[A]], 256);
//  C-NEXT:   /* intermediate 64xf32: arena bytes [0, 256) */
//  C-NEXT:   memcpy([[A]], [[T2]], 256);
//  C-NEXT:   memcpy([[Y]], [[A]], 256);
//       C:   void* {{v[0-9]+}} = swmlir_alloc(512);
func.func @main(%x: memref<64xf32>, %y: memref<64xf32>) attributes {swmlir.num_inputs = 1 : i64} {
  %t1 = memref.alloc() : memref<64xf32>
  memref.copy %x, %t1 : memref<64xf32> to memref<64xf32>
  %t2 = memref.alloc() : memref<64xf32>
  memref.copy %t1, %t2 : memref<64xf32> to memref<64xf32>
  %t3 = memref.alloc() : memref<64xf32>
  memref.copy %t2, %t3 : memref<64xf32> to memref<64xf32>
  memref.copy %t3, %y : memref<64xf32> to memref<64xf32>
  return
}
