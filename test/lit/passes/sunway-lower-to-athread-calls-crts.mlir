// The CRTS form of sunway-lower-to-athread-calls (LLVM IR output) for a target whose runtime_api is "crts"
// (SW26010-Pro), chosen by the target option or by the module's swmlir.target attribute (what swmlir.compile
// sets): the same calls as the C output of that target (sunway-lower-to-athread-crts.mlir), as external functions.
// RUN: swmlir-opt %s --split-input-file \
// RUN:   --pass-pipeline="builtin.module(sunway-lower-to-athread-calls{target=sw26010pro:cgs6},canonicalize,cse)" \
// RUN:   | FileCheck %s
// The LLVM IR with the rest of the kernel pipeline of the LLVM output (swmlir.pipeline.KERNEL_LLVM), the entries
// in their CRTS form; llvm-as parses it.
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-lower-to-athread-calls{target=sw26010pro:cgs6}, \
// RUN:   canonicalize,cse,convert-vector-to-scf,convert-vector-to-llvm,expand-strided-metadata,lower-affine, \
// RUN:   convert-math-to-llvm,convert-math-to-libm,convert-scf-to-cf,convert-cf-to-llvm,finalize-memref-to-llvm, \
// RUN:   convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-arith-to-llvm,convert-index-to-llvm, \
// RUN:   convert-ub-to-llvm,reconcile-unrealized-casts,sunway-athread-kernel-entries{target=sw26010pro},canonicalize)" \
// RUN:   -o %t.mlir
// RUN: mlir-translate --split-input-file --mlir-to-llvmir %t.mlir -o %t.ll
// RUN: FileCheck %s --check-prefix=LL < %t.ll
// Without the option: the module's swmlir.target attribute (the second module), else sw26010 (athread).
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-lower-to-athread-calls,cse)" \
// RUN:   | FileCheck %s --check-prefix=ATTR

// The CRTS slave API declared with its C prototypes (crts.h): CRTS_dma_iget(ldm, mem, len, &rply),
// CRTS_dma_iput(mem, ldm, len, &rply), the _stride forms with bsize and stride before the reply word,
// CRTS_dma_wait_value(&rply, n), CRTS_ssync_array(); the ids CRTS_tid / _rid / _cid / _cgn, registers on the
// machine, through out-of-line helpers (swmlir_llvm_slave.c). No athread call is left.
//   CHECK-DAG: func.func private @CRTS_dma_iget(!llvm.ptr, !llvm.ptr, i32, !llvm.ptr) -> i32
//   CHECK-DAG: func.func private @CRTS_dma_iput(!llvm.ptr, !llvm.ptr, i32, !llvm.ptr) -> i32
//   CHECK-DAG: func.func private @CRTS_dma_iget_stride(!llvm.ptr, !llvm.ptr, i32, i32, i32, !llvm.ptr) -> i32
//   CHECK-DAG: func.func private @CRTS_dma_iput_stride(!llvm.ptr, !llvm.ptr, i32, i32, i32, !llvm.ptr) -> i32
//   CHECK-DAG: func.func private @CRTS_dma_wait_value(!llvm.ptr, i32) -> i32
//   CHECK-DAG: func.func private @CRTS_ssync_array() -> i32
//   CHECK-DAG: func.func private @swmlir_llvm_crts_tid() -> i32
//   CHECK-DAG: func.func private @swmlir_llvm_crts_cgn() -> i32
//   CHECK-NOT: athread

// A contiguous get and put of one row: CRTS_dma_iget(ldm, mem, 512, &rply), the wait for 1 request, the word
// reset to 0 for the next ones (as the C output's `rply = 0;`), CRTS_dma_iput(mem, ldm, 512, &rply). The CPE id
// is CRTS_tid.

// CHECK-LABEL: func.func private @contiguous
//   CHECK-NOT:   "sunway.
//       CHECK:   %[[T32:.*]] = call @swmlir_llvm_crts_tid() : () -> i32
//       CHECK:   %[[T:.*]] = arith.index_cast %[[T32]] : i32 to index
//       CHECK:   %[[RW:.*]] = memref.alloca() : memref<i32>
//       CHECK:   memref.store %c0_i32, %[[RW]][] : memref<i32>
//       CHECK:   %[[RP:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr
//       CHECK:   %[[L:.*]] = memref.alloca() {alignment = 32 : i64} : memref<1x128xf32>
//       CHECK:   %[[LDM:.*]] = llvm.inttoptr
//       CHECK:   call @swmlir_llvm_ldm_array(%[[LDM]], %c512_i64, %{{.*}})
//       CHECK:   arith.muli %[[T]], %c512 : index
//       CHECK:   %[[MAIN:.*]] = llvm.inttoptr
//       CHECK:   call @CRTS_dma_iget(%[[LDM]], %[[MAIN]], %c512_i32, %[[RP]])
//       CHECK:   call @CRTS_dma_wait_value(%[[RP]], %c1_i32)
//       CHECK:   memref.store %c0_i32, %[[RW]][] : memref<i32>
//       CHECK:   call @CRTS_dma_iput(%[[MAIN]], %[[LDM]], %c512_i32, %[[RP]])
//       CHECK:   call @CRTS_dma_wait_value(%[[RP]], %c1_i32)
//       CHECK:   memref.store %c0_i32, %[[RW]][] : memref<i32>
//   CHECK-NOT:   "sunway.
//       CHECK:   return

//      LL-LABEL: define internal void @contiguous_body(ptr %0)
//            LL:   call i32 @swmlir_llvm_crts_tid()
//            LL:   call i32 @CRTS_dma_iget(ptr %{{.*}}, ptr %{{.*}}, i32 512, ptr %[[R:.*]])
//            LL:   call i32 @CRTS_dma_wait_value(ptr %[[R]], i32 1)
//            LL:   store i32 0, ptr %{{.*}}
//            LL:   call i32 @CRTS_dma_iput(ptr %{{.*}}, ptr %{{.*}}, i32 512, ptr %[[R]])
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

