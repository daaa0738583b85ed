"""ONNX op converters, one module per group; importing this package registers them all."""
from . import conv, elementwise, matmul, misc, pool, shape, softmax  # noqa: F401
from . import gather, movement, resize  # noqa: F401  (shape and data movement)
from . import norm, reduce  # noqa: F401  (reductions and normalizations)
from . import binary, cast, unary  # noqa: F401  (elementwise ops, activations, casts)
from . import einsum, quant  # noqa: F401  (Einsum; MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv)
from . import quantize  # noqa: F401  (QuantizeLinear, DequantizeLinear)
from . import rnn  # noqa: F401  (LSTM, GRU, RNN)
from . import contrib_gelu, contrib_matmul, contrib_norm  # noqa: F401  (onnxruntime's com.microsoft contrib ops)
from . import control_flow  # noqa: F401  (If with a compile-time condition, unrolled Loop and Scan)
from . import contrib_rnn  # noqa: F401  (com.microsoft DynamicQuantizeLSTM, expanded and inlined)
