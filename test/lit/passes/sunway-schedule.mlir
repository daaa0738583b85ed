// RUN: swmlir-opt %s --split-input-file --sunway-schedule | FileCheck %s
// RUN: swmlir-opt %s --split-input-file --sunway-schedule=target=sw26010pro | FileCheck %s --check-prefix=PRO
// RUN: swmlir-opt %s --split-input-file --sunway-schedule=fuse=0 | FileCheck %s --check-prefix=NOFUSE

// Elementwise: the rows are dealt to the 64 CPEs (one forall iteration per work item; unit loops are kept and
// mapped, so that every op has its forall); the input tile is
// promoted to the LDM (memory space 2) and copied in; the output tile is an LDM buffer that is only written,
// so nothing is copied into it.

// CHECK-LABEL: func.func @elementwise
//  CHECK-SAME:   (%[[X:.*]]: tensor<64x128xf32>)
//       CHECK:   scf.forall (%[[I:.*]], %{{.*}}) in (64, 1) shared_outs(%[[OUT:.*]] = %{{.*}})
//       CHECK:     %[[XS:.*]] = tensor.extract_slice %[[X]][%[[I]], 0] [1, 128] [1, 1] : tensor<64x128xf32> to tensor<1x128xf32>
//       CHECK:     %[[XL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x128xf32>
//       CHECK:     %[[XIN:.*]] = bufferization.materialize_in_destination %[[XS]] in %[[XL]]
//       CHECK:     %[[YL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x128xf32>
//   CHECK-NOT:     materialize_in_destination
//       CHECK:     %[[Y:.*]] = linalg.generic
//  CHECK-SAME:       ins(%[[XIN]] : tensor<1x128xf32>) outs(%[[YL]] : tensor<1x128xf32>)
//  CHECK-SAME:       swmlir.node = "relu1"
//  CHECK-SAME:       swmlir.tiles = "tiles [1, 128] (64 work items, 1024 bytes of LDM)"
//       CHECK:       arith.maximumf
//       CHECK:     scf.forall.in_parallel
//  CHECK-NEXT:       tensor.parallel_insert_slice %[[Y]] into %[[OUT]][%[[I]], 0] [1, 128] [1, 1]
//       CHECK:   } {mapping = [#gpu.thread<linear_dim_0>, #gpu.thread<linear_dim_1>]}
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @elementwise(%x: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x128xf32>) outs(%e : tensor<64x128xf32>) attrs = {swmlir.node = "relu1"} {
  ^bb0(%a: f32, %b: f32):
    %m = arith.maximumf %a, %z : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// A named op is generalized (keeping its ONNX node name). The accumulator is read, so its tile is copied in;
// B is needed whole by every row of C and is promoted whole.

// CHECK-LABEL: func.func @matmul
//  CHECK-SAME:   (%[[A:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32x64xf32>, %[[C:.*]]: tensor<64x64xf32>)
//   CHECK-NOT:   linalg.matmul
//       CHECK:   scf.forall (%[[I:.*]], %{{.*}}) in (64, 1) shared_outs(%[[OUT:.*]] = %[[C]])
//       CHECK:     %[[AS:.*]] = tensor.extract_slice %[[A]][%[[I]], 0] [1, 32] [1, 1]
//       CHECK:     %[[AL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x32xf32>
//       CHECK:     %[[AIN:.*]] = bufferization.materialize_in_destination %[[AS]] in %[[AL]]
//       CHECK:     %[[BL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<32x64xf32>
//       CHECK:     %[[BIN:.*]] = bufferization.materialize_in_destination %[[B]] in %[[BL]]
//       CHECK:     %[[CS:.*]] = tensor.extract_slice %[[OUT]][%[[I]], 0] [1, 64] [1, 1]
//       CHECK:     %[[CL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x64xf32>
//       CHECK:     %[[CIN:.*]] = bufferization.materialize_in_destination %[[CS]] in %[[CL]]
//       CHECK:     linalg.generic
//  CHECK-SAME:       iterator_types = ["parallel", "parallel", "reduction"]
//  CHECK-SAME:       ins(%[[AIN]], %[[BIN]] : tensor<1x32xf32>, tensor<32x64xf32>) outs(%[[CIN]] : tensor<1x64xf32>)
//  CHECK-SAME:       swmlir.node = "mm"
//  CHECK-SAME:       swmlir.tiles = "tiles [1, 64, 0] (64 work items, 8576 bytes of LDM, shared over the mesh)"
//   CHECK-NOT:   linalg.matmul
func.func @matmul(%a: tensor<64x32xf32>, %b: tensor<32x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul {swmlir.node = "mm"} ins(%a, %b : tensor<64x32xf32>, tensor<32x64xf32>)
      outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// Convolution: a tile of one output row (12 columns) of one channel reads the input window of 3 whole rows
// (14 columns: one contiguous DMA block) and the 3x3 filter of its channel. The model prefers it to tiles of
// 6 columns (96 work items, two rounds of the CPEs, 32-byte blocks).

// CHECK-LABEL: func.func @conv
//  CHECK-SAME:   (%[[X:.*]]: tensor<1x1x14x14xf32>, %[[W:.*]]: tensor<4x1x3x3xf32>, %[[O:.*]]: tensor<1x4x12x12xf32>)
//   CHECK-NOT:   linalg.conv_2d_nchw_fchw
//       CHECK:   scf.forall (%{{.*}}, %[[F:.*]], %[[H:.*]], %{{.*}}) in (1, 4, 12, 1)
//       CHECK:     %[[WIN:.*]] = tensor.extract_slice %[[X]][0, 0, %[[H]], 0] [1, 1, 3, 14] [1, 1, 1, 1] : tensor<1x1x14x14xf32> to tensor<1x1x3x14xf32>
//       CHECK:     bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x1x3x14xf32>
//       CHECK:     tensor.extract_slice %[[W]][%[[F]], 0, 0, 0] [1, 1, 3, 3] [1, 1, 1, 1]
//       CHECK:     bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x1x3x3xf32>
//       CHECK:     bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x1x1x12xf32>
//       CHECK:     linalg.generic
//  CHECK-SAME:       swmlir.node = "conv1"
//  CHECK-SAME:       swmlir.tiles = "tiles [1, 1, 1, 12, 0, 0, 0] (48 work items, 252 bytes of LDM)"
//       CHECK:       -> tensor<1x1x1x12xf32>
//       CHECK:       tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, %[[F]], %[[H]], 0] [1, 1, 1, 12]
func.func @conv(%x: tensor<1x1x14x14xf32>, %w: tensor<4x1x3x3xf32>, %o: tensor<1x4x12x12xf32>) -> tensor<1x4x12x12xf32> {
  %c = linalg.conv_2d_nchw_fchw {swmlir.node = "conv1", dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x1x14x14xf32>, tensor<4x1x3x3xf32>) outs(%o : tensor<1x4x12x12xf32>) -> tensor<1x4x12x12xf32>
  return %c : tensor<1x4x12x12xf32>
}

// -----

// Tile sizes divide the loop sizes, so every tile is static: 100 columns are split in tiles of 5 (3 x 20 = 60
// work items: one round of the 64 CPEs; tiles of 4 would need two), never in tiles that leave a partial tile
// (affine.min, dynamic shapes).

// CHECK-LABEL: func.func @static_tiles
//   CHECK-NOT:   affine.min
//       CHECK:   scf.forall (%{{.*}}, %{{.*}}) in (3, 20)
//   CHECK-NOT:   affine.min
//   CHECK-NOT:   tensor<?
//       CHECK:     bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x5xf32>
//       CHECK:     swmlir.tiles = "tiles [1, 5] (60 work items, 40 bytes of LDM)"
//   CHECK-NOT:   affine.min
//   CHECK-NOT:   tensor<?
//       CHECK:   return
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @static_tiles(%x: tensor<3x100xf32>) -> tensor<3x100xf32> {
  %e = tensor.empty() : tensor<3x100xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x100xf32>) outs(%e : tensor<3x100xf32>) {
  ^bb0(%a: f32, %b: f32):
    %m = arith.negf %a : f32
    linalg.yield %m : f32
  } -> tensor<3x100xf32>
  return %r : tensor<3x100xf32>
}

// -----

// A large K: a whole row of A and column of B (8192 floats each) would fill the LDM, so K is tiled by a
// sequential loop inside the CPE and the accumulator (a row of C) is promoted once, before that loop. The model
// takes whole rows of C; the 8 CPEs of a mesh row need the same 64x64 panel of B at each step, so on SW26010 it
// is fetched in eighths and shared (sunway-share-tiles), and the LDM holds two panels (sunway-double-buffer then
// fetches the next during the current one). On SW26010-Pro the LDM holds K panels of 256 twice over.

// CHECK-LABEL: func.func @large_k
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
//   CHECK-DAG:   %[[K:.*]] = arith.constant 8192 : index
//   CHECK-DAG:   %[[KT:.*]] = arith.constant 64 : index
//       CHECK:   scf.forall (%{{.*}}, %{{.*}}) in (64, 1)
//       CHECK:     %[[ACC:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x64xf32>
//       CHECK:     %[[ACCIN:.*]] = bufferization.materialize_in_destination %{{.*}} in %[[ACC]]
//       CHECK:     scf.for %{{.*}} = %[[C0]] to %[[K]] step %[[KT]] iter_args(%[[ARG:.*]] = %[[ACCIN]])
//       CHECK:       bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x64xf32>
//       CHECK:       bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<64x64xf32>
//       CHECK:       linalg.generic
//  CHECK-SAME:         outs(%[[ARG]] : tensor<1x64xf32>)
//  CHECK-SAME:         swmlir.tiles = "tiles [1, 64, 0], reduction tiles [0, 0, 64] (64 work items, 33536 bytes of LDM, shared over the mesh)"
//       CHECK:       scf.yield

// PRO-LABEL: func.func @large_k
//       PRO:   scf.forall (%{{.*}}, %{{.*}}) in (64, 1)
//       PRO:     scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c256
//       PRO:       bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x256xf32>
//       PRO:       bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<256x64xf32>
//       PRO:       linalg.generic
//  PRO-SAME:         swmlir.tiles = "tiles [1, 64, 0], reduction tiles [0, 0, 256] (64 work items, 133376 bytes of LDM)"
//       PRO:   return
func.func @large_k(%a: tensor<64x8192xf32>, %b: tensor<8192x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul {swmlir.node = "fc"} ins(%a, %b : tensor<64x8192xf32>, tensor<8192x64xf32>)
      outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A tensor.pad with fewer leading (unpadded) indices than CPEs is decomposed: a fill of the padded tensor and a
// copy of the input into its interior, each a kernel of its own, so that every byte moved in main memory is
// moved by the CPEs.

// CHECK-LABEL: func.func @pad
//   CHECK-NOT:   tensor.pad
//       CHECK:   %[[FILLED:.*]] = scf.forall ({{.*}}) in (1, 1, 14, 2)
//       CHECK:     linalg.generic
//  CHECK-SAME:       swmlir.node = "linalg.fill"
//       CHECK:   %[[INNER:.*]] = tensor.extract_slice %[[FILLED]][0, 0, 1, 1] [1, 1, 12, 12] [1, 1, 1, 1]
//       CHECK:   %[[COPIED:.*]] = scf.forall ({{.*}}) in (1, 1, 12, 4) shared_outs(%{{.*}} = %[[INNER]])
//       CHECK:     bufferization.materialize_in_destination
//       CHECK:   tensor.insert_slice %[[COPIED]] into %[[FILLED]][0, 0, 1, 1] [1, 1, 12, 12] [1, 1, 1, 1]
//   CHECK-NOT:   tensor.pad
func.func @pad(%x: tensor<1x1x12x12xf32>) -> tensor<1x1x14x14xf32> {
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %z : f32
  } : tensor<1x1x12x12xf32> to tensor<1x1x14x14xf32>
  return %p : tensor<1x1x14x14xf32>
}

// -----

// A pad with a leading index per CPE is one kernel (swmlir.schedule.pads): tiled over its unpadded dimensions,
// a work item gets its source planes whole into LDM, pads them there and puts the padded planes whole; 128
// channels make 64 work items of 2 planes each. No fill kernel, no copy kernel, no strided rows.

// CHECK-LABEL: func.func @pad_planes
//  CHECK-SAME:   (%[[X:.*]]: tensor<1x128x12x12xf32>)
//       CHECK:   scf.forall (%{{.*}}, %[[C:.*]]) in (1, 64) shared_outs(%[[OUT:.*]] = %{{.*}})
//       CHECK:     %[[S:.*]] = tensor.extract_slice %[[X]][0, %{{.*}}, 0, 0] [1, 2, 12, 12] [1, 1, 1, 1]
//       CHECK:     %[[L:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x2x12x12xf32>
//       CHECK:     %[[IN:.*]] = bufferization.materialize_in_destination %[[S]] in %[[L]]
//       CHECK:     %[[P:.*]] = tensor.pad %[[IN]] low[0, 0, 1, 1] high[0, 0, 1, 1]
//       CHECK:       : tensor<1x2x12x12xf32> to tensor<1x2x14x14xf32>
//       CHECK:     tensor.parallel_insert_slice %[[P]] into %[[OUT]][0, %{{.*}}, 0, 0] [1, 2, 14, 14] [1, 1, 1, 1]
//       CHECK:   } {mapping = [#gpu.thread<linear_dim_0>, #gpu.thread<linear_dim_1>], swmlir.group = "p1.pad",
//  CHECK-SAME:      swmlir.tiles = "tiles [1, 2, 0, 0] (64 work items, 2720 bytes of LDM)"}
//   CHECK-NOT:   linalg.generic
func.func @pad_planes(%x: tensor<1x128x12x12xf32>) -> tensor<1x128x14x14xf32> {
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %z : f32
  } : tensor<1x128x12x12xf32> to tensor<1x128x14x14xf32> loc("p1")
  return %p : tensor<1x128x14x14xf32>
}

