// RUN: swmlir-opt %s --split-input-file --sunway-stage-whole-rows | FileCheck %s

// A work item's input tile takes 14 of 16 columns: 2 channels x 14 rows of 56 bytes. Staged as whole rows it is
// one contiguous block of 2 x 14 x 16 floats; the ReLU reads its 14 columns from the LDM tile (a view).

// CHECK-LABEL: func.func @relu_of_cut
//  CHECK-SAME:   (%[[X:.*]]: tensor<1x128x14x16xf32>)
//       CHECK:   scf.forall
//       CHECK:     %[[BOX:.*]] = tensor.extract_slice %[[X]][0, %{{.*}}, 0, 0] [1, 2, 14, 16] [1, 1, 1, 1]
//       CHECK:     %[[L:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x14x16xf32>
//       CHECK:     %[[S:.*]] = bufferization.materialize_in_destination %[[BOX]] in %[[L]]
//       CHECK:     %[[V:.*]] = tensor.extract_slice %[[S]][0, 0, 0, 0] [1, 2, 14, 14] [1, 1, 1, 1]
//       CHECK:     linalg.generic {{.*}} ins(%[[V]] : tensor<1x2x14x14xf32>)
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @relu_of_cut(%x: tensor<1x128x14x16xf32>) -> tensor<1x128x14x14xf32> {
  %z = arith.constant 0.0 : f32
  %cut = tensor.extract_slice %x[0, 0, 0, 0] [1, 128, 14, 14] [1, 1, 1, 1] : tensor<1x128x14x16xf32> to tensor<1x128x14x14xf32>
  %e = tensor.empty() : tensor<1x128x14x14xf32>
  %r = scf.forall (%i) in (64) shared_outs(%o = %e) -> (tensor<1x128x14x14xf32>) {
    %c = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %t = tensor.extract_slice %cut[0, %c, 0, 0] [1, 2, 14, 14] [1, 1, 1, 1] : tensor<1x128x14x14xf32> to tensor<1x2x14x14xf32>
    %l = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x14x14xf32>
    %m = bufferization.materialize_in_destination %t in %l : (tensor<1x2x14x14xf32>, tensor<1x2x14x14xf32>) -> tensor<1x2x14x14xf32>
    %ol = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x14x14xf32>
    %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%m : tensor<1x2x14x14xf32>) outs(%ol : tensor<1x2x14x14xf32>) {
    ^bb0(%a: f32, %b: f32):
      %v = arith.maximumf %a, %z : f32
      linalg.yield %v : f32
    } -> tensor<1x2x14x14xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %y into %o[0, %c, 0, 0] [1, 2, 14, 14] [1, 1, 1, 1] : tensor<1x2x14x14xf32> into tensor<1x128x14x14xf32>
    }
  } {mapping = [#gpu.thread<linear_dim_0>]}
  return %r : tensor<1x128x14x14xf32>
}

// -----

// A copy kernel that puts the tile back as it is: the whole rows come in, a dense LDM copy of the slice goes out
// (a DMA put reads LDM contiguously).

// CHECK-LABEL: func.func @copy_of_cut
//       CHECK:     bufferization.materialize_in_destination %{{.*}} in %{{.*}} : (tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>)
//       CHECK:     %[[V:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 2, 7, 7] [1, 1, 1, 1]
//       CHECK:     %[[D:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x7x7xf32>
//       CHECK:     %[[C:.*]] = linalg.copy {{.*}}ins(%[[V]] : tensor<1x2x7x7xf32>) outs(%[[D]] : tensor<1x2x7x7xf32>)
//       CHECK:     tensor.parallel_insert_slice %[[C]]
func.func @copy_of_cut(%x: tensor<1x128x7x8xf32>) -> tensor<1x128x7x7xf32> {
  %e = tensor.empty() : tensor<1x128x7x7xf32>
  %r = scf.forall (%i) in (64) shared_outs(%o = %e) -> (tensor<1x128x7x7xf32>) {
    %c = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %t = tensor.extract_slice %x[0, %c, 0, 0] [1, 2, 7, 7] [1, 1, 1, 1] : tensor<1x128x7x8xf32> to tensor<1x2x7x7xf32>
    %l = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x7x7xf32>
    %m = bufferization.materialize_in_destination %t in %l : (tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>) -> tensor<1x2x7x7xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[0, %c, 0, 0] [1, 2, 7, 7] [1, 1, 1, 1] : tensor<1x2x7x7xf32> into tensor<1x128x7x7xf32>
    }
  } {mapping = [#gpu.thread<linear_dim_0>]}
  return %r : tensor<1x128x7x7xf32>
}

// -----

// Left alone: a contraction's input (its micro-kernel wants a dense tile), and a tile whose rows are already long
// enough that whole rows would not arrive sooner once the copy for the put is paid (1024 of 1032 floats: 4 KB).

// CHECK-LABEL: func.func @contraction
//       CHECK:     bufferization.materialize_in_destination %{{.*}} in %{{.*}} : (tensor<4x14xf32>, tensor<4x14xf32>)
// CHECK-LABEL: func.func @long_rows
//       CHECK:     bufferization.materialize_in_destination %{{.*}} in %{{.*}} : (tensor<2x1024xf32>, tensor<2x1024xf32>)
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @contraction(%x: tensor<256x16xf32>, %w: tensor<14x8xf32>) -> tensor<256x8xf32> {
  %e = tensor.empty() : tensor<256x8xf32>
  %r = scf.forall (%i) in (64) shared_outs(%o = %e) -> (tensor<256x8xf32>) {
    %c = affine.apply affine_map<(d0) -> (d0 * 4)>(%i)
    %t = tensor.extract_slice %x[%c, 0] [4, 14] [1, 1] : tensor<256x16xf32> to tensor<4x14xf32>
    %l = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<4x14xf32>
    %m = bufferization.materialize_in_destination %t in %l : (tensor<4x14xf32>, tensor<4x14xf32>) -> tensor<4x14xf32>
    %ol = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<4x8xf32>
    %y = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%m, %w : tensor<4x14xf32>, tensor<14x8xf32>) outs(%ol : tensor<4x8xf32>) {
    ^bb0(%p: f32, %q: f32, %s: f32):
      %u = arith.mulf %p, %q : f32
      %v = arith.addf %s, %u : f32
      linalg.yield %v : f32
    } -> tensor<4x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %y into %o[%c, 0] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<256x8xf32>
    }
  } {mapping = [#gpu.thread<linear_dim_0>]}
  return %r : tensor<256x8xf32>
}
func.func @long_rows(%x: tensor<128x1032xf32>) -> tensor<128x1024xf32> {
  %e = tensor.empty() : tensor<128x1024xf32>
  %r = scf.forall (%i) in (64) shared_outs(%o = %e) -> (tensor<128x1024xf32>) {
    %c = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %t = tensor.extract_slice %x[%c, 0] [2, 1024] [1, 1] : tensor<128x1032xf32> to tensor<2x1024xf32>
    %l = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<2x1024xf32>
    %m = bufferization.materialize_in_destination %t in %l : (tensor<2x1024xf32>, tensor<2x1024xf32>) -> tensor<2x1024xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%c, 0] [2, 1024] [1, 1] : tensor<2x1024xf32> into tensor<128x1024xf32>
    }
  } {mapping = [#gpu.thread<linear_dim_0>]}
  return %r : tensor<128x1024xf32>
}
