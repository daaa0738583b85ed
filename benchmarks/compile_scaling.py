"""Compile time against model depth (issue: compile time should grow about linearly with the number of ops).

    python benchmarks/compile_scaling.py [--depths 8 16 32]

Builds a stack of conv blocks (Conv + BatchNormalization + Relu, 16 channels, 32x32) and a deep MLP at each
depth, compiles each to C, and prints the process CPU time (less noisy than wall time on a shared machine), the
time per ONNX node, and the growth factor from one depth to the next (2.0 = linear for doubled depth).
"""
import argparse
import os
import sys
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import swmlir  # noqa: E402
from swmlir.testing.networks import mlp  # noqa: E402


def conv_stack(depth: int, channels: int = 16, size: int = 32):
    rng = np.random.default_rng(0)
    nodes, inits, cur = [], [], "x"
    for i in range(depth):
        inits += [numpy_helper.from_array((rng.standard_normal((channels, channels, 3, 3)) * 0.1).astype(np.float32), f"w{i}")]
        for n, v in (("g", 1.0), ("b", 0.0), ("m", 0.0), ("v", 1.0)):
            inits.append(numpy_helper.from_array(np.full(channels, v, np.float32), f"{n}{i}"))
        nodes += [helper.make_node("Conv", [cur, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]),
                  helper.make_node("BatchNormalization", [f"c{i}", f"g{i}", f"b{i}", f"m{i}", f"v{i}"], [f"n{i}"]),
                  helper.make_node("Relu", [f"n{i}"], [f"r{i}"])]
        cur = f"r{i}"
    g = helper.make_graph(nodes, "stack", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, size, size])],
                          [helper.make_tensor_value_info(cur, TensorProto.FLOAT, [1, channels, size, size])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depths", type=int, nargs="+", default=[8, 16, 32])
    a = ap.parse_args()
    for label, build in (("conv blocks", conv_stack), ("MLP layers", lambda d: mlp(4, (64,) * (d + 1) + (10,)))):
        prev = None
        print(f"{label}:")
        for d in a.depths:
            model = build(d)
            t = time.process_time()
            swmlir.compile(model)
            cpu = time.process_time() - t
            growth = f"x{cpu / prev:.2f}" if prev else ""
            print(f"  depth {d:4d}: {len(model.graph.node):5d} nodes, {cpu:6.2f} s CPU, "
                  f"{cpu / len(model.graph.node) * 1000:6.1f} ms/node {growth}")
            prev = cpu


if __name__ == "__main__":
    main()
