# RUN: %python %s | FileCheck %s
# resolve-shapes: position ids, Range(0, Shape(x)[1], 1) -> Unsqueeze -> Gather of an embedding table, fold
# up to the Gather of the table (a constant of the table's size, but here the table is small: it folds too).
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np

show(resolve([node("Shape", ["x"], ["s"], start=1, end=2), node("Squeeze", ["s", "ax"], ["n"]),
              node("Range", ["z", "n", "o"], ["pos"]), node("Unsqueeze", ["pos", "ax"], ["pos2"]),
              node("Gather", ["emb", "pos2"], ["pe"], axis=0), node("Add", ["x", "pe"], ["y"])],
             [("x", F, ["b", "s", 2])], [("y", F, None)],
             [const("z", np.int64(0)), const("o", np.int64(1)), const("ax", np.array([0], np.int64)),
              const("emb", np.arange(20, dtype=np.float32).reshape(10, 2))],
             input_shapes={"x": [1, 3, 2]}))
# CHECK: nodes: ['Add']
# CHECK: const pe float32 [1, 3, 2] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
