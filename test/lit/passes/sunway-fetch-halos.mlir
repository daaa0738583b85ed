// RUN: swmlir-opt %s --sunway-fetch-halos | FileCheck %s

// A 3x3 stencil over an 8x16 image padded by 1 (a conv's padded input, marked by sunway-schedule): each of the
// 2 work items stages rows [4 i, 4 i + 6) of the 10x18 padded tensor. Instead, it fetches the 6 rows of the
// unpadded source that the window covers, clamped into the source (start clamp(4 i - 1, 0, 2)): whole rows of
// 16 floats, one contiguous block. An 8x18 LDM tile is filled with the pad value and the stage is copied into
// it at row (start - (4 i - 1) + 1), column 1; the stencil reads the tile with its map shifted by one row.
// The pad, a kernel of its own before, is gone.

//       CHECK: #[[SHIFTED:.*]] = affine_map<(d0, d1, d2, d3) -> (d0 + d2 + 1, d1 + d3)>
// CHECK-LABEL: func.func @stencil
//   CHECK-NOT:   tensor.pad
//       CHECK:   scf.forall (%[[I:.*]]) in (2)
//       CHECK:     %[[O:.*]] = affine.apply
//       CHECK:     %[[M:.*]] = arith.subi %[[O]], %{{.*}}
//       CHECK:     %[[LO:.*]] = arith.maxsi %[[M]], %{{.*}}
//       CHECK:     %[[S:.*]] = arith.minsi %[[LO]], %{{.*}}
//       CHECK:     %[[BOX:.*]] = tensor.extract_slice %arg0[%[[S]], 0] [6, 16] [1, 1] : tensor<8x16xf32> to tensor<6x16xf32>
//       CHECK:     %[[STAGE:.*]] = bufferization.materialize_in_destination %[[BOX]] in %{{.*}} : (tensor<6x16xf32>, tensor<6x16xf32>)
//       CHECK:     %[[T:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<8x18xf32>
//       CHECK:     %[[F:.*]] = linalg.fill ins(%[[CST:.*]] : f32) outs(%[[T]] : tensor<8x18xf32>)
//       CHECK:     %[[A:.*]] = arith.addi %[[S]], %{{.*}}
//       CHECK:     %[[ROW:.*]] = arith.subi %[[A]], %[[O]]
//       CHECK:     %[[P:.*]] = tensor.insert_slice %[[STAGE]] into %[[F]][%[[ROW]], 1] [6, 16] [1, 1]
//       CHECK:     linalg.generic {indexing_maps = [#[[SHIFTED]], #{{.*}}, #{{.*}}], {{.*}} ins(%[[P]], %arg1 : tensor<8x18xf32>, tensor<3x3xf32>)
#in = affine_map<(d0, d1, d2, d3) -> (d0 + d2, d1 + d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#rows = affine_map<(d0) -> (d0 * 4)>
func.func @stencil(%x: tensor<8x16xf32>, %w: tensor<3x3xf32>) -> tensor<8x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %padded = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %cst : f32
  } {swmlir.halo_pad} : tensor<8x16xf32> to tensor<10x18xf32>
  %e = tensor.empty() : tensor<8x16xf32>
  %r = scf.forall (%i) in (2) shared_outs(%o = %e) -> (tensor<8x16xf32>) {
    %row = affine.apply #rows(%i)
    %win = tensor.extract_slice %padded[%row, 0] [6, 18] [1, 1] : tensor<10x18xf32> to tensor<6x18xf32>
    %buf = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<6x18xf32>
    %tile = bufferization.materialize_in_destination %win in %buf : (tensor<6x18xf32>, tensor<6x18xf32>) -> tensor<6x18xf32>
    %acc = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<4x16xf32>
    %s = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
        ins(%tile, %w : tensor<6x18xf32>, tensor<3x3xf32>) outs(%acc : tensor<4x16xf32>) {
    ^bb0(%a: f32, %k: f32, %b: f32):
      %m = arith.mulf %a, %k : f32
      %t = arith.addf %b, %m : f32
      linalg.yield %t : f32
    } -> tensor<4x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%row, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<8x16xf32>
    }
  }
  return %r : tensor<8x16xf32>
}
