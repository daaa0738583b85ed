// The host of the LLVM IR output for the other host APIs and core-group counts: sunway-host-to-athread-calls with
// the target option (else the module's swmlir.target attribute). The same two-kernel host as
// sunway-host-to-athread-calls.mlir.
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls{target=sw26010pro},canonicalize)" \
// RUN:   | FileCheck %s --check-prefix=PRO
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls{target=sw26010pro},canonicalize)" \
// RUN:   | FileCheck %s --check-prefix=REG
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls{target=sw26010pro:cgs6},canonicalize)" \
// RUN:   | FileCheck %s --check-prefix=CGS
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls{target=sw26010:cgs4},canonicalize)" \
// RUN:   | FileCheck %s --check-prefix=CGS4
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-host-to-athread-calls{target=sw26010pro:cgs6},canonicalize, \
// RUN:   convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-arith-to-llvm,reconcile-unrealized-casts)" \
// RUN:   | mlir-translate --mlir-to-llvmir -o %t.ll
// RUN: FileCheck %s --check-prefix=LL < %t.ll
// RUN: llvm-as %t.ll -o /dev/null

// SW26010-Pro (CRTS) on one core group: what its athread.h makes of the C host's calls: CRTS_init() starts the
// CPEs, athread_spawn(k, arg) is __real_athread_spawn(slave_k, arg, 1) (1: flush the slave data cache), the join
// athread_join(); athread_halt is an empty macro there, so finalize calls nothing after freeing.
//   PRO-DAG: func.func private @CRTS_init() -> i32
//   PRO-DAG: func.func private @__real_athread_spawn(!llvm.ptr, !llvm.ptr, i32) -> i32
//   PRO-DAG: func.func private @athread_join() -> i32
//   PRO-NOT: athread_init
//   PRO-NOT: athread_halt
// PRO-LABEL: func.func @swmlir_run(
//       PRO:   call @__real_athread_spawn(%{{.*}}, %{{.*}}, %c1_i32)
//       PRO:   call @athread_join()
//       PRO:   call @__real_athread_spawn(%{{.*}}, %{{.*}}, %c1_i32)
// PRO-LABEL: func.func @swmlir_init(
//       PRO:   call @CRTS_init()
//   PRO-NEXT:  call @swmlir_load_weights(
// PRO-LABEL: func.func @swmlir_finalize()
//       PRO:   call @swmlir_free(
//       PRO:   call @swmlir_free(
//   PRO-NOT:   call
//       PRO:   return

// Every tensor a kernel receives is registered for the emulator's checks, with the C host's names: the input
// and output at the start, the argument slot of the launches (arena bytes [128, 160)), each weight where it is
// taken, the arena slot %t before each launch that receives it (the slots of one launch are live together).
// REG-LABEL: func.func @swmlir_run(
//  REG-SAME:   %[[X:.*]]: !llvm.ptr, %[[Y:.*]]: !llvm.ptr)
//       REG:   %[[WB:.*]] = llvm.load
//       REG:   %[[AB:.*]] = llvm.load
//       REG:   call @swmlir_llvm_register_tensor(%[[X]], %c16_i64, %[[N0:.*]])
//       REG:   call @swmlir_llvm_register_tensor(%[[Y]], %c32_i64, %[[N1:.*]])
//       REG:   %[[SLOT:.*]] = llvm.getelementptr %[[AB]][128]
//       REG:   call @swmlir_llvm_register_tensor(%[[SLOT]], %c32_i64, %{{.*}})
//       REG:   call @swmlir_llvm_register_tensor(%[[WB]], %c16_i64, %{{.*}})
//       REG:   call @swmlir_llvm_register_tensor(%{{.*}}, %c8_i64, %{{.*}})
//       REG:   call @swmlir_llvm_register_tensor(%[[AB]], %c32_i64, %[[NT:.*]])
//       REG:   call @__real_athread_spawn(
//       REG:   call @swmlir_llvm_register_tensor(%[[AB]], %c32_i64, %[[NT]])
//       REG:   call @__real_athread_spawn(

// On 6 core groups: athread_init_cgs() then CRTS_init() (Pro's athread_init_cgs macro), each launch
// __real_athread_spawn_cgs(slave_k, arg, 1) + athread_join_cgs().
//   CGS-DAG: func.func private @athread_init_cgs() -> i32
//   CGS-DAG: func.func private @__real_athread_spawn_cgs(!llvm.ptr, !llvm.ptr, i32) -> i32
//   CGS-DAG: func.func private @athread_join_cgs() -> i32
//   CGS-DAG: func.func private @CRTS_init() -> i32
// CGS-LABEL: func.func @swmlir_run(
//       CGS:   call @__real_athread_spawn_cgs(%{{.*}}, %{{.*}}, %c1_i32)
//  CGS-NEXT:   call @athread_join_cgs()
//       CGS:   call @__real_athread_spawn_cgs(%{{.*}}, %{{.*}}, %c1_i32)
//  CGS-NEXT:   call @athread_join_cgs()
// CGS-LABEL: func.func @swmlir_init(
//       CGS:   call @athread_init_cgs()
//  CGS-NEXT:   call @CRTS_init()

// SW26010 on 4 core groups (the emulator's form: SW26010's athread has no multi-CG calls): the same spawn and
// join, athread_init_cgs() alone, athread_halt() at the end.
// CGS4-LABEL: func.func @swmlir_run(
//       CGS4:   call @__real_athread_spawn_cgs(%{{.*}}, %{{.*}}, %c1_i32)
//       CGS4:   call @athread_join_cgs()
// CGS4-LABEL: func.func @swmlir_init(
//       CGS4:   call @athread_init_cgs()
//   CGS4-NOT:   CRTS_init
// CGS4-LABEL: func.func @swmlir_finalize()
//       CGS4:   call @athread_halt()

//       LL: @swmlir_tensor_name_{{[0-9]+}} = internal constant [{{[0-9]+}} x i8] c"weight w\00"
//       LL: declare i32 @__real_athread_spawn_cgs(ptr, ptr, i32)
// LL-LABEL: define void @swmlir_run(ptr %0, ptr %1)
//       LL:   call void @swmlir_llvm_register_tensor(ptr %0, i64 16, ptr @swmlir_tensor_name_
//       LL:   call i32 @__real_athread_spawn_cgs(ptr @slave_k0, ptr %{{.*}}, i32 1)
//       LL:   call i32 @athread_join_cgs()
//       LL: define i32 @swmlir_init(ptr %0)
//       LL:   call i32 @athread_init_cgs()
//       LL:   call i32 @CRTS_init()
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
