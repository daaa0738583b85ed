// One PassManager runs our passes and upstream ones; ours may be nested in func.func where they work per
// function (the upstream passes of the same func.func(...) run around them, in order).
// RUN: swmlir-opt %s -pass-pipeline="builtin.module(func.func(canonicalize, sunway-lower-ldm, cse), canonicalize)" \
// RUN:   | FileCheck %s
// RUN: swmlir-opt %s -mlir-print-ir-after-all -pass-pipeline="builtin.module(func.func(sunway-lower-ldm), cse)" \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=DUMP
// RUN: swmlir-opt %s -mlir-timing -sunway-lower-ldm -cse -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIME
// A pass that needs the whole module cannot be nested:
// RUN: not swmlir-opt %s -pass-pipeline="builtin.module(func.func(sunway-outline-kernels))" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MODULE
// Pass flags and -pass-pipeline do not mix, as in mlir-opt:
// RUN: not swmlir-opt %s -cse -pass-pipeline="builtin.module(cse)" 2>&1 | FileCheck %s --check-prefix=MIX
// Bad options and unknown passes are one-line errors:
// RUN: not swmlir-opt %s -sunway-check-ldm="target=sw26010 colour=red" 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not swmlir-opt %s -sunway-lower-everything 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not swmlir-opt %s -pass-pipeline="builtin.module(func.func(cse, no-such-pass))" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNKNOWN-PIPE

// CHECK-LABEL: func.func @f
//       CHECK:   "sunway.ldm_alloc"() : () -> memref<16xf32, 2>
//   CHECK-NOT:   memref.alloc
// CHECK-LABEL: func.func @g
//       CHECK:   "sunway.ldm_alloc"() : () -> memref<32xf32, 2>
func.func @f(%x: memref<16xf32>) {
  %l = memref.alloc() : memref<16xf32, 2>
  memref.copy %x, %l : memref<16xf32> to memref<16xf32, 2>
  memref.dealloc %l : memref<16xf32, 2>
  return
}
func.func @g(%x: memref<32xf32>) {
  %l = memref.alloc() : memref<32xf32, 2>
  memref.copy %x, %l : memref<32xf32> to memref<32xf32, 2>
  return
}

// DUMP: // -----// IR Dump After SunwayLowerLdm (sunway-lower-ldm) //----- //
// DUMP: // -----// IR Dump After CSE (cse) //----- //
// TIME: Execution time report
// TIME: SunwayLowerLdm
// TIME: CSE
// MODULE: swmlir-opt: error: pass 'sunway-outline-kernels' runs on the whole module (builtin.module): it cannot be nested in func.func
// MIX: swmlir-opt: error: '-pass-pipeline' cannot be used with individual pass options
// OPT: swmlir-opt: error: pass 'sunway-check-ldm' has no option 'colour' (options: target)
// UNKNOWN: swmlir-opt: error: unknown option or pass '-sunway-lower-everything'
// UNKNOWN-PIPE: swmlir-opt: error: bad pass pipeline element 'func.func(cse, no-such-pass)': 'no-such-pass' does not refer to a registered pass
