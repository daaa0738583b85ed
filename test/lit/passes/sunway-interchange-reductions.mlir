// RUN: swmlir-opt %s --split-input-file --sunway-interchange-reductions | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --pass-pipeline="builtin.module(sunway-interchange-reductions, func.func(convert-linalg-to-loops))" | FileCheck %s --check-prefix=LOOPS

// A 3x3 stride-2 max pool tile in LDM: the output-width loop (d3) moves below the window loops (d4, d5), so
// that consecutive iterations of the innermost loop update different output elements (no load-max-store chain
// on one element). The maps are upstream's interchange of the same loops.

// CHECK-DAG:   #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d3, d5 * 2 + d4)>
// CHECK-DAG:   #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>
// CHECK-DAG:   #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
// CHECK-LABEL: func.func private @max_pool
//       CHECK:   linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
//   CHECK-NOT:   swmlir.interchange
//       CHECK:     arith.maximumf
// LOOPS-LABEL: func.func private @max_pool
//       LOOPS:   scf.for %[[KH:.*]] = %{{.*}} to %c3
//       LOOPS:     scf.for %[[KW:.*]] = %{{.*}} to %c3
//       LOOPS:       scf.for %[[OW:.*]] = %{{.*}} to %c8
//       LOOPS:         memref.load %arg2[%{{.*}}, %{{.*}}, %{{.*}}, %[[OW]]]
//       LOOPS:         arith.maximumf
//       LOOPS:         memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %{{.*}}, %[[OW]]]
#in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#win = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func private @max_pool(%x: memref<1x1x9x17xf32, 2>, %w: memref<3x3xf32, 2>, %y: memref<1x1x4x8xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#in, #win, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x1x9x17xf32, 2>, memref<3x3xf32, 2>) outs(%y : memref<1x1x4x8xf32, 2>) {
  ^bb0(%a: f32, %u: f32, %b: f32):
    %m = arith.maximumf %a, %b : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A row reduction (a norm's mean): the row loop, of size 1 in this tile, cannot help; the op is left alone. So is
// an op whose last loop is already parallel, and an op outside a kernel.

// CHECK-LABEL: func.func private @one_row
//       CHECK:   iterator_types = ["parallel", "reduction"]
// CHECK-LABEL: func.func private @reduction_outer
//       CHECK:   iterator_types = ["reduction", "parallel"]
// CHECK-LABEL: func.func @host
//       CHECK:   iterator_types = ["parallel", "reduction"]
#r = affine_map<(d0, d1) -> (d0, d1)>
#o = affine_map<(d0, d1) -> (d0)>
#ro = affine_map<(d0, d1) -> (d1)>
func.func private @one_row(%x: memref<1x64xf32, 2>, %y: memref<1xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#r, #o], iterator_types = ["parallel", "reduction"]} ins(%x : memref<1x64xf32, 2>) outs(%y : memref<1xf32, 2>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
func.func private @reduction_outer(%x: memref<16x64xf32, 2>, %y: memref<64xf32, 2>) attributes {sunway.kernel} {
  linalg.generic {indexing_maps = [#r, #ro], iterator_types = ["reduction", "parallel"]} ins(%x : memref<16x64xf32, 2>) outs(%y : memref<64xf32, 2>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
func.func @host(%x: memref<16x64xf32>, %y: memref<16xf32>) {
  linalg.generic {indexing_maps = [#r, #o], iterator_types = ["parallel", "reduction"]} ins(%x : memref<16x64xf32>) outs(%y : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
