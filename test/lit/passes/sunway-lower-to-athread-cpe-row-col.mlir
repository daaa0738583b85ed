// Fixed: sunway-lower-to-athread once lowered sunway.cpe_id but not sunway.cpe_row / sunway.cpe_col: they stay in the
// kernel, convert-to-emitc leaves them, and mlir-translate --mlir-to-cpp then fails on an unknown op.
// Intended (dialects/sunway.irdl.mlir: row = id / 8, column = id % 8 of the logical CPE id):
// RUN: swmlir-opt %s --sunway-lower-to-athread | FileCheck %s

// CHECK-LABEL: func.func private @row_col
//   CHECK-NOT:   "sunway.cpe_row"
//   CHECK-NOT:   "sunway.cpe_col"
//       CHECK:   emitc.call_opaque "athread_get_id"() {args = [-1 : i32]}
//       CHECK:   arith.divsi %{{.*}}, %{{.*}} : index
//       CHECK:   arith.remsi %{{.*}}, %{{.*}} : index
//   CHECK-NOT:   "sunway.cpe_row"
//   CHECK-NOT:   "sunway.cpe_col"
func.func private @row_col(%out: memref<8x8xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  %row = "sunway.cpe_row"() : () -> index
  %col = "sunway.cpe_col"() : () -> index
  memref.store %x, %out[%row, %col] : memref<8x8xf32>
  return
}
