// The CRTS lowering of sunway-lower-to-athread: a target whose runtime_api is "crts" (SW26010-Pro), chosen by the
// target option or by the module's swmlir.target attribute (what swmlir.compile sets).
// RUN: swmlir-opt %s --split-input-file --sunway-lower-to-athread=target=sw26010pro | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-lower-to-athread{target=sw26010pro}, \
// RUN:   convert-math-to-emitc{language-target=c99}, convert-to-emitc, reconcile-unrealized-casts, canonicalize)" \
// RUN:   | mlir-translate --split-input-file --mlir-to-cpp | FileCheck %s --check-prefix=C
// Without the option: the module's swmlir.target attribute, else sw26010 (athread).
// RUN: swmlir-opt %s --split-input-file --sunway-lower-to-athread | FileCheck %s --check-prefix=ATTR

// A contiguous get and put: CRTS_dma_iget(ldm, mem, len, &rply) / CRTS_dma_iput(mem, ldm, len, &rply) on a
// crts_rply_t word; the wait is CRTS_dma_wait_value(&rply, requests), then the word is reset for the next ones.
// The CPE id is CRTS_tid.

// CHECK-LABEL: func.func private @contiguous
//   CHECK-NOT:   "sunway.
//   CHECK-NOT:   athread
//       CHECK:   %[[T32:.*]] = emitc.literal "CRTS_tid" : i32
//       CHECK:   %[[T:.*]] = arith.index_cast %[[T32]] : i32 to index
//       CHECK:   %[[RV:.*]] = "emitc.variable"() <{value = #emitc.opaque<"0">}> : () -> !emitc.lvalue<!emitc.opaque<"crts_rply_t">>
//       CHECK:   %[[R:.*]] = emitc.address_of %[[RV]]
//       CHECK:   arith.muli %[[T]], %{{.*}} : index
//       CHECK:   emitc.call_opaque "CRTS_dma_iget"(%[[LDM:.*]], %[[MAIN:.*]], %[[R]]) {args = [0 : index, 1 : index, #emitc.opaque<"512">, 2 : index]}
//       CHECK:   emitc.call_opaque "CRTS_dma_wait_value"(%[[R]]) {args = [0 : index, #emitc.opaque<"1">]}
//       CHECK:   %[[Z:.*]] = emitc.literal "0" : !emitc.opaque<"crts_rply_t">
//       CHECK:   emitc.assign %[[Z]] : !emitc.opaque<"crts_rply_t"> to %[[RV]]
//       CHECK:   emitc.call_opaque "CRTS_dma_iput"(%{{.*}}, %{{.*}}, %[[R]]) {args = [0 : index, 1 : index, #emitc.opaque<"512">, 2 : index]}
//       CHECK:   emitc.call_opaque "CRTS_dma_wait_value"(%[[R]]) {args = [0 : index, #emitc.opaque<"1">]}
//   CHECK-NOT:   athread
//       CHECK:   return

// C-LABEL: static void contiguous(
//  C-SAME:   float [[A:v[0-9]+]][64][128])
//       C:   ptrdiff_t {{v[0-9]+}} = (ptrdiff_t) CRTS_tid;
//       C:   crts_rply_t [[R:v[0-9]+]] = 0;
//       C:   crts_rply_t* [[RP:v[0-9]+]] = &[[R]];
//       C:   float [[L:v[0-9]+]][1][128];
//  C-NEXT:   swmlir_ldm_array([[L]], 512);
//       C:   float* [[MAIN:v[0-9]+]] = {{v[0-9]+}} + {{v[0-9]+}};
//       C:   float* [[LDM:v[0-9]+]] = {{v[0-9]+}} + {{v[0-9]+}};
//       C:   CRTS_dma_iget([[LDM]], [[MAIN]], 512, [[RP]]);
//  C-NEXT:   CRTS_dma_wait_value([[RP]], 1);
//  C-NEXT:   [[R]] = 0;
//       C:   CRTS_dma_iput({{v[0-9]+}}, {{v[0-9]+}}, 512, [[RP]]);
//  C-NEXT:   CRTS_dma_wait_value([[RP]], 1);
//  C-NEXT:   [[R]] = 0;
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

// A 2-D tile is one strided request: len = 8 rows x 64 bytes = 512, bsize = 64, stride = 192 bytes skipped
// between rows (the same gap athread_get takes), CRTS order: CRTS_dma_iget_stride(ldm, mem, len, bsize, stride,
// &rply); a 3-D box is a loop of such requests, waited for at once (2 requests). Puts: CRTS_dma_iput_stride(mem,
// ldm, len, bsize, stride, &rply).

// CHECK-LABEL: func.func private @strided
//       CHECK:   emitc.call_opaque "CRTS_dma_iget_stride"(%{{.*}}, %{{.*}}, %{{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"512">, #emitc.opaque<"64">, #emitc.opaque<"192">, 2 : index]}
//       CHECK:   scf.for
//       CHECK:     emitc.call_opaque "CRTS_dma_iget_stride"(%{{.*}}, %{{.*}}, %{{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"48">, #emitc.opaque<"16">, #emitc.opaque<"16">, 2 : index]}
//       CHECK:   emitc.call_opaque "CRTS_dma_wait_value"(%{{.*}}) {args = [0 : index, #emitc.opaque<"3">]}
//       CHECK:   emitc.call_opaque "CRTS_dma_iput_stride"(%{{.*}}, %{{.*}}, %{{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"512">, #emitc.opaque<"64">, #emitc.opaque<"192">, 2 : index]}
//       CHECK:   emitc.call_opaque "CRTS_dma_wait_value"(%{{.*}}) {args = [0 : index, #emitc.opaque<"1">]}

