"""Frontends: model formats that become `func.func @main` on tensors (linalg / tensor / arith)."""
