// RUN: swmlir-opt %s --verify-diagnostics --sunway-lower-to-athread -o /dev/null

// The LDM side of a DMA is one contiguous run: a strided view of an LDM tile (half of its columns) is refused,
// not read as if it were dense.
func.func private @half_columns(%out: memref<2x8xf32>) attributes {sunway.kernel} {
  %r = "sunway.reply"() : () -> memref<i32, 2>
  %buf = "sunway.ldm_alloc"() : () -> memref<2x8xf32, 2>
  %a = memref.subview %buf[0, 0] [2, 4] [1, 1] : memref<2x8xf32, 2> to memref<2x4xf32, strided<[8, 1]>, 2>
  %b = memref.subview %out[0, 0] [2, 4] [1, 1] : memref<2x8xf32> to memref<2x4xf32, strided<[8, 1]>>
  // expected-error@+1 {{the LDM side of a DMA must be contiguous}}
  "sunway.dma_put"(%a, %b, %r) : (memref<2x4xf32, strided<[8, 1]>, 2>, memref<2x4xf32, strided<[8, 1]>>, memref<i32, 2>) -> ()
  %n = arith.constant 1 : index
  "sunway.dma_wait"(%r, %n) : (memref<i32, 2>, index) -> ()
  return
}
