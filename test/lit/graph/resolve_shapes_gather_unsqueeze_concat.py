# RUN: %python %s | FileCheck %s
# resolve-shapes: the exporters' Reshape target, Shape -> Gather -> Unsqueeze -> Concat, folds to one constant.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np

show(resolve([node("Shape", ["x"], ["s"]), node("Gather", ["s", "i0"], ["b"], axis=0),
              node("Gather", ["s", "i1"], ["q"], axis=0), node("Unsqueeze", ["b", "ax"], ["bu"]),
              node("Unsqueeze", ["q", "ax"], ["qu"]), node("Concat", ["bu", "qu", "heads", "m1"], ["shp"], axis=0),
              node("Reshape", ["x", "shp"], ["y"])],
             [("x", F, ["batch", "seq", 16])], [("y", F, None)],
             [const("i0", np.int64(0)), const("i1", np.int64(1)), const("ax", np.array([0], np.int64)),
              const("heads", np.array([4], np.int64)), const("m1", np.array([-1], np.int64))],
             input_shapes={"x": [3, 7, 16]}))
# CHECK: nodes: ['Reshape']
# CHECK: const shp int64 [4] = [3, 7, 4, -1]
# CHECK-NOT: const s int64
