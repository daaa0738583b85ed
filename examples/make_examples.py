"""Write the bundled example models (built with onnx.helper, seeded random weights) into a directory."""
import os
import sys

import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout too
from swmlir.testing.networks import lenet, mlp

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
for name, model in (("lenet", lenet()), ("mlp", mlp())):
    path = os.path.join(out, f"{name}.onnx")
    onnx.save(model, path)
    print(f"wrote {path}")
