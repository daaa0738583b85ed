# RUN: %python %s | FileCheck %s
# resolve-shapes: the TorchScript exporter's Expand target, Where(Equal(shape, -1), ConstantOfShape(1), shape),
# folds; the Expand itself stays (its data is a graph input).
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np
from onnx import numpy_helper

show(resolve([node("Shape", ["x"], ["s"]), node("Gather", ["s", "i0"], ["b"], axis=0),
              node("Unsqueeze", ["b", "ax"], ["bu"]), node("Concat", ["bu", "m1", "four"], ["shp"], axis=0),
              node("ConstantOfShape", ["three"], ["ones"], value=numpy_helper.from_array(np.array([1], np.int64))),
              node("Equal", ["shp", "m1"], ["eq"]), node("Where", ["eq", "ones", "shp"], ["shp2"]),
              node("Expand", ["x", "shp2"], ["y"])],
             [("x", F, ["B", 5, 1])], [("y", F, None)],
             [const("i0", np.int64(0)), const("ax", np.array([0], np.int64)), const("m1", np.array([-1], np.int64)),
              const("four", np.array([4], np.int64)), const("three", np.array([3], np.int64))],
             input_shapes={"x": [2, 5, 1]}))
# CHECK: nodes: ['Expand']
# CHECK: const shp2 int64 [3] = [2, 1, 4]
