// RUN: swmlir-opt %s --sunway-athread-kernel-entries | FileCheck %s
// RUN: swmlir-opt %s --sunway-athread-kernel-entries=target=sw26010pro | FileCheck %s --check-prefix=CRTS

// A kernel converted to the LLVM dialect (bare pointers; an index is an i64 word) gets its athread entry
// slave_k(void *arg): the argument struct (one 8-byte word per argument) fetched into LDM (the entry's stack) by
// one DMA, the wait, the words loaded and passed to the body, which is renamed k_body and made internal.
// Functions that are not kernels are left alone.

//   CHECK-DAG: llvm.func @athread_get(i32, !llvm.ptr, !llvm.ptr, i32, !llvm.ptr, i8, i32, i32) -> i32
//   CHECK-DAG: llvm.func @swmlir_llvm_dma_wait(!llvm.ptr, i32)
//       CHECK: llvm.func internal @k_body(%{{.*}}: !llvm.ptr, %{{.*}}: i64)
//  CHECK-SAME:   passthrough = {{\[}}["probe-stack", "inline-asm"]]
//       CHECK: llvm.func @helper()
//       CHECK: llvm.func @slave_k(%[[ARG:.*]]: !llvm.ptr)
//       CHECK:   %[[S:.*]] = llvm.alloca %{{.*}} x !llvm.array<2 x i64> {alignment = 8 : i64}
//       CHECK:   %[[R:.*]] = llvm.alloca %{{.*}} x i32 {alignment = 4 : i64}
//       CHECK:   llvm.store %{{.*}}, %[[R]]
//       CHECK:   %[[LEN:.*]] = llvm.mlir.constant(16 : i32) : i32
//       CHECK:   llvm.call @athread_get(%{{.*}}, %[[ARG]], %[[S]], %[[LEN]], %[[R]], %{{.*}}, %{{.*}}, %{{.*}})
//       CHECK:   llvm.call @swmlir_llvm_dma_wait(%[[R]], %{{.*}})
//       CHECK:   %[[F0:.*]] = llvm.getelementptr %[[S]][0, 0]
//       CHECK:   %[[A0:.*]] = llvm.load %[[F0]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
//       CHECK:   %[[F1:.*]] = llvm.getelementptr %[[S]][0, 1]
//       CHECK:   %[[A1:.*]] = llvm.load %[[F1]] {alignment = 8 : i64} : !llvm.ptr -> i64
//       CHECK:   llvm.call @k_body(%[[A0]], %[[A1]]) : (!llvm.ptr, i64) -> ()
//       CHECK:   llvm.return
//   CHECK-NOT: llvm.func @slave_helper
// Under CRTS (target sw26010pro, or the module's swmlir.target attribute) the fetch is the CRTS call of the C
// entries: CRTS_dma_iget(ldm, mem, len, &rply), then CRTS_dma_wait_value(&rply, 1).
//   CRTS-DAG: llvm.func @CRTS_dma_iget(!llvm.ptr, !llvm.ptr, i32, !llvm.ptr) -> i32
//   CRTS-DAG: llvm.func @CRTS_dma_wait_value(!llvm.ptr, i32) -> i32
//  CRTS-NOT: athread_get
//      CRTS: llvm.func @slave_k(%[[ARG:.*]]: !llvm.ptr)
//      CRTS:   %[[S:.*]] = llvm.alloca %{{.*}} x !llvm.array<2 x i64>
//      CRTS:   %[[R:.*]] = llvm.alloca %{{.*}} x i32
//      CRTS:   %[[LEN:.*]] = llvm.mlir.constant(16 : i32) : i32
//      CRTS:   llvm.call @CRTS_dma_iget(%[[S]], %[[ARG]], %[[LEN]], %[[R]])
//      CRTS:   llvm.call @CRTS_dma_wait_value(%[[R]], %{{.*}})
//      CRTS:   llvm.call @k_body(
llvm.func @k(%a: !llvm.ptr, %n: i64) attributes {sunway.kernel} {
  llvm.return
}
llvm.func @helper() {
  llvm.return
}
