// Errors of the sunway-stage passes as located diagnostics, each pass nested in func.func.
// RUN: swmlir-opt %s -split-input-file -verify-diagnostics -o /dev/null \
// RUN:   -pass-pipeline="builtin.module(func.func(sunway-lower-ldm, sunway-lower-dma, sunway-map-cpes))"

func.func @dynamic(%n: index) {
  // expected-error@+1 {{LDM buffer of dynamic shape memref<?x16xf32, 2>: LDM buffers must be static}}
  %l = memref.alloc(%n) : memref<?x16xf32, 2>
  memref.dealloc %l : memref<?x16xf32, 2>
  return
}

// -----

func.func private @results() attributes {sunway.kernel} {
  %t = tensor.empty() : tensor<4xf32>
  // expected-error-re@+1 {{scf.forall with results {{[(]}}not bufferized{{[)]}}}}
  %r = scf.forall (%i) in (4) shared_outs(%o = %t) -> (tensor<4xf32>) {
    scf.forall.in_parallel {
    }
  }
  return
}

// -----

func.func private @k(%n: index) attributes {sunway.kernel} {
  // expected-error@below {{scf.forall with dynamic bounds}}
  scf.forall (%i) in (%n) {
  }
  return
}
