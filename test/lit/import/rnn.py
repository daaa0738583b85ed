# RUN: %python %s | FileCheck %s
"""LSTM, GRU, RNN: the input projection of every step, direction and gate is ONE linalg.matmul of X viewed as
(seq_length * batch, input_size) with W viewed as (directions * gates * hidden, input_size); only the
recurrence is unrolled: per step an H_{t-1} x R^T matmul (none at the first step without initial_h) and the
cell generics reading their gate slices of the big product."""
import numpy as np
from mlir import ir
from onnx import helper

from swmlir.frontend.onnx import import_onnx
from swmlir.testing.models import make_model

T, B, I, H = 3, 2, 4, 2
rng = np.random.default_rng(0)


def show(title, op, gates, inputs=None, outputs=("Y", "Y_h"), direction="forward", extra_inputs=None, **attrs):
    D = 2 if direction == "bidirectional" else 1
    inits = {"W": rng.standard_normal((D, gates * H, I)).astype(np.float32),
             "R": rng.standard_normal((D, gates * H, H)).astype(np.float32)}
    ins = inputs or ["X", "W", "R"]
    node = helper.make_node(op, ins, list(outputs), name=op.lower(), hidden_size=H, direction=direction, **attrs)
    graph_inputs = {"X": (T, B, I)}
    graph_inputs.update(extra_inputs or {})
    model = make_model([node], graph_inputs, {o: None for o in outputs if o}, opset=14, initializers=inits)
    print(f"// CASE: {title}")
    with ir.Context():
        module, _ = import_onnx(model)
        print(module)


show("rnn_forward", "RNN", 1)
show("lstm_bidirectional", "LSTM", 4, outputs=("", "Y_h"), direction="bidirectional")
show("gru_reset_before_linear", "GRU", 3, inputs=["X", "W", "R", "", "", "H0"], extra_inputs={"H0": (1, B, H)})
show("rnn_sequence_lens", "RNN", 1, inputs=["X", "W", "R", "", "L"], extra_inputs={"L": ((B,), np.int32)},
     direction="reverse")

# One GEMM for the input projection of all 3 steps; the first step has no recurrent product, the next two
# multiply the previous state by R^T (one constant, shared) and add their slice of the GEMM.
# CHECK-LABEL: // CASE: rnn_forward
# CHECK:       func.func @main(%[[X:.*]]: tensor<3x2x4xf32>) -> (tensor<3x1x2x2xf32>, tensor<1x2x2xf32>)
# CHECK:         %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<3x2x4xf32> into tensor<6x4xf32>
# CHECK:         %[[XW:.*]] = linalg.matmul {{.*}} ins(%[[X2]], %{{.*}} : tensor<6x4xf32>, tensor<2x4xf32>) outs(%{{.*}} : tensor<6x2xf32>)
# CHECK-NOT:     linalg.matmul
# CHECK:         %[[S0:.*]] = tensor.extract_slice %[[XW]][0, 0] [2, 2] [1, 1]
# CHECK:         %[[H0:.*]] = linalg.generic {{.*}} ins(%[[S0]] : tensor<2x2xf32>)
# CHECK:           math.tanh
# CHECK:         %[[HR1:.*]] = linalg.matmul {{.*}} ins(%[[H0]], %[[R:.*]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK:         %[[S1:.*]] = tensor.extract_slice %[[XW]][2, 0] [2, 2] [1, 1]
# CHECK:         %[[H1:.*]] = linalg.generic {{.*}} ins(%[[S1]], %[[HR1]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK:           arith.addf
# CHECK:           math.tanh
# CHECK:         %[[HR2:.*]] = linalg.matmul {{.*}} ins(%[[H1]], %[[R]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK:         %[[S2:.*]] = tensor.extract_slice %[[XW]][4, 0] [2, 2] [1, 1]
# CHECK:         %[[H2:.*]] = linalg.generic {{.*}} ins(%[[S2]], %[[HR2]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK-NOT:     linalg.matmul
# CHECK:         bufferization.alloc_tensor() : tensor<3x1x2x2xf32>
# CHECK:         tensor.insert_slice
# CHECK:         %[[YH:.*]] = tensor.expand_shape %[[H2]]
# CHECK:         return %{{.*}}, %[[YH]] : tensor<3x1x2x2xf32>, tensor<1x2x2xf32>

