// RUN: swmlir-opt %s --split-input-file --sunway-map-cpes="cgs=4" | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-map-cpes="target=sw26010pro:cgs6" | FileCheck %s --check-prefix=PRO
// RUN: swmlir-opt %s --split-input-file --sunway-map-cpes="cgs=1" | FileCheck %s --check-prefix=ONE

// On several core groups the items are dealt over all their CPEs by the global CPE id cg * 64 + cpe: on 4 CGs
// CPE p of CG c runs items 64 c + p, 64 c + p + 256, ... (step 4 x 64). 600 items: the 256 CPEs run two or three.

// CHECK-LABEL: func.func private @one_dim
//  CHECK-SAME:   sunway.work_items = 600 : i64
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"() : () -> index
//       CHECK:   %[[CG:.*]] = "sunway.cg_id"() : () -> index
//       CHECK:   %[[C64:.*]] = arith.constant 64 : index
//       CHECK:   %[[BASE:.*]] = arith.muli %[[CG]], %[[C64]] : index
//       CHECK:   %[[GID:.*]] = arith.addi %[[BASE]], %[[ID]] : index
//   CHECK-DAG:   %[[TOTAL:.*]] = arith.constant 600 : index
//   CHECK-DAG:   %[[STEP:.*]] = arith.constant 256 : index
//       CHECK:   scf.for %[[T:.*]] = %[[GID]] to %[[TOTAL]] step %[[STEP]] {
//       CHECK:     memref.store %{{.*}}, %{{.*}}[%[[T]]] : memref<600xf32>

// The target's count: sw26010pro on all 6 CGs, step 384.
// PRO-LABEL: func.func private @one_dim
//       PRO:   "sunway.cg_id"()
//       PRO:   arith.constant 384 : index

// One core group: the CPE id alone, as without the option.
// ONE-LABEL: func.func private @one_dim
//   ONE-NOT:   sunway.cg_id
//       ONE:   %[[ID:.*]] = "sunway.cpe_id"() : () -> index
//       ONE:   scf.for %{{.*}} = %[[ID]] to %{{.*}} step %{{.*}} {
func.func private @one_dim(%out: memref<600xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  scf.forall (%i) in (600) {
    memref.store %x, %out[%i] : memref<600xf32>
  }
  return
}
