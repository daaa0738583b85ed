# RUN: %python %s | FileCheck %s
"""Elementwise ops, activations and casts: one all-parallel linalg.generic per node, whose body picks the arith
op from the ONNX element type (signed or unsigned integers, float16 computed in f32)."""
import numpy as np
from mlir import ir
from onnx import TensorProto

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import single_node


def show(title, model):
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("exp", single_node("Exp", {"x": (2, 3)}, opset=13))
show("sigmoid_f16", single_node("Sigmoid", {"x": ((4,), np.float16)}, {"y": ((4,), np.float16)}, opset=13))
show("gelu_tanh", single_node("Gelu", {"x": (4,)}, opset=20, approximate="tanh"))
show("clip_runtime_min", single_node("Clip", {"x": (3, 4), "lo": ()}, opset=13))
show("less_uint8", single_node("Less", {"a": ((3, 4), np.uint8), "b": ((4,), np.uint8)},
                               {"y": ((3, 4), np.bool_)}, opset=13))
show("div_int32", single_node("Div", {"a": ((5,), np.int32), "b": ((5,), np.int32)}, {"y": ((5,), np.int32)},
                              opset=14))
show("div_uint16", single_node("Div", {"a": ((5,), np.uint16), "b": ((5,), np.uint16)}, {"y": ((5,), np.uint16)},
                               opset=14))
show("bitshift_right_int8", single_node("BitShift", {"x": ((3,), np.int8), "y": ((3,), np.int8)},
                                        {"z": ((3,), np.int8)}, opset=28, direction="RIGHT"))
show("mod_int64_python", single_node("Mod", {"x": ((3,), np.int64), "y": ((3,), np.int64)},
                                     {"z": ((3,), np.int64)}, opset=13))
show("where_bcast", single_node("Where", {"c": ((3, 1), np.bool_), "x": (4,), "y": ()}, {"z": (3, 4)}, opset=16))
show("max3", single_node("Max", {"a": (2, 3), "b": (3,), "c": (2, 1)}, opset=13))
show("cast_f32_u8", single_node("Cast", {"x": (4,)}, {"y": ((4,), np.uint8)}, opset=21, to=TensorProto.UINT8))
show("cast_u8_f32", single_node("Cast", {"x": ((4,), np.uint8)}, {"y": (4,)}, opset=21, to=TensorProto.FLOAT))
show("cast_i32_bool", single_node("Cast", {"x": ((4,), np.int32)}, {"y": ((4,), np.bool_)}, opset=21,
                                  to=TensorProto.BOOL))

# CHECK-LABEL: // CASE: exp
# CHECK:       linalg.generic
# CHECK-SAME:    {swmlir.node = "exp"}
# CHECK:         ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
# CHECK-NEXT:      %[[Y:.*]] = math.exp %[[X]] : f32
# CHECK-NEXT:      linalg.yield %[[Y]] : f32

# f16 math runs in f32 and is rounded once
# CHECK-LABEL: // CASE: sigmoid_f16
# CHECK:         ^bb0(%[[X:.*]]: f16, %{{.*}}: f16):
# CHECK-NEXT:      %[[W:.*]] = arith.extf %[[X]] : f16 to f32
# CHECK:           %[[N:.*]] = arith.negf %[[W]] : f32
# CHECK-NEXT:      %[[E:.*]] = math.exp %[[N]] : f32
# CHECK-NEXT:      %[[D:.*]] = arith.addf %{{.*}}, %[[E]] : f32
# CHECK-NEXT:      %[[S:.*]] = arith.divf %{{.*}}, %[[D]] : f32
# CHECK-NEXT:      %[[H:.*]] = arith.truncf %[[S]] : f32 to f16
# CHECK-NEXT:      linalg.yield %[[H]] : f16

# CHECK-LABEL: // CASE: gelu_tanh
# CHECK:           arith.constant 0.797884583 : f32
# CHECK:           arith.constant 4.471500e-02 : f32
# CHECK:           math.tanh
# CHECK-NOT:       math.erf

