"""fold-batchnorm-into-conv: BatchNormalization (inference) after a Conv whose only reader it is becomes part of
the Conv's weights and bias:  W' = W * s[f],  b' = (b - mean) * s + beta,  with s = gamma / sqrt(var + eps)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ._graph import has_subgraphs, constants, set_initializer, uses


def run(model: onnx.ModelProto) -> onnx.ModelProto:
    if has_subgraphs(model.graph):
        return model  # values captured by subgraphs are not tracked: leave such models alone
    graph = model.graph
    consts = constants(graph)
    count = uses(graph)
    producer = {o: n for n in graph.node for o in n.output}
    remove = []
    for bn in graph.node:
        if bn.op_type != "BatchNormalization" or len([o for o in bn.output if o]) != 1:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in bn.attribute}
        if attrs.get("training_mode", 0):
            continue
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or count.get(bn.input[0], 0) != 1:
            continue
        params = [consts.get(i) for i in bn.input[1:5]]
        w = consts.get(conv.input[1])
        if w is None or any(p is None for p in params) or w.dtype not in (np.float32, np.float64):
            continue
        b = consts.get(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0], w.dtype)
        if b is None:
            continue
        gamma, beta, mean, var = (p.astype(np.float64) for p in params)
        s = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
        w2 = (w.astype(np.float64) * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)
        b2 = ((b.astype(np.float64) - mean) * s + beta).astype(w.dtype)
        wname, bname = f"{conv.output[0]}__bn_w", f"{conv.output[0]}__bn_b"
        set_initializer(graph, wname, w2)
        set_initializer(graph, bname, b2)
        conv.input[1] = wname
        if len(conv.input) > 2:
            conv.input[2] = bname
        else:
            conv.input.append(bname)
        conv.output[0] = bn.output[0]
        remove.append(bn)
    for n in remove:
        graph.node.remove(n)
    return model