# Bidirectional LSTM: the one GEMM covers both directions and the 4 gates (16 = 2 x 4 x 2 columns); 2 recurrent
# products per direction (steps 2 and 3), each cell = a generic for C_t and one for H_t. The reverse direction
# starts at the last step (row 4) in its own columns (8 on); without C_{t-1} its first cell skips the forget
# gate. Y is not requested: only Y_h is assembled.
# CHECK-LABEL: // CASE: lstm_bidirectional
# CHECK:       func.func @main(%{{.*}}: tensor<3x2x4xf32>) -> tensor<2x2x2xf32>
# CHECK:         %[[XW:.*]] = linalg.matmul {{.*}} : tensor<6x4xf32>, tensor<16x4xf32>) outs(%{{.*}} : tensor<6x16xf32>)
# CHECK-COUNT-2: linalg.matmul {{.*}} : tensor<2x2xf32>, tensor<8x2xf32>) outs(%{{.*}} : tensor<2x8xf32>)
# CHECK:         %[[I:.*]] = tensor.extract_slice %[[XW]][4, 8] [2, 2] [1, 1]
# CHECK:         %[[F:.*]] = tensor.extract_slice %[[XW]][4, 12] [2, 2] [1, 1]
# CHECK:         %[[C:.*]] = tensor.extract_slice %[[XW]][4, 14] [2, 2] [1, 1]
# CHECK:         linalg.generic {{.*}} ins(%[[I]], %[[C]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK-COUNT-2: linalg.matmul {{.*}} : tensor<2x2xf32>, tensor<8x2xf32>) outs(%{{.*}} : tensor<2x8xf32>)
# CHECK-NOT:     linalg.matmul
# CHECK:         bufferization.alloc_tensor() : tensor<2x2x2xf32>
# CHECK:         return %{{.*}} : tensor<2x2x2xf32>

# GRU, linear_before_reset=0, with initial_h: per step H R_zr^T, then r (.) H, then its product with R_h^T.
# CHECK-LABEL: // CASE: gru_reset_before_linear
# CHECK:         linalg.matmul {{.*}} : tensor<6x4xf32>, tensor<6x4xf32>) outs(%{{.*}} : tensor<6x6xf32>)
# CHECK:         %[[HZR:.*]] = linalg.matmul {{.*}} ins(%[[H:.*]], %[[RZR:.*]] : tensor<2x2xf32>, tensor<4x2xf32>)
# CHECK:         %[[RH:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[H]] : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK:         %[[M2:.*]] = linalg.matmul {{.*}} ins(%[[RH]], %[[RHH:.*]] : tensor<2x2xf32>, tensor<2x2xf32>)
# CHECK:         %[[H1:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[H]], %{{.*}}, %[[M2]] :
# CHECK:         linalg.matmul {{.*}} ins(%[[H1]], %[[RZR]] : tensor<2x2xf32>, tensor<4x2xf32>)
# CHECK-COUNT-3: linalg.matmul {{.*}} : tensor<2x2xf32>, tensor<{{[24]}}x2xf32>)
# CHECK-NOT:     linalg.matmul
# CHECK:         return

# Run-time sequence_lens, reverse: each cell keeps the previous state where t >= length (the first one keeps
# the zero initial state), and one generic zeroes Y past each length (t from linalg.index).
# CHECK-LABEL: // CASE: rnn_sequence_lens
# CHECK:       func.func @main(%{{.*}}: tensor<3x2x4xf32>, %[[L:.*]]: tensor<2xi32>)
# CHECK:         %[[S:.*]] = tensor.extract_slice %{{.*}}[4, 0] [2, 2] [1, 1]
# CHECK:         linalg.generic {{.*}} ins(%[[S]], %[[L]] : tensor<2x2xf32>, tensor<2xi32>)
# CHECK:           %[[T:.*]] = arith.constant 2 : i32
# CHECK:           %[[V:.*]] = arith.cmpi slt, %[[T]], %{{.*}} : i32
# CHECK:           arith.select %[[V]], %{{.*}}, %{{.*}} : f32
# CHECK:         %[[H1:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[PREV:.*]], %[[L]] :
# CHECK:           arith.constant 1 : i32
# CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[H1]], %[[L]] :
# CHECK:           arith.constant 0 : i32
# CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[L]] : tensor<3x1x2x2xf32>, tensor<2xi32>)
# CHECK:           %[[IDX:.*]] = linalg.index 0 : index
# CHECK:           %[[T:.*]] = arith.index_cast %[[IDX]] : index to i32
# CHECK:           arith.cmpi slt, %[[T]], %{{.*}} : i32
# CHECK:         return %[[Y]], %{{.*}} : tensor<3x1x2x2xf32>, tensor<1x2x2xf32>