# a min read at run time is a rank-0 operand read through a constant map
# CHECK-LABEL: // CASE: clip_runtime_min
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
# CHECK-DAG:   #[[SCALAR:map[0-9]*]] = affine_map<(d0, d1) -> ()>
# CHECK:       func.func @main(%[[X:.*]]: tensor<3x4xf32>, %[[LO:.*]]: tensor<f32>) -> tensor<3x4xf32>
# CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
# CHECK-SAME:      ins(%[[X]], %[[LO]] : tensor<3x4xf32>, tensor<f32>)
# CHECK:           arith.maximumf
# CHECK-NOT:       arith.minimumf
# CHECK:           linalg.yield

# unsigned integers are signless in MLIR: the ONNX type picks the unsigned predicate
# CHECK-LABEL: // CASE: less_uint8
# CHECK:       func.func @main(%{{.*}}: tensor<3x4xi8>, %{{.*}}: tensor<4xi8>) -> tensor<3x4xi1>
# CHECK:           arith.cmpi ult, %{{.*}}, %{{.*}} : i8

# signed division truncates toward zero; / 0 and / -1 lanes never reach the divide (they trap in C)
# CHECK-LABEL: // CASE: div_int32
# CHECK:           %[[Z:.*]] = arith.cmpi eq, %[[B:.*]], %{{.*}} : i32
# CHECK:           %[[M1:.*]] = arith.cmpi eq, %[[B]], %{{.*}} : i32
# CHECK:           %[[BAD:.*]] = arith.ori %[[Z]], %[[M1]] : i1
# CHECK:           %[[SAFE:.*]] = arith.select %[[BAD]], %{{.*}}, %[[B]] : i32
# CHECK:           arith.divsi %{{.*}}, %[[SAFE]] : i32

# CHECK-LABEL: // CASE: div_uint16
# CHECK:           arith.divui
# CHECK-NOT:       arith.divsi

# CHECK-LABEL: // CASE: bitshift_right_int8
# CHECK:           %[[OK:.*]] = arith.cmpi ult, %[[Y:.*]], %c8_i8 : i8
# CHECK:           %[[FILL:.*]] = arith.select %{{.*}}, %c-1_i8, %{{.*}} : i8
# CHECK:           %[[SH:.*]] = arith.shrsi
# CHECK:           arith.select %[[OK]], %[[SH]], %[[FILL]] : i8

# fmod=0: the remainder takes the divisor's sign
# CHECK-LABEL: // CASE: mod_int64_python
# CHECK:           %[[R:.*]] = arith.remsi
# CHECK:           %[[FIX:.*]] = arith.andi
# CHECK:           %[[ADJ:.*]] = arith.addi %[[R]], %{{.*}} : i64
# CHECK:           arith.select %[[FIX]], %[[ADJ]], %[[R]] : i64

# CHECK-LABEL: // CASE: where_bcast
# CHECK-DAG:   #[[COL:map[0-9]*]] = affine_map<(d0, d1) -> (d0, 0)>
# CHECK-DAG:   #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
# CHECK-DAG:   #[[SCALAR:map[0-9]*]] = affine_map<(d0, d1) -> ()>
# CHECK-DAG:   #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
# CHECK:         linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[SCALAR]], #[[ID]]]
# CHECK:           arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32

# variadic: one generic over all inputs
# CHECK-LABEL: // CASE: max3
# CHECK:         linalg.generic
# CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>, tensor<2x1xf32>)
# CHECK:           %[[M:.*]] = arith.maximumf %{{.*}}, %{{.*}} : f32
# CHECK-NEXT:      arith.maximumf %[[M]], %{{.*}} : f32

# CHECK-LABEL: // CASE: cast_f32_u8
# CHECK:           arith.fptoui %{{.*}} : f32 to i8
# CHECK-LABEL: // CASE: cast_u8_f32
# CHECK:           arith.uitofp %{{.*}} : i8 to f32
# CHECK-LABEL: // CASE: cast_i32_bool
# CHECK:           arith.cmpi ne, %{{.*}}, %{{.*}} : i32