// -----

// Fusion: a single-use producer whose result the consumer reads tile by tile (fill -> matmul -> relu) is computed
// inside its consumer's tile. One forall for the group; the accumulator is initialised in the LDM (no copy of C
// in from main memory) and the matmul result goes to the relu without a round trip through main memory. The
// tiles are over the matmul's loops (the relu is its epilogue) and the relu writes over the accumulator's tile
// (reuse_input_tiles): no LDM tile of its own. With fuse=0 every op is a forall of its own.

// CHECK-LABEL: func.func @fused
//       CHECK:   scf.forall (%{{.*}}, %{{.*}}) in (64, 1)
//       CHECK:     %[[ACC:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1x64xf32>
//       CHECK:     %[[INIT:.*]] = linalg.generic
//  CHECK-SAME:       ins(%{{.*}} : f32) outs(%[[ACC]] : tensor<1x64xf32>)
//  CHECK-SAME:       swmlir.node = "init"
//       CHECK:     %[[MM:.*]] = linalg.generic
//  CHECK-SAME:       outs(%[[INIT]] : tensor<1x64xf32>)
//  CHECK-SAME:       swmlir.node = "mm"
//       CHECK:     linalg.generic
//  CHECK-SAME:       ins(%[[MM]] : tensor<1x64xf32>) outs(%[[MM]] : tensor<1x64xf32>)
//  CHECK-SAME:       swmlir.group = "init+mm+relu", swmlir.node = "relu"
//  CHECK-SAME:       swmlir.tiles = "tiles [1, 64, 0] (64 work items, 8576 bytes of LDM, shared over the mesh)"
//   CHECK-NOT:   scf.forall (
//       CHECK:   return

