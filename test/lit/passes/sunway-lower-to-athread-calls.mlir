// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-lower-to-athread-calls,canonicalize,cse)" | FileCheck %s
// The LLVM IR it becomes with the rest of the kernel pipeline of the LLVM output (swmlir.pipeline.KERNEL_LLVM):
// the upstream conversions, then sunway-athread-kernel-entries; llvm-as parses it.
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-lower-to-athread-calls,canonicalize,cse, \
// RUN:   convert-vector-to-scf,convert-vector-to-llvm,expand-strided-metadata,lower-affine,convert-math-to-llvm, \
// RUN:   convert-math-to-libm,convert-scf-to-cf,convert-cf-to-llvm,finalize-memref-to-llvm, \
// RUN:   convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-arith-to-llvm,convert-index-to-llvm, \
// RUN:   convert-ub-to-llvm,reconcile-unrealized-casts,sunway-athread-kernel-entries,canonicalize)" -o %t.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.mlir -o %t.ll
// RUN: FileCheck %s --check-prefix=LL < %t.ll
// RUN: llvm-as %t.ll -o /dev/null

// The athread slave API as declared external functions, with the C prototypes:
// athread_get(mode, main, ldm, len, reply, mask, stride, bsize), athread_put(mode, ldm, main, len, reply, stride, bsize).
//   CHECK-DAG: func.func private @athread_get(i32, !llvm.ptr, !llvm.ptr, i32, !llvm.ptr, i8, i32, i32) -> i32
//   CHECK-DAG: func.func private @athread_put(i32, !llvm.ptr, !llvm.ptr, i32, !llvm.ptr, i32, i32) -> i32
//   CHECK-DAG: func.func private @athread_get_id(i32) -> i32
//   CHECK-DAG: func.func private @athread_syn(i32, i32) -> i32
//   CHECK-DAG: func.func private @swmlir_llvm_dma_wait(!llvm.ptr, i32)
//   CHECK-DAG: func.func private @swmlir_llvm_mesh_allgather(!llvm.ptr, i32, i32)
//   CHECK-DAG: func.func private @swmlir_llvm_ldm_array(!llvm.ptr, i64, !llvm.ptr)
//      LL-DAG: declare i32 @athread_get(i32, ptr, ptr, i32, ptr, i8, i32, i32)
//      LL-DAG: declare i32 @athread_put(i32, ptr, ptr, i32, ptr, i32, i32)
//      LL-DAG: declare void @swmlir_llvm_dma_wait(ptr, i32)
//      LL-DAG: @swmlir_ldm_name_0 = internal constant [17 x i8] c"ldm0 (1x128xf32)\00"

// A contiguous row: one request of 128 floats (512 bytes), stride = bsize = 0, on the address of the view
// (the buffer's aligned pointer + id * 128 * 4 bytes). The LDM tile is a 32-byte aligned stack array (the CPE
// stack is in LDM) without memory space 2, recorded for the emulator's LDM checks as the C output's
// swmlir_ldm_array does (swmlir_llvm_ldm_array(buf, 512 bytes, "ldm0 (1x128xf32)")); the reply word a stack i32
// set to 0; the CPE id athread_get_id(-1).

