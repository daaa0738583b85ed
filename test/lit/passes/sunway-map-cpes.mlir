// RUN: swmlir-opt %s --split-input-file --sunway-map-cpes | FileCheck %s

// Work items are dealt round-robin: CPE p runs items p, p + 64, p + 128, ... of the forall. Here 100 items:
// CPEs 0..35 get two, the others one.

// CHECK-LABEL: func.func private @one_dim
//  CHECK-SAME:   (%[[OUT:.*]]: memref<100xf32>)
//  CHECK-SAME:   sunway.work_items = 100 : i64
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"() : () -> index
//   CHECK-DAG:   %[[TOTAL:.*]] = arith.constant 100 : index
//   CHECK-DAG:   %[[STEP:.*]] = arith.constant 64 : index
//       CHECK:   scf.for %[[T:.*]] = %[[ID]] to %[[TOTAL]] step %[[STEP]] {
//   CHECK-NOT:     arith.remsi
//       CHECK:     memref.store %{{.*}}, %[[OUT]][%[[T]]] : memref<100xf32>
//   CHECK-NOT:   scf.forall
func.func private @one_dim(%out: memref<100xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  scf.forall (%i) in (100) {
    memref.store %x, %out[%i] : memref<100xf32>
  }
  return
}

// -----

// Several dimensions: the item number is delinearized, innermost dimension fastest
// (t = (i * 12 + j) * 2 + k for a (4, 12, 2) forall, 96 items).

// CHECK-LABEL: func.func private @three_dims
//  CHECK-SAME:   sunway.work_items = 96 : i64
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"() : () -> index
//   CHECK-DAG:   %[[TOTAL:.*]] = arith.constant 96 : index
//   CHECK-DAG:   %[[STEP:.*]] = arith.constant 64 : index
//       CHECK:   scf.for %[[T:.*]] = %[[ID]] to %[[TOTAL]] step %[[STEP]] {
//       CHECK:     %[[C2:.*]] = arith.constant 2 : index
//       CHECK:     %[[K:.*]] = arith.remsi %[[T]], %[[C2]] : index
//       CHECK:     %[[R:.*]] = arith.divsi %[[T]], %[[C2]] : index
//       CHECK:     %[[C12:.*]] = arith.constant 12 : index
//       CHECK:     %[[J:.*]] = arith.remsi %[[R]], %[[C12]] : index
//       CHECK:     %[[I:.*]] = arith.divsi %[[R]], %[[C12]] : index
//       CHECK:     memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]], %[[K]]] : memref<4x12x2xf32>
//       CHECK:   }
//   CHECK-NOT:   scf.forall
func.func private @three_dims(%out: memref<4x12x2xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  scf.forall (%i, %j, %k) in (4, 12, 2) {
    memref.store %x, %out[%i, %j, %k] : memref<4x12x2xf32>
  }
  return
}

// -----

// Lower bounds and steps: (2) to (10) step (4) has 2 items, t -> t * 4 + 2.

// CHECK-LABEL: func.func private @bounds_and_steps
//       CHECK:   %[[ID:.*]] = "sunway.cpe_id"() : () -> index
//       CHECK:   %[[TOTAL:.*]] = arith.constant 2 : index
//       CHECK:   scf.for %[[T:.*]] = %[[ID]] to %[[TOTAL]] step %{{.*}} {
//       CHECK:     %[[C4:.*]] = arith.constant 4 : index
//       CHECK:     %[[M:.*]] = arith.muli %[[T]], %[[C4]] : index
//       CHECK:     %[[C2:.*]] = arith.constant 2 : index
//       CHECK:     %[[I:.*]] = arith.addi %[[M]], %[[C2]] : index
//       CHECK:     memref.store %{{.*}}, %{{.*}}[%[[I]]] : memref<10xf32>
func.func private @bounds_and_steps(%out: memref<10xf32>) attributes {sunway.kernel} {
  %x = arith.constant 1.0 : f32
  scf.forall (%i) = (2) to (10) step (4) {
    memref.store %x, %out[%i] : memref<10xf32>
  }
  return
}

// -----

// Only kernels are mapped: a forall of a host function is left alone.

// CHECK-LABEL: func.func @host
//   CHECK-NOT:   sunway.work_items
//       CHECK:   scf.forall
//   CHECK-NOT:   sunway.cpe_id
func.func @host(%out: memref<8xf32>) {
  %x = arith.constant 1.0 : f32
  scf.forall (%i) in (8) {
    memref.store %x, %out[%i] : memref<8xf32>
  }
  return
}