// A 2-D tile: one strided request each way, 8 rows of 16 floats: len 512, bsize 64, stride (64 - 16) * 4 = 192
// bytes skipped between rows; the 3-D box's outer level a loop of 2 strided gets (len 48, bsize 16, stride 16),
// the wait counts both.

// CHECK-LABEL: func.func private @strided
//       CHECK:   call @CRTS_dma_iget_stride(%[[L:.*]], %[[M:.*]], %c512_i32, %c64_i32, %c192_i32, %{{.*}})
//       CHECK:   call @CRTS_dma_iput_stride(%[[M]], %[[L]], %c512_i32, %c64_i32, %c192_i32, %{{.*}})
//       CHECK:   call @CRTS_dma_wait_value(%{{.*}}, %c2_i32)
//       CHECK:   scf.for %[[K:.*]] = %c0 to %c2 step %c1 {
//       CHECK:     func.call @CRTS_dma_iget_stride(%{{.*}}, %{{.*}}, %c48_i32, %c16_i32, %c16_i32, %{{.*}})
//       CHECK:   }
//       CHECK:   call @CRTS_dma_wait_value(%{{.*}}, %c2_i32)

//      LL-LABEL: define internal void @strided_body(ptr %0, ptr %1, i64 %2)
//            LL:   call i32 @CRTS_dma_iget_stride(ptr %{{.*}}, ptr %{{.*}}, i32 512, i32 64, i32 192, ptr %{{.*}})
//            LL:   call i32 @CRTS_dma_iput_stride(ptr %{{.*}}, ptr %{{.*}}, i32 512, i32 64, i32 192, ptr %{{.*}})
func.func private @strided(%a: memref<64x64xf32>, %b: memref<4x8x8xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  %v = memref.subview %a[%i, 16] [8, 16] [1, 1] : memref<64x64xf32> to memref<8x16xf32, strided<[64, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<8x16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_put"(%l, %v, %r) : (memref<8x16xf32, 2>, memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  %l3 = "sunway.ldm_alloc"() : () -> memref<2x3x4xf32, 2>
  %v3 = memref.subview %b[%i, 2, 4] [2, 3, 4] [1, 1, 1] : memref<4x8x8xf32> to memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>
  "sunway.dma_get"(%v3, %l3, %r) : (memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>, memref<2x3x4xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// On several core groups (target sw26010pro:cgs6): the CG is CRTS_cgn, the row and column CRTS_rid / CRTS_cid
// (no division of the id), the barrier CRTS_ssync_array().

// CHECK-LABEL: func.func private @mesh_cgs
//       CHECK:   call @swmlir_llvm_crts_cgn() : () -> i32
//       CHECK:   call @swmlir_llvm_crts_rid() : () -> i32
//       CHECK:   call @swmlir_llvm_crts_cid() : () -> i32
//   CHECK-NOT:   arith.divsi
//       CHECK:   call @CRTS_ssync_array() : () -> i32

//      LL-LABEL: define internal void @mesh_cgs_body(ptr %0)
//            LL:   call i32 @swmlir_llvm_crts_cgn()
//            LL:   call i32 @CRTS_ssync_array()

// The entries fetch their argument struct with CRTS_dma_iget and wait with CRTS_dma_wait_value.
//      LL-LABEL: define void @slave_contiguous(ptr %0)
//            LL:   %[[S:.*]] = alloca [1 x i64]
//            LL:   %[[W:.*]] = alloca i32
//            LL:   store i32 0, ptr %[[W]]
//            LL:   call i32 @CRTS_dma_iget(ptr %[[S]], ptr %0, i32 8, ptr %[[W]])
//            LL:   call i32 @CRTS_dma_wait_value(ptr %[[W]], i32 1)
//            LL:   call void @contiguous_body(ptr
//      LL-LABEL: define void @slave_strided(ptr %0)
//            LL:   call i32 @CRTS_dma_iget(ptr %{{.*}}, ptr %0, i32 24, ptr
//        LL-NOT: athread
func.func private @mesh_cgs(%a: memref<6x64xf32>) attributes {sunway.kernel} {
  %cg = "sunway.cg_id"() : () -> index
  %row = "sunway.cpe_row"() : () -> index
  %col = "sunway.cpe_col"() : () -> index
  "sunway.barrier"() : () -> ()
  %s = arith.addi %row, %col : index
  %x = memref.load %a[%cg, %s] : memref<6x64xf32>
  memref.store %x, %a[%cg, %row] : memref<6x64xf32>
  return
}

// -----

// The module's swmlir.target attribute picks the API when the option is not given.

// ATTR-LABEL: func.func private @by_attribute
//       ATTR:   call @swmlir_llvm_crts_tid()
//       ATTR:   call @CRTS_dma_iget(
//       ATTR:   call @CRTS_dma_wait_value(
module attributes {swmlir.target = "sw26010pro"} {
  func.func private @by_attribute(%a: memref<64x128xf32>) attributes {sunway.kernel} {
    %c1 = arith.constant 1 : index
    %id = "sunway.cpe_id"() : () -> index
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %l = "sunway.ldm_alloc"() : () -> memref<1x128xf32, 2>
    %v = memref.subview %a[%id, 0] [1, 128] [1, 1] : memref<64x128xf32> to memref<1x128xf32, strided<[128, 1], offset: ?>>
    "sunway.dma_get"(%v, %l, %r) : (memref<1x128xf32, strided<[128, 1], offset: ?>>, memref<1x128xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    return
  }
}
