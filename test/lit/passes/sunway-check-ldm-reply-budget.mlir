// Fixed: sunway-schedule sized tiles against the LDM budget (57344 bytes on SW26010) without the reply words that
// sunway-lower-dma adds (4 bytes per block), but sunway-check-ldm counts them against the same budget. A tile
// that uses the budget exactly (here: 1 x 7168 floats in + out = 57344 bytes) is chosen by the schedule and
// then rejected: "kernel neg_k0_neg1 needs 57348 bytes of LDM per CPE with tiles [1, 7168]".
// (targets.py says ldm_reserved_bytes covers the reply words; check_ldm.py counts them too.)
// Intended: every schedule that sunway-schedule picks passes sunway-check-ldm.
// The bufferize and sunway stages of swmlir.pipeline.stage_pipelines:
// RUN: swmlir-opt %s --pass-pipeline="builtin.module(sunway-schedule, one-shot-bufferize{bufferize-function-boundaries \
// RUN:   function-boundary-type-conversion=identity-layout-map}, canonicalize, cse, \
// RUN:   buffer-results-to-out-params{modify-public-functions hoist-static-allocs}, canonicalize, \
// RUN:   sunway-outline-kernels, sunway-lower-ldm, sunway-lower-dma, sunway-map-cpes, sunway-check-ldm)" \
// RUN:   | FileCheck %s

// CHECK: func.func private @neg_k0_neg1
// CHECK-SAME: sunway.ldm_bytes =
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @neg(%x: tensor<64x7168xf32>) -> tensor<64x7168xf32> {
  %e = tensor.empty() : tensor<64x7168xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x7168xf32>) outs(%e : tensor<64x7168xf32>) attrs = {swmlir.node = "neg1"} {
  ^bb0(%a: f32, %b: f32):
    %m = arith.negf %a : f32
    linalg.yield %m : f32
  } -> tensor<64x7168xf32>
  return %r : tensor<64x7168xf32>
}
