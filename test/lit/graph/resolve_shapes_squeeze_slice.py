# RUN: %python %s | FileCheck %s
# resolve-shapes: Slice of a shape (dynamic-batch Flatten: Shape -> Slice[0:1] -> Concat(-1)) and Squeeze of a
# one-element shape (a scalar for Range or Gather) fold.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np

show(resolve([node("Shape", ["x"], ["s"]), node("Slice", ["s", "z", "o"], ["b"]),
              node("Concat", ["b", "m1"], ["shp"], axis=0), node("Reshape", ["x", "shp"], ["y"]),
              node("Slice", ["s", "o", "two"], ["c"]), node("Squeeze", ["c", "z"], ["cs"]),
              node("Range", ["zs", "cs", "os"], ["r"])],
             [("x", F, ["N", 3, 4, 5])], [("y", F, None), ("r", 7, None)],
             [const("z", np.array([0], np.int64)), const("o", np.array([1], np.int64)),
              const("two", np.array([2], np.int64)), const("m1", np.array([-1], np.int64)),
              const("zs", np.int64(0)), const("os", np.int64(1))],
             input_shapes={"x": [2, 3, 4, 5]}))
# CHECK: nodes: ['Reshape']
# CHECK-DAG: const shp int64 [2] = [2, -1]
# CHECK-DAG: const r int64 [3] = [0, 1, 2]
