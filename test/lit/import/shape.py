# RUN: %python %s | FileCheck %s
"""Flatten / Reshape: collapse_shape or expand_shape when dims only merge or split, else collapse to rank 1 and
expand; nothing for a no-op; numpy for constants."""
import numpy as np
from mlir import ir
from onnx import helper

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import make_model, single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


def reshape(shape, target, **attrs):
    return single_node("Reshape", {"x": shape}, opset=14, initializers={"s": np.array(target, np.int64)}, **attrs)


show("flatten_axis2", single_node("Flatten", {"x": (2, 3, 4, 5)}, opset=13, axis=2))
show("flatten_axis0", single_node("Flatten", {"x": (2, 3)}, opset=13, axis=0))
show("reshape_collapse", reshape((2, 3, 4), [0, -1]))
show("reshape_expand", reshape((6, 4), [2, 3, 2, 2]))
show("reshape_general", reshape((2, 3, 4), [4, 3, 2]))
show("reshape_noop", reshape((7, 5), [7, -1]))
show("reshape_constant", make_model(
    [helper.make_node("Reshape", ["w", "s"], ["w2"]), helper.make_node("Add", ["x", "w2"], ["y"])],
    {"x": (2, 3)}, {"y": None}, opset=13,
    initializers={"w": np.arange(6, dtype=np.float32), "s": np.array([2, 3], np.int64)}))

# CHECK-LABEL: // CASE: flatten_axis2
# CHECK:       func.func @main(%[[X:.*]]: tensor<2x3x4x5xf32>) -> tensor<6x20xf32>
# CHECK:         %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2, 3]] : tensor<2x3x4x5xf32> into tensor<6x20xf32>
# CHECK:         return %[[R]]

# CHECK-LABEL: // CASE: flatten_axis0
# CHECK:         %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
# CHECK:         tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [1, 6] : tensor<6xf32> into tensor<1x6xf32>

# CHECK-LABEL: // CASE: reshape_collapse
# CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>

# CHECK-LABEL: // CASE: reshape_expand
# CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] output_shape [2, 3, 2, 2] : tensor<6x4xf32> into tensor<2x3x2x2xf32>

# CHECK-LABEL: // CASE: reshape_general
# CHECK:         %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
# CHECK:         tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1, 2]] output_shape [4, 3, 2] : tensor<24xf32> into tensor<4x3x2xf32>

# CHECK-LABEL: // CASE: reshape_noop
# CHECK:       func.func @main(%[[X:.*]]: tensor<7x5xf32>) -> tensor<7x5xf32>
# CHECK-NEXT:    return %[[X]] : tensor<7x5xf32>

# CHECK-LABEL: // CASE: reshape_constant
# CHECK-NOT:     tensor.expand_shape
# CHECK:         arith.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00, 5.000000e+00]]> : tensor<2x3xf32>
# CHECK:         linalg.generic