// NOFUSE-LABEL: func.func @fused
//       NOFUSE:   scf.forall
//       NOFUSE:     swmlir.group = "init", swmlir.node = "init"
//       NOFUSE:   scf.forall
//       NOFUSE:     swmlir.group = "mm", swmlir.node = "mm"
//       NOFUSE:   scf.forall
//       NOFUSE:     swmlir.group = "relu", swmlir.node = "relu"
//       NOFUSE:   return
#id3 = affine_map<(d0, d1) -> (d0, d1)>
func.func @fused(%a: tensor<64x32xf32>, %b: tensor<32x64xf32>) -> tensor<64x64xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %f = linalg.fill {swmlir.node = "init"} ins(%z : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %m = linalg.matmul {swmlir.node = "mm"} ins(%a, %b : tensor<64x32xf32>, tensor<32x64xf32>)
      outs(%f : tensor<64x64xf32>) -> tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<64x64xf32>) outs(%e2 : tensor<64x64xf32>) attrs = {swmlir.node = "relu"} {
  ^bb0(%x: f32, %y: f32):
    %v = arith.maximumf %x, %z : f32
    linalg.yield %v : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A reduction to a scalar has no parallel loop: the result is viewed as tensor<1xf32> and given a unit parallel
// loop, so that it is a forall (of one work item) like every other op.

// CHECK-LABEL: func.func @sum
//  CHECK-SAME:   (%[[X:.*]]: tensor<1024xf32>, %[[ACC:.*]]: tensor<f32>)
//       CHECK:   %[[ACC1:.*]] = tensor.expand_shape %[[ACC]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
//       CHECK:   %[[R:.*]] = scf.forall (%{{.*}}) in (1) shared_outs(%{{.*}} = %[[ACC1]])
//       CHECK:     bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1024xf32>
//       CHECK:     linalg.generic
//  CHECK-SAME:       iterator_types = ["parallel", "reduction"]
//  CHECK-SAME:       swmlir.tiles = "tiles [1, 0] (1 work items, 4100 bytes of LDM)"
//       CHECK:   tensor.collapse_shape %[[R]] [] : tensor<1xf32> into tensor<f32>
func.func @sum(%x: tensor<1024xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %r = linalg.reduce {arith.addf} ins(%x : tensor<1024xf32>) outs(%acc : tensor<f32>) dimensions = [0] {swmlir.node = "sum1"}
  return %r : tensor<f32>
}

// -----

// A contraction with an epilogue keeps its reduction loop: K = 4096 does not fit the LDM in one tile, so the
// matmul (a member of the relu's group) is tiled over K inside the work item, and the relu runs once per tile on
// the finished accumulator, in its tile, before the result goes to main memory: one kernel, no round trip.

// CHECK-LABEL: func.func @epilogue
//       CHECK:   scf.forall
//       CHECK:     %[[ACC:.*]] = linalg.generic
//  CHECK-SAME:       swmlir.node = "init"
//       CHECK:     %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]])
//       CHECK:       swmlir.node = "mm"
//       CHECK:     linalg.generic
//  CHECK-SAME:       ins(%[[SUM]] : tensor<{{.*}}>) outs(%[[SUM]] : tensor<{{.*}}>)
//  CHECK-SAME:       swmlir.group = "init+mm+relu", swmlir.node = "relu"
//  CHECK-SAME:       reduction tiles [0, 0, {{[0-9]+}}]
//   CHECK-NOT:   scf.forall (
//       CHECK:   return
#id4 = affine_map<(d0, d1) -> (d0, d1)>
func.func @epilogue(%a: tensor<64x4096xf32>, %b: tensor<4096x64xf32>) -> tensor<64x64xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %f = linalg.fill {swmlir.node = "init"} ins(%z : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %m = linalg.matmul {swmlir.node = "mm"} ins(%a, %b : tensor<64x4096xf32>, tensor<4096x64xf32>)
      outs(%f : tensor<64x64xf32>) -> tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<64x64xf32>) outs(%e2 : tensor<64x64xf32>) attrs = {swmlir.node = "relu"} {
  ^bb0(%x: f32, %y: f32):
    %v = arith.maximumf %x, %z : f32
    linalg.yield %v : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A tile operand the forall does not slice (a one-element constant, read through a constant index) is promoted
// where it is defined, outside the forall; promote_tensor redirects every use of it, but the graph output (the
// return) must keep the value itself, not its LDM copy (which the host would drop: the output never written).

// CHECK-LABEL: func.func @returned_constant
//       CHECK:   %[[K:.*]] = arith.constant dense<5.000000e-01> : tensor<1xf32>
//       CHECK:   %[[KL:.*]] = bufferization.alloc_tensor() {memory_space = 2 : i64} : tensor<1xf32>
//       CHECK:   %[[KIN:.*]] = bufferization.materialize_in_destination %[[K]] in %[[KL]]
//       CHECK:   %[[R:.*]] = scf.forall
//       CHECK:     linalg.generic
//  CHECK-SAME:       ins(%{{.*}}, %[[KIN]] : tensor<1x1x1xf32>, tensor<1xf32>)
//       CHECK:   return %[[R]], %[[K]] :
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#c0 = affine_map<(d0, d1, d2) -> (0)>
func.func @returned_constant(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<1xf32>) {
  %k = arith.constant dense<5.0e-01> : tensor<1xf32>
  %e = tensor.empty() : tensor<2x3x4xf32>
  %r = linalg.generic {indexing_maps = [#id3, #c0, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %k : tensor<2x3x4xf32>, tensor<1xf32>) outs(%e : tensor<2x3x4xf32>) attrs = {swmlir.node = "m"} {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<2x3x4xf32>
  return %r, %k : tensor<2x3x4xf32>, tensor<1xf32>
}

// -----

// The same for a one-element input that is also an output (an Identity folded away), returned through a reshape.

// CHECK-LABEL: func.func @returned_input
//  CHECK-SAME:   (%{{.*}}: tensor<2x3x4xf32>, %[[S:.*]]: tensor<1xf32>)
//       CHECK:   %[[R:.*]] = scf.forall
//       CHECK:   %[[S2:.*]] = tensor.expand_shape %[[S]] {{\[\[}}0, 1]] output_shape [1, 1]
//       CHECK:   return %[[R]], %[[S2]] :
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#c0 = affine_map<(d0, d1, d2) -> (0)>
func.func @returned_input(%x: tensor<2x3x4xf32>, %s: tensor<1xf32>) -> (tensor<2x3x4xf32>, tensor<1x1xf32>) {
  %e = tensor.empty() : tensor<2x3x4xf32>
  %r = linalg.generic {indexing_maps = [#id3, #c0, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : tensor<2x3x4xf32>, tensor<1xf32>) outs(%e : tensor<2x3x4xf32>) attrs = {swmlir.node = "m"} {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<2x3x4xf32>
  %s2 = tensor.expand_shape %s [[0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
  return %r, %s2 : tensor<2x3x4xf32>, tensor<1x1xf32>
}
