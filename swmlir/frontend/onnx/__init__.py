"""ONNX -> MLIR: `import_onnx(model)` builds one public `func.func @main` on static tensors.

The function's arguments are the graph inputs (initializers excluded) and its results the graph outputs, in
order. Bodies use linalg (named ops for matmul / batch_matmul / conv_2d_nchw_fchw / pooling, `linalg.generic`
for everything elementwise or reducing), tensor (empty, pad, collapse_shape, expand_shape) and arith. Every
linalg op carries `swmlir.node = "<node name>"`; weights above 16 elements are `dense_resource` blobs.

Call it inside an active `mlir.ir.Context`. Converters live in `ops/` and register themselves in `registry`.
"""
from .importer import ImportContext, ModelInfo, Node, ShapeMismatchWarning, TensorInfo, import_onnx
from .registry import converter, supported_ops

__all__ = ["import_onnx", "ModelInfo", "TensorInfo", "ImportContext", "Node", "ShapeMismatchWarning", "converter",
           "supported_ops"]
