# RUN: %python %s | FileCheck %s
"""Reductions and normalizations: reduction generics with projected outputs, keepdims as expand_shape, indices
from linalg.index (ArgMax, CumSum, TopK), two-pass statistics, BatchNorm folded into one multiply-add."""
import numpy as np
from mlir import ir

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


I64 = np.int64
show("reduce_l2_keepdims", single_node("ReduceL2", {"x": (2, 3, 4)}, opset=18,
                                       initializers={"axes": np.array([1], I64)}, keepdims=1))
show("argmax_last", single_node("ArgMax", {"x": (2, 3)}, {"y": (None, I64)}, opset=13, axis=1, keepdims=0,
                                select_last_index=1))
show("cumsum_exclusive", single_node("CumSum", {"x": (2, 5)}, opset=14, initializers={"a": np.array(1, I64)},
                                     exclusive=1))
show("topk", single_node("TopK", {"x": (2, 5)}, {"v": (None, np.float32), "i": (None, I64)}, opset=11,
                         initializers={"k": np.array([2], I64)}))
show("layer_norm", single_node("LayerNormalization", {"x": (2, 3, 4)}, {"y": None, "mean": None, "inv": None},
                               opset=17, initializers={"w": np.full((4,), 2.0, np.float32)}))
show("batch_norm_folded", single_node("BatchNormalization", {"x": (2, 3, 4)}, opset=15, initializers={
    "s": np.ones(3, np.float32), "b": np.zeros(3, np.float32), "m": np.zeros(3, np.float32),
    "v": np.ones(3, np.float32)}))
show("lrn", single_node("LRN", {"x": (1, 4, 2, 2)}, opset=13, size=3))

# CHECK-LABEL: // CASE: reduce_l2_keepdims
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
# CHECK-DAG:   #[[RED:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
# CHECK:       func.func @main(%{{.*}}: tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
# CHECK:         %[[SS:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]}
# CHECK:           arith.mulf
# CHECK:           arith.addf
# CHECK:         %[[N:.*]] = linalg.generic
# CHECK-SAME:      ins(%[[SS]] : tensor<2x4xf32>)
# CHECK:           math.sqrt
# CHECK:         tensor.expand_shape %[[N]] {{\[\[}}0], [1, 2]] output_shape [2, 1, 4] : tensor<2x4xf32> into tensor<2x1x4xf32>

# CHECK-LABEL: // CASE: argmax_last
# CHECK:         %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
# CHECK:           arith.maximumf
# CHECK:         %[[INIT:.*]] = linalg.fill {{.*}} ins(%c-1_i64 : i64)
# CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] : tensor<2x3xf32>, tensor<2xf32>) outs(%[[INIT]] : tensor<2xi64>)
# CHECK:           arith.cmpf oeq
# CHECK:           linalg.index 1
# CHECK:           arith.maxsi
# CHECK:           arith.select

# An extra reduction loop d2 runs over the axis; the input is read at d2, the output written at d1.
# CHECK-LABEL: // CASE: cumsum_exclusive
# CHECK-DAG:   #[[IN:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
# CHECK-DAG:   #[[OUT:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
# CHECK:         linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
# CHECK:           %[[J:.*]] = linalg.index 2
# CHECK:           %[[I:.*]] = linalg.index 1
# CHECK:           arith.cmpi slt, %[[J]], %[[I]]

# TopK: ranks (one pairwise reduction), then values and indices selected by rank == output position.
# CHECK-LABEL: // CASE: topk
# CHECK:       func.func @main(%[[X:.*]]: tensor<2x5xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
# CHECK:         %[[RANK:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[X]] : tensor<2x5xf32>, tensor<2x5xf32>) outs(%{{.*}} : tensor<2x5xi64>)
# CHECK:           arith.cmpf ogt
# CHECK:           arith.extui
# CHECK:         %[[V:.*]] = linalg.generic {{.*}} ins(%[[RANK]], %[[X]] : tensor<2x5xi64>, tensor<2x5xf32>) outs(%{{.*}} : tensor<2x2xf32>)
# CHECK:         %[[IDX:.*]] = linalg.generic {{.*}} ins(%[[RANK]], %[[X]] : tensor<2x5xi64>, tensor<2x5xf32>) outs(%{{.*}} : tensor<2x2xi64>)
# CHECK:         return %[[V]], %[[IDX]]

# Two-pass statistics: sum, mean, sum of squared deviations, inverse std; then one normalizing generic.
# CHECK-LABEL: // CASE: layer_norm
# CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
# CHECK:         %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3xf32>)
# CHECK:           arith.divf
# CHECK:         %[[SQ:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]] : tensor<2x3x4xf32>, tensor<2x3xf32>)
# CHECK:           arith.subf
# CHECK:           arith.mulf
# CHECK:         %[[INV:.*]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<2x3xf32>)
# CHECK:           math.sqrt
# CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]], %[[INV]], %{{.*}} : tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xf32>)
# CHECK:         %[[M:.*]] = tensor.expand_shape %[[MEAN]] {{.*}} into tensor<2x3x1xf32>
# CHECK:         %[[S:.*]] = tensor.expand_shape %[[INV]] {{.*}} into tensor<2x3x1xf32>
# CHECK:         return %[[Y]], %[[M]], %[[S]]

# Constant parameters: y = x * a + c with a, c computed at import time.
# CHECK-LABEL: // CASE: batch_norm_folded
# CHECK-COUNT-1: linalg.generic
# CHECK-NOT:     math.sqrt
# CHECK:           arith.mulf
# CHECK-NEXT:      arith.addf
# CHECK:         return

# LRN: the channel window is a reduction loop d4 read at d1 + d4 of the zero-padded input.
# CHECK-LABEL: // CASE: lrn
# CHECK-DAG:   #[[WIN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d4, d2, d3)>
# CHECK:         tensor.pad %{{.*}} low[0, 1, 0, 0] high[0, 1, 0, 0]
# CHECK:         linalg.generic {indexing_maps = [#[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
# CHECK:           math.powf
