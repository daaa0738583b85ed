# RUN: %python %s | FileCheck %s
# resolve-shapes: Shape of a value whose shape is static folds to an int64 constant; --input-shape fixes the
# symbolic dims of the graph input first; start/end (opset 15) slice the shape, negative ends included.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, node, resolve, show

m = resolve([node("Shape", ["x"], ["s"]), node("Shape", ["x"], ["s1"], start=1),
             node("Shape", ["x"], ["s2"], start=-2, end=-1), node("Reshape", ["x", "s"], ["y"]),
             node("Concat", ["s1", "s2"], ["c"], axis=0), node("Reshape", ["x", "c"], ["z"])],
            [("x", F, ["batch", "seq", 8])], [("y", F, None), ("z", F, None)],
            input_shapes={"x": [2, 5, 8]})
show(m)
# CHECK: nodes: ['Reshape', 'Reshape']
# CHECK-DAG: const s int64 [3] = [2, 5, 8]
# CHECK-DAG: const c int64 [3] = [5, 8, 5]
# CHECK: input x [2, 5, 8]
