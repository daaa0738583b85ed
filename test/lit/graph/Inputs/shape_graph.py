"""Helpers of the resolve-shapes lit tests: build a small ONNX graph, run the pass, print what is left."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from swmlir.graph import shapes

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


def resolve(nodes, inputs, outputs, inits=(), input_shapes=None, opset=17):
    """inputs/outputs: (name, elem type, dims); returns the model after resolve-shapes."""
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(*i) for i in inputs],
                          [helper.make_tensor_value_info(*o) for o in outputs], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return shapes.run(m, input_shapes)


def show(m):
    print("nodes:", [n.op_type for n in m.graph.node])
    for t in m.graph.initializer:
        v = numpy_helper.to_array(t)
        print(f"const {t.name} {v.dtype} {list(v.shape)} = {v.reshape(-1).tolist() if v.size <= 16 else '...'}")
    for i in m.graph.input:
        print(f"input {i.name}", [d.dim_value if d.HasField('dim_value') else d.dim_param
                                 for d in i.type.tensor_type.shape.dim])
