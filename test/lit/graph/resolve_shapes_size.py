# RUN: %python %s | FileCheck %s
# resolve-shapes: Size of a value whose shape is static folds to an int64 scalar.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from shape_graph import F, node, resolve, show

show(resolve([node("Size", ["x"], ["n"]), node("Cast", ["n"], ["nf"], to=1), node("Div", ["x", "nf"], ["y"])],
             [("x", F, ["b", 6])], [("y", F, None)], input_shapes={"x": [4, 6]}))
# CHECK: nodes: ['Div']
# CHECK: const nf float32 [] = [24.0]
