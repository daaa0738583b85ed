// The LDM check as a located diagnostic: swmlir-opt --verify-diagnostics checks the `expected-error` comments
// below (single-dash spellings, as with mlir-opt). On SW26010 the second kernel is over budget.
// RUN: swmlir-opt -split-input-file -verify-diagnostics -sunway-check-ldm %s -o /dev/null
// The same check nested in func.func (it looks at one kernel at a time), in a pipeline with upstream passes.
// RUN: swmlir-opt %s -split-input-file -verify-diagnostics -o /dev/null \
// RUN:   -pass-pipeline="builtin.module(canonicalize, func.func(cse, sunway-check-ldm{target=sw26010}, canonicalize))"
// On SW26010-Pro it fits: the expected error is not produced, and --verify-diagnostics says so.
// RUN: not swmlir-opt %s -split-input-file -verify-diagnostics -sunway-check-ldm=target=sw26010pro -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PRO
// Without --verify-diagnostics the error is printed at the kernel's line.
// RUN: not swmlir-opt %s -split-input-file -sunway-check-ldm -o /dev/null 2>&1 | FileCheck %s --check-prefix=PLAIN

func.func private @small() attributes {sunway.kernel, swmlir.node = "fc1", swmlir.tiles = "tiles [1, 16, 0]"} {
  %a = "sunway.ldm_alloc"() : () -> memref<16x128xf32, 2>
  return
}

// -----

// 48 KB + 16 KB + 4 bytes of reply word: over the 57344 bytes usable on SW26010.
// expected-error@below {{kernel main_k3_conv7 needs 65540 bytes of LDM per CPE with tiles [1, 8, 12, 0]}}
func.func private @main_k3_conv7() attributes {sunway.kernel, swmlir.node = "conv7", swmlir.tiles = "tiles [1, 8, 12, 0]"} {
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %a = "sunway.ldm_alloc"() : () -> memref<96x128xf32, 2>
  %b = "sunway.ldm_alloc"() : () -> memref<4096xf32, 2>
  return
}

// PRO: sunway-check-ldm-diagnostics.mlir:21: error: expected error "kernel main_k3_conv7 needs 65540 bytes of LDM per CPE with tiles [1, 8, 12, 0]" (at line 22) was not produced
// PLAIN: sunway-check-ldm-diagnostics.mlir:22:1: error: [schedule] sunway.ldm_alloc (node 'conv7'): kernel main_k3_conv7 needs 65540 bytes
