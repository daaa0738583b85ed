// RUN: swmlir-opt %s --split-input-file --sunway-outline-kernels | FileCheck %s

// The forall becomes a private kernel function named after the host function, a counter and the ONNX node; the
// host passes the buffer's address to sunway.spawn and waits with sunway.join. A constant used in the loop is
// cloned into the kernel instead of being passed.

// CHECK-LABEL: func.func @fill
//  CHECK-SAME:   (%[[OUT:.*]]: memref<64x16xf32>)
//   CHECK-NOT:   scf.forall
//       CHECK:   %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]] : memref<64x16xf32> -> index
//  CHECK-NEXT:   "sunway.spawn"(%[[P]]) {kernel = @fill_k0_zero} : (index) -> ()
//  CHECK-NEXT:   "sunway.join"() : () -> ()
//  CHECK-NEXT:   return

//       CHECK: func.func private @fill_k0_zero(%[[K:.*]]: memref<64x16xf32>)
//  CHECK-SAME:   attributes {sunway.kernel, swmlir.node = "zero", swmlir.tiles = "tiles [1, 16]"}
//       CHECK:   scf.forall (%[[I:.*]], %{{.*}}) in (64, 1)
//  CHECK-NEXT:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
//       CHECK:     %[[L:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x16xf32, 2>
//       CHECK:     linalg.generic
//  CHECK-SAME:       ins(%[[ZERO]] : f32) outs(%[[L]] : memref<1x16xf32, 2>)
//       CHECK:     %[[V:.*]] = memref.subview %[[K]][%[[I]], 0] [1, 16] [1, 1]
//       CHECK:     memref.copy %[[L]], %[[V]]
//       CHECK:   } {mapping = [#gpu.thread<linear_dim_0>, #gpu.thread<linear_dim_1>]}
//  CHECK-NEXT:   return
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @fill(%out: memref<64x16xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i, %j) in (64, 1) {
    %l = memref.alloc() {alignment = 64 : i64} : memref<1x16xf32, 2>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, #id], iterator_types = ["parallel", "parallel"]}
        ins(%zero : f32) outs(%l : memref<1x16xf32, 2>) attrs = {swmlir.node = "zero", swmlir.tiles = "tiles [1, 16]"} {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    %v = memref.subview %out[%i, 0] [1, 16] [1, 1] : memref<64x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
    memref.copy %l, %v : memref<1x16xf32, 2> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  } {mapping = [#gpu.thread<linear_dim_0>, #gpu.thread<linear_dim_1>]}
  return
}

// -----

// Views of host buffers used by the loop (a collapse_shape of an argument, a subview of an intermediate buffer)
// are cloned into the kernel, down to the whole buffers: a kernel receives bare addresses (the athread ABI),
// never a strided view. Index values are passed as they are. A second forall is a second kernel; a loop
// without a named linalg op is a "copy" kernel.

// CHECK-LABEL: func.func @views
//  CHECK-SAME:   (%[[SRC:.*]]: memref<1x4x5x5xf32>, %[[N:.*]]: index)
//       CHECK:   %[[BUF:.*]] = memref.alloc() : memref<16x16xf32>
//       CHECK:   %[[P0:.*]] = memref.extract_aligned_pointer_as_index %[[BUF]]
//       CHECK:   %[[P1:.*]] = memref.extract_aligned_pointer_as_index %[[SRC]]
//       CHECK:   "sunway.spawn"(%[[P0]], %[[P1]], %[[N]]) {kernel = @views_k0_copy} : (index, index, index) -> ()
//  CHECK-NEXT:   "sunway.join"() : () -> ()
//       CHECK:   "sunway.spawn"(%{{.*}}) {kernel = @views_k1_copy} : (index) -> ()
//  CHECK-NEXT:   "sunway.join"() : () -> ()
//   CHECK-NOT:   scf.forall

//       CHECK: func.func private @views_k0_copy(%[[KBUF:.*]]: memref<16x16xf32>, %[[KSRC:.*]]: memref<1x4x5x5xf32>, %[[KN:.*]]: index)
//  CHECK-SAME:   attributes {sunway.kernel, swmlir.node = "copy"}
//       CHECK:   scf.forall
//   CHECK-DAG:     %[[FLAT:.*]] = memref.collapse_shape %[[KSRC]] {{\[}}[0], [1, 2, 3]] : memref<1x4x5x5xf32> into memref<1x100xf32>
//   CHECK-DAG:     %[[INNER:.*]] = memref.subview %[[KBUF]][1, 1] [14, 14] [1, 1]
//       CHECK:     memref.copy %[[FLAT]], %{{.*}} : memref<1x100xf32> to memref<1x100xf32, 2>
//       CHECK:     memref.subview %[[INNER]][%[[KN]], 0] [1, 14] [1, 1]
//       CHECK: func.func private @views_k1_copy(%{{.*}}: memref<16x16xf32>)
func.func @views(%src: memref<1x4x5x5xf32>, %n: index) {
  %flat = memref.collapse_shape %src [[0], [1, 2, 3]] : memref<1x4x5x5xf32> into memref<1x100xf32>
  %buf = memref.alloc() : memref<16x16xf32>
  %inner = memref.subview %buf[1, 1] [14, 14] [1, 1] : memref<16x16xf32> to memref<14x14xf32, strided<[16, 1], offset: 17>>
  scf.forall (%i) in (2) {
    %l = memref.alloc() : memref<1x100xf32, 2>
    memref.copy %flat, %l : memref<1x100xf32> to memref<1x100xf32, 2>
    %row = memref.subview %inner[%n, 0] [1, 14] [1, 1] : memref<14x14xf32, strided<[16, 1], offset: 17>> to memref<1x14xf32, strided<[16, 1], offset: ?>>
    %t = memref.alloc() : memref<1x14xf32, 2>
    memref.copy %t, %row : memref<1x14xf32, 2> to memref<1x14xf32, strided<[16, 1], offset: ?>>
  }
  scf.forall (%i) in (2) {
    %t = memref.alloc() : memref<16xf32, 2>
    %row = memref.subview %buf[%i, 0] [1, 16] [1, 1] : memref<16x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    memref.copy %t, %row : memref<16xf32, 2> to memref<16xf32, strided<[1], offset: ?>>
  }
  return
}

// -----

// An operand that the forall does not slice (a bias read by every tile) is promoted to the LDM outside the loop.
// LDM belongs to a CPE: its allocation and the copy that fills it move into the kernel, the kernel receives the
// main-memory bias, and the host keeps no LDM buffer.

// CHECK-LABEL: func.func @bias
//  CHECK-SAME:   (%[[X:.*]]: memref<64x16xf32>, %[[B:.*]]: memref<16xf32>)
//   CHECK-NOT:   memref<16xf32, 2>
//       CHECK:   %[[PB:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
//       CHECK:   %[[PX:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
//       CHECK:   "sunway.spawn"(%[[PB]], %[[PX]]) {kernel = @bias_k0_add}
//   CHECK-NOT:   memref<16xf32, 2>
//       CHECK:   return

//       CHECK: func.func private @bias_k0_add(%[[KB:.*]]: memref<16xf32>, %[[KX:.*]]: memref<64x16xf32>)
//       CHECK:   scf.forall (%[[I:.*]]) in (64)
//  CHECK-NEXT:     %[[LB:.*]] = memref.alloc() : memref<16xf32, 2>
//  CHECK-NEXT:     memref.copy %[[KB]], %[[LB]] : memref<16xf32> to memref<16xf32, 2>
//       CHECK:     linalg.generic
//  CHECK-SAME:       ins(%[[LB]] : memref<16xf32, 2>)
#row = affine_map<(d0, d1) -> (d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @bias(%x: memref<64x16xf32>, %b: memref<16xf32>) {
  %lb = memref.alloc() : memref<16xf32, 2>
  memref.copy %b, %lb : memref<16xf32> to memref<16xf32, 2>
  scf.forall (%i) in (64) {
    %v = memref.subview %x[%i, 0] [1, 16] [1, 1] : memref<64x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
    %l = memref.alloc() : memref<1x16xf32, 2>
    memref.copy %v, %l : memref<1x16xf32, strided<[16, 1], offset: ?>> to memref<1x16xf32, 2>
    linalg.generic {indexing_maps = [#row, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%lb : memref<16xf32, 2>) outs(%l : memref<1x16xf32, 2>) attrs = {swmlir.node = "add"} {
    ^bb0(%in: f32, %o: f32):
      %s = arith.addf %in, %o : f32
      linalg.yield %s : f32
    }
    memref.copy %l, %v : memref<1x16xf32, 2> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  }
  return
}

// -----

// A forall nested in another op of the host function is not a kernel; kernels are not outlined again.

// CHECK-LABEL: func.func @only_top_level
//       CHECK:   scf.for
//  CHECK-NEXT:     scf.forall
//   CHECK-NOT:   sunway.spawn
//       CHECK: func.func private @already_a_kernel
//  CHECK-NEXT:   scf.forall
//   CHECK-NOT:   sunway.spawn
func.func @only_top_level(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %j = %c0 to %n step %c1 {
    scf.forall (%i) in (4) {
      "sunway.barrier"() : () -> ()
    }
  }
  return
}
func.func private @already_a_kernel() attributes {sunway.kernel} {
  scf.forall (%i) in (4) {
    "sunway.barrier"() : () -> ()
  }
  return
}
