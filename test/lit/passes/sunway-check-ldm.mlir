// On SW26010 (64 KB of LDM, 8 KB kept for the stack) the second kernel does not fit: the error names the
// kernel, its ONNX node and its tile sizes, and the kernels that fit are still printed (-o %t).
// RUN: not swmlir-opt %s --split-input-file --sunway-check-ldm -o %t 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: FileCheck %s --input-file=%t
// On SW26010-Pro (256 KB, 40 KB kept) both fit.
// RUN: swmlir-opt %s --split-input-file --sunway-check-ldm=target=sw26010pro | FileCheck %s --check-prefix=PRO

// The LDM use of a kernel is the sum of its LDM buffers and reply words (at least 4 bytes each):
// 8 KB + 1 KB + 4 = 9220 bytes.

// CHECK-LABEL: func.func private @small
//  CHECK-SAME:   sunway.ldm_bytes = 9220 : i64
//   PRO-LABEL: func.func private @small
//    PRO-SAME:   sunway.ldm_bytes = 9220 : i64
func.func private @small() attributes {sunway.kernel, swmlir.node = "fc1", swmlir.tiles = "tiles [1, 16, 0]"} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c1 = arith.constant 1 : index
  %a = "sunway.ldm_alloc"() : () -> memref<16x128xf32, 2>
  scf.for %i = %c0 to %c64 step %c1 {
    %r = "sunway.reply"() : () -> memref<i32, 2>
    %b = "sunway.ldm_alloc"() : () -> memref<128xf64, 2>
  }
  return
}

// -----

// 48 KB + 16 KB + 4 = 65540 bytes: over the 57344 bytes usable on SW26010.

//   CHECK-NOT: @main_k3_conv7
// ERR: error: [schedule] sunway.ldm_alloc (node 'conv7'): kernel main_k3_conv7 needs 65540 bytes of LDM per CPE with tiles [1, 8, 12, 0]; target sw26010 has 65536 bytes (57344 usable, 8192 kept for the stack)
//   PRO-LABEL: func.func private @main_k3_conv7
//    PRO-SAME:   sunway.ldm_bytes = 65540 : i64
func.func private @main_k3_conv7() attributes {sunway.kernel, swmlir.node = "conv7", swmlir.tiles = "tiles [1, 8, 12, 0]"} {
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %a = "sunway.ldm_alloc"() : () -> memref<96x128xf32, 2>
  %b = "sunway.ldm_alloc"() : () -> memref<4096xf32, 2>
  return
}

// -----

// Host functions are not checked.

// CHECK-LABEL: func.func @host
//   CHECK-NOT:   sunway.ldm_bytes
//   PRO-LABEL: func.func @host
//    PRO-NOT:    sunway.ldm_bytes
func.func @host() {
  %a = memref.alloc() : memref<1024x1024xf32, 2>
  return
}
