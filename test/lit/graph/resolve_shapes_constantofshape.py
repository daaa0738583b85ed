# RUN: %python %s | FileCheck %s
# resolve-shapes: ConstantOfShape of a folded shape folds when it is shape-sized; a huge one (2^40 elements)
# is sized before evaluation and left alone (the importer then refuses it with a size error).
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, const, node, resolve, show
import numpy as np
from onnx import numpy_helper

half = numpy_helper.from_array(np.array([0.5], np.float32))
show(resolve([node("Shape", ["x"], ["s"]), node("ConstantOfShape", ["s"], ["h"], value=half),
              node("Mul", ["x", "h"], ["y"]), node("ConstantOfShape", ["big"], ["g"], value=half),
              node("ReduceSum", ["g"], ["gs"], keepdims=0)],
             [("x", F, ["n", 2])], [("y", F, None), ("gs", F, None)],
             [const("big", np.array([1 << 20, 1 << 20], np.int64))], input_shapes={"x": [2, 2]}))
# CHECK: nodes: ['Mul', 'ConstantOfShape', 'ReduceSum']
# CHECK: const h float32 [2, 2] = [0.5, 0.5, 0.5, 0.5]
