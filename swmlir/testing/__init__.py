"""Test support: the reference JIT for imported modules, model builders, and the onnxruntime comparison."""