// CHECK-LABEL: func.func private @contiguous
//  CHECK-SAME:   (%[[A:.*]]: memref<64x128xf32>)
//   CHECK-NOT:   "sunway.
//       CHECK:   %[[ID32:.*]] = call @athread_get_id(%c-1_i32) : (i32) -> i32
//       CHECK:   %[[ID:.*]] = arith.index_cast %[[ID32]] : i32 to index
//       CHECK:   %[[RW:.*]] = memref.alloca() : memref<i32>
//       CHECK:   memref.store %c0_i32, %[[RW]][] : memref<i32>
//       CHECK:   %[[RP:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr
//       CHECK:   %[[L:.*]] = memref.alloca() {alignment = 32 : i64} : memref<1x128xf32>
//       CHECK:   memref.extract_aligned_pointer_as_index %[[L]]
//       CHECK:   %[[LDM:.*]] = llvm.inttoptr
//       CHECK:   call @swmlir_llvm_ldm_array(%[[LDM]], %c512_i64, %{{.*}})
//       CHECK:   %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
//       CHECK:   %[[BYTES:.*]] = arith.muli %[[ID]], %c512 : index
//       CHECK:   arith.addi %[[BASE]], %[[BYTES]] : index
//       CHECK:   %[[MAIN:.*]] = llvm.inttoptr
//       CHECK:   call @athread_get(%c0_i32, %[[MAIN]], %[[LDM]], %c512_i32, %[[RP]], %c0_i8, %c0_i32, %c0_i32)
//       CHECK:   call @swmlir_llvm_dma_wait(%[[RP]], %c1_i32)
//       CHECK:   call @athread_put(%c0_i32, %{{.*}}, %{{.*}}, %c512_i32, %[[RP]], %c0_i32, %c0_i32)
//       CHECK:   call @swmlir_llvm_dma_wait(%[[RP]], %c1_i32)
//   CHECK-NOT:   "sunway.
//       CHECK:   return

// LL-LABEL: define internal void @contiguous_body(ptr %0)
//       LL:   call i32 @athread_get_id(i32 -1)
//       LL:   call void @swmlir_llvm_ldm_array(ptr %{{.*}}, i64 512, ptr @swmlir_ldm_name_0)
//       LL:   call i32 @athread_get(i32 0, ptr %{{.*}}, ptr %{{.*}}, i32 512, ptr %{{.*}}, i8 0, i32 0, i32 0)
//       LL:   call void @swmlir_llvm_dma_wait(ptr %{{.*}}, i32 1)
//       LL:   call i32 @athread_put(i32 0, ptr %{{.*}}, ptr %{{.*}}, i32 512, ptr %{{.*}}, i32 0, i32 0)
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

// A 2-D tile is one strided request: 8 rows of 16 floats, len = 512 bytes, bsize = 64 bytes per row,
// stride = (64 - 16) * 4 = 192 bytes skipped between rows; its first element is at i * 64 + 16.
// The entry fetches the kernel's two argument words (a pointer, an index) by one DMA of 16 bytes, then calls the
// body with them.

// CHECK-LABEL: func.func private @strided_2d
//  CHECK-SAME:   (%[[A:.*]]: memref<64x64xf32>, %[[I:.*]]: index)
//       CHECK:   %[[R:.*]] = arith.muli %[[I]], %c64 : index
//       CHECK:   arith.addi %[[R]], %c16 : index
//       CHECK:   call @athread_get(%c0_i32, %{{.*}}, %{{.*}}, %c512_i32, %{{.*}}, %c0_i8, %c192_i32, %c64_i32)