// C-LABEL: static void strided(
//       C:   CRTS_dma_iget_stride({{v[0-9]+}}, {{v[0-9]+}}, 512, 64, 192, [[RP:v[0-9]+]]);
//       C:   for (
//       C:     CRTS_dma_iget_stride({{v[0-9]+}}, {{v[0-9]+}}, 48, 16, 16, [[RP]]);
//       C:   CRTS_dma_wait_value([[RP]], 3);
//       C:   CRTS_dma_iput_stride({{v[0-9]+}}, {{v[0-9]+}}, 512, 64, 192, [[RP]]);
func.func private @strided(%a: memref<64x64xf32>, %b: memref<4x8x8xf32>, %i: index) attributes {sunway.kernel} {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %l = "sunway.ldm_alloc"() : () -> memref<8x16xf32, 2>
  %l3 = "sunway.ldm_alloc"() : () -> memref<2x3x4xf32, 2>
  %v = memref.subview %a[%i, 16] [8, 16] [1, 1] : memref<64x64xf32> to memref<8x16xf32, strided<[64, 1], offset: ?>>
  %v3 = memref.subview %b[%i, 2, 4] [2, 3, 4] [1, 1, 1] : memref<4x8x8xf32> to memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>
  "sunway.dma_get"(%v, %l, %r) : (memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<8x16xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_get"(%v3, %l3, %r) : (memref<2x3x4xf32, strided<[64, 8, 1], offset: ?>>, memref<2x3x4xf32, 2>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c3) : (memref<i32, 2>, index) -> ()
  "sunway.dma_put"(%l, %v, %r) : (memref<8x16xf32, 2>, memref<8x16xf32, strided<[64, 1], offset: ?>>, memref<i32, 2>) -> ()
  "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
  return
}

// -----

// Row and column of the mesh are CRTS_rid and CRTS_cid; the barrier is CRTS_ssync_array(); a mesh allgather is
// swmlir_mesh_allgather (swmlir_slave.h: RMA row/column broadcasts under CRTS).

// CHECK-LABEL: func.func private @mesh
//   CHECK-NOT:   athread
//       CHECK:   emitc.literal "CRTS_rid" : i32
//       CHECK:   emitc.literal "CRTS_cid" : i32
//       CHECK:   emitc.call_opaque "CRTS_ssync_array"() : () -> ()
//       CHECK:   emitc.call_opaque "swmlir_mesh_allgather"(%{{.*}}) {args = [0 : index, #emitc.opaque<"32">, #emitc.opaque<"1">]}
//   CHECK-NOT:   "sunway.
//   CHECK-NOT:   athread

// C-LABEL: static void mesh(
//       C:   (ptrdiff_t) CRTS_rid;
//       C:   (ptrdiff_t) CRTS_cid;
//       C:   CRTS_ssync_array();
//       C:   swmlir_mesh_allgather({{v[0-9]+}}, 32, 1);
func.func private @mesh(%out: memref<8x8xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  %row = "sunway.cpe_row"() : () -> index
  %col = "sunway.cpe_col"() : () -> index
  memref.store %x, %out[%row, %col] : memref<8x8xf32>
  "sunway.barrier"() : () -> ()
  %l = "sunway.ldm_alloc"() : () -> memref<64xf32, 2>
  "sunway.mesh_allgather"(%l) {axis = 1 : i64, dim = 0 : i64} : (memref<64xf32, 2>) -> ()
  return
}

// -----

// Without the option, the module's swmlir.target attribute decides: the same CRTS calls; a module without it
// is lowered for sw26010, with athread (@contiguous above).

// ATTR-LABEL: func.func private @contiguous
//       ATTR:   emitc.call_opaque "athread_get_id"
//       ATTR:   emitc.call_opaque "athread_get"
// ATTR-LABEL: func.func private @from_module_attribute
//       ATTR:   emitc.literal "CRTS_tid" : i32
//       ATTR:   emitc.call_opaque "CRTS_dma_iget"
//   ATTR-NOT:   athread

// CHECK-LABEL: func.func private @from_module_attribute
//       CHECK:   emitc.literal "CRTS_tid" : i32
//       CHECK:   emitc.call_opaque "CRTS_dma_iget"
// C-LABEL: static void from_module_attribute(
//       C:   CRTS_dma_iget(
module attributes {swmlir.target = "sw26010pro"} {
  func.func private @from_module_attribute(%a: memref<64x16xf32>) attributes {sunway.kernel} {
    %c1 = arith.constant 1 : index
    %id = "sunway.cpe_id"() : () -> index
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %l = "sunway.ldm_alloc"() : () -> memref<1x16xf32, 2>
    %v = memref.subview %a[%id, 0] [1, 16] [1, 1] : memref<64x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
    "sunway.dma_get"(%v, %l, %r) : (memref<1x16xf32, strided<[16, 1], offset: ?>>, memref<1x16xf32, 2>, memref<i32, 2>) -> ()
    "sunway.dma_wait"(%r, %c1) : (memref<i32, 2>, index) -> ()
    return
  }
}
