"""ONNX op converters, one module per group; importing this package registers them all."""
from . import conv, elementwise, matmul, misc, pool, shape, softmax  # noqa: F401