//      LL-LABEL: define internal void @strided_2d_body(ptr %0, i64 %1)
//            LL:   call i32 @athread_get(i32 0, ptr %{{.*}}, ptr %{{.*}}, i32 512, ptr %{{.*}}, i8 0, i32 192, i32 64)
func.func private @strided_2d(%a: memref<64x64xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  %v = memref.subview %a[%i, 16] [8, 16] [1, 1] : memref<64x64xf32> to memref<8x16xf32, strided<[64, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<8x16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// A 3-D box: the outer level becomes a loop of 2 strided requests (3 rows of 4 floats: len 48, bsize 16,
// stride (8 - 4) * 4 = 16), 64 floats apart in main memory and 12 (48 bytes) apart in LDM; the wait counts both.

// CHECK-LABEL: func.func private @box_3d
//       CHECK:   scf.for %[[K:.*]] = %c0 to %c2 step %c1 {
//       CHECK:     arith.muli %[[K]], %c64 : index
//       CHECK:     arith.muli %[[K]], %c48 : index
//       CHECK:     func.call @athread_get(%c0_i32, %{{.*}}, %{{.*}}, %c48_i32, %{{.*}}, %c0_i8, %c16_i32, %c16_i32)
//       CHECK:   }
//       CHECK:   call @swmlir_llvm_dma_wait(%{{.*}}, %c2_i32)
func.func private @box_3d(%a: memref<4x8x8xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<2x3x4xf32, 2>
  %v = memref.subview %a[%i, 2, 4] [2, 3, 4] [1, 1, 1] : memref<4x8x8xf32> to memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>, memref<2x3x4xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// Row and column of the 8x8 mesh (id / 8, id % 8), the barrier (athread_syn(ARRAY_SCOPE = 2, 0xffff)), the mesh
// allgather (slice = 64 floats / 8 = 32 bytes, axis 1). The SIMD stays vector<4xf32> and becomes LLVM vectors.

// CHECK-LABEL: func.func private @mesh
//       CHECK:   arith.divsi %{{.*}}, %c8 : index
//       CHECK:   arith.remsi %{{.*}}, %c8 : index
//       CHECK:   %[[L:.*]] = memref.alloca() {alignment = 32 : i64} : memref<64xf32>
//       CHECK:   call @athread_syn(%c2_i32, %c65535_i32)
//       CHECK:   call @swmlir_llvm_mesh_allgather(%{{.*}}, %c32_i32, %c1_i32)
//       CHECK:   vector.fma %{{.*}} : vector<4xf32>
// The names of the LDM arrays, for the emulator's messages (one constant string each, at the module's end).
//       CHECK: llvm.mlir.global internal constant @swmlir_ldm_name_0("ldm0 (1x128xf32)\00")
//       CHECK: llvm.mlir.global internal constant @swmlir_ldm_name_3("ldm0 (64xf32)\00")

// LL-LABEL: define internal void @mesh_body(ptr %0)
//       LL:   call i32 @athread_syn(i32 2, i32 65535)
//       LL:   call void @swmlir_llvm_mesh_allgather(ptr %{{.*}}, i32 32, i32 1)
//       LL:   call <4 x float> @llvm.fmuladd.v4f32(<4 x float>

// The entries, named with the slave compiler's prefix: the argument struct (one 8-byte word per argument) by DMA.
// LL-LABEL: define void @slave_contiguous(ptr %0)
//       LL:   %[[S:.*]] = alloca [1 x i64]
//       LL:   %[[W:.*]] = alloca i32
//       LL:   store i32 0, ptr %[[W]]
//       LL:   call i32 @athread_get(i32 0, ptr %0, ptr %[[S]], i32 8, ptr %[[W]], i8 0, i32 0, i32 0)
//       LL:   call void @swmlir_llvm_dma_wait(ptr %[[W]], i32 1)
//       LL:   %[[P:.*]] = load ptr, ptr
//       LL:   call void @contiguous_body(ptr %[[P]])
// LL-LABEL: define void @slave_strided_2d(ptr %0)
//       LL:   call i32 @athread_get(i32 0, ptr %0, ptr %{{.*}}, i32 16,
//       LL:   load ptr, ptr
//       LL:   load i64, ptr
//       LL:   call void @strided_2d_body(ptr %{{.*}}, i64 %{{.*}})
func.func private @mesh(%a: memref<64xf32>) attributes {sunway.kernel} {
  %row = "sunway.cpe_row"() : () -> index
  %col = "sunway.cpe_col"() : () -> index
  %l = "sunway.ldm_alloc"() : () -> memref<64xf32, 2>
  "sunway.barrier"() : () -> ()
  "sunway.mesh_allgather"(%l) {axis = 1 : i64, dim = 0 : i64} : (memref<64xf32, 2>) -> ()
  %x = memref.load %l[%row] : memref<64xf32, 2>
  %s = vector.broadcast %x : f32 to vector<4xf32>
  %v = vector.load %l[%col] : memref<64xf32, 2>, vector<4xf32>
  %f = vector.fma %s, %v, %v : vector<4xf32>
  vector.store %f, %l[%col] : memref<64xf32, 2>, vector<4xf32>
  return
}
