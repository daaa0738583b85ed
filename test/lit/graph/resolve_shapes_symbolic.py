# RUN: %python %s | FileCheck %s
# resolve-shapes: without --input-shape a symbolic dim stays symbolic and the Shape of it is not folded (the
# importer then names the input); the static part of a shape (start/end past the symbolic dim) still folds.
# An --input-shape that does not fit the declared shape is left for the importer to report.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, node, resolve, show

nodes = [node("Shape", ["x"], ["s"]), node("Shape", ["x"], ["t"], start=1), node("Reshape", ["x", "s"], ["y"]),
         node("Reshape", ["x", "t"], ["z"])]
show(resolve(nodes, [("x", F, ["batch", 3, 4])], [("y", F, None), ("z", F, None)]))
# CHECK: nodes: ['Shape', 'Reshape', 'Reshape']
# CHECK-NEXT: const t int64 [2] = [3, 4]
# CHECK-NEXT: input x ['batch', 3, 4]
show(resolve(nodes, [("x", F, ["batch", 3, 4])], [("y", F, None), ("z", F, None)], input_shapes={"x": [2, 7, 4]}))
# CHECK: nodes: ['Shape', 'Reshape', 'Reshape']
# CHECK: input x ['batch', 3, 4]
show(resolve(nodes, [("x", F, ["batch", 3, 4])], [("y", F, None), ("z", F, None)], input_shapes={"x": [2, 3]}))
# CHECK: nodes: ['Shape', 'Reshape', 'Reshape']
# CHECK: input x ['batch', 3, 4]
