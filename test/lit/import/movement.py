# RUN: %python %s | FileCheck %s
"""Shape and data movement: layout-only ops are reshapes, data movement is a copy whose input map selects what
is read (a window sliced out first, no constant terms, no floordiv), gathers at run-time indices are masked
reductions, shape computations fold to constants."""
import numpy as np
from mlir import ir
from onnx import helper

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import make_model, single_node

I64 = np.int64


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("unsqueeze_transpose", make_model([
    helper.make_node("Unsqueeze", ["x", "ax"], ["u"]),
    helper.make_node("Transpose", ["u"], ["y"], perm=[0, 3, 1, 2]),
], {"x": (2, 3, 4)}, {"y": None}, opset=13, initializers={"ax": np.array([0], I64)}))
show("slice_step", single_node("Slice", {"x": (6, 10)}, opset=13, initializers={
    "s": np.array([1, 2], I64), "e": np.array([5, 9], I64), "a": np.array([0, 1], I64), "st": np.array([1, 3], I64)}))
show("slice_reverse", single_node("Slice", {"x": (4, 5)}, opset=13, initializers={
    "s": np.array([-1], I64), "e": np.array([-10], I64), "a": np.array([1], I64), "st": np.array([-1], I64)}))
show("gather_constant", single_node("Gather", {"x": (500, 64)}, opset=13, initializers={"i": np.array([[40, 0]], I64)}))
show("gather_runtime", single_node("Gather", {"x": (5, 3), "i": ((2,), I64)}, opset=13, axis=1))
show("pad_edge", single_node("Pad", {"x": (4, 200)}, opset=13, mode="edge",
                             initializers={"p": np.array([0, 2, 0, 1], I64)}))
show("resize_nearest_2x", single_node("Resize", {"x": (1, 1, 2, 3)}, opset=19, node_inputs=["x", "", "s"],
                                      initializers={"s": np.array([1, 1, 2, 2], np.float32)}))
show("shape_folds", make_model([
    helper.make_node("Shape", ["x"], ["s"]),
    helper.make_node("Gather", ["s", "i"], ["n"]),
    helper.make_node("Unsqueeze", ["n", "ax"], ["nu"]),
    helper.make_node("Concat", ["nu", "m1"], ["shape"], axis=0),
    helper.make_node("Reshape", ["x", "shape"], ["y"]),
], {"x": (2, 3, 4)}, {"y": None}, opset=13,
    initializers={"i": np.array(0, I64), "ax": np.array([0], I64), "m1": np.array([-1], I64)}))

# CHECK-LABEL: // CASE: unsqueeze_transpose
# CHECK:       func.func @main(%[[X:.*]]: tensor<2x3x4xf32>) -> tensor<1x4x2x3xf32>
# CHECK:         %[[U:.*]] = tensor.expand_shape %[[X]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 2, 3, 4]
# CHECK:         linalg.transpose ins(%[[U]] : tensor<1x2x3x4xf32>) outs(%{{.*}} : tensor<1x4x2x3xf32>) permutation = [0, 3, 1, 2]

# x[1:5, 2:9:3]: the window [1:5, 2:9] sliced out, then read at (d0, d1 * 3)
# CHECK-LABEL: // CASE: slice_step
# CHECK:       #[[STEP:.*]] = affine_map<(d0, d1) -> (d0, d1 * 3)>
# CHECK:         %[[W:.*]] = tensor.extract_slice %{{.*}}[1, 2] [4, 7] [1, 1] : tensor<6x10xf32> to tensor<4x7xf32>
# CHECK:         linalg.generic {indexing_maps = [#[[STEP]], #{{.*}}], {{.*}} ins(%[[W]] : tensor<4x7xf32>) outs(%{{.*}} : tensor<4x3xf32>)

# a reversal is a masked reduction over the window (maps with negative coefficients are never built)
# CHECK-LABEL: // CASE: slice_reverse
# CHECK:         linalg.fill
# CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
# CHECK:           linalg.index 1
# CHECK:           linalg.index 2
# CHECK:           arith.cmpi eq
# CHECK:           arith.select

# constant indices [40, 0]: two runs of one row each, copied into slices of a fresh tensor
# CHECK-LABEL: // CASE: gather_constant
# CHECK:         bufferization.alloc_tensor() : tensor<2x64xf32>
# CHECK:         tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 64] [1, 1]
# CHECK:         tensor.insert_slice %{{.*}} into %{{.*}}[1, 0] [1, 64] [1, 1]
# CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 2, 64] : tensor<2x64xf32> into tensor<1x2x64xf32>

# run-time indices: out[i, j] = the x[i, n] with n == idx[j] (negative indices wrapped), reduction over n
# CHECK-LABEL: // CASE: gather_runtime
# CHECK:       #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d1)>
# CHECK:       #[[XM:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
# CHECK:         linalg.generic {indexing_maps = [#[[IDX]], #[[XM]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
# CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<2xi64>, tensor<5x3xf32>) outs(%{{.*}} : tensor<5x2xf32>)
# CHECK:           arith.cmpi slt
# CHECK:           arith.select
# CHECK:           linalg.index 2

# edge padding: [x[:, 0] x2 (a broadcast read), x, x[:, 199]] (a tiny tensor would get a masked reduction)
# CHECK-LABEL: // CASE: pad_edge
# CHECK:         bufferization.alloc_tensor() : tensor<4x203xf32>
# CHECK-COUNT-3: tensor.insert_slice
# CHECK:         return

# nearest 2x: one broadcast generic over an output expanded to [.., 2, 2, 3, 2], then collapsed
# CHECK-LABEL: // CASE: resize_nearest_2x
# CHECK:       #[[NN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
# CHECK:         linalg.generic {indexing_maps = [#[[NN]], #{{.*}}]{{.*}} outs(%{{.*}} : tensor<1x1x2x2x3x2xf32>)
# CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4, 5]] : tensor<1x1x2x2x3x2xf32> into tensor<1x1x4x6xf32>

# Shape -> Gather -> Unsqueeze -> Concat folds: only the reshape is left
# CHECK-LABEL: // CASE: shape_folds
# CHECK:       func.func @main(%[[X:.*]]: tensor<2x3x4xf32>) -> tensor<2x12xf32>
# CHECK-NEXT:    %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>
# CHECK-NEXT:    return %[[R]]
