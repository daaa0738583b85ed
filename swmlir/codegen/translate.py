"""mlir-translate --mlir-to-cpp: there is no Python binding for the C/C++ emitter, so the CLI tool is used."""
from __future__ import annotations

import os
import subprocess

import mlir

from swmlir.errors import LoweringError


def tool(name: str) -> str:
    """Path of an MLIR/LLVM tool shipped by the xtc wheels (they are not put on PATH)."""
    site = os.path.dirname(mlir.__path__[0])
    for sub in ("mlir/bin", "llvm/bin"):
        p = os.path.join(site, sub, name)
        if os.path.exists(p):
            return p
    raise LoweringError(f"tool {name} not found in the MLIR wheels under {site}", stage="emit")


def mlir_to_c(module_text: str) -> str:
    proc = subprocess.run([tool("mlir-translate"), "--mlir-to-cpp"], input=module_text, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise LoweringError(f"mlir-translate --mlir-to-cpp failed:\n{proc.stderr[-4000:]}", stage="emit")
    return proc.stdout
