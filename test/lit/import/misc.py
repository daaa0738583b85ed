# RUN: %python %s | FileCheck %s
"""Constant / Identity / Dropout: values passed along; weights above 16 elements become dense_resource blobs."""
import numpy as np
from mlir import ir
from onnx import helper, numpy_helper

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import make_model


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


big = np.linspace(0, 1, 17, dtype=np.float32)
show("constants", make_model([
    helper.make_node("Constant", [], ["big"], value=numpy_helper.from_array(big)),
    helper.make_node("Constant", [], ["small"], value_floats=[1.0, 2.0]),
    helper.make_node("Constant", [], ["k"], value_float=0.5),
    helper.make_node("Add", ["x", "big"], ["a"], name="add_big"),
    helper.make_node("Mul", ["a", "k"], ["y"], name="mul_k"),
], {"x": (17,)}, {"y": None, "small": None}, opset=13))
show("identity_dropout", make_model([
    helper.make_node("Identity", ["x"], ["i"]),
    helper.make_node("Dropout", ["i"], ["y", "mask"]),
], {"x": (2, 3)}, {"y": None, "mask": (None, np.bool_)}, opset=13))

# CHECK-LABEL: // CASE: constants
# CHECK:       func.func @main(%{{.*}}: tensor<17xf32>) -> (tensor<17xf32>, tensor<2xf32>)
# CHECK-DAG:     %[[BIG:.*]] = arith.constant dense_resource<big> : tensor<17xf32>
# CHECK-DAG:     %[[K:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
# CHECK-DAG:     %[[SMALL:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
# CHECK:         return %{{.*}}, %[[SMALL]] : tensor<17xf32>, tensor<2xf32>
# CHECK:       dialect_resources
# CHECK-NEXT:    builtin
# CHECK-NEXT:      big: "0x04000000

# Identity and inference Dropout emit nothing; the mask is an all-true splat.
# CHECK-LABEL: // CASE: identity_dropout
# CHECK:       func.func @main(%[[X:.*]]: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
# CHECK-NEXT:    %[[MASK:.*]] = arith.constant dense<true> : tensor<2x3xi1>
# CHECK-NEXT:    return %[[X]], %[[MASK]] : tensor<2x3xf32>, tensor<2x3xi1>
