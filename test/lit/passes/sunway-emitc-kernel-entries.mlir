// RUN: swmlir-opt %s --sunway-emitc-kernel-entries | FileCheck %s
// RUN: swmlir-opt %s --sunway-emitc-kernel-entries=target=sw26010pro | FileCheck %s --check-prefix=CRTS
// RUN: swmlir-opt %s --sunway-emitc-kernel-entries --sunway-emitc-kernel-entries | FileCheck %s --check-prefix=TWICE

// The last pass of the kernel emit stage. Each kernel converted to EmitC (sunway.kernel) becomes the static
// <k>_body, and the entry <k>(void *arg) that athread_spawn starts is added: the argument struct (struct <k>_args,
// one address per argument, declared in model_kernels.h) fetched into LDM (the entry's stack) by one DMA, the
// wait, its fields passed to the body. The entry records its argument count (swmlir.kernel_entry), which is what
// model_kernels.h is written from. A kernel without arguments fetches nothing. The kernel file's includes are
// added first. Functions that are not kernels are left alone.

//       CHECK: emitc.include <"slave.h">
//       CHECK: emitc.include "swmlir_slave.h"
//  CHECK-NEXT: emitc.include "model_kernels.h"
//       CHECK: emitc.func @k_body(%{{.*}}: !emitc.ptr<f32>, %{{.*}}: !emitc.ptr<f32>) attributes {specifiers = ["static"], sunway.kernel}
//       CHECK: emitc.func @noargs_body() attributes {specifiers = ["static"], sunway.kernel}
//       CHECK: emitc.func @helper()
//   CHECK-NOT: specifiers
//       CHECK: emitc.func @k(%[[ARG:.*]]: !emitc.ptr<!emitc.opaque<"void">>) attributes {swmlir.kernel_entry = 2 : i64}
//       CHECK:   %[[S:.*]] = "emitc.variable"() {{.*}} -> !emitc.lvalue<!emitc.opaque<"struct k_args">>
//       CHECK:   %[[R:.*]] = "emitc.variable"() <{value = #emitc.opaque<"0">}> : () -> !emitc.lvalue<!emitc.opaque<"volatile int">>
//       CHECK:   call_opaque "athread_get"(%[[ARG]], {{.*}}#emitc.opaque<"PE_MODE">{{.*}}#emitc.opaque<"sizeof(struct k_args)">
//       CHECK:   call_opaque "swmlir_dma_wait"
//       CHECK:   "emitc.member"(%[[S]]) <{member = "a0"}>
//       CHECK:   "emitc.member"(%[[S]]) <{member = "a1"}>
//       CHECK:   call_opaque "k_body"(%{{.*}}, %{{.*}})
//       CHECK: emitc.func @noargs(%{{.*}}: !emitc.ptr<!emitc.opaque<"void">>) attributes {swmlir.kernel_entry = 0 : i64}
//   CHECK-NOT:   athread_get
//       CHECK:   call_opaque "noargs_body"()
//   CHECK-NOT: emitc.func @helper

// Under CRTS (SW26010-Pro, or the module's swmlir.target attribute) the file defines SWMLIR_CRTS, includes crts.h,
// and the fetch is CRTS_dma_iget + CRTS_dma_wait_value on a crts_rply_t.
//       CRTS: emitc.verbatim "#define SWMLIR_CRTS 1
//  CRTS-NEXT: emitc.include <"crts.h">
//   CRTS-NOT: athread_get
//       CRTS: emitc.func @k(
//       CRTS:   !emitc.lvalue<!emitc.opaque<"crts_rply_t">>
//       CRTS:   call_opaque "CRTS_dma_iget"
//       CRTS:   call_opaque "CRTS_dma_wait_value"
//       CRTS:   call_opaque "k_body"

// A module that already has its entries is left as it is.
//       TWICE: emitc.include "model_kernels.h"
//   TWICE-NOT: emitc.include "model_kernels.h"
//       TWICE: emitc.func @k_body(
//   TWICE-NOT: @k_body_body
//       TWICE: emitc.func @k(
//   TWICE-NOT: emitc.func @k(
emitc.func @k(%a: !emitc.ptr<f32>, %b: !emitc.ptr<f32>) attributes {sunway.kernel} {
  emitc.return
}
emitc.func @noargs() attributes {sunway.kernel} {
  emitc.return
}
emitc.func @helper() {
  emitc.return
}
