# RUN: %python %s | FileCheck %s
# resolve-shapes: arithmetic on shapes (a detector head's Reshape: Cast to float, Div, Floor, Cast back, Mul,
# Add, Sub) folds; integer Div truncates as onnxruntime does.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np

show(resolve([node("Shape", ["x"], ["s"]), node("Gather", ["s", "i2"], ["h"], axis=0),
              node("Cast", ["h"], ["hf"], to=1), node("Div", ["hf", "fourf"], ["hd"]), node("Floor", ["hd"], ["hfl"]),
              node("Cast", ["hfl"], ["hi"], to=7), node("Mul", ["hi", "two"], ["h2"]),
              node("Add", ["h2", "one"], ["h3"]), node("Sub", ["h3", "one"], ["h4"]),
              node("Div", ["h4", "two"], ["h5"]),
              node("Unsqueeze", ["h5", "ax"], ["hu"]), node("Concat", ["m1", "hu"], ["shp"], axis=0),
              node("Reshape", ["x", "shp"], ["y"])],
             [("x", F, ["n", 3, "h", 8])], [("y", F, None)],
             [const("i2", np.int64(2)), const("fourf", np.float32(4)), const("two", np.int64(2)),
              const("one", np.int64(1)), const("ax", np.array([0], np.int64)), const("m1", np.array([-1], np.int64))],
             input_shapes={"x": [1, 3, 12, 8]}))
# CHECK: nodes: ['Reshape']
# CHECK: const shp int64 [2] = [-1, 3]
